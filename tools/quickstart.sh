#!/usr/bin/env bash
# The main job: build the simulator's Python module (release preset) and run the shipped
# quickstart suite in virtual mode — every scenario of scenarios/quickstart, each a real
# question with expectations — printing a verdict per expectation. Writes JUnit XML and a
# JSON report per scenario under build/quickstart/. Extra arguments go to `mailsim run`
# (e.g. --seed 7, or a single scenario file instead of the suite).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target _core
mkdir -p build/quickstart
args=("$@")
if [ ${#args[@]} -eq 0 ]; then args=(scenarios/quickstart); fi
MAILSIM_BUILD_DIR=build/release exec bash tools/mailsim run "${args[@]}" \
  --junit build/quickstart/junit.xml --json build/quickstart/report.json
