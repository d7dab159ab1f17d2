#!/usr/bin/env bash
# Regenerates the screenshots in static/description/ from the demo (./run-demo).
#
#   tools/screenshots.sh [OUTPUT_DIR]        (default: static/description of this repo)
#
# 1. starts ./run-demo (its throwaway cluster and database, the demo accounts served by
#    the local fake provider, their first sync, Odoo on 127.0.0.1), with no live messages;
# 2. drives headless Chromium over the DevTools protocol (Python websocket-client in a
#    temporary venv, tools/screenshots.py) to save one PNG per screen;
# 3. shrinks the PNGs (pngquant, optipng), then stops the demo, which removes everything.
#
# Needs what ./run-demo needs (`odoo` 14.0 on PATH, PostgreSQL server binaries, root),
# python3 with venv, chromium (installed with apt-get when missing), pngquant/optipng
# (optional, apt). Takes about 2 minutes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out_dir=${1:-$repo/static/description}

. "$repo/tools/odoo_cluster.sh"
find_odoo || { found=$?; echo "$odoo_missing." >&2; exit $found; }

chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ] || ! command -v pngquant >/dev/null || ! command -v optipng >/dev/null; then
    echo "Installing chromium, pngquant and optipng with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium pngquant optipng >/dev/null
    chromium_bin=$(command -v chromium || command -v chromium-browser)
fi

work=$(mktemp -d /tmp/whatsapp-screenshots.XXXXXX)
demo_pid=

cleanup() {
    if [ -n "$demo_pid" ]; then
        kill -TERM "$demo_pid" 2>/dev/null || true
        wait "$demo_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $1" >&2; [ -f "${2:-}" ] && tail -n 40 "$2" >&2; exit 1; }

echo "[1/3] ./run-demo (demo database, fake provider, Odoo)"
WHATSAPP_DEMO_TZ="${WHATSAPP_DEMO_TZ:-Europe/Madrid}" WHATSAPP_DEMO_READY_FILE="$work/ready.json" WHATSAPP_DEMO_SLOW_MESSAGES=8 "$repo/run-demo" --every 0 \
    >"$work/demo.log" 2>&1 &
demo_pid=$!
for _ in $(seq 1 360); do
    [ -s "$work/ready.json" ] && break
    kill -0 "$demo_pid" 2>/dev/null || fail "run-demo stopped" "$work/demo.log"
    sleep 0.5
done
[ -s "$work/ready.json" ] || fail "run-demo did not start within 3 minutes" "$work/demo.log"
url=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$work/ready.json")
db=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["db"])' "$work/ready.json")

echo "[2/3] screenshots of $url with $chromium_bin"
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install -q --disable-pip-version-check websocket-client >"$work/pip.log" 2>&1 \
    || fail "pip install websocket-client" "$work/pip.log"
mkdir -p "$work/png"
WHATSAPP_DEMO_TZ="${WHATSAPP_DEMO_TZ:-Europe/Madrid}" "$work/venv/bin/python" "$repo/tools/screenshots.py" capture --chromium "$chromium_bin" \
    --url "$url" --db "$db" --out "$work/png" || fail "screenshots" "$work/demo.log"

echo "[3/3] compressing into $out_dir"
mkdir -p "$out_dir"
for png in "$work"/png/*.png; do
    if command -v pngquant >/dev/null; then
        pngquant --quality=65-90 --speed 1 --force --skip-if-larger --output "$png.q" "$png" && mv "$png.q" "$png" || true
    fi
    if command -v optipng >/dev/null; then optipng -quiet -o2 "$png" || true; fi
    cp "$png" "$out_dir/"
    printf '  %-40s %6s KB\n' "$(basename "$png")" "$(( $(stat -c %s "$png") / 1024 ))"
done
if grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$work/demo.log"; then
    echo "note: the demo logged errors while the screenshots were taken:"
    grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$work/demo.log" | head -n 20
fi
echo "done"
