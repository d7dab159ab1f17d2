#!/usr/bin/env bash
# Regenerates the screenshots in static/description/ from a real Odoo 14.0.
#
#   tools/screenshots.sh [OUTPUT_DIR]        (default: static/description of this repo)
#
# 1. starts a throwaway PostgreSQL cluster (as the `postgres` OS user, like
#    tools/odoo_tests.sh) and installs the addon in a fresh database without demo data;
# 2. fills it with believable demo data through the addon's own sync code, in
#    `odoo shell`, with the provider client replaced by the tests' in-memory fake
#    (tools/screenshots.py; no network): two accounts, contacts, groups with members
#    and roles, messages of several types over five days, sync logs (one failed run);
# 3. starts Odoo on 127.0.0.1 and drives headless Chromium over the DevTools protocol
#    (Python websocket-client in a temporary venv) to save one PNG per screen;
# 4. shrinks the PNGs (pngquant, optipng) and removes the server, cluster and venv.
#
# Needs: `odoo` 14.0 on PATH, PostgreSQL server binaries, python3 with venv, chromium
# (installed with apt-get when missing), pngquant/optipng (optional, apt). Run as root.
# Takes about 2 minutes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
module=whatsapp_integration
out_dir=${1:-$repo/static/description}

. "$repo/tools/odoo_cluster.sh"
find_odoo || { found=$?; echo "$odoo_missing." >&2; exit $found; }
"$odoo_python" -c 'import freezegun' 2>/dev/null || "$odoo_python" -m pip install -q freezegun
ensure_addon_requirements "$repo"

chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ] || ! command -v pngquant >/dev/null || ! command -v optipng >/dev/null; then
    echo "Installing chromium, pngquant and optipng with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium pngquant optipng >/dev/null
    chromium_bin=$(command -v chromium || command -v chromium-browser)
fi

work=$(mktemp -d /tmp/whatsapp-screenshots.XXXXXX)
http_port=$(free_port)
server_pid=

cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    stop_cluster "$work"
    if [ -n "${KEEP_SCREENSHOT_WORK:-}" ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() { echo "FAILED: $1" >&2; [ -f "${2:-}" ] && tail -n 40 "$2" >&2; exit 1; }

echo "[1/5] PostgreSQL cluster, installing $module"
start_cluster "$work" || fail "PostgreSQL cluster"
mkdir -p "$work/png"
ln -s "$repo" "$work/addons/$module"

db=whatsapp_screenshots
odoo_args=(--addons-path="$odoo_addons,$work/addons" "${db_args[@]}" --without-demo=all -d "$db")
"$odoo_bin" "${odoo_args[@]}" --no-http --log-level=warn -i "$module" --stop-after-init >"$work/install.log" 2>&1 \
    || fail "install" "$work/install.log"

echo "[2/5] demo data (fake provider, addon's sync path)"
WA_SEED_OUT="$work/ids.json" "$odoo_bin" shell "${odoo_args[@]}" --no-http --log-level=warn >"$work/seed.log" 2>&1 <<EOF
import runpy
runpy.run_path('$repo/tools/screenshots.py', init_globals={'env': env}, run_name='whatsapp_screenshots_seed')
EOF
[ -s "$work/ids.json" ] || fail "demo data" "$work/seed.log"
grep -h '^SEED_COUNTS' "$work/seed.log" || true

echo "[3/5] Python venv with websocket-client"
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install -q --disable-pip-version-check websocket-client >"$work/pip.log" 2>&1 \
    || fail "pip install websocket-client" "$work/pip.log"

echo "[4/5] Odoo on 127.0.0.1:$http_port, screenshots with $chromium_bin"
"$odoo_bin" "${odoo_args[@]}" --http-interface=127.0.0.1 --http-port="$http_port" --workers=0 \
    --max-cron-threads=0 --log-level=warn >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$http_port/web/login" && break
    kill -0 "$server_pid" 2>/dev/null || fail "odoo server exited" "$work/server.log"
    sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:$http_port/web/login" || fail "odoo server not answering" "$work/server.log"
"$work/venv/bin/python" "$repo/tools/screenshots.py" capture --chromium "$chromium_bin" \
    --url "http://127.0.0.1:$http_port" --ids "$work/ids.json" --out "$work/png" \
    || fail "screenshots" "$work/server.log"

echo "[5/5] compressing into $out_dir"
mkdir -p "$out_dir"
for png in "$work"/png/*.png; do
    if command -v pngquant >/dev/null; then
        pngquant --quality=65-90 --speed 1 --force --skip-if-larger --output "$png.q" "$png" && mv "$png.q" "$png" || true
    fi
    if command -v optipng >/dev/null; then optipng -quiet -o2 "$png" || true; fi
    cp "$png" "$out_dir/"
    printf '  %-40s %6s KB\n' "$(basename "$png")" "$(( $(stat -c %s "$png") / 1024 ))"
done
if grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$work/server.log"; then
    echo "note: the server logged errors while the screenshots were taken:"
    grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$work/server.log" | head -n 20
fi
echo "done"
