#!/usr/bin/env bash
# bench/run_imap.sh — IMAP mailbox reading (issue 6 §5): mailsim-server side by side with
# Dovecot, each serving its own copy of one 10,000-message Maildir, driven by the same client
# (build/release/bin/mailsim_imap_load, plain POSIX sockets, no mailsim code).
#
# Measured per server:
#   SELECT INBOX   the first SELECT after the server started on a Maildir it has never seen
#                  (index building), a second SELECT right after in the same session, and
#                  the first SELECT of every later session (index present);
#   fetch-bodies   FETCH 1:* BODY.PEEK[] (every message whole, as literals), msg/s and MB/s;
#   fetch-flags    UID FETCH 1:* FLAGS, msg/s.
# The first session per server also checks content: every body literal ends in CRLF and the
# order-independent digest of the bodies equals that of the Maildir's files
# (`mailsim_imap_load --digest-maildir`), i.e. the server sent every message as stored.
# Then --rounds rounds, alternating which server goes first; in a round each server gets one
# fetch-bodies session and one fetch-flags session, each doing the FETCH --repeat times. A
# session's figure is messages ÷ the summed FETCH times (command sent → tagged OK); the table
# shows medians over the rounds.
#
# The Maildir is made once (seeded): --messages messages of about 4 KiB (the headers of a
# real delivery, text lines ending in CRLF), 1 in 100 of 32–128 KiB. It is copied once per
# server, because each writes its own index into it (mailsim "mailsim-index", Dovecot
# "dovecot*"). Dovecot runs from a private minimal configuration (`dovecot -c FILE -F`,
# nothing from /etc/dovecot: IMAP only, a loopback port, a passwd-file passdb with a plain
# password, a static userdb, ssl = no, plaintext authentication allowed, everything under
# the work folder). mailsim-server runs with a generated configuration: one `imap` listener
# with `auth_without_tls: true` and one user whose hash is the e2e harness's cheap PBKDF2
# form (tests/e2e/mailsim_harness.py cheap_pbkdf2_hash).
#
# Run it as root (Dovecot's master needs it) while holding the build lock, so that no
# compiler shares the 2 cores:
#   flock /tmp/mailsim-build.lock bash bench/run_imap.sh
# Options (all optional):
#   --build-dir DIR     where bin/mailsim-server and bin/mailsim_imap_load are
#                       (default ${MAILSIM_BUILD_DIR:-build/release})
#   --server-bin FILE   the mailsim-server to run (default DIR/bin/mailsim-server)
#   --messages N        messages in the Maildir (default 10000)
#   --rounds R          rounds (default 3)
#   --repeat N          FETCH commands per session (default 3)
#   --servers "A B"     mailsim and/or dovecot (default "mailsim dovecot")
#   --timeout S         bound on one session (default 300)
#   --out DIR           results folder (default: results/ in the work folder, copied to
#                       /var/tmp/mailsim-bench-results/<work folder name>/ at exit)
#   --keep              keep the work folder (Maildirs, configurations, logs) afterwards
# Output: a readable log on standard error, then the results section for docs/benchmarks.md
# (Markdown) on standard output, also written to results.md beside results.jsonl (one line
# per session). Everything it starts is stopped on exit (trap); every wait is bounded.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="${MAILSIM_BUILD_DIR:-$repo/build/release}"
server_bin=""
messages=10000
rounds=3
repeat=3
servers="mailsim dovecot"
session_timeout=300
out=""
keep=0
command_line="bash bench/run_imap.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --server-bin) server_bin=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --timeout) session_timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,47p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
build_dir=$(cd "$build_dir" && pwd)
[[ -n "$server_bin" ]] || server_bin="$build_dir/bin/mailsim-server"
load_bin="$build_dir/bin/mailsim_imap_load"

[[ -x "$load_bin" ]] || { echo "missing $load_bin: build the target mailsim_imap_load" >&2; exit 1; }
if [[ " $servers " == *" mailsim "* && ! -x "$server_bin" ]]; then
  echo "missing $server_bin: build the target mailsim-server" >&2
  exit 1
fi
if [[ " $servers " == *" dovecot "* && ! -x /usr/sbin/dovecot ]]; then
  echo "Dovecot is missing: apt-get install dovecot-imapd" >&2
  exit 1
fi
[[ $EUID -eq 0 ]] || { echo "run as root (Dovecot's master needs it)" >&2; exit 1; }
for n in "$messages" "$rounds" "$repeat" "$session_timeout"; do
  [[ $n =~ ^[0-9]+$ && $n -ge 1 ]] || { echo "numeric options must be positive numbers" >&2; exit 2; }
done

work=$(mktemp -d /var/tmp/mailsim-imap.XXXXXX)
chmod 0755 "$work"  # Dovecot's unprivileged processes must be able to traverse it
[[ -n "$out" ]] || out="$work/results"
mkdir -p "$out"
out=$(cd "$out" && pwd)
results="$out/results.jsonl"
: > "$results"

mailsim_pid=""
dovecot_pid=""
stop_pid() {  # stop_pid PID: TERM, then KILL after 10 s
  local pid=$1 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  set +e
  stop_pid "$mailsim_pid"
  stop_pid "$dovecot_pid"  # the master takes its children with it
  if [[ $keep -eq 0 ]]; then
    if [[ "$out" == "$work"/* ]]; then
      mkdir -p /var/tmp/mailsim-bench-results
      local dest
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
password="imap-bench"

{
  echo "command: $command_line"
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -r)"
  echo "work folder: $work ($(df --output=fstype "$work" | tail -1 | tr -d ' '))"
  echo "dovecot: $(/usr/sbin/dovecot --version 2>/dev/null || echo n/a)"
  echo "mailsim: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?') (working tree), $server_bin"
  echo "messages: $messages; rounds: $rounds; FETCH commands per session: $repeat"
} | tee "$out/machine.txt" >&2

# --- the Maildir --------------------------------------------------------------------------
# Seeded, so every run serves the same bytes. Messages look like deliveries: trace headers,
# origin headers, MIME headers, then text lines; CRLF line ends throughout (what mailsim
# stores; Dovecot serves CRLF files as they are). Names carry ",S=<size>" as Maildir++ does.
make_maildir() {  # make_maildir DIR COUNT
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(root, sub), exist_ok=True)
rng = random.Random(6_5_2026)
vocab = ("mail imap folder message index flag seen answered draft deleted client server "
         "mailbox select fetch body header literal octet sequence uid store search expunge "
         "cache thread sort quota namespace status idle notify append copy move list "
         "a an the to of in on for with from by and or not but when then than").split()
def text_line():
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 12)))[:78]
for i in range(count):
    big = i % 100 == 31
    target = rng.randint(32 << 10, 128 << 10) if big else rng.randint(3200, 4800)
    when = 1795100000 + i * 11
    sender = f"person{rng.randint(1, 300)}@sender{rng.randint(1, 25)}.test"
    minute, second = i // 60 % 60, i % 60
    headers = [
        f"Return-Path: <{sender}>",
        f"Received: from relay{rng.randint(1, 5)}.sender.test (relay.sender.test [198.51.100.{rng.randint(1, 254)}])",
        f"\tby mx.mailsim.test with ESMTP id {rng.randrange(1 << 40):010X};",
        f"\tFri, 27 Nov 2026 03:{minute:02d}:{second:02d} +0000",
        f"From: Person {i % 300} <{sender}>",
        "To: Bench <bench@mailsim.test>",
        f"Subject: imap benchmark {i + 1}: {rng.choice(vocab)} {rng.choice(vocab)}",
        f"Date: Fri, 27 Nov 2026 03:{minute:02d}:{second:02d} +0000",
        f"Message-ID: <imap.{i:06d}.{rng.randrange(1 << 40):010x}@sender.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
    ]
    data = "\r\n".join(headers) + "\r\n"
    lines = []
    size = len(data)
    while size < target:
        line = "" if rng.random() < 0.06 else text_line()
        lines.append(line)
        size += len(line) + 2
    data = (data + "\r\n".join(lines) + "\r\n").encode()
    name = f"{when}.M{i:06d}P5150Q{i + 1}.bench.mailsim.test,S={len(data)}"
    with open(os.path.join(root, "new", name), "wb") as f:
        f.write(data)
PY
}

src="$work/maildir-source"
echo "making $messages messages in $src ..." >&2
make_maildir "$src" "$messages"
echo "maildir: $(find "$src/new" -type f | wc -l) files, $(du -sk "$src" | cut -f1) KiB" | tee -a "$out/machine.txt" >&2
source_digest=$("$load_bin" --digest-maildir "$src" | awk '/^DIGEST/ {print $2}')
[[ -n "$source_digest" ]] || { echo "cannot compute the Maildir's digest" >&2; exit 1; }
echo "source digest: $source_digest" | tee -a "$out/machine.txt" >&2

# --- Dovecot: a private instance ----------------------------------------------------------
# The master runs as root, login processes as dovenull, the imap processes as nobody (who
# owns this Maildir copy). Defaults are kept for everything that shapes throughput.
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
# Private Dovecot instance for bench/run_imap.sh; nothing from /etc/dovecot is read.
protocols = imap
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
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
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
  hash=$(cd "$repo/tests/e2e" && /usr/bin/python3 -c \
    'import sys, mailsim_harness as h; print(h.cheap_pbkdf2_hash(sys.argv[1]))' "$password")
  cat > "$m/imap.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $m/state
  maildir_root: $m/maildir
  log:
    file: $m/mailsim-server.log
    level: info
listeners:
  - name: imap
    role: imap
    address: 127.0.0.1
    port: $port
    auth_without_tls: true
domains:
  - $user_domain
users:
  - address: $user
    password_hash: "$hash"
imap:
  auth_mechanisms: [PLAIN]
EOF
  "$server_bin" --config "$m/imap.yaml" >"$m/stdout.txt" 2>&1 &
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

cpu_snapshot() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat; }
busy_pct() {
  /usr/bin/python3 -c 'import sys; t0,i0=map(int,sys.argv[1].split()); t1,i1=map(int,sys.argv[2].split()); print(f"{100*(1-(i1-i0)/max(t1-t0,1)):.0f}")' "$1" "$2"
}

failed=0
session() {  # session SERVER TAG EXTRA-ARGS...: one session of the load generator; prints its JSON
  local server=$1 tag=$2 line
  shift 2
  line=$(timeout "$((session_timeout + 30))" "$load_bin" --port "${port_of[$server]}" --user "$user" \
           --password "$password" --duration "$session_timeout" --json --label "$server" "$@" \
           | tee "$out/run-$tag.txt" | grep '^RESULT ' | cut -c8- || true)
  grep -v '^RESULT' "$out/run-$tag.txt" | sed 's/^/  /' >&2
  if [[ -z "$line" ]]; then
    echo "  load generator gave no result (see $out/run-$tag.txt)" >&2
    failed=1
    echo '{"ok":false}'
    return
  fi
  echo "$line"
}

record() {  # record JSON EXTRA: append one line to results.jsonl; flag unclean sessions
  local line=$1 extra=$2
  echo "${line%\}}$extra}" >> "$results"
  if [[ $line != *'"ok":true'* || $line != *"\"exists\":$messages,"* ]]; then
    echo "  SESSION NOT CLEAN (ok false, or EXISTS is not $messages)" >&2
    failed=1
  fi
}

# First session per server: cold SELECT (index building), a second SELECT, one verified FETCH.
for server in $servers; do
  echo "--- $server: first session (two SELECTs, FETCH bodies with --verify) ---" >&2
  line=$(session "$server" "$server-first" --selects 2 --op fetch-bodies --repeat 1 --verify)
  record "$line" ",\"server\":\"$server\",\"round\":0"
  digest=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("digest",""))' "$line")
  if [[ "$digest" != "$source_digest" ]]; then
    echo "CONTENT DIFFERS: $server sent digest $digest, the Maildir's files give $source_digest" >&2
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
    for op in fetch-bodies fetch-flags; do
      echo "--- round $round: $server, $op x $repeat ---" >&2
      c0=$(cpu_snapshot); sleep 1; c1=$(cpu_snapshot)
      line=$(session "$server" "$server-$op-r$round" --op "$op" --repeat "$repeat")
      c2=$(cpu_snapshot)
      record "$line" ",\"server\":\"$server\",\"round\":$round,\"background_busy_pct\":$(busy_pct "$c0" "$c1"),\"busy_pct\":$(busy_pct "$c1" "$c2")"
    done
  done
done

if [[ -n "$mailsim_pid" ]]; then
  # Peak RSS too: a server that builds a whole FETCH answer before sending it shows it here.
  echo "mailsim-server RSS at the end: $(awk '/VmRSS/ {print $2, $3}' "/proc/$mailsim_pid/status"), peak $(awk '/VmHWM/ {print $2, $3}' "/proc/$mailsim_pid/status")" | tee -a "$out/machine.txt" >&2
fi
for f in "$work/mailsim/mailsim-server.log" "$work/dovecot/dovecot.log"; do
  if [[ -f $f ]]; then
    cp "$f" "$out/"
    { grep -m5 '"level":"error"\|"level":"warn\|Error:\|Fatal:\|Panic:' "$f" || true; } | sed "s|^|$(basename "$f"): |" >&2
  fi
done

/usr/bin/python3 - "$results" "$command_line" "$messages" "$source_digest" <<'PY' | tee "$out/results.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n, source_digest = int(sys.argv[3]), sys.argv[4]
timed = [r for r in rows if r.get("round", 0) > 0 and "msg_per_s" in r]
first = {r["server"]: r for r in rows if r.get("round") == 0 and "select_ms" in r}
servers = [s for s in ("mailsim", "dovecot") if any(r.get("server") == s for r in rows)]
def med(server, op, key):
    v = [r[key] for r in timed if r["server"] == server and r["op"] == op]
    return statistics.median(v) if v else None
def warm_select(server):
    v = [r["select_ms"][0] for r in timed if r["server"] == server and r["select_ms"]]
    return statistics.median(v) if v else None
def f0(x): return "—" if x is None else f"{x:,.0f}"
def f1(x): return "—" if x is None else f"{x:,.1f}"
def f2(x): return "—" if x is None else f"{x:,.2f}"
rounds = max((r["round"] for r in timed), default=0)
repeat = timed[0]["repeat"] if timed else "?"
octets = next((r["literal_octets"] for r in rows if r.get("round") == 0 and r.get("literal_octets")), 0)
print("## IMAP, mailsim beside Dovecot")
print()
print(f"Command: `flock /tmp/mailsim-build.lock {sys.argv[2]}`")
print()
print(f"One Maildir of {n:,} messages ({octets / 1e6:.1f} MB: about 4 KiB each, 1 in 100 of 32–128 KiB, "
      f"CRLF lines), one copy per server, both servers freshly started on it. `mailsim_imap_load` logs "
      f"in with LOGIN and SELECTs INBOX, then sends one command {repeat} times in the session: "
      f"`FETCH 1:* BODY.PEEK[]` (bodies) or `UID FETCH 1:* FLAGS` (flags). msg/s = untagged FETCH "
      f"responses ÷ the summed command times (command sent → tagged OK); MB/s counts the body "
      f"literals. Medians of {rounds} round{'s' if rounds != 1 else ''} (one session per operation "
      f"and server per round, alternating which server goes first). SELECT: the first after the "
      f"server started (no index yet), a second one right after it in the same session, and the "
      f"first SELECT of a later session (median over the rounds).")
print()
print("| server | bodies msg/s | bodies MB/s | flags msg/s | first SELECT ms | second SELECT ms | later-session SELECT ms |")
print("|---|---:|---:|---:|---:|---:|---:|")
for s in servers:
    fr = first.get(s, {})
    sel = fr.get("select_ms", [])
    print(f"| {s} | {f0(med(s, 'fetch-bodies', 'msg_per_s'))} | {f1(med(s, 'fetch-bodies', 'mb_per_s'))} | "
          f"{f0(med(s, 'fetch-flags', 'msg_per_s'))} | {f2(sel[0] if sel else None)} | "
          f"{f2(sel[1] if len(sel) > 1 else None)} | {f2(warm_select(s))} |")
for op, what in (("fetch-bodies", "bodies"), ("fetch-flags", "flags")):
    m, d = med("mailsim", op, "msg_per_s"), med("dovecot", op, "msg_per_s")
    if m and d:
        print()
        print(f"mailsim ÷ Dovecot, {what}: **{m / d:.2f} ×**.", end="")
print()
print()
for s, r in sorted(first.items()):
    same = r.get("digest") == source_digest
    clean = same and r.get("ok") and r.get("bad_line_ends") == 0 and r.get("exists") == n
    print(f"Content check, {s}: " + ("EXISTS equals the message count; every body as stored, byte for "
          "byte (digest of the Maildir's files), every literal ending in CRLF." if clean else
          f"**differs**: EXISTS {r.get('exists')}, digest {r.get('digest')} (files: {source_digest}), "
          f"{r.get('bad_line_ends')} literals not ending in CRLF, ok={r.get('ok')}, "
          f"refusal {r.get('refusal')!r}, error {r.get('error')!r}.") + "  ")
print()
print("Every session:")
print()
print("| server | round | operation | msg/s (all FETCHes) | best FETCH msg/s | MB/s | FETCH s each | first response ms each | SELECT ms | client CPU s | busy % | bg % |")
print("|---|---:|---|---:|---:|---:|---|---|---:|---:|---:|---:|")
for r in sorted(timed, key=lambda r: (r["server"], r["op"], r["round"])):
    each = " ".join(f"{x:.3f}" for x in r["op_s"])
    firsts = " ".join(f"{x:.1f}" for x in r.get("first_response_ms", []))
    sel = r["select_ms"][0] if r["select_ms"] else None
    print(f"| {r['server']} | {r['round']} | {r['op']} | {r['msg_per_s']:,.0f} | {r['best_msg_per_s']:,.0f} | "
          f"{r['mb_per_s']:.1f} | {each} | {firsts} | {f2(sel)} | {r['client_cpu_s']:.2f} | {r.get('busy_pct', '—')} | "
          f"{r.get('background_busy_pct', '—')} |")
PY
echo "results: $out" >&2
[[ $failed -eq 0 ]] || { echo "SOME SESSIONS WERE NOT CLEAN: see above" >&2; exit 1; }
