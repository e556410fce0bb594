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

protocol=imap
password="imap-bench"
# Helpers, the seeded Maildir, the private Dovecot and mailsim-server, clean-up.
# shellcheck source=bench/mail_access_lib.sh
source "$here/mail_access_lib.sh"

print_machine "messages: $messages; rounds: $rounds; FETCH commands per session: $repeat"

make_source_maildir
start_servers
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
