#!/usr/bin/env bash
# render_report.sh SIM DIR: writes the HTML report and screenshots it in headless Chromium;
# passes when a non-empty PNG comes out. Exits 77 (CTest: skipped) without chromium.
set -euo pipefail
sim=$1 dir=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then echo "chromium is not installed: skipped"; exit 77; fi
rm -rf "$dir" && mkdir -p "$dir"
"$sim" --no-progress --report "$dir/report.html" >/dev/null
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --hide-scrollbars --window-size=940,2600 --screenshot="$dir/report.png" "file://$dir/report.html" \
  >"$dir/chromium.log" 2>&1 || { echo "chromium failed:"; tail -20 "$dir/chromium.log"; exit 1; }
[ -s "$dir/report.png" ] || { echo "FAIL: no screenshot"; exit 1; }
signature=$(head -c 8 "$dir/report.png" | od -An -tx1 | tr -d ' \n')
[ "$signature" = "89504e470d0a1a0a" ] || { echo "FAIL: not a PNG ($signature)"; exit 1; }
echo "ok: $(stat -c %s "$dir/report.png") bytes of PNG in $dir/report.png"
