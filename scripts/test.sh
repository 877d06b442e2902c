#!/usr/bin/env bash
# Builds everything and runs every test:
#   dev    GCC, Debug, every invariant checked after every command
#   clang  Clang, the same
#   asan   Clang with AddressSanitizer + UBSan over the whole suite
#   fuzz   three libFuzzer targets, each for CHATROUTE_FUZZ_SECONDS (default 30)
# All with -Wall -Wextra -Wpedantic -Werror.
set -euo pipefail
cd "$(dirname "$0")/.."
# doxygen: the API reference test; python3: docs and host tests; chromium: the report render test.
scripts/deps.sh doxygen python3 chromium

for preset in dev clang asan; do
  echo "== $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done

echo "== fuzz =="
cmake --preset fuzz -DCHATROUTE_FUZZ_SECONDS="${CHATROUTE_FUZZ_SECONDS:-30}" >/dev/null
cmake --build --preset fuzz
ctest --preset fuzz
