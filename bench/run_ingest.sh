#!/usr/bin/env bash
# bench/run_ingest.sh — SMTP ingest with durable Maildir delivery, mailsim-server side by
# side with a private Postfix, driven by the same load generator (issue 2 §6).
#
# For every body size × connection count it runs build/release/bin/mailsim_smtp_load for a
# bounded time against mailsim-server, then against Postfix's smtpd, then checks that the
# Maildir holds exactly one new file per 250 (for Postfix, after its queue has drained; it
# also reports how many of the acknowledged messages had been delivered when the load
# stopped). At the end it measures the disk's raw fsync/syncfs rates, for context.
#
# Run it while holding the build lock, so that no compiler shares the 2 cores (and no
# build's dirty pages are flushed by mailsim's syncfs) during a measurement:
#   flock /tmp/mailsim-build.lock bash bench/run_ingest.sh
# Options (all optional):
#   --build-dir DIR     where bin/mailsim-server and bin/mailsim_smtp_load are (build/release)
#   --duration S        seconds per run (default 12)
#   --sizes "A B"       body sizes in bytes (default "1024 102400")
#   --conns "A B C"     connection counts (default "1 10 50")
#   --servers "A B"     mailsim and/or postfix (default "mailsim postfix")
#   --pipelining        let the client pipeline MAIL/RCPT/DATA (both servers offer it)
#   --durability MODE   mailsim delivery.durability: journal (default), syncfs or fsync_each
#   --log FILE|null     mailsim log: "file" keeps the JSON log in the work folder (default),
#                       "null" sends it to /dev/null; Postfix always logs to its maillog_file
#   --out DIR           results folder (default: results/ in the work folder, copied to
#                       /var/tmp/mailsim-bench-results/<work folder name>/ at exit)
#   --no-disk           skip the raw fsync/syncfs measurement
#   --keep              keep the work folder (Maildirs, logs) afterwards
# Output: a table on standard output and results.jsonl + results.md in the results folder.
# Everything it starts (mailsim-server, the Postfix instance) is stopped on exit (trap).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
duration=12
sizes="1024 102400"
conns="1 10 50"
servers="mailsim postfix"
pipelining=""
durability="journal"
log_mode="file"
out=""
disk=1
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --pipelining) pipelining="--pipelining"; shift ;;
    --durability) durability=$2; shift 2 ;;
    --log) log_mode=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-disk) disk=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

server_bin="$build_dir/bin/mailsim-server"
load_bin="$build_dir/bin/mailsim_smtp_load"
for b in "$server_bin" "$load_bin"; do
  [[ -x "$b" ]] || { echo "missing $b: build the release preset first (see docs/benchmarks.md)" >&2; exit 1; }
done
[[ $EUID -eq 0 ]] || { echo "run as root (Postfix's master and virtual(8) need it)" >&2; exit 1; }

# --- Postfix, installed non-interactively if missing (apt starts no daemons here) ---------
if [[ " $servers " == *" postfix "* ]] && ! command -v postfix >/dev/null; then
  echo "installing postfix ..."
  debconf-set-selections <<< 'postfix postfix/main_mailer_type select Local only'
  debconf-set-selections <<< 'postfix postfix/mailname string localhost'
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null
fi

work=$(mktemp -d /var/tmp/mailsim-bench.XXXXXX)
chmod 0755 "$work"  # the postfix user must be able to traverse it
[[ -n "$out" ]] || out="$work/results"
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.jsonl"
: > "$results"

mailsim_pid=""
postfix_conf="$work/postfix/etc"
postfix_started=0
cleanup() {
  set +e
  if [[ -n "$mailsim_pid" ]] && kill -0 "$mailsim_pid" 2>/dev/null; then
    kill -TERM "$mailsim_pid"
    for _ in $(seq 1 100); do kill -0 "$mailsim_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$mailsim_pid" 2>/dev/null && kill -KILL "$mailsim_pid"
  fi
  if [[ $postfix_started -eq 1 ]]; then
    postfix -c "$postfix_conf" stop >/dev/null 2>&1
    # master exits within a few seconds; wait for its pid file to go (bounded)
    for _ in $(seq 1 100); do
      [[ -f "$work/postfix/spool/pid/master.pid" ]] || break
      pid=$(tr -d ' ' < "$work/postfix/spool/pid/master.pid" 2>/dev/null)
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  if [[ $keep -eq 0 ]]; then
    # keep the results if they were written inside the work folder
    if [[ "$out" == "$work"/* ]]; then
      mkdir -p /var/tmp/mailsim-bench-results
      dest="/var/tmp/mailsim-bench-results/$(basename "$work")"
      cp -r "$out" "$dest" && echo "results kept in $dest"
    fi
    rm -rf "$work"
  else
    echo "work folder kept: $work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {  # wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT
  local port=$1 limit=$2 i
  for ((i = 0; i < limit * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

count_new() {  # files delivered to the one test mailbox of a server
  local dir="$1/mailsim.test/demo/Maildir/new"
  if [[ -d "$dir" ]]; then find "$dir" -type f | wc -l; else echo 0; fi
}

# The Maildirs are never emptied between runs: each run counts the files it added. On this
# machine's ext4 (no journal) a file created soon after many deletions is slow to create —
# ext4 skips inodes freed in the last minute or so (fs/ext4/ialloc.c, recently_deleted()) —
# and deleting 40,000 messages between runs made the following run about 3.5× slower.
# For the same reason all mailsim runs come before all Postfix runs (Postfix deletes a queue
# file for every message it delivers), and the raw disk measurement, which deletes its
# scratch files, comes last.
ensure_maildir() {  # ensure_maildir ROOT OWNER
  local md="$1/mailsim.test/demo/Maildir"
  mkdir -p "$md/new" "$md/cur" "$md/tmp"
  chown -R "$2" "$1/mailsim.test"
}

# --- machine ------------------------------------------------------------------------------
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -r)"
  src=$(df --output=source "$work" | tail -1)
  echo "work folder: $work on $src ($(df --output=fstype "$work" | tail -1 | tr -d ' '), $(findmnt -no OPTIONS --target "$work" 2>/dev/null))"
  dev=$(basename "$src")
  [[ -r /sys/block/$dev/queue/rotational ]] && echo "disk: /dev/$dev rotational=$(cat /sys/block/$dev/queue/rotational) scheduler=$(cat /sys/block/$dev/queue/scheduler)"
  echo "postfix: $(postconf -h mail_version 2>/dev/null || echo n/a)"
  echo "mailsim: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null) (working tree, $(git -C "$repo" status --porcelain 2>/dev/null | wc -l) changed files)"
  echo "duration per run: ${duration}s; pipelining: ${pipelining:-off}; mailsim durability: $durability; mailsim log: $log_mode"
} | tee "$out/machine.txt"


# --- mailsim-server -----------------------------------------------------------------------
start_mailsim() {
  local port=$1
  mkdir -p "$work/mailsim/state" "$work/mailsim/maildir"
  local log_file="$work/mailsim/mailsim-server.log"
  [[ "$log_mode" == "null" ]] && log_file="/dev/null"
  # One domain, one user, Maildir delivery: the same shape as the Postfix instance.
  # Password "demo" (the hash of reference-server/config/demo.yaml); AUTH is not used here.
  cat > "$work/mailsim/bench.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $work/mailsim/state
  maildir_root: $work/mailsim/maildir
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
  connections_max: 1000
  connections_per_ip_max: 1000
delivery:
  durability: $durability
EOF
  "$server_bin" --config "$work/mailsim/bench.yaml" >"$work/mailsim/stdout.txt" 2>&1 &
  mailsim_pid=$!
  if ! wait_port "$port" 20; then
    echo "mailsim-server did not start:" >&2
    cat "$work/mailsim/stdout.txt" >&2
    exit 1
  fi
}

# --- a private Postfix instance -----------------------------------------------------------
start_postfix() {
  local port=$1 base="$work/postfix"
  mkdir -p "$postfix_conf" "$base/spool" "$base/data" "$work/postfix-maildir"
  chown postfix:postfix "$base/data"
  # virtual(8) writes as this uid/gid (static maps): an unprivileged owner for the Maildirs
  chown nobody:nogroup "$work/postfix-maildir"
  sed -e "s|@BASE@|$base|g" -e "s|@MAILDIRS@|$work/postfix-maildir|g" \
      -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(getent group nogroup | cut -d: -f3)|g" \
      "$here/postfix/main.cf.in" > "$postfix_conf/main.cf"
  sed -e "s|@PORT@|$port|g" "$here/postfix/master.cf.in" > "$postfix_conf/master.cf"
  echo "demo@mailsim.test mailsim.test/demo/Maildir/" > "$base/vmailbox"
  postfix -c "$postfix_conf" check >"$base/check.txt" 2>&1 || { cat "$base/check.txt" >&2; exit 1; }
  postfix -c "$postfix_conf" start >"$base/start.txt" 2>&1 || { cat "$base/start.txt" >&2; exit 1; }
  postfix_started=1
  if ! wait_port "$port" 20; then
    echo "postfix smtpd did not start; its log:" >&2
    tail -20 "$base/maillog" >&2 2>/dev/null
    exit 1
  fi
}

postfix_queued() {  # postfix_queued "QUEUES": messages in these queues of Postfix
  local q="$work/postfix/spool" n=0 d
  for d in $1; do
    [[ -d "$q/$d" ]] && n=$((n + $(find "$q/$d" -type f | wc -l)))
  done
  echo "$n"
}

postfix_drain() {  # wait (bounded, 180 s) until nothing waits for a first delivery attempt
  local t0 t1 i
  t0=$(date +%s.%N)
  for ((i = 0; i < 1800; i++)); do
    [[ $(postfix_queued "maildrop incoming active") -eq 0 ]] && break
    sleep 0.1
  done
  t1=$(date +%s.%N)
  /usr/bin/python3 -c "print(f'{$t1 - $t0:.2f}')"
}

# --- the runs -----------------------------------------------------------------------------
mailsim_port=""
postfix_port=""
if [[ " $servers " == *" mailsim "* ]]; then
  mailsim_port=$(free_port)
  start_mailsim "$mailsim_port"
  echo "mailsim-server pid $mailsim_pid on 127.0.0.1:$mailsim_port ($durability)"
fi
if [[ " $servers " == *" postfix "* ]]; then
  postfix_port=$(free_port)
  start_postfix "$postfix_port"
  echo "postfix (private instance in $work/postfix) on 127.0.0.1:$postfix_port"
fi

# CPU accounting, to see what a run cost and whether other work shared the 2 cores.
clk_tck=$(getconf CLK_TCK)
cpu_snapshot() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat; }
busy_pct() {  # busy_pct "T0 I0" "T1 I1": share of all CPU time that was not idle
  /usr/bin/python3 -c 'import sys; t0,i0=map(int,sys.argv[1].split()); t1,i1=map(int,sys.argv[2].split()); print(f"{100*(1-(i1-i0)/max(t1-t0,1)):.0f}")' "$1" "$2"
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of one process

mismatch=0
run_case() {  # run_case SERVER PORT SIZE CONNS
  local server=$1 port=$2 size=$3 n=$4 maildirs before after line extra
  if [[ $server == mailsim ]]; then maildirs="$work/mailsim/maildir"; else maildirs="$work/postfix-maildir"; fi
  if [[ $server == postfix ]]; then ensure_maildir "$maildirs" nobody:nogroup; fi
  before=$(count_new "$maildirs")
  # File-creation probe: µs to create a 1 KiB file in a folder beside the Maildir (so, most
  # likely, in the same ext4 block group as Maildir/tmp; the files stay until the end, see
  # ensure_maildir). Slow creates (hundreds of µs instead of tens) mean that inodes of this
  # part of the disk were freed in the last minutes, by us or by anyone.
  local probe
  probe=$(/usr/bin/python3 - "$maildirs/mailsim.test/demo/probe-$size-$n" <<'PY'
import os, sys, time
d = sys.argv[1]
os.makedirs(d)
t = time.monotonic()
for i in range(300):
    fd = os.open(f"{d}/{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"x" * 1024)
    os.close(fd)
print(f"{(time.monotonic() - t) / 300 * 1e6:.0f}")
PY
)
  # Background load: how busy the machine is with nothing of ours running (1 s sample).
  local c0 c1 c2 bg busy t0=0 t1=0
  c0=$(cpu_snapshot); sleep 1; c1=$(cpu_snapshot)
  bg=$(busy_pct "$c0" "$c1")
  [[ $server == mailsim ]] && t0=$(proc_ticks "$mailsim_pid")
  line=$("$load_bin" --port "$port" --connections "$n" --size "$size" --duration "$duration" \
           $pipelining --json --label "$server" | tee "$out/run-$server-$size-$n.txt" | grep '^RESULT ' | cut -c8-)
  c2=$(cpu_snapshot)
  busy=$(busy_pct "$c1" "$c2")
  extra=",\"background_busy_pct\":$bg,\"busy_pct\":$busy,\"create_probe_us\":$probe"
  if [[ $server == mailsim ]]; then
    t1=$(proc_ticks "$mailsim_pid")
    extra="$extra,\"server_cpu_s\":$(/usr/bin/python3 -c "print(($t1 - $t0) / $clk_tck)")"
  fi
  sed -n '1,/RESULT/p' "$out/run-$server-$size-$n.txt" | grep -v '^RESULT' | sed 's/^/  /'
  echo "  CPU: machine busy ${bg}% before the run (others), ${busy}% during it (2 cores = 100%); file create probe ${probe} µs"
  [[ $bg -lt 10 ]] || echo "  WARNING: other processes were using ${bg}% of the CPU before this run"
  local accepted
  accepted=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["accepted"])' "$line")
  if [[ $server == postfix ]]; then
    local at_end drain
    at_end=$(( $(count_new "$maildirs") - before ))
    drain=$(postfix_drain)
    local deferred
    deferred=$(postfix_queued "deferred hold")
    [[ $deferred -eq 0 ]] || echo "  postfix: $deferred message(s) deferred, see $work/postfix/maillog"
    extra="$extra,\"delivered_when_load_stopped\":$at_end,\"drain_s\":$drain,\"deferred\":$deferred"
  fi
  after=$(count_new "$maildirs")
  local delivered=$((after - before))
  echo "  maildir check: $delivered new files for $accepted 250 replies$([[ $delivered -eq $accepted ]] && echo ' (equal)' || echo ' (MISMATCH)')"
  [[ $delivered -eq $accepted ]] || mismatch=1
  echo "${line%\}},\"server\":\"$server\",\"delivered\":$delivered$extra}" >> "$results"
}

for server in $servers; do
  for size in $sizes; do
    for n in $conns; do
      echo "--- $server: body ${size} B, $n connection(s), ${duration}s ---"
      if [[ $server == mailsim ]]; then run_case mailsim "$mailsim_port" "$size" "$n"
      else run_case postfix "$postfix_port" "$size" "$n"; fi
    done
  done
done

if [[ $disk -eq 1 ]]; then
  echo "--- raw sync rates of this disk (bench/disk_sync_rate.py, 3 s each) ---"
  /usr/bin/python3 "$here/disk_sync_rate.py" --dir "$work" --seconds 3 | tee "$out/disk.txt"
fi

if [[ -n "$mailsim_pid" ]]; then
  echo "mailsim-server RSS at the end: $(grep VmRSS /proc/$mailsim_pid/status | awk '{print $2, $3}')"
fi
/usr/bin/python3 "$here/ingest_report.py" "$results" | tee "$out/results.md"
echo "results: $out"
[[ $mismatch -eq 0 ]] || { echo "MAILDIR COUNT MISMATCH: see above" >&2; exit 1; }
