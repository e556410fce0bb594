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

protocol=pop3
password="pop3-bench"
# Helpers, the seeded Maildir, the private Dovecot and mailsim-server, clean-up.
# shellcheck source=bench/mail_access_lib.sh
source "$here/mail_access_lib.sh"

print_machine "messages: $messages; rounds: $rounds; sessions per round: $sessions; window: $window"

make_source_maildir

start_servers

clk_tck=$(getconf CLK_TCK)
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
