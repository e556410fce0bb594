#!/usr/bin/env bash
# bench/run_relay.sh — relay throughput (the outbound issue): submission → queue → delivery
# to Postfix's smtp-sink on loopback, mailsim-server side by side with a private Postfix
# relaying to the same sink, driven by the same load generator.
#
# One smtp-sink(1) listens on 127.0.0.2 for the whole run and counts what it receives (its
# -c counters, on standard output, polled from a file). For each connection count and
# repetition, the load generator (build/release/bin/mailsim_smtp_load) submits N messages
# of --size body bytes to rcpt@sink.test over C connections, with AUTH PLAIN once per
# connection before the clock starts, first to mailsim-server, then to Postfix (the order
# alternates between repetitions). Per run it records:
#   submit msg/s    N ÷ (first submission → last 250), as the load generator sees it;
#   relay msg/s     N ÷ (first submission → the sink has counted all N): end to end;
#   lag s           last 250 → sink has all N (what the queue still had to deliver).
# Then it waits until the server's queue is empty and checks that the sink got no more than
# N (no duplicate delivery). A "direct" row runs the load generator straight at the sink:
# the ceiling this load generator and this sink can reach on this machine.
#
# Both servers keep their defaults for everything that shapes throughput (mailsim: queue
# connections_max 20 per destination, messages_per_connection 100, syncfs spool barriers;
# Postfix: Debian's defaults, durable queue files, connection cache on demand). Both require
# AUTH to relay (Postfix: Cyrus SASL with a private sasldb; sasl2-bin is installed if
# missing); sink.test is routed statically to 127.0.0.2:PORT (mailsim: queue.routes;
# Postfix: relayhost), so no DNS is involved.
#
# Run it as root while holding the build lock, so that no compiler shares the 2 cores:
#   flock /tmp/mailsim-build.lock bash bench/run_relay.sh
# Options (all optional):
#   --build-dir DIR     where bin/mailsim-server and bin/mailsim_smtp_load are (build/release)
#   --messages N        messages per run (default 5000; must be a multiple of each count)
#   --size BYTES        body size (default 1024)
#   --conns "A B C"     connection counts (default "1 10 50")
#   --reps R            repetitions per server and count (default 3; the table shows medians)
#   --servers "A B"     mailsim and/or postfix (default "mailsim postfix"); "direct" rows
#                       are always measured unless --no-direct
#   --no-direct         skip the load generator → sink ceiling runs
#   --timeout S         bound on one run, submission plus delivery (default 300)
#   --out DIR           results folder (default: results/ in the work folder, copied to
#                       /var/tmp/mailsim-bench-results/<work folder name>/ at exit)
#   --keep              keep the work folder (spools, logs) afterwards
# Output: the command line, a table on standard output, and results.jsonl (one line per run)
# + results.md in the results folder. Everything it starts (smtp-sink, mailsim-server, the
# Postfix instance) is stopped on exit (trap).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
messages=5000
size=1024
conns="1 10 50"
reps=3
servers="mailsim postfix"
direct=1
run_timeout=300
out=""
keep=0
command_line="bash bench/run_relay.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --conns) conns=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --no-direct) direct=0; shift ;;
    --timeout) run_timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,43p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

server_bin="$build_dir/bin/mailsim-server"
load_bin="$build_dir/bin/mailsim_smtp_load"
for b in "$server_bin" "$load_bin"; do
  [[ -x "$b" ]] || { echo "missing $b: build the release preset first (see docs/benchmarks.md)" >&2; exit 1; }
done
"$load_bin" --help 2>&1 | grep -q -- --auth-user || { echo "$load_bin has no --auth-user: rebuild it" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "run as root (Postfix's master and smtp-sink -u need it)" >&2; exit 1; }
for n in $conns; do
  (( messages % n == 0 )) || { echo "--messages $messages is not a multiple of $n connections" >&2; exit 2; }
done

# --- Postfix (smtp-sink ships with it) and Cyrus SASL's saslpasswd2, installed if missing --
if ! command -v postfix >/dev/null || [[ ! -x /usr/sbin/smtp-sink ]]; then
  echo "installing postfix ..."
  debconf-set-selections <<< 'postfix postfix/main_mailer_type select Local only'
  debconf-set-selections <<< 'postfix postfix/mailname string localhost'
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null
fi
if [[ " $servers " == *" postfix "* ]] && ! command -v saslpasswd2 >/dev/null; then
  echo "installing sasl2-bin (saslpasswd2, for Postfix's AUTH) ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q sasl2-bin libsasl2-modules >/dev/null
fi

work=$(mktemp -d /var/tmp/mailsim-relay.XXXXXX)
chmod 0755 "$work"  # the postfix user must be able to traverse it
[[ -n "$out" ]] || out="$work/results"
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.jsonl"
: > "$results"

sink_pid=""
mailsim_pid=""
postfix_conf="$work/postfix/etc"
postfix_started=0
stop_pid() {  # stop_pid PID: TERM, then KILL after 10 s
  local pid=$1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  stop_pid "$mailsim_pid"
  if [[ $postfix_started -eq 1 ]]; then
    postfix -c "$postfix_conf" stop >/dev/null 2>&1
    for _ in $(seq 1 100); do
      [[ -f "$work/postfix/spool/pid/master.pid" ]] || break
      pid=$(tr -d ' ' < "$work/postfix/spool/pid/master.pid" 2>/dev/null)
      [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  stop_pid "$sink_pid"
  if [[ $keep -eq 0 ]]; then
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

free_port() {  # a free port on ADDRESS (default 127.0.0.1)
  /usr/bin/python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "${1:-127.0.0.1}"
}

wait_port() {  # wait_port ADDRESS PORT SECONDS: until something accepts there
  local address=$1 port=$2 limit=$3 i
  for ((i = 0; i < limit * 10; i++)); do
    if (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# --- machine ------------------------------------------------------------------------------
{
  echo "command: $command_line"
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -r)"
  echo "work folder: $work on $(df --output=source "$work" | tail -1) ($(df --output=fstype "$work" | tail -1 | tr -d ' '), $(findmnt -no OPTIONS --target "$work" 2>/dev/null))"
  echo "postfix: $(postconf -h mail_version 2>/dev/null || echo n/a)"
  echo "mailsim: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null) (working tree, $(git -C "$repo" status --porcelain 2>/dev/null | wc -l) changed files)"
  echo "messages per run: $messages; body: $size B; connections: $conns; repetitions: $reps"
} | tee "$out/machine.txt"

# --- the sink -----------------------------------------------------------------------------
# smtp-sink -c prints "sess=S quit=Q mesg=M" followed by a CR whenever a session ends, a QUIT
# is executed or a "." is received; its standard output goes to a file that sink_count reads.
sink_port=$(free_port 127.0.0.2)
sink_out="$work/sink.counters"
/usr/sbin/smtp-sink -c -u nobody -m 1000 "127.0.0.2:$sink_port" 1000 >"$sink_out" 2>"$work/sink.err" &
sink_pid=$!
wait_port 127.0.0.2 "$sink_port" 10 || { echo "smtp-sink did not start:" >&2; cat "$work/sink.err" >&2; exit 1; }
echo "smtp-sink pid $sink_pid on 127.0.0.2:$sink_port"

sink_count() {  # messages the sink has counted so far
  /usr/bin/python3 - "$sink_out" <<'PY'
import re, sys
with open(sys.argv[1], "rb") as f:
    f.seek(0, 2)
    f.seek(max(0, f.tell() - 256))
    records = f.read().split(b"\r")
m = [re.search(rb"mesg=(\d+)", r) for r in records[:-1]]  # complete records only
m = [x for x in m if x]
print(int(m[-1].group(1)) if m else 0)
PY
}

# Watches the sink's counter file until it reaches TARGET (or nothing changes for 30 s, or
# the bound passes) and writes "unix_time count" for every change, so the moment a given
# count was reached can be read afterwards. Polls every 2 ms (a stat(2) each).
sink_watch() {  # sink_watch TARGET SECONDS LOGFILE
  /usr/bin/python3 - "$sink_out" "$1" "$2" "$3" <<'PY'
import os, re, sys, time
path, target, bound, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
end = time.monotonic() + bound
size = -1
last = 0
last_change = time.monotonic()
with open(log, "w") as out, open(path, "rb") as f:
    while time.monotonic() < end:
        s = os.stat(path).st_size
        now = time.time()
        if s != size:
            size = s
            f.seek(max(0, s - 256))
            records = f.read(s - f.tell()).split(b"\r")
            counts = [re.search(rb"mesg=(\d+)", r) for r in records[:-1]]
            counts = [int(c.group(1)) for c in counts if c]
            if counts and counts[-1] != last:
                last = counts[-1]
                last_change = time.monotonic()
                out.write(f"{now:.6f} {last}\n")
                if last >= target:
                    break
        elif time.monotonic() - last_change > 30:
            break
        time.sleep(0.002)
PY
}

# --- mailsim-server -----------------------------------------------------------------------
# A submission listener without TLS (auth_without_tls: a lab setting; AUTH PLAIN in clear
# text on loopback), the spool under state_dir/queue, and a static route for sink.test.
# The user's hash costs 4096 PBKDF2 iterations (the RFC 7677 minimum), so that 50 logins
# take milliseconds; they happen before the clock starts anyway.
password="relay-bench"
start_mailsim() {
  local port=$1 hash
  mkdir -p "$work/mailsim/state" "$work/mailsim/maildir"
  hash=$(/usr/bin/python3 -c '
import base64, hashlib, os, sys
salt = os.urandom(16)
key = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), salt, 4096, dklen=32)
b = lambda r: base64.b64encode(r).decode()
print(f"$pbkdf2-sha256$i=4096${b(salt)}${b(key)}")' "$password")
  cat > "$work/mailsim/relay.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $work/mailsim/state
  maildir_root: $work/mailsim/maildir
  log:
    file: $work/mailsim/mailsim-server.log
    level: info
listeners:
  - name: submission
    role: submission
    address: 127.0.0.1
    port: $port
    require_tls: false
    auth_without_tls: true
domains:
  - mailsim.test
users:
  - address: demo@mailsim.test
    password_hash: "$hash"
limits:
  connections_max: 1000
  connections_per_ip_max: 1000
smtp:
  auth_mechanisms: [PLAIN]
delivery:
  durability: syncfs
queue:
  routes:
    "sink.test": "127.0.0.2:$sink_port"
EOF
  "$server_bin" --config "$work/mailsim/relay.yaml" >"$work/mailsim/stdout.txt" 2>&1 &
  mailsim_pid=$!
  if ! wait_port 127.0.0.1 "$port" 20; then
    echo "mailsim-server did not start:" >&2
    cat "$work/mailsim/stdout.txt" >&2
    exit 1
  fi
}

mailsim_queued() {  # messages in mailsim's spool
  local d="$work/mailsim/state/queue/state"
  if [[ -d "$d" ]]; then find "$d" -type f | wc -l; else echo 0; fi
}

# --- a private Postfix instance relaying to the sink --------------------------------------
# Same layout as bench/run_ingest.sh (bench/postfix/master.cf.in for the services), with a
# main.cf of its own: no local domain, relayhost = the sink, AUTH through Cyrus SASL with a
# private sasldb (PLAIN only), relaying only for authenticated clients.
start_postfix() {
  local port=$1 base="$work/postfix"
  mkdir -p "$postfix_conf/sasl" "$base/spool" "$base/data" "$base/sasl"
  chown postfix:postfix "$base/data"
  cat > "$postfix_conf/main.cf" <<EOF
# Private Postfix instance for bench/run_relay.sh: everything lives under $base.
# Debian's defaults are kept for everything that shapes throughput.
compatibility_level = 3.6
queue_directory = $base/spool
data_directory = $base/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $base/maillog
maillog_file_prefixes = /var, /dev/stdout, $base
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP Postfix (benchmark instance)
biff = no
alias_maps =
alias_database =
local_recipient_maps =
append_dot_mydomain = no
readme_directory = no
relayhost = [127.0.0.2]:$sink_port
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
EOF
  # Debian's Postfix looks for the Cyrus application file (smtpd_sasl_path + .conf) in
  # $config_directory/sasl/ (and /usr/lib/sasl/), whatever cyrus_sasl_config_path says.
  cat > "$postfix_conf/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN
sasldb_path: $base/sasl/sasldb2
EOF
  printf '%s' "$password" | saslpasswd2 -p -c -f "$base/sasl/sasldb2" -u mailsim.test demo
  chown postfix:postfix "$base/sasl/sasldb2"
  sed -e "s|@PORT@|$port|g" "$here/postfix/master.cf.in" > "$postfix_conf/master.cf"
  postfix -c "$postfix_conf" check >"$base/check.txt" 2>&1 || { cat "$base/check.txt" >&2; exit 1; }
  postfix -c "$postfix_conf" start >"$base/start.txt" 2>&1 || { cat "$base/start.txt" >&2; exit 1; }
  postfix_started=1
  if ! wait_port 127.0.0.1 "$port" 20; then
    echo "postfix smtpd did not start; its log:" >&2
    tail -20 "$base/maillog" >&2 2>/dev/null
    exit 1
  fi
}

postfix_queued() {  # messages anywhere in Postfix's queues
  local q="$work/postfix/spool" n=0 d
  for d in maildrop incoming active deferred hold; do
    [[ -d "$q/$d" ]] && n=$((n + $(find "$q/$d" -type f | wc -l)))
  done
  echo "$n"
}

queued() {  # queued SERVER
  case $1 in
    mailsim) mailsim_queued ;;
    postfix) postfix_queued ;;
    *) echo 0 ;;
  esac
}

# --- the runs -----------------------------------------------------------------------------
declare -A port_of
port_of[direct]=$sink_port
if [[ " $servers " == *" mailsim "* ]]; then
  port_of[mailsim]=$(free_port)
  start_mailsim "${port_of[mailsim]}"
  echo "mailsim-server pid $mailsim_pid on 127.0.0.1:${port_of[mailsim]}"
fi
if [[ " $servers " == *" postfix "* ]]; then
  port_of[postfix]=$(free_port)
  start_postfix "${port_of[postfix]}"
  echo "postfix (private instance in $work/postfix) on 127.0.0.1:${port_of[postfix]}"
fi
declare -A host_of=([direct]=127.0.0.2 [mailsim]=127.0.0.1 [postfix]=127.0.0.1)

clk_tck=$(getconf CLK_TCK)
cpu_snapshot() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat; }
busy_pct() {
  /usr/bin/python3 -c 'import sys; t0,i0=map(int,sys.argv[1].split()); t1,i1=map(int,sys.argv[2].split()); print(f"{100*(1-(i1-i0)/max(t1-t0,1)):.0f}")' "$1" "$2"
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks_s() { /usr/bin/python3 -c "print(round(($2 - $1) / $clk_tck, 2))"; }

# File-creation probe (µs per 1 KiB file create, 300 files in a new folder of the work
# folder): on this machine's journal-less ext4, creates slow down for minutes after many
# deletions nearby (docs/benchmarks.md), and a relay deletes one queue file per message.
probe_create() {
  /usr/bin/python3 - "$work/probe-$1" <<'PY'
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
}

failed=0
run_no=0
run_case() {  # run_case SERVER CONNS REP
  local server=$1 n=$2 rep=$3 per=$((messages / $2)) base target line tag
  run_no=$((run_no + 1))
  tag="$server-c$n-r$rep"
  local probe c0 c1 c2 bg busy s0 s1 m0=0 m1=0
  probe=$(probe_create "$run_no")
  c0=$(cpu_snapshot); sleep 1; c1=$(cpu_snapshot)
  bg=$(busy_pct "$c0" "$c1")
  base=$(sink_count)
  target=$((base + messages))
  sink_watch "$target" "$run_timeout" "$out/sink-$tag.log" &
  local watch_pid=$!
  s0=$(proc_ticks "$sink_pid")
  [[ $server == mailsim ]] && m0=$(proc_ticks "$mailsim_pid")
  local auth=(--auth-user demo@mailsim.test --auth-password "$password")
  [[ $server == direct ]] && auth=()
  line=$("$load_bin" --host "${host_of[$server]}" --port "${port_of[$server]}" --connections "$n" \
           --size "$size" --messages "$per" --duration "$run_timeout" --from demo@mailsim.test \
           --to rcpt@sink.test "${auth[@]}" --json --label "$server" \
         | tee "$out/run-$tag.txt" | grep '^RESULT ' | cut -c8- || true)
  wait "$watch_pid" || true
  c2=$(cpu_snapshot)
  busy=$(busy_pct "$c1" "$c2")
  s1=$(proc_ticks "$sink_pid")
  [[ $server == mailsim ]] && m1=$(proc_ticks "$mailsim_pid")
  grep -v '^RESULT' "$out/run-$tag.txt" | sed 's/^/  /'
  if [[ -z "$line" ]]; then
    echo "  load generator failed (see $out/run-$tag.txt)"
    failed=1
    return
  fi
  # Drain: the queue must empty (bounded); then wait past the servers' idle connection time
  # (2 s for both) so that late duplicates would show in the sink's count.
  local i q
  for ((i = 0; i < 600; i++)); do
    q=$(queued "$server")
    [[ $q -eq 0 ]] && break
    sleep 0.1
  done
  sleep 2.5
  local final
  final=$(sink_count)
  local summary
  summary=$(/usr/bin/python3 - "$line" "$out/sink-$tag.log" "$base" "$final" "$messages" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
log, base, final, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
start = r["start_unix_s"]
end_submit = start + r["elapsed_s"]
want = base + r["accepted"]
done_at = None
for row in open(log):
    t, c = row.split()
    if int(c) >= want:
        done_at = float(t)
        break
out = {"accepted": r["accepted"], "submit_msg_per_s": r["msg_per_s"], "submit_s": r["elapsed_s"],
       "sink_received": final - base, "extra_at_sink": final - want}
if done_at is not None and r["accepted"] > 0:
    out["relay_s"] = round(done_at - start, 3)
    out["relay_msg_per_s"] = round(r["accepted"] / (done_at - start), 1)
    out["lag_after_last_250_s"] = round(done_at - end_submit, 3)
print(json.dumps(out))
PY
)
  local extra=",\"server\":\"$server\",\"rep\":$rep,\"background_busy_pct\":$bg,\"busy_pct\":$busy"
  extra="$extra,\"create_probe_us\":$probe,\"sink_cpu_s\":$(ticks_s "$s0" "$s1"),\"queued_after\":$q"
  [[ $server == mailsim ]] && extra="$extra,\"server_cpu_s\":$(ticks_s "$m0" "$m1")"
  local merged="${line%\}},${summary#\{}"
  echo "${merged%\}}$extra}" >> "$results"
  /usr/bin/python3 - "$summary" "$bg" "$busy" "$probe" "$q" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
relay = (f"relay {s['relay_msg_per_s']:.0f} msg/s ({s['relay_s']:.2f} s, {s['lag_after_last_250_s']:.2f} s after the last 250)"
         if "relay_s" in s else "relay: the sink never counted them all")
print(f"  => submit {s['submit_msg_per_s']:.0f} msg/s; {relay}; sink got {s['sink_received']} "
      f"(extra {s['extra_at_sink']}); queue after: {sys.argv[5]}; machine busy {sys.argv[2]}% before, "
      f"{sys.argv[3]}% during; create probe {sys.argv[4]} µs")
PY
  if [[ $q -ne 0 ]] || ! /usr/bin/python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(0 if "relay_s" in s and s["extra_at_sink"] == 0 and s["accepted"] == int(sys.argv[2]) else 1)' "$summary" "$messages"; then
    echo "  RUN NOT CLEAN: see $out/run-$tag.txt and the server's log"
    failed=1
  fi
}

# Order: for every repetition and connection count, the direct ceiling, then the two
# servers, mailsim first in odd repetitions and Postfix first in even ones, so that neither
# always runs right after the other's deletions.
for ((rep = 1; rep <= reps; rep++)); do
  for n in $conns; do
    order="$servers"
    if (( rep % 2 == 0 )); then order=$(echo "$servers" | tr ' ' '\n' | tac | tr '\n' ' '); fi
    [[ $direct -eq 1 ]] && order="direct $order"
    for server in $order; do
      echo "--- rep $rep: $server, $n connection(s), $messages messages of $size B ---"
      run_case "$server" "$n" "$rep"
    done
  done
done

if [[ -n "$mailsim_pid" ]]; then
  echo "mailsim-server RSS at the end: $(grep VmRSS /proc/$mailsim_pid/status | awk '{print $2, $3}')"
fi

/usr/bin/python3 - "$results" "$command_line" <<'PY' | tee "$out/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(server, n, key):
    v = [r[key] for r in rows if r["server"] == server and r["connections"] == n and key in r]
    return (statistics.median(v), len(v)) if v else (None, 0)
def fmt(x):
    return "—" if x is None else f"{x:,.0f}"
conns = sorted({r["connections"] for r in rows})
reps = max((r["rep"] for r in rows), default=0)
print(f"Command: `{sys.argv[2]}`")
print()
print(f"Relay of {rows[0]['body_bytes'] if rows else '?'} B bodies to smtp-sink on 127.0.0.2; "
      f"medians of {reps} repetitions; msg/s. submit = first submission → last 250; "
      f"relay = first submission → the sink has them all. Both servers require AUTH PLAIN "
      f"(once per connection, before the clock starts).")
print()
print("| conns | mailsim submit | mailsim relay | Postfix submit | Postfix relay | relay ratio | submit ratio | direct to sink |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in conns:
    ms, _ = med("mailsim", n, "submit_msg_per_s")
    mr, _ = med("mailsim", n, "relay_msg_per_s")
    ps, _ = med("postfix", n, "submit_msg_per_s")
    pr, _ = med("postfix", n, "relay_msg_per_s")
    d, _ = med("direct", n, "submit_msg_per_s")
    rr = f"**{mr / pr:.2f} ×**" if mr and pr else "—"
    sr = f"{ms / ps:.2f} ×" if ms and ps else "—"
    print(f"| {n} | {fmt(ms)} | {fmt(mr)} | {fmt(ps)} | {fmt(pr)} | {rr} | {sr} | {fmt(d)} |")
print()
print("Every run (relay msg/s, lag after the last 250 in s, server CPU s for mailsim, machine busy % during):")
print()
print("| server | conns | rep | submit msg/s | relay msg/s | lag s | mailsim CPU s | sink CPU s | busy % | bg % | probe µs |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in sorted(rows, key=lambda r: (r["server"], r["connections"], r["rep"])):
    print(f"| {r['server']} | {r['connections']} | {r['rep']} | {r['submit_msg_per_s']:,.0f} | "
          f"{fmt(r.get('relay_msg_per_s'))} | {r.get('lag_after_last_250_s', '—')} | "
          f"{r.get('server_cpu_s', '—')} | {r['sink_cpu_s']} | {r['busy_pct']} | "
          f"{r['background_busy_pct']} | {r['create_probe_us']} |")
PY
echo "results: $out"
[[ $failed -eq 0 ]] || { echo "SOME RUNS WERE NOT CLEAN: see above" >&2; exit 1; }
