#!/usr/bin/env bash
# The main job until the simulator exists: build mailsim-server, start it on loopback with
# the shipped demo config, deliver one message to demo@mailsim.test with Python's smtplib,
# show where it landed, and keep serving until Ctrl-C. With --once, stop after the message.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target mailsim-server
mkdir -p var/demo
server=build/release/bin/mailsim-server
config=reference-server/config/demo.yaml
"$server" --config "$config" --check-config
"$server" --config "$config" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null && break
  sleep 0.1
done
/usr/bin/python3 - <<'PY'
import smtplib
from email.message import EmailMessage
msg = EmailMessage()
msg["From"] = "newcomer@example.org"
msg["To"] = "demo@mailsim.test"
msg["Subject"] = "Hello from the mailsim demo"
msg.set_content("If you can read this, mailsim-server stored it durably in a Maildir.\n")
with smtplib.SMTP("127.0.0.1", 2525, timeout=10) as s:
    refused = s.send_message(msg)
print("demo: delivered to demo@mailsim.test" if not refused else f"demo: refused {refused}")
PY
latest=$(ls -t var/demo/maildir/mailsim.test/demo/Maildir/new/* | head -n 1)
echo "demo: the message is in $latest:"
sed 's/^/    /' "$latest"
echo "demo: the server log is var/demo/mailsim-server.log (one JSON line per event)"
if [ "${1:-}" = "--once" ]; then exit 0; fi
echo "demo: mailsim-server is serving mailsim.test on 127.0.0.1: SMTP 2525, submission 2587"
echo "      (STARTTLS + AUTH), submissions 2465 (TLS), IMAP 2143 (STARTTLS) and 2993 (TLS),"
echo "      POP3 2110 (STLS) and 2995 (TLS);"
echo "      user demo, password demo. Ctrl-C stops it."
wait $pid
