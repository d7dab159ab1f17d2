#!/usr/bin/env bash
# Exports the translation template i18n/whatsapp_integration.pot from the real module:
# starts a throwaway PostgreSQL cluster (as the `postgres` OS user, like
# tools/odoo_tests.sh), installs the addon in a fresh database without demo data, runs
# `odoo --i18n-export` (no language given: a .pot template) and removes the cluster.
#
#   tools/export_pot.sh [OUTPUT]     (default: i18n/whatsapp_integration.pot of this repo)
#
# Then `python3 tools/check_pot.py OUTPUT i18n/whatsapp_integration.pot` tells whether
# the committed template still covers every term. Needs `odoo` 14.0 on PATH and the
# PostgreSQL server binaries; run as root. Takes about 40 seconds.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
module=whatsapp_integration
output=${1:-$repo/i18n/$module.pot}
case "$output" in /*) ;; *) output="$PWD/$output" ;; esac

. "$repo/tools/odoo_cluster.sh"
find_odoo || { found=$?; echo "$odoo_missing." >&2; exit $found; }
ensure_addon_requirements "$repo"

work=$(mktemp -d /tmp/whatsapp-pot.XXXXXX)
cleanup() {
    stop_cluster "$work"
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $1" >&2; [ -f "${2:-}" ] && tail -n 40 "$2" >&2; exit 1; }
start_cluster "$work" || fail "PostgreSQL cluster"
ln -s "$repo" "$work/addons/$module"

odoo_args=(--addons-path="$odoo_addons,$work/addons" "${db_args[@]}" --without-demo=all --no-http --log-level=warn -d whatsapp_pot)
"$odoo_bin" "${odoo_args[@]}" -i "$module" --stop-after-init >"$work/install.log" 2>&1 \
    || fail "install" "$work/install.log"
# Odoo 14's command line only accepts .po/.csv/.tgz names; without --language the .po it
# writes is the template (empty msgstr, no Language header).
"$odoo_bin" "${odoo_args[@]}" --i18n-export="$work/$module.po" --modules="$module" --stop-after-init \
    >"$work/export.log" 2>&1 || fail "export" "$work/export.log"
[ -s "$work/$module.po" ] || fail "export wrote nothing" "$work/export.log"

mkdir -p "$(dirname "$output")"
cp "$work/$module.po" "$output"
echo "wrote $output ($(grep -c '^msgid "' "$output") msgids, header included)"
