#!/usr/bin/env bash
# The whole test suite: builds the dev preset and runs every test (unit, integration with
# real sockets and real clients, Python) under ctest.
#
#   tools/test.sh           dev preset (GCC, warnings as errors), every test
#   tools/test.sh --asan    asan-ubsan preset (clang-14, AddressSanitizer + UBSan + leak
#                           checks): the unit, integration and end-to-end tests
#   tools/test.sh --tsan    tsan preset (clang-14, ThreadSanitizer): mailsim-server only,
#                           under the end-to-end tests that drive its threads (the AUTH
#                           pool, the delivery worker, the outbound thread, IMAP, POP3)
#
# Under a sanitizer every report goes to a file in build/<preset>/sanitizer-logs/, not to
# stderr: a server started by a Python test has its stderr swallowed or is killed before
# anybody reads it. Any report there fails the run (exit 1) and is printed, even when every
# test passed, so a race in a server that a test killed still counts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
preset=dev
case "${1:-}" in
  "") ;;
  --asan) preset=asan-ubsan ;;
  --tsan) preset=tsan ;;
  *) echo "usage: tools/test.sh [--asan | --tsan]" >&2; exit 2 ;;
esac
bash tools/build.sh "$preset"

logs=$root/build/$preset/sanitizer-logs
rm -rf "$logs"
mkdir -p "$logs"
# Sanitizer options: each variable a caller set is kept as it is.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:log_path=$logs/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp:log_path=$logs/tsan}

status=0
ctest --preset "$preset" -j2 --timeout 600 || status=$?

reports=("$logs"/*)
if [ -e "${reports[0]}" ]; then
  for f in "${reports[@]}"; do
    echo "===== sanitizer report: $f"
    cat "$f"
  done
  echo "test.sh: ${#reports[@]} sanitizer report(s) in $logs" >&2
  status=1
fi
exit "$status"
