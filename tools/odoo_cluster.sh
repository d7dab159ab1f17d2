# Sourced (not run) by the scripts that need a real Odoo 14.0 and a throwaway
# PostgreSQL cluster: tools/odoo_tests.sh, tools/export_pot.sh, tools/screenshots.sh
# and bench/run. They find Odoo and start and stop the cluster the same way.

# find_odoo: sets odoo_bin, odoo_version, odoo_python, odoo_addons and pg_bin.
# Returns 3 when there is no usable Odoo 14.0 (the reason in $odoo_missing), 1 when
# the PostgreSQL server binaries are missing.
find_odoo() {
    odoo_missing=
    odoo_bin=$(command -v odoo || true)
    if [ -z "$odoo_bin" ]; then
        odoo_missing="Odoo 14.0 not found on PATH (no 'odoo' command)"
        return 3
    fi
    odoo_version=$("$odoo_bin" --version 2>/dev/null | head -n 1)
    case "$odoo_version" in
        *" 14.0"*) ;;
        *) odoo_missing="'odoo' on PATH is not Odoo 14.0 ($odoo_version)"; return 3 ;;
    esac
    odoo_python=$(odoo_python_of "$odoo_bin")
    if [ -z "$odoo_python" ]; then
        odoo_missing="cannot find the Python that runs $odoo_bin"
        return 3
    fi
    odoo_addons=$("$odoo_python" -c 'import os, odoo.addons; print(",".join(p for p in odoo.addons.__path__ if os.path.isdir(os.path.join(p, "base"))))')
    pg_bin=$(pg_server_bin)
    if [ -z "$pg_bin" ]; then
        odoo_missing="PostgreSQL server binaries not found"
        return 1
    fi
}

# odoo_python_of ODOO_BIN: prints the Python that runs the `odoo` script ODOO_BIN (the
# interpreter of its first line, as Odoo's packages install it), nothing when that Python
# cannot import odoo.
odoo_python_of() {
    local python
    python=$(head -n 1 "$1" 2>/dev/null | sed -n 's/^#!\s*//p' | awk '{print $1}')
    if [ -n "$python" ] && "$python" -c 'import odoo' 2>/dev/null; then
        echo "$python"
    fi
}

# pg_server_bin: prints the folder of the newest PostgreSQL server binaries (Debian's
# layout, /usr/lib/postgresql/<version>/bin; WHATSAPP_PG_ROOT replaces /usr/lib/postgresql),
# nothing when there are none.
pg_server_bin() {
    local bin
    bin=$(ls -d "${WHATSAPP_PG_ROOT:-/usr/lib/postgresql}"/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
        echo "$bin"
    fi
}

# ensure_addon_requirements REPO: the addon's runtime requirements in Odoo's Python.
ensure_addon_requirements() {
    "$odoo_python" -c 'import requests, phonenumbers' 2>/dev/null \
        || "$odoo_python" -m pip install -q -r "$1/requirements.txt"
}

# OCA queue_job for Odoo 14.0, pinned: the wheel from the Python package index,
# installed without its dependencies (its `odoo` requirement is the Odoo on PATH).
QUEUE_JOB_WHEEL=odoo14-addon-queue-job==14.0.3.15.1

# add_queue_job ADDONS_DIR: unpack queue_job into ADDONS_DIR (the wheel is cached in
# ~/.cache/whatsapp-integration). Returns 1 when it cannot be downloaded.
add_queue_job() {
    local cache="${XDG_CACHE_HOME:-$HOME/.cache}/whatsapp-integration/wheels"
    mkdir -p "$cache"
    local wheel
    wheel=$(ls "$cache"/odoo14_addon_queue_job-14.0.3.15.1-*.whl 2>/dev/null | head -n 1)
    if [ -z "$wheel" ]; then
        "$odoo_python" -m pip download --quiet --disable-pip-version-check --no-deps -d "$cache" \
            "$QUEUE_JOB_WHEEL" || return 1
        wheel=$(ls "$cache"/odoo14_addon_queue_job-14.0.3.15.1-*.whl | head -n 1)
    fi
    "$odoo_python" - "$wheel" "$1" <<'PY' || return 1
import sys, zipfile
wheel, target = sys.argv[1:]
prefix = 'odoo/addons/'
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix + 'queue_job/'):
            archive.extract(name, target + '/.queue_job_wheel')
PY
    rm -rf "$1/queue_job"
    mv "$1/.queue_job_wheel/odoo/addons/queue_job" "$1/queue_job"
    rm -rf "$1/.queue_job_wheel"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_cluster WORK: a PostgreSQL cluster in WORK/pg run by the `postgres` OS user
# (initdb refuses root), on a Unix socket in WORK/sock only, durability off (a test
# cluster), with a superuser role `odoo` (Odoo refuses to run as `postgres`). Makes
# WORK/addons and WORK/data too, and sets pg_port and db_args for Odoo's command line.
start_cluster() {
    local work=$1
    chmod 755 "$work"
    mkdir -p "$work/addons" "$work/data" "$work/sock" "$work/pg"
    chown postgres "$work/sock" "$work/pg"
    chmod 700 "$work/pg"
    su postgres -s /bin/bash -c "'$pg_bin/initdb' -D '$work/pg' -U odoo -A trust -E UTF8 --locale=C.UTF-8" \
        >"$work/initdb.log" 2>&1 || { tail -n 40 "$work/initdb.log"; return 1; }
    resume_cluster "$work"
}

# resume_cluster WORK: start again a cluster start_cluster made (and stop_cluster stopped),
# on a new port; sets pg_port and db_args like start_cluster.
resume_cluster() {
    local work=$1
    pg_port=$(free_port)
    su postgres -s /bin/bash -c "'$pg_bin/pg_ctl' -D '$work/pg' -l '$work/sock/postgres.log' -w -o \"-k '$work/sock' -p $pg_port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" \
        >/dev/null || { tail -n 40 "$work/sock/postgres.log"; return 1; }
    db_args=(--db_host="$work/sock" --db_port="$pg_port" --db_user=odoo --data-dir="$work/data")
}

# stop_cluster WORK
stop_cluster() {
    su postgres -s /bin/bash -c "'$pg_bin/pg_ctl' -D '$1/pg' -m immediate stop" >/dev/null 2>&1 || true
}
