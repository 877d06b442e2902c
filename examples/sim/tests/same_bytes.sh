#!/usr/bin/env bash
# same_bytes.sh SIM DIR: two runs with the same seed and inputs give byte-identical outputs
# (table, JSON, CSV, HTML); another seed gives different ones.
set -euo pipefail
sim=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir"
for run in a b; do
  "$sim" --no-progress --seed 7 --hours 12 --csv "$dir/$run.csv" --report "$dir/$run.html" >"$dir/$run.txt"
  "$sim" --no-progress --seed 7 --hours 12 --json >"$dir/$run.json"
done
for ext in txt json csv html; do cmp "$dir/a.$ext" "$dir/b.$ext"; done
"$sim" --no-progress --seed 8 --hours 12 --json >"$dir/c.json"
if cmp -s "$dir/a.json" "$dir/c.json"; then echo "FAIL: seed 8 gave the same output as seed 7"; exit 1; fi
echo "ok: identical outputs for one seed, different for another"
