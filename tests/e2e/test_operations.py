"""Running the server: connection limits, idle timeouts, the JSON log, graceful shutdown."""

from __future__ import annotations

import signal
import smtplib
import socket
import time

import pytest

from mailsim_harness import HOST, RawSmtp, ServerStartError, crlf, queue_id

TIMEOUT_S = 10


def wait_for(predicate, timeout_s=5.0, step_s=0.05):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step_s)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


# ---------------------------------------------------------------------------------------
# Limits.

def test_connections_per_ip_limit(make_server):
    server = make_server(limits={"connections_per_ip_max": 3})
    held = [RawSmtp(server.mx_port) for _ in range(3)]
    try:
        for c in held:
            assert c.greeting[0] == 220
        # The 4th concurrent connection from 127.0.0.1 is told why and closed (RFC 5321 §3.1).
        with socket.create_connection((HOST, server.mx_port), timeout=TIMEOUT_S) as s:
            s.settimeout(TIMEOUT_S)
            data = read_all(s)
        assert data.startswith(b"421 4.7.0 "), data
        assert data.endswith(b"\r\n") and data.count(b"\r\n") == 1, data
        # The limit is per client and across listeners: submission is full too.
        with socket.create_connection((HOST, server.submission_port), timeout=TIMEOUT_S) as s:
            s.settimeout(TIMEOUT_S)
            assert read_all(s).startswith(b"421 4.7.0 ")
        # The held connections still work.
        held[0].expect("EHLO client.example.test", 250)
        # Closing one frees its slot.
        held.pop().cmd("QUIT")

        def admitted():
            with RawSmtp(server.mx_port, read_greeting=False) as c:
                line = c.sock.recv(4096)
                return line.startswith(b"220 ")
        assert wait_for(admitted), "a freed slot was not reused"
    finally:
        for c in held:
            c.close()
    events = server.log_events()
    assert any(e["event"] == "refused" for e in events), events


def test_connections_total_limit(make_server):
    server = make_server(limits={"connections_max": 2, "connections_per_ip_max": 2})
    held = [RawSmtp(server.mx_port), RawSmtp(server.submission_port)]
    try:
        with socket.create_connection((HOST, server.mx_port), timeout=TIMEOUT_S) as s:
            s.settimeout(TIMEOUT_S)
            assert read_all(s).startswith(b"421 4.7.0 ")
    finally:
        for c in held:
            c.close()


def test_idle_connection_times_out(make_server):
    server = make_server(limits={"command_timeout": "2s"})
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.example.test", 250)
        started = time.monotonic()
        c.sock.settimeout(10)
        data = c.read_until_closed()
        elapsed = time.monotonic() - started
    assert data.startswith(b"421 4.4.2 "), data
    assert 1.5 <= elapsed <= 6, f"timed out after {elapsed:.2f}s, configured 2s"
    disconnect = wait_for(lambda: [e for e in server.log_events()
                                   if e["event"] == "disconnect"])
    assert disconnect and disconnect[0]["timeout"] is True


def test_idle_timeout_before_greeting_reply(make_server):
    """A client that connects and never says anything is also cut off."""
    server = make_server(limits={"command_timeout": "2s"})
    with socket.create_connection((HOST, server.mx_port), timeout=TIMEOUT_S) as s:
        s.settimeout(10)
        data = read_all(s)
    assert data.startswith(b"220 ")
    assert b"\r\n421 4.4.2 " in data, data


def test_too_many_errors_closes(server):
    with RawSmtp(server.mx_port) as c:
        for _ in range(9):
            code, _ = c.cmd("BOGUS")
            assert code == 500
        c.send(b"BOGUS\r\n")
        data = c.read_until_closed()
    assert b"421 4.7.0 " in data, data


# ---------------------------------------------------------------------------------------
# The JSON log.

def test_log_has_connect_accept_disconnect(server):
    body = crlf("From: sender@remote.example\nSubject: logged\n\nlog me\n")
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo("client.remote.example")
        s.mail("sender@remote.example")
        s.rcpt("alice@example.test")
        s.rcpt("bob@example.test")
        code, text = s.data(body)
        assert code == 250
    qid = queue_id(text.decode())
    assert qid, text

    def session_done():
        return [e for e in server.log_events() if e["event"] == "disconnect"]
    assert wait_for(session_done), server.log_text()
    events = server.log_events()
    for e in events:
        assert isinstance(e.get("ts"), str) and e["ts"].endswith("Z"), e
        assert isinstance(e.get("event"), str), e
    accepted = [e for e in events if e["event"] == "message_accepted"]
    assert len(accepted) == 1, events
    acc = accepted[0]
    session = acc["session"]
    assert acc["id"] == qid
    assert acc["size"] == len(body)
    assert [r.strip("<>") for r in acc["recipients"]] == ["alice@example.test",
                                                          "bob@example.test"]
    connects = [e for e in events if e["event"] == "connect" and e.get("session") == session]
    disconnects = [e for e in events if e["event"] == "disconnect"
                   and e.get("session") == session]
    assert len(connects) == 1 and len(disconnects) == 1
    assert connects[0]["peer"] == HOST
    assert disconnects[0]["messages"] == 1
    order = [e["event"] for e in events if e.get("session") == session]
    assert order[0] == "connect" and order[-1] == "disconnect"
    assert order.index("message_accepted") < order.index("disconnect")
    # The id in the log is the id in the Received field of every copy.
    for rcpt in ("alice@example.test", "bob@example.test"):
        (copy,) = server.delivered(rcpt)
        assert f" id {qid}".encode() in copy.received


def test_log_records_refusals(server):
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.remote.example", 250)
        c.expect("MAIL FROM:<a@remote.example>", 250)
        c.expect("RCPT TO:<b@remote.example>", 554)
        c.expect("QUIT", 221)
    replies = wait_for(lambda: [e for e in server.log_events()
                                if e["event"] == "reply" and e.get("class") == "5xx"])
    assert replies and "554" in replies[0]["text"]


# ---------------------------------------------------------------------------------------
# Graceful shutdown.

def test_sigterm_while_idle_says_421_and_exits_0(make_server):
    server = make_server(limits={"shutdown_grace": "5s"})
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.example.test", 250)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        data = c.read_until_closed()
        assert data.startswith(b"421 4.3.2 "), data
        rc = server.proc.wait(timeout=10)
        elapsed = time.monotonic() - started
    assert rc == 0
    assert elapsed < 5, f"idle connection kept the server up {elapsed:.2f}s"
    server.proc = None
    events = server.log_events()
    assert any(e["event"] == "signal" for e in events)
    assert events[-1]["event"] == "stopped"


def test_sigterm_stops_accepting(make_server):
    server = make_server()
    port = server.mx_port
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=10) == 0
    server.proc = None
    with pytest.raises(OSError):
        socket.create_connection((HOST, port), timeout=2).close()


def test_sigterm_lets_a_transaction_in_flight_finish(make_server):
    server = make_server(limits={"shutdown_grace": "5s"})
    body = crlf("From: sender@remote.example\nSubject: in flight\n\n") + b"x" * 1000 + b"\r\n"
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.example.test", 250)
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(body[:500])
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert server.proc.poll() is None, "server quit with a transaction in flight"
        c.send(body[500:] + b".\r\n")
        code, text = c.reply()
        assert code == 250, (code, text)
        rest = c.read_until_closed()
        assert rest.startswith(b"421 4.3.2 "), rest
    assert server.proc.wait(timeout=10) == 0
    server.proc = None
    (copy,) = server.delivered("alice@example.test")
    assert copy.body == body


def test_sigterm_cuts_a_stalled_transaction_after_the_grace_time(make_server):
    server = make_server(limits={"shutdown_grace": "1s"})
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.example.test", 250)
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: never finished\r\n\r\npartial")
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        rc = server.proc.wait(timeout=10)
        elapsed = time.monotonic() - started
        c.sock.settimeout(5)
        try:
            c.read_until_closed()
        except OSError:
            pass
    server.proc = None
    assert rc == 0
    assert 0.8 <= elapsed < 4, f"exited {elapsed:.2f}s after SIGTERM with a 1s grace"
    assert server.all_files() == []


# ---------------------------------------------------------------------------------------
# The delivery journal (delivery.durability: journal, the default).

def test_a_second_server_on_the_same_maildir_root_refuses_to_start(make_server):
    first = make_server()
    journal = first.maildir_root / ".mailsim-journal"
    assert journal.stat().st_size == 32 << 20  # delivery.journal_size's default
    second = make_server("second", start=False)
    second.maildir_root = first.maildir_root
    with pytest.raises(ServerStartError, match="is in use: another process holds its delivery journal"):
        second.start()
    # The first one goes on delivering.
    with smtplib.SMTP(HOST, first.mx_port, timeout=TIMEOUT_S) as c:
        c.sendmail("sender@remote.example", ["alice@example.test"], crlf("Subject: x\n\nstill here\n"))
    assert len(first.delivered("alice@example.test")) == 1
