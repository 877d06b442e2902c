#!/usr/bin/env bash
# Builds the Release benchmarks and runs the whole suite: Google Benchmark's table for each
# benchmark, then a summary against the targets (docs/performance.md explains it).
# Writes build/release/bench.json (raw results), build/release/bench-summary.txt (the
# summary) and docs/images/scaling.svg (cost against scale; build/release/scaling.svg when
# arguments are given). Extra arguments go to the benchmark binary, e.g.
# --benchmark_filter=^agents/ or --tiny. With BENCH_CACHESIM=1, also prints instructions and
# simulated cache misses per command of the live series (valgrind; perf is not available in
# every VM), 10^3 to 10^5 agents, with a 4 MiB last-level cache. With BENCH_HUGEPAGES=1, glibc
# backs the heap with transparent huge pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1), as a
# large deployment would (docs/performance.md, decisions.md 58).
set -euo pipefail
[ "${BENCH_HUGEPAGES:-0}" = 1 ] && export GLIBC_TUNABLES=glibc.malloc.hugetlb=1
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
# Only a full run redraws the documented chart; a filtered or tiny run draws into build/.
chart=docs/images/scaling.svg
[ $# -eq 0 ] || chart="$out/scaling.svg"
python3 benchmarks/plot_scaling.py "$out/bench.json" "$chart"
echo "== summary: $out/bench-summary.txt, chart: $chart =="
if [ "${BENCH_CACHESIM:-0}" = 1 ]; then
  for n in 1e3 1e4 1e5; do
    python3 benchmarks/cachesim.py build/release/benchmarks/chatroute_bench "^live/mix/ours/$n\$" --ll 4194304 --min-time 0.3
  done | tee "$out/cachesim.txt"
fi
