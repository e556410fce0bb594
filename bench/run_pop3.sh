#!/usr/bin/env bash
# bench/run_pop3.sh — POP3 retrieval (issue 6 §5): mailsim-server side by side with Dovecot,
# each serving its own copy of one 10,000-message Maildir, driven by the same client
# (build/release/bin/mailsim_pop3_load, plain POSIX sockets, no mailsim code).
#
# The Maildir is made once: --messages messages of about 4 KiB (headers of a real delivery,
# a text body in CRLF lines, some body lines starting with '.' so byte-stuffing is
# exercised), 1 in 100 of 32-128 KiB. It is copied twice, one copy per server, because each
# server writes its own index into it (mailsim "mailsim-index", Dovecot "dovecot*").
# Dovecot runs from a private minimal configuration (`dovecot -c FILE -F`: no system
# configuration, a passwd-file passdb with a plain password, a static userdb, ssl = no,
# plaintext authentication allowed, everything under the work folder, a loopback port).
# mailsim-server runs with a generated configuration: one `pop3` listener with
# `auth_without_tls: true` and one user whose hash costs 4096 PBKDF2 iterations.
#
# Per server, first one verifying session (`--verify`: LIST sizes against the octets
# received, CRLF line ends, a content digest; it also makes the server build its index);
# the digest must equal that of the Maildir's files (`mailsim_pop3_load --digest-maildir`),
# i.e. the server sent every message byte for byte as stored.
# Then --rounds rounds, alternating which server goes first: each round is --sessions
# sessions one after another (POP3 locks the maildrop: one session at a time), each
# retrieving the whole maildrop with RETR 1..N pipelined, --window commands in flight, and
# QUIT without DELE. The figure is messages ÷ RETR phase time (first RETR sent → last
# message read); the table shows medians over the rounds.
#
# Run it as root (Dovecot's master needs it) while holding the build lock, so that no
# compiler shares the 2 cores:
#   flock /tmp/mailsim-build.lock bash bench/run_pop3.sh
# Options (all optional):
#   --build-dir DIR     where bin/mailsim-server and bin/mailsim_pop3_load are
#                       (default ${MAILSIM_BUILD_DIR:-build/release})
#   --messages N        messages in the Maildir (default 10000)
#   --rounds R          rounds per server (default 3)
#   --sessions S        sessions per round (default 3)
#   --window W          RETR commands in flight (default 64; 1 = one at a time)
#   --servers "A B"     mailsim and/or dovecot (default "mailsim dovecot")
#   --timeout S         bound on one round (default 300)
#   --out DIR           results folder (default: results/ in the work folder, copied to
#                       /var/tmp/mailsim-bench-results/<work folder name>/ at exit)
#   --keep              keep the work folder (Maildirs, configurations, logs) afterwards
# Output: a readable log, then the results section for docs/benchmarks.md (Markdown) on
# standard output, also written to results.md beside results.jsonl (one line per run).
# Everything it starts (Dovecot, mailsim-server) is stopped on exit (trap); every wait is
# bounded.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="${MAILSIM_BUILD_DIR:-$repo/build/release}"
messages=10000
rounds=3
sessions=3
window=64
servers="mailsim dovecot"
round_timeout=300
out=""
keep=0
command_line="bash bench/run_pop3.sh${*:+ $*}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --timeout) round_timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,44p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
build_dir=$(cd "$build_dir" && pwd)

server_bin="$build_dir/bin/mailsim-server"
load_bin="$build_dir/bin/mailsim_pop3_load"
[[ -x "$load_bin" ]] || { echo "missing $load_bin: build the target mailsim_pop3_load" >&2; exit 1; }
if [[ " $servers " == *" mailsim "* && ! -x "$server_bin" ]]; then
  echo "missing $server_bin: build the target mailsim-server" >&2
  exit 1
fi
if [[ " $servers " == *" dovecot "* && ! -x /usr/sbin/dovecot ]]; then
  echo "Dovecot is missing: apt-get install dovecot-pop3d" >&2
  exit 1
fi
[[ $EUID -eq 0 ]] || { echo "run as root (Dovecot's master needs it)" >&2; exit 1; }
[[ $messages =~ ^[0-9]+$ && $messages -ge 1 ]] || { echo "--messages must be a positive number" >&2; exit 2; }

work=$(mktemp -d /var/tmp/mailsim-pop3.XXXXXX)
chmod 0755 "$work"  # Dovecot's unprivileged processes must be able to traverse it
[[ -n "$out" ]] || out="$work/results"
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.jsonl"
: > "$results"

mailsim_pid=""
dovecot_pid=""
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
  stop_pid "$dovecot_pid"  # the master takes its children with it
  if [[ $keep -eq 0 ]]; then
    if [[ "$out" == "$work"/* ]]; then
      mkdir -p /var/tmp/mailsim-bench-results
      dest="/var/tmp/mailsim-bench-results/$(basename "$work")"
      cp -r "$out" "$dest" && echo "results kept in $dest" >&2
    fi
    rm -rf "$work"
  else
    echo "work folder kept: $work" >&2
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

user_local=bench
user_domain=mailsim.test
user="$user_local@$user_domain"
password="pop3-bench"

# --- machine ------------------------------------------------------------------------------
{
  echo "command: $command_line"
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -r)"
  echo "work folder: $work ($(df --output=fstype "$work" | tail -1 | tr -d ' '))"
  echo "dovecot: $(/usr/sbin/dovecot --version 2>/dev/null || echo n/a)"
  echo "mailsim: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null) (working tree), $server_bin"
  echo "messages: $messages; rounds: $rounds; sessions per round: $sessions; window: $window"
} | tee "$out/machine.txt" >&2

# --- the Maildir --------------------------------------------------------------------------
# Deterministic (seeded) messages as a delivery would leave them: trace and origin headers,
# MIME headers, a body of text lines, CRLF line ends throughout (what mailsim stores; Dovecot
# reads CRLF files as they are). File names follow the Maildir convention with S=<size>.
make_maildir() {  # make_maildir DIR COUNT
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(root, sub), exist_ok=True)
rng = random.Random(20261127)
words = ("the of and to in is that for it as with was on be by this are from at or an have "
         "not which but all were when we there can more if no out so what up said about into "
         "than them only other new some could time these two may then do first any my now "
         "such like our over man me even most made after also did many before must through "
         "delivery mailbox message server queue retry receiver policy header sender").split()
base_time = 1795000000
def body_lines(target):
    size = 0
    while size < target:
        n = rng.randint(6, 13)
        line = " ".join(rng.choice(words) for _ in range(n))
        line = line[:76]
        r = rng.random()
        if r < 0.03:
            line = "." + line          # needs byte-stuffing on the wire
        elif r < 0.035:
            line = "."                  # a lone dot: stuffed to ".." on the wire
        elif r < 0.08:
            line = ""
        yield line
        size += len(line) + 2
for i in range(count):
    t = base_time + i * 7
    big = i % 100 == 57
    target = rng.randint(32 << 10, 128 << 10) if big else rng.randint(3000, 4600)
    sender = f"user{rng.randint(1, 500)}@example{rng.randint(1, 40)}.test"
    head = [
        f"Return-Path: <{sender}>",
        f"Received: from mx{rng.randint(1, 9)}.example.test (mx.example.test [192.0.2.{rng.randint(1, 254)}])",
        f"\tby mail.mailsim.test with ESMTPS id {i:08X}{rng.randrange(1 << 32):08x}",
        f"\tfor <bench@mailsim.test>; Fri, 27 Nov 2026 04:{i // 600 % 60:02d}:{i // 10 % 60:02d} +0000",
        f"From: Sender {i % 500} <{sender}>",
        "To: Bench <bench@mailsim.test>",
        f"Subject: benchmark message {i + 1} about {rng.choice(words)} {rng.choice(words)}",
        f"Date: Fri, 27 Nov 2026 04:{i // 600 % 60:02d}:{i // 10 % 60:02d} +0000",
        f"Message-ID: <{i:06d}.{rng.randrange(1 << 48):012x}@example.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
        "",
    ]
    text = "\r\n".join(head) + "\r\n"
    body = "\r\n".join(body_lines(target - len(text))) + "\r\n"
    data = (text + body).encode()
    name = f"{t}.M{i % 1000000:06d}P4242Q{i + 1}.bench.mailsim.test,S={len(data)}"
    with open(os.path.join(root, "new", name), "wb") as f:
        f.write(data)
PY
}

src="$work/maildir-source"
echo "making $messages messages in $src ..." >&2
make_maildir "$src" "$messages"
echo "maildir: $(find "$src/new" -type f | wc -l) files, $(du -sk "$src" | cut -f1) KiB" | tee -a "$out/machine.txt" >&2
# What a server sending every file unchanged produces under --verify (order-independent).
source_digest=$("$load_bin" --digest-maildir "$src" | awk '/^DIGEST/ {print $2}')
[[ -n "$source_digest" ]] || { echo "cannot compute the Maildir's digest" >&2; exit 1; }
echo "source digest: $source_digest" | tee -a "$out/machine.txt" >&2

# --- Dovecot: a private instance ----------------------------------------------------------
# Runs as root (the master), its login processes as dovenull, the mail processes as nobody
# (who owns the Maildir copy). Defaults are kept for everything that shapes throughput.
start_dovecot() {
  local port=$1 d="$work/dovecot"
  mkdir -p "$d/run" "$d/state" "$d/mail/$user_domain/$user_local"
  cp -a "$src" "$d/mail/$user_domain/$user_local/Maildir"
  chown -R nobody:nogroup "$d/mail"
  printf '%s:{PLAIN}%s\n' "$user" "$password" > "$d/users"
  chmod 0644 "$d/users"
  local internal_user=dovecot login_user=dovenull
  id -u dovecot >/dev/null 2>&1 || internal_user=nobody
  id -u dovenull >/dev/null 2>&1 || login_user=nobody
  cat > "$d/dovecot.conf" <<EOF
# Private Dovecot instance for bench/run_pop3.sh; nothing from /etc/dovecot is read.
protocols = pop3
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = $internal_user
default_login_user = $login_user
mail_location = maildir:$d/mail/%d/%n/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%d/%n
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $port
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF
  /usr/sbin/dovecot -c "$d/dovecot.conf" -F >"$d/stdout.txt" 2>&1 &
  dovecot_pid=$!
  if ! wait_port "$port" 20; then
    echo "dovecot did not start:" >&2
    cat "$d/stdout.txt" "$d/dovecot.log" >&2 2>/dev/null
    exit 1
  fi
}

# --- mailsim-server -----------------------------------------------------------------------
start_mailsim() {
  local port=$1 m="$work/mailsim" hash
  mkdir -p "$m/state" "$m/maildir/$user_domain/$user_local"
  cp -a "$src" "$m/maildir/$user_domain/$user_local/Maildir"
  hash=$(/usr/bin/python3 -c '
import base64, hashlib, os, sys
salt = os.urandom(16)
key = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), salt, 4096, dklen=32)
b = lambda r: base64.b64encode(r).decode()
print(f"$pbkdf2-sha256$i=4096${b(salt)}${b(key)}")' "$password")
  cat > "$m/pop3.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $m/state
  maildir_root: $m/maildir
  log:
    file: $m/mailsim-server.log
    level: info
listeners:
  - name: pop3
    role: pop3
    address: 127.0.0.1
    port: $port
    auth_without_tls: true
domains:
  - $user_domain
users:
  - address: $user
    password_hash: "$hash"
pop3:
  auth_mechanisms: [PLAIN]
EOF
  "$server_bin" --config "$m/pop3.yaml" >"$m/stdout.txt" 2>&1 &
  mailsim_pid=$!
  if ! wait_port "$port" 20; then
    echo "mailsim-server did not start:" >&2
    cat "$m/stdout.txt" >&2
    exit 1
  fi
}

declare -A port_of
for server in $servers; do
  port_of[$server]=$(free_port)
  case $server in
    dovecot) start_dovecot "${port_of[$server]}"; echo "dovecot pid $dovecot_pid on 127.0.0.1:${port_of[$server]}" >&2 ;;
    mailsim) start_mailsim "${port_of[$server]}"; echo "mailsim-server pid $mailsim_pid on 127.0.0.1:${port_of[$server]}" >&2 ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
done

clk_tck=$(getconf CLK_TCK)
cpu_snapshot() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat; }
busy_pct() {
  /usr/bin/python3 -c 'import sys; t0,i0=map(int,sys.argv[1].split()); t1,i1=map(int,sys.argv[2].split()); print(f"{100*(1-(i1-i0)/max(t1-t0,1)):.0f}")' "$1" "$2"
}

failed=0
run_load() {  # run_load SERVER TAG EXTRA-ARGS...: one call of the load generator
  local server=$1 tag=$2 line
  shift 2
  line=$(timeout "$((round_timeout + 30))" "$load_bin" --port "${port_of[$server]}" --user "$user" \
           --password "$password" --window "$window" --duration "$round_timeout" --json \
           --label "$server" "$@" | tee "$out/run-$tag.txt" | grep '^RESULT ' | cut -c8- || true)
  grep -v '^RESULT' "$out/run-$tag.txt" | sed 's/^/  /' >&2
  if [[ -z "$line" ]]; then
    echo "  load generator gave no result (see $out/run-$tag.txt)" >&2
    failed=1
    echo "{}"
    return
  fi
  echo "$line"
}

check_clean() {  # check_clean JSON: every session ok, every message retrieved, sizes right
  /usr/bin/python3 -c '
import json, sys
r = json.loads(sys.argv[1])
ok = (r.get("sessions_failed", 1) == 0 and r.get("retr_errors", 1) == 0 and r.get("size_mismatches", 1) == 0
      and r.get("bad_line_ends", 1) == 0 and r.get("maildrop_messages") == int(sys.argv[2])
      and r.get("messages") == r.get("sessions_ok", 0) * int(sys.argv[2]))
sys.exit(0 if ok else 1)' "$1" "$messages"
}

# Verifying sessions: the first open of each Maildir (index building) and the content check.
declare -A digest_of
for server in $servers; do
  echo "--- $server: first session, with --verify ---" >&2
  line=$(run_load "$server" "$server-verify" --sessions 1 --verify)
  echo "${line%\}},\"server\":\"$server\",\"round\":0}" >> "$results"
  check_clean "$line" || { echo "  RUN NOT CLEAN" >&2; failed=1; }
  digest_of[$server]=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("digest",""))' "$line")
done
for server in $servers; do
  if [[ "${digest_of[$server]}" != "$source_digest" ]]; then
    echo "CONTENT DIFFERS: $server sent digest ${digest_of[$server]}, the Maildir's files give $source_digest" >&2
    failed=1
  else
    echo "$server sent the Maildir's files unchanged (digest $source_digest)" >&2
  fi
done

# Timed rounds, alternating which server goes first.
for ((round = 1; round <= rounds; round++)); do
  order="$servers"
  if (( round % 2 == 0 )); then order=$(echo "$servers" | tr ' ' '\n' | tac | tr '\n' ' '); fi
  for server in $order; do
    echo "--- round $round: $server, $sessions session(s) ---" >&2
    c0=$(cpu_snapshot); sleep 1; c1=$(cpu_snapshot)
    bg=$(busy_pct "$c0" "$c1")
    m0=0
    [[ $server == mailsim ]] && m0=$(awk '{print $14 + $15}' "/proc/$mailsim_pid/stat")
    line=$(run_load "$server" "$server-r$round" --sessions "$sessions")
    c2=$(cpu_snapshot)
    extra=",\"server\":\"$server\",\"round\":$round,\"background_busy_pct\":$bg,\"busy_pct\":$(busy_pct "$c1" "$c2")"
    if [[ $server == mailsim ]]; then
      m1=$(awk '{print $14 + $15}' "/proc/$mailsim_pid/stat")
      extra="$extra,\"server_cpu_s\":$(/usr/bin/python3 -c "print(round(($m1 - $m0) / $clk_tck, 2))")"
    fi
    echo "${line%\}}$extra}" >> "$results"
    check_clean "$line" || { echo "  RUN NOT CLEAN" >&2; failed=1; }
  done
done

if [[ -n "$mailsim_pid" ]]; then
  echo "mailsim-server RSS at the end: $(grep VmRSS "/proc/$mailsim_pid/status" | awk '{print $2, $3}')" >&2
fi
for f in "$work/mailsim/mailsim-server.log" "$work/dovecot/dovecot.log"; do
  if [[ -f $f ]]; then
    cp "$f" "$out/"
    # mailsim's JSON log counts errors per session; Dovecot's log prefixes them.
    { grep -m5 '"errors":[1-9]\|"level":"error"\|Error:\|Fatal:\|Panic:' "$f" || true; } | sed "s|^|$(basename "$f"): |" >&2
  fi
done

/usr/bin/python3 - "$results" "$command_line" "$messages" "$source_digest" <<'PY' | tee "$out/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[3])
timed = [r for r in rows if r.get("round", 0) > 0 and "msg_per_s" in r]
first = {r["server"]: r for r in rows if r.get("round") == 0 and "msg_per_s" in r}
def med(server, key):
    v = [r[key] for r in timed if r["server"] == server]
    return statistics.median(v) if v else None
def f0(x):
    return "—" if x is None else f"{x:,.0f}"
def f1(x):
    return "—" if x is None else f"{x:,.1f}"
rounds = max((r["round"] for r in timed), default=0)
any_row = timed[0] if timed else (next(iter(first.values())) if first else {})
print("## POP3 retrieval, mailsim beside Dovecot")
print()
print(f"Command: `flock /tmp/mailsim-build.lock {sys.argv[2]}`")
print()
print(f"One Maildir of {n:,} messages ({any_row.get('maildrop_octets', 0) / 1e6:.1f} MB: about 4 KiB each, "
      f"1 in 100 of 32–128 KiB, CRLF lines, some lines byte-stuffed on the wire), one copy per server. "
      f"`mailsim_pop3_load` logs in with USER/PASS, sends STAT, then RETR 1..{n:,} with "
      f"{any_row.get('window', '?')} commands in flight (both servers list PIPELINING), and QUITs "
      f"without DELE. A round is {any_row.get('sessions', '?')} such sessions one after another. "
      f"msg/s = messages ÷ (first RETR sent → last message read, summed over the sessions); MB/s "
      f"counts message octets after un-stuffing. Medians of {rounds} round{'s' if rounds != 1 else ''}, alternating which server "
      f"goes first, after one verifying session per server (LIST sizes, CRLF line ends and a "
      f"content digest compared with the Maildir's files; that session also builds each "
      f"server's index).")
print()
print("| server | msg/s | MB/s | whole session msg/s | first login ms | first session msg/s |")
print("|---|---:|---:|---:|---:|---:|")
servers = [s for s in ("mailsim", "dovecot") if any(r["server"] == s for r in rows)]
for s in servers:
    fr = first.get(s, {})
    print(f"| {s} | {f0(med(s, 'msg_per_s'))} | {f1(med(s, 'mb_per_s'))} | {f0(med(s, 'session_msg_per_s'))} | "
          f"{f1(fr.get('first_login_ms'))} | {f0(fr.get('msg_per_s'))} |")
m, d = med("mailsim", "msg_per_s"), med("dovecot", "msg_per_s")
if m and d:
    print()
    print(f"mailsim ÷ Dovecot: **{m / d:.2f} ×** (RETR phase medians).")
if first:
    print()
    for s, r in sorted(first.items()):
        same = r["digest"] == sys.argv[4]
        clean = same and r["size_mismatches"] == 0 and r["bad_line_ends"] == 0 and r["retr_errors"] == 0
        print(f"Content check, {s}: " + ("every message as stored, byte for byte (digest of the Maildir's "
                                        "files), LIST sizes exact, CRLF line ends." if clean else
                                        f"**differs**: digest {r['digest']} (files: {sys.argv[4]}), "
                                        f"{r['size_mismatches']} LIST size mismatches, {r['bad_line_ends']} "
                                        f"messages with bare LF, {r['retr_errors']} RETR errors.") + "  ")
print()
print("Every round:")
print()
print("| server | round | msg/s | MB/s | RETR s | session s | mailsim CPU s | client CPU s | busy % | bg % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in sorted(timed, key=lambda r: (r["server"], r["round"])):
    print(f"| {r['server']} | {r['round']} | {r['msg_per_s']:,.0f} | {r['mb_per_s']:.1f} | {r['retr_s']:.3f} | "
          f"{r['session_s']:.3f} | {r.get('server_cpu_s', '—')} | {r['client_cpu_s']:.2f} | {r['busy_pct']} | "
          f"{r['background_busy_pct']} |")
PY
echo "results: $out" >&2
[[ $failed -eq 0 ]] || { echo "SOME RUNS WERE NOT CLEAN: see above" >&2; exit 1; }
