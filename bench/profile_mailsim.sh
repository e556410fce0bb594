#!/usr/bin/env bash
# bench/profile_mailsim.sh — where mailsim-server's time goes during an ingest run.
#
# Starts mailsim-server like bench/run_ingest.sh does, then runs the load generator twice
# for a bounded time:
#   1. under `strace -f -T -e trace=syncfs,fsync,fdatasync,rename,renameat,openat,write`
#      attached to the server: how many durability barriers per message (so the mean
#      group-commit batch size), and how long each barrier takes;
#   2. under `perf record -e cpu-clock -g` attached to the server (when perf is installed):
#      where its CPU time goes.
# strace slows the server down, so throughput from step 1 is not a benchmark figure; the
# counts and per-call latencies are what it is for. Step 1 also prints `strace -c`-style
# totals.
#
#   flock /tmp/mailsim-build.lock bash bench/profile_mailsim.sh [--build-dir DIR]
#         [--conns N] [--size BYTES] [--duration S] [--durability journal|syncfs|fsync_each]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
conns=1
size=1024
duration=8
durability=journal
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --durability) durability=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
server_bin="$build_dir/bin/mailsim-server"
load_bin="$build_dir/bin/mailsim_smtp_load"
command -v strace >/dev/null || { echo "strace is needed (apt-get install strace)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/mailsim-prof.XXXXXX)
server_pid=""
tracer_pid=""
cleanup() {
  set +e
  for pid in $tracer_pid $server_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/state" "$work/maildir"
cat > "$work/prof.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $work/state
  maildir_root: $work/maildir
  log:
    file: $work/mailsim-server.log
    level: info
listeners:
  - name: mx
    role: smtp
    address: 127.0.0.1
    port: $port
domains:
  - mailsim.test
users:
  - address: demo@mailsim.test
    password_hash: "\$pbkdf2-sha256\$i=100000\$QAU/bUTGAcITeUajK4yIUQ==\$wqyIN6gkbauJmMk8DU05bxozGgb5LgHkSROiIaoI5AI="
limits:
  connections_max: 1000
  connections_per_ip_max: 1000
delivery:
  durability: $durability
EOF
"$server_bin" --config "$work/prof.yaml" >"$work/stdout.txt" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stdout.txt" >&2; exit 1; }
  sleep 0.1
done
echo "mailsim-server pid $server_pid ($(ls /proc/$server_pid/task | wc -l) threads), $durability, $conns connection(s), body $size B, ${duration}s per step"

echo "=== 1. system calls of the server (strace; throughput here is slowed by strace) ==="
strace -f -T -qq -e trace=syncfs,fsync,fdatasync,rename,renameat,renameat2,openat,write,sendto,sendmsg,recvfrom,read \
  -o "$work/strace.txt" -p "$server_pid" &
tracer_pid=$!
sleep 1
"$load_bin" --port "$port" --connections "$conns" --size "$size" --duration "$duration" --json --label strace \
  | tee "$work/load-strace.txt" | grep -v '^RESULT'
kill -INT "$tracer_pid" 2>/dev/null || true
wait "$tracer_pid" 2>/dev/null || true
tracer_pid=""
accepted=$(grep '^RESULT' "$work/load-strace.txt" | cut -c8- | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted"])')
/usr/bin/python3 - "$work/strace.txt" "$accepted" <<'EOF'
import re, sys, collections
path, accepted = sys.argv[1], int(sys.argv[2])
calls = collections.defaultdict(list)
threads = collections.defaultdict(collections.Counter)
# A finished call is either "TID name(...) = R <secs>" or, when another thread's call came
# in between, "TID <... name resumed>...) = R <secs>".
pat = re.compile(r"^(\d+)\s+(?:<\.\.\.\s+(\w+) resumed>|(\w+)\().*<([0-9.]+)>$")
for line in open(path, errors="replace"):
    m = pat.match(line.strip())
    if m:
        pid, name, secs = m.group(1), m.group(2) or m.group(3), float(m.group(4))
        calls[name].append(secs)
        threads[name][pid] += 1
print(f"messages accepted: {accepted}")
print(f"{'call':10s} {'count':>8s} {'per msg':>8s} {'mean ms':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'total s':>8s} threads")
for name, v in sorted(calls.items(), key=lambda kv: -sum(kv[1])):
    s = sorted(v)
    p = lambda q: s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))] * 1000
    print(f"{name:10s} {len(v):8d} {len(v) / max(accepted, 1):8.2f} {1000 * sum(v) / len(v):8.3f} "
          f"{p(0.5):8.3f} {p(0.99):8.3f} {sum(v):8.2f} {len(threads[name])}")
# One barrier per batch: a journal record's fdatasync, or a syncfs (the renames ride on the
# next one); the journal's checkpoints add a syncfs now and then.
for barrier in ("fdatasync", "syncfs"):
    if calls.get(barrier):
        batches = len(calls[barrier])
        print(f"group-commit batches ({barrier} calls): {batches:.0f}; mean batch size: {accepted / max(batches, 1):.2f} messages")
        break
EOF

if command -v perf >/dev/null; then
  echo "=== 2. where the server's CPU time goes (perf record -e cpu-clock -g) ==="
  perf record -q -e cpu-clock -F 999 -g -p "$server_pid" -o "$work/perf.data" -- sleep "$((duration + 1))" \
    >/dev/null 2>&1 &
  tracer_pid=$!
  sleep 0.5
  "$load_bin" --port "$port" --connections "$conns" --size "$size" --duration "$duration" --label perf
  wait "$tracer_pid" 2>/dev/null || true
  tracer_pid=""
  set +o pipefail  # head closes the pipe early; that is not a failure
  echo "--- by thread (share of the server's samples) ---"
  perf report -i "$work/perf.data" --no-children --sort pid -g none --stdio 2>/dev/null \
    | grep -E '^\s+[0-9.]+%' | head -8 | cut -c1-110
  echo "--- system calls, inclusive time (children included) ---"
  perf report -i "$work/perf.data" --children --sort symbol -g none --stdio 2>/dev/null \
    | grep -E '__x64_sys_|__do_sys_' | head -14 | cut -c1-110
  echo "--- top symbols, self time (children excluded) ---"
  perf report -i "$work/perf.data" --no-children --sort dso,symbol -g none --stdio 2>/dev/null \
    | grep -E '^\s+[0-9.]+%' | head -25 | cut -c1-110
  set -o pipefail
fi
