#!/usr/bin/env bash
# The whole test suite: builds the dev preset and runs every test (unit, integration with
# real sockets and real clients, Python) under ctest. With --asan, builds the asan-ubsan
# preset and runs the unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=dev
if [ "${1:-}" = "--asan" ]; then preset=asan-ubsan; fi
bash tools/build.sh "$preset"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --preset "$preset" -j2 --timeout 600
