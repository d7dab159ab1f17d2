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

odoo_bin=$(command -v odoo || true)
if [ -z "$odoo_bin" ] || ! "$odoo_bin" --version 2>/dev/null | grep -q ' 14\.0'; then
    echo "Odoo 14.0 not found on PATH as 'odoo'." >&2
    exit 3
fi
odoo_python=$(head -n 1 "$odoo_bin" | sed -n 's/^#!\s*//p' | awk '{print $1}')
odoo_addons=$("$odoo_python" -c 'import os, odoo.addons; print(",".join(p for p in odoo.addons.__path__ if os.path.isdir(os.path.join(p, "base"))))')
"$odoo_python" -c 'import requests, phonenumbers' 2>/dev/null || "$odoo_python" -m pip install -q -r "$repo/requirements.txt"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] || { echo "PostgreSQL server binaries not found." >&2; exit 1; }

work=$(mktemp -d /tmp/whatsapp-pot.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/addons" "$work/data" "$work/sock"
ln -s "$repo" "$work/addons/$module"
chown postgres "$work/sock"
mkdir -p "$work/pg" && chown postgres "$work/pg" && chmod 700 "$work/pg"
as_postgres() { su postgres -s /bin/bash -c "$*"; }
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    as_postgres "'$pg_bin/pg_ctl' -D '$work/pg' -m immediate stop" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $1" >&2; [ -f "${2:-}" ] && tail -n 40 "$2" >&2; exit 1; }

as_postgres "'$pg_bin/initdb' -D '$work/pg' -U odoo -A trust -E UTF8 --locale=C.UTF-8" >"$work/initdb.log" 2>&1 \
    || fail "initdb" "$work/initdb.log"
as_postgres "'$pg_bin/pg_ctl' -D '$work/pg' -l '$work/sock/postgres.log' -w -o \"-k '$work/sock' -p $pg_port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" \
    >/dev/null || fail "pg_ctl start" "$work/sock/postgres.log"

odoo_args=(--addons-path="$odoo_addons,$work/addons" --db_host="$work/sock" --db_port="$pg_port"
           --db_user=odoo --data-dir="$work/data" --without-demo=all --no-http --log-level=warn -d whatsapp_pot)
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
