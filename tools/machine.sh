# Sourced (not run) by ./run-tests, ./run-demo and .ci/run: makes sure this machine has
# what they need, installing what is missing when it can. One mechanism for the three.
#
#   ensure_machine WHO [tours]
#
# WHO starts every line it prints (run-tests, run-demo, CI). It checks, in this order:
#   * Odoo 14.0 as `odoo` on PATH. When there is none, it runs the project's Odoo 14.0
#     bundle, ../shared/odoo14/install.sh beside the repository ($WHATSAPP_ODOO_INSTALLER
#     names another), when that file exists. An `odoo` already on PATH is never touched.
#   * PostgreSQL's server binaries (initdb, pg_ctl): apt-get install postgresql.
#   * with `tours` (the Odoo tests' browser tours), once Odoo is there: Chromium
#     (apt-get install chromium) and websocket-client in Odoo's Python (pip install),
#     without which Odoo 14 skips every tour with only a warning.
# apt-get is used as root only. It says what it installs. Returns 0 when everything is
# there, 1 otherwise: $machine_missing then holds one line per missing piece, saying
# precisely what to install (print_machine_missing prints them).
# WHATSAPP_SKIP_SETUP=1 checks and installs nothing (returns 0).

. "$(dirname "${BASH_SOURCE[0]}")/odoo_cluster.sh"

ensure_machine() {
    local who=$1 tours=${2:-}
    local repo
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    machine_missing=()
    [ -z "${WHATSAPP_SKIP_SETUP:-}" ] || return 0
    _machine_apt_updated=

    # -- Odoo 14.0 ----------------------------------------------------------------------
    if ! command -v odoo >/dev/null 2>&1; then
        local installer=${WHATSAPP_ODOO_INSTALLER:-$(dirname "$repo")/shared/odoo14/install.sh}
        if [ -f "$installer" ]; then
            installer=$(cd "$(dirname "$installer")" && pwd)/$(basename "$installer")
            echo "$who: no 'odoo' on PATH: installing Odoo 14.0 with $installer"
            if bash "$installer"; then
                hash -r
                local bin_dir=${ODOO14_BIN_DIR:-/usr/local/bin}
                if ! command -v odoo >/dev/null 2>&1 && [ -x "$bin_dir/odoo" ]; then
                    echo "$who: adding $bin_dir (where the installer put 'odoo') to PATH"
                    export PATH="$bin_dir:$PATH"
                fi
            fi
            command -v odoo >/dev/null 2>&1 || machine_missing+=(
                "Odoo 14.0: $installer did not give an 'odoo' command on PATH (see its output above; it needs root)")
        else
            machine_missing+=("Odoo 14.0 as an 'odoo' command on PATH: on this project's machines run ../shared/odoo14/install.sh (not found at $installer); elsewhere install Odoo 14.0 (https://www.odoo.com/documentation/14.0/administration/install.html) with an 'odoo' script on PATH whose first line names its Python")
        fi
    fi

    # -- PostgreSQL server ----------------------------------------------------------------
    if [ -z "$(pg_server_bin)" ]; then
        _machine_apt "$who" "PostgreSQL's server" postgresql
        [ -n "$(pg_server_bin)" ] || machine_missing+=(
            "PostgreSQL's server binaries in ${WHATSAPP_PG_ROOT:-/usr/lib/postgresql}/<version>/bin: apt-get install postgresql (as root)")
    fi

    # -- the browser tours: Chromium, websocket-client in Odoo's Python ------------------
    local odoo_bin
    odoo_bin=$(command -v odoo 2>/dev/null || true)
    if [ "$tours" = tours ] && [ -n "$odoo_bin" ]; then
        if ! _machine_chromium; then
            _machine_apt "$who" "Chromium for the browser tours" chromium
            _machine_chromium || machine_missing+=(
                "Chromium for the browser tours (chromium, chromium-browser or google-chrome on PATH): apt-get install chromium (as root)")
        fi
        local python
        python=$(odoo_python_of "$odoo_bin")
        if [ -z "$python" ]; then
            machine_missing+=("the Python that runs $odoo_bin (its first line) cannot import odoo: reinstall Odoo 14.0")
        elif ! "$python" -c 'import websocket' >/dev/null 2>&1; then
            echo "$who: installing websocket-client in Odoo's Python ($python -m pip install websocket-client): the browser tours need it"
            "$python" -m pip install -q --disable-pip-version-check websocket-client
            "$python" -c 'import websocket' >/dev/null 2>&1 || machine_missing+=(
                "websocket-client in Odoo's Python for the browser tours: $python -m pip install websocket-client")
        fi
    fi
    [ ${#machine_missing[@]} -eq 0 ]
}

# print_machine_missing WHO: what ensure_machine could not install, one line each (stderr).
print_machine_missing() {
    local line
    echo "$1: missing on this machine, and not installed:" >&2
    for line in "${machine_missing[@]}"; do
        echo "  * $line" >&2
    done
}

_machine_chromium() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
        || command -v google-chrome >/dev/null 2>&1
}

# _machine_apt WHO WHAT PACKAGE...: apt-get install PACKAGE..., as root and where apt-get is.
_machine_apt() {
    local who=$1 what=$2
    shift 2
    if [ "$(id -u 2>/dev/null)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    echo "$who: installing $what (apt-get install $*)"
    if [ -z "$_machine_apt_updated" ]; then
        apt-get update -qq || return 1
        _machine_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    hash -r
}
