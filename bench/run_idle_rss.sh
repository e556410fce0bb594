#!/usr/bin/env bash
# bench/run_idle_rss.sh — mailsim-server's resident memory per idle SMTP connection
# (issue 2 §6: ≤ 64 KiB per connection with 5,000 idle connections held).
#
# Starts mailsim-server (connections_max and connections_per_ip_max 6000, command_timeout
# long enough that nobody is cut during the measurement), reads VmRSS from
# /proc/<pid>/status, opens N connections from 127.0.0.1..127.0.0.K (bench/idle_conns.cpp:
# each reads its 220 greeting, sends EHLO and reads the 250 reply), waits a moment, reads
# VmRSS again and reports (after − before) / N. The server is warmed up first with a short
# burst of connections, so one-time allocations (first session, first log line) are not
# charged to the idle connections.
#
#   flock /tmp/mailsim-build.lock bash bench/run_idle_rss.sh [--build-dir DIR] [--count 5000]
#         [--sources 8] [--log file|null]
# Everything it starts is stopped on exit (trap).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
count=5000
sources=8
log_mode="file"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --count) count=$2; shift 2 ;;
    --sources) sources=$2; shift 2 ;;
    --log) log_mode=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
server_bin="$build_dir/bin/mailsim-server"
idle_bin="$build_dir/bin/mailsim_idle_conns"
for b in "$server_bin" "$idle_bin"; do
  [[ -x "$b" ]] || { echo "missing $b: build the release preset first (see docs/benchmarks.md)" >&2; exit 1; }
done

# Both the server and the client hold one descriptor per connection.
ulimit -n $((count * 2 + 1000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

work=$(mktemp -d /var/tmp/mailsim-rss.XXXXXX)
server_pid=""
idle_pid=""
cleanup() {
  set +e
  for pid in $idle_pid $server_pid; do
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
log_file="$work/mailsim-server.log"
[[ "$log_mode" == "null" ]] && log_file="/dev/null"
cat > "$work/rss.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $work/state
  maildir_root: $work/maildir
  log:
    file: $log_file
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
  connections_max: $((count + 1000))
  connections_per_ip_max: $((count + 1000))
  command_timeout: 30m
EOF
"$server_bin" --config "$work/rss.yaml" >"$work/stdout.txt" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stdout.txt" >&2; exit 1; }
  sleep 0.1
done

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
fds() { find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# Warm-up: 100 connections taken to the idle state and released, then settle.
"$idle_bin" --port "$port" --count 100 --sources "$sources" --hold 1 >/dev/null
sleep 2
before=$(rss_kib)
fds_before=$(fds)
echo "mailsim-server pid $server_pid on 127.0.0.1:$port; VmRSS before: $before KiB ($fds_before fds)"

"$idle_bin" --port "$port" --count "$count" --sources "$sources" --hold 300 >"$work/idle.txt" 2>&1 &
idle_pid=$!
for _ in $(seq 1 1200); do  # up to 120 s to open them all
  grep -q '^READY' "$work/idle.txt" 2>/dev/null && break
  kill -0 "$idle_pid" 2>/dev/null || break
  sleep 0.1
done
ready=$(grep '^READY' "$work/idle.txt" || true)
[[ -n "$ready" ]] || { echo "the idle client did not get ready:" >&2; cat "$work/idle.txt" >&2; exit 1; }
echo "client: $ready"
sleep 2  # let the server finish handling the last EHLOs
after=$(rss_kib)
fds_after=$(fds)
idle=$(sed -n 's/.* idle=\([0-9]*\).*/\1/p' <<< "$ready")
echo "VmRSS after: $after KiB ($fds_after fds) with $idle idle connections"
/usr/bin/python3 - "$before" "$after" "$idle" <<'EOF'
import sys
before, after, n = (int(x) for x in sys.argv[1:])
per = (after - before) / n if n else float("nan")
print(f"RSS per idle connection: ({after} - {before}) KiB / {n} = {per:.2f} KiB "
      f"({per * 1024:.0f} bytes); goal <= 64 KiB: {'met' if per <= 64 else 'MISSED'}")
EOF
grep VmHWM "/proc/$server_pid/status"
