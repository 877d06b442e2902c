#!/usr/bin/env bash
# Builds everything and runs every test: GCC (Debug, invariants checked after every
# command), then Clang, both with -Wall -Wextra -Wpedantic -Werror.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

for preset in dev clang; do
  echo "== $preset =="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  ctest --preset "$preset"
done
