#!/usr/bin/env bash
# The main job: a simulated help-desk day (24 h, 3 spaces, 40 agents) driven through the
# engine, summarised on stdout. Extra arguments go to chatroute-sim (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target chatroute-sim >/dev/null
build/release/examples/sim/chatroute-sim "$@"
