#!/usr/bin/env bash
# bench/run_sim.sh — the simulator's speed and memory (issue 5 §6), in one run:
#  1. virtual mode: full SMTP transactions (real protocol bytes, 1 KiB, no DKIM) per
#     CPU-second — bench/sim/throughput.yaml.j2 with N messages, minus the same scenario
#     with one message (Python start-up, world build), over the process's user+sys time;
#     twice: every message queued at once (a backlog of N in the queue), and arriving at
#     150 per virtual second (the steady state: the queue holds what is in flight);
#  2. the same transaction over real loopback sockets: build/release/bin/mailsim_smtp_load
#     (one connection, 1 KiB, no pipelining) against mailsim-server storing into a Maildir,
#     CPU time of both processes per transaction, and the rate;
#  3. 1 M messages to 50 receivers over a 30-day warm-up (bench/sim/million.yaml.j2):
#     wall time and peak RSS.
# Needs the release build: cmake --preset release && cmake --build --preset release
# (targets _core, mailsim-server, mailsim_smtp_load). Run it holding the build lock so that
# no compiler shares the cores:  flock /tmp/mailsim-build.lock bash bench/run_sim.sh
# Options: --transactions N (default 200000), --loopback N (default 20000),
#          --million N (messages of run 3, default 1000000), --skip-million
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build="$repo/build/release"
transactions=200000
loopback=20000
million=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --transactions) transactions=$2; shift 2 ;;
    --loopback) loopback=$2; shift 2 ;;
    --million) million=$2; shift 2 ;;
    --skip-million) million=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
export PYTHONPATH="$build/pyapi"
work=$(mktemp -d /tmp/mailsim-sim-bench.XXXXXX)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# CPU seconds (user+sys) and peak RSS (KiB) of one `mailsim run`; prints "cpu rss wall".
measure_run() {
  /usr/bin/time -f "%U %S %M %e" -o "$work/time.txt" \
    /usr/bin/python3 -m mailsim run "$@" >"$work/run.txt" 2>&1 || {
    cat "$work/run.txt" >&2; exit 1; }
  awk '{printf "%.3f %d %.2f\n", $1 + $2, $3, $4}' "$work/time.txt"
}

echo "== 1. virtual mode: $transactions transactions"
read -r base_cpu _ _ < <(measure_run "$here/sim/throughput.yaml.j2" --set total=1)
# One line of results for the throughput scenario run with the given arrival window.
virtual_run() {
  local label=$1 over=$2 cpu rss wall
  read -r cpu rss wall < <(measure_run "$here/sim/throughput.yaml.j2" \
    --set total="$transactions" --set over="$over")
  awk -v n="$transactions" -v a="$cpu" -v b="$base_cpu" -v l="$label" -v w="$wall" \
    -v r="$rss" 'BEGIN { printf "virtual, %s: %.0f transactions per CPU-second (%.1f µs each; run %ss wall, %ss CPU, fixed %ss, peak RSS %d KiB)\n", l, n / (a - b), (a - b) * 1e6 / n, w, a, b, r }'
}
virtual_run "all queued at once" 1s
virtual_run "150 per second" "$((transactions / 150 + 1))s"

echo "== 2. loopback: $loopback transactions to mailsim-server"
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/state" "$work/maildir"
cat > "$work/server.yaml" <<YAML
server:
  hostname: mailsim.bench.test
  state_dir: $work/state
  maildir_root: $work/maildir
  log: { file: /dev/null, level: info }
listeners:
  - { name: mx, role: smtp, address: 127.0.0.1, port: $port }
domains: [mailsim.test]
users:
  - address: demo@mailsim.test
    password_hash: "\$pbkdf2-sha256\$i=100000\$QAU/bUTGAcITeUajK4yIUQ==\$wqyIN6gkbauJmMk8DU05bxozGgb5LgHkSROiIaoI5AI="
limits: { connections_max: 100, connections_per_ip_max: 100 }
YAML
"$build/bin/mailsim-server" --config "$work/server.yaml" >"$work/server.txt" 2>&1 &
server_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
ticks=$(getconf CLK_TCK)
server_cpu() { awk -v t="$ticks" '{printf "%.3f", ($14 + $15) / t}' "/proc/$server_pid/stat"; }
before=$(server_cpu)
/usr/bin/time -f "%U %S %e" -o "$work/client.txt" "$build/bin/mailsim_smtp_load" \
  --port "$port" --connections 1 --size 1024 --messages "$loopback" --duration 600 \
  --to demo@mailsim.test >"$work/load.txt" 2>&1
after=$(server_cpu)
read -r cu cs cwall < "$work/client.txt"
loop_cpu=$(awk -v a="$after" -v b="$before" -v u="$cu" -v s="$cs" 'BEGIN { printf "%.3f", a - b + u + s }')
loop_us=$(awk -v c="$loop_cpu" -v n="$loopback" 'BEGIN { printf "%.1f", c * 1e6 / n }')
loop_rate=$(awk -v w="$cwall" -v n="$loopback" 'BEGIN { printf "%.0f", n / w }')
echo "loopback: $loop_us µs CPU per transaction (server $(awk -v a="$after" -v b="$before" 'BEGIN{printf "%.2f", a-b}')s + client $(awk -v u="$cu" -v s="$cs" 'BEGIN{printf "%.2f", u+s}')s for $loopback), $loop_rate transactions/s wall (durable Maildir)"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""

if [ "$million" -gt 0 ]; then
  echo "== 3. $million messages to 50 receivers over 30 days"
  read -r m_cpu m_rss m_wall < <(measure_run "$here/sim/million.yaml.j2" --set total="$million")
  echo "million: ${m_wall}s wall, ${m_cpu}s CPU, peak RSS $((m_rss / 1024)) MiB"
  grep -E "totals|delivery delay" "$work/run.txt" || true
fi
