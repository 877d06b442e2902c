#!/usr/bin/env bash
# The main job: a help-desk day through the engine (Release build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target chatroute-replay >/dev/null
build/release/examples/replay/chatroute-replay examples/scenarios/help-desk-morning.jsonl "$@"
