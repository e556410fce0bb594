#!/usr/bin/env bash
# bench/run_all.sh — every benchmark of docs/benchmarks.md, one after the other, each one
# holding the build lock only while it measures (so builds can run in between).
#
#   bash bench/run_all.sh [--build-dir DIR] [--out DIR] [--wait-quiet MINUTES] [--steps "A B"]
#         [--settle SECONDS]
# --wait-quiet: before each step, wait (at most MINUTES) until the machine has been less
# than 15% busy for 10 s, so that other people's tests do not share the 2 cores with a
# measurement. Each step still records the background load it saw.
# Steps (all by default): micro, ingest (with the disk sync rates), ingest_pipelining
# (1 KiB, client PIPELINING), relay (submission → queue → smtp-sink, beside Postfix),
# idle_rss, profile_1conn, profile_50conn (strace and perf of mailsim-server). An ingest
# step deletes its work folder (hundreds of thousands of files) at the end, and on this
# machine's ext4 without journal that makes creating files slow for a few minutes
# (docs/benchmarks.md); the relay step deletes a queue file per message it relays; so after
# each ingest step, the relay step and profile_1conn it waits --settle seconds (default 360,
# without the lock) before the next step. The ingest and relay runs also record a
# file-creation probe, so a slow-create run can be recognised.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
out="/var/tmp/mailsim-bench-results/all-$(date -u +%Y%m%d-%H%M%S)"
quiet_min=0
steps="micro ingest ingest_pipelining relay idle_rss profile_1conn profile_50conn pop3 imap"
settle_s=360
lock=/tmp/mailsim-build.lock
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --wait-quiet) quiet_min=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --settle) settle_s=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"

busy_10s() {
  local a b
  a=$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)
  sleep 10
  b=$(awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat)
  /usr/bin/python3 -c 'import sys; t0,i0=map(int,sys.argv[1].split()); t1,i1=map(int,sys.argv[2].split()); print(round(100*(1-(i1-i0)/max(t1-t0,1))))' "$a" "$b"
}

wait_quiet() {
  [[ $quiet_min -gt 0 ]] || return 0
  local end=$(( $(date +%s) + quiet_min * 60 )) b
  while [[ $(date +%s) -lt $end ]]; do
    b=$(busy_10s)
    [[ $b -lt 15 ]] && { echo "machine quiet (${b}% busy over 10 s)"; return 0; }
    echo "$(date +%T) machine ${b}% busy; waiting"
  done
  echo "machine still busy after $quiet_min min; measuring anyway (the background load is recorded)"
}

step() {  # step NAME COMMAND...: one measurement under the build lock
  local name=$1; shift
  [[ " $steps " == *" $name "* ]] || return 0
  wait_quiet
  echo "=== $name ($(date -u +%T) UTC) ==="
  flock "$lock" "$@" 2>&1 | tee "$out/$name.txt" || echo "step $name failed (exit ${PIPESTATUS[0]})"
  if [[ ($name == ingest* || $name == relay || $name == profile_1conn) && $settle_s -gt 0 ]]; then
    echo "letting the disk settle for ${settle_s}s after the deletions of $name"
    sleep "$settle_s"
  fi
}

step micro "$build_dir/bin/mailsim_micro_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$out/micro.json" --benchmark_out_format=json
step ingest bash "$here/run_ingest.sh" --build-dir "$build_dir" --out "$out/ingest"
step ingest_pipelining bash "$here/run_ingest.sh" --build-dir "$build_dir" --out "$out/ingest_pipelining" \
  --pipelining --sizes 1024 --no-disk
step relay bash "$here/run_relay.sh" --build-dir "$build_dir" --out "$out/relay"
step idle_rss bash "$here/run_idle_rss.sh" --build-dir "$build_dir"
step profile_1conn bash "$here/profile_mailsim.sh" --build-dir "$build_dir" --conns 1 --duration 6
step profile_50conn bash "$here/profile_mailsim.sh" --build-dir "$build_dir" --conns 50 --duration 6
step pop3 bash "$here/run_pop3.sh" --build-dir "$build_dir"
step imap bash "$here/run_imap.sh" --build-dir "$build_dir"
echo "all results in $out"
