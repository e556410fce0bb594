# shellcheck shell=bash disable=SC2154  # the caller sets the variables listed below
# bench/mail_access_lib.sh — what bench/run_pop3.sh and bench/run_imap.sh share: a seeded
# Maildir, a private Dovecot and a mailsim-server serving copies of it, process clean-up and
# machine-load probes. Sourced, not run. The caller sets, before sourcing:
#   protocol            pop3 or imap (the Dovecot service and the mailsim listener role)
#   repo, work, out     the repository, the work folder, the results folder
#   keep                1 to keep the work folder at exit
#   server_bin, load_bin, messages, servers, password
#   command_line        the command, for the record
# and then calls, in order: print_machine, make_source_maildir, start_servers (fills
# port_of[SERVER]).
# Every process started here is stopped by the EXIT trap; every wait is bounded.

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

# The machine and the run, first lines of machine.txt; $1 says what the run does.
print_machine() {
  {
    echo "command: $command_line"
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
    echo "kernel: $(uname -r)"
    echo "work folder: $work ($(df --output=fstype "$work" | tail -1 | tr -d ' '))"
    echo "dovecot: $(/usr/sbin/dovecot --version 2>/dev/null || echo n/a)"
    echo "mailsim: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?') (working tree), $server_bin"
    echo "$1"
  } | tee "$out/machine.txt" >&2
}

user_local=bench
user_domain=mailsim.test
user="$user_local@$user_domain"

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

# Makes $src, the seeded Maildir both servers copy, and $source_digest, what a server
# sending every file unchanged produces under --verify (order-independent).
make_source_maildir() {
  src="$work/maildir-source"
  echo "making $messages messages in $src ..." >&2
  make_maildir "$src" "$messages"
  echo "maildir: $(find "$src/new" -type f | wc -l) files, $(du -sk "$src" | cut -f1) KiB" | tee -a "$out/machine.txt" >&2
  source_digest=$("$load_bin" --digest-maildir "$src" | awk '/^DIGEST/ {print $2}')
  [[ -n "$source_digest" ]] || { echo "cannot compute the Maildir's digest" >&2; exit 1; }
  echo "source digest: $source_digest" | tee -a "$out/machine.txt" >&2
}

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
# Private Dovecot instance for bench/run_$protocol.sh; nothing from /etc/dovecot is read.
protocols = $protocol
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
service $protocol-login {
  inet_listener $protocol {
    address = 127.0.0.1
    port = $port
  }
  inet_listener ${protocol}s {
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
  cat > "$m/$protocol.yaml" <<EOF
server:
  hostname: mailsim.bench.test
  state_dir: $m/state
  maildir_root: $m/maildir
  log:
    file: $m/mailsim-server.log
    level: info
listeners:
  - name: $protocol
    role: $protocol
    address: 127.0.0.1
    port: $port
    auth_without_tls: true
domains:
  - $user_domain
users:
  - address: $user
    password_hash: "$hash"
$protocol:
  auth_mechanisms: [PLAIN]
EOF
  "$server_bin" --config "$m/$protocol.yaml" >"$m/stdout.txt" 2>&1 &
  mailsim_pid=$!
  if ! wait_port "$port" 20; then
    echo "mailsim-server did not start:" >&2
    cat "$m/stdout.txt" >&2
    exit 1
  fi
}

declare -A port_of
start_servers() {  # each of $servers on a free loopback port: port_of[SERVER]
  for server in $servers; do
    port_of[$server]=$(free_port)
    case $server in
      dovecot) start_dovecot "${port_of[$server]}"; echo "dovecot pid $dovecot_pid on 127.0.0.1:${port_of[$server]}" >&2 ;;
      mailsim) start_mailsim "${port_of[$server]}"; echo "mailsim-server pid $mailsim_pid on 127.0.0.1:${port_of[$server]}" >&2 ;;
      *) echo "unknown server $server" >&2; exit 2 ;;
    esac
  done
}

cpu_snapshot() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6}' /proc/stat; }
busy_pct() {
  /usr/bin/python3 -c 'import sys; t0,i0=map(int,sys.argv[1].split()); t1,i1=map(int,sys.argv[2].split()); print(f"{100*(1-(i1-i0)/max(t1-t0,1)):.0f}")' "$1" "$2"
}

