#!/usr/bin/env bash
# Builds everything and runs every test:
#   dev    GCC 12, Debug, every invariant checked: the whole suite
#   asan   Clang 14 with AddressSanitizer + UBSan, invariants checked: the whole suite
#          (this is also the Clang warnings check: same -Werror flags)
#   clang  Clang 14 without sanitizers: only the benchmarks, the one part asan does not build,
#          so every target is compiled warning-free by both compilers
#   fuzz   the libFuzzer targets, each for CHATROUTE_FUZZ_SECONDS (default 30)
# All with -Wall -Wextra -Wpedantic -Werror. `ctest --preset clang` runs the suite under
# plain Clang too, when wanted; CI skips it because asan runs the same tests with the same compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
# doxygen: the API reference test; python3: docs and host tests; chromium: the report render test.
scripts/deps.sh doxygen python3 chromium

for preset in dev asan; do
  echo "== $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done

echo "== clang (benchmarks: the targets asan does not build) =="
cmake --preset clang >/dev/null
cmake --build --preset clang --target benchmarks

echo "== fuzz =="
cmake --preset fuzz -DCHATROUTE_FUZZ_SECONDS="${CHATROUTE_FUZZ_SECONDS:-30}" >/dev/null
cmake --build --preset fuzz
ctest --preset fuzz
