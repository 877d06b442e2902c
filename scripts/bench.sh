#!/usr/bin/env bash
# Builds the Release benchmarks and runs the whole suite: Google Benchmark's table for each
# benchmark, then a summary against the targets (docs/performance.md explains it).
# Writes build/release/bench.json (raw results), build/release/bench-summary.txt (the
# summary) and docs/images/scaling.svg (cost against scale).
# Extra arguments go to the benchmark binary, e.g. --benchmark_filter=agents/ or --tiny.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

cmake --preset release >/dev/null
cmake --build --preset release --target benchmarks

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load: $(cut -d' ' -f1-3 /proc/loadavg) =="
out=build/release
build/release/benchmarks/chatroute_steady_alloc_test
build/release/benchmarks/chatroute_bench --benchmark_out="$out/bench.json" --benchmark_out_format=json \
  --benchmark_min_time=0.2 "$@" | tee "$out/bench-output.txt"
sed -n '/=== summary ===/,$p' "$out/bench-output.txt" > "$out/bench-summary.txt"
python3 benchmarks/plot_scaling.py "$out/bench.json" docs/images/scaling.svg
echo "== summary: $out/bench-summary.txt, chart: docs/images/scaling.svg =="
