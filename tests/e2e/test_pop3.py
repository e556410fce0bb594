"""POP3 (RFC 1939) on the reference server, read with real clients: Python's poplib over
STLS (RFC 2595) and implicit TLS (pop3s, RFC 8314), and fetchmail.

Mail goes in over SMTP (smtplib) and comes out over POP3 byte for byte: RETR returns the
Maildir file as stored (the trace fields the server prepended, then the message). Deletions
happen only at QUIT; UIDL values survive sessions and restarts; a second session on the
same maildrop is refused with [IN-USE] while the first holds the lock.
"""

from __future__ import annotations

import base64
import poplib
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from mailsim_harness import HOST, PASSWORD, crlf, delivery_order, run_fetchmail

TIMEOUT_S = 10
ROLES = ("smtp", "pop3", "pop3s")
ALICE = "alice@example.test"


def message(n: int) -> bytes:
    return crlf(f"""\
From: Bob <bob@example.test>
To: Alice <alice@example.test>
Subject: message {n}

Line one of message {n}.
.a line that starts with a dot
..and one with two
last line
""")


@pytest.fixture
def pop_server(make_server):
    return make_server(roles=ROLES)


def deliver(server, count: int, to: str = ALICE) -> list[bytes]:
    sent = [message(i) for i in range(1, count + 1)]
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        for body in sent:
            s.sendmail("bob@example.test", [to], body)
    return sent


def stored_files(server, address: str = ALICE) -> list[bytes]:
    """The user's messages as stored, in delivery order (new/ and cur/)."""
    root = server.maildir(address)
    files = [p for d in ("new", "cur") if (root / d).is_dir() for p in (root / d).iterdir()]
    return [p.read_bytes() for p in sorted(files, key=delivery_order)]


def login(server, client_tls, user: str = ALICE, password: str = PASSWORD) -> poplib.POP3:
    p = poplib.POP3(HOST, server.ports["pop3"], timeout=TIMEOUT_S)
    p.stls(context=client_tls)
    p.user(user)
    p.pass_(password)
    return p


def login_when_released(server, client_tls, deadline_s: float = 5.0) -> poplib.POP3:
    """Logs in once the server has noticed that the previous session's client went away
    (until then the maildrop lock is rightly held: [IN-USE])."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            return login(server, client_tls)
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.monotonic() > end:
                raise
            time.sleep(0.05)


def retr_bytes(p: poplib.POP3, n: int) -> bytes:
    _, lines, _ = p.retr(n)
    return b"".join(line + b"\r\n" for line in lines)


def test_deliver_then_read_byte_for_byte_over_stls(pop_server, client_tls):
    deliver(pop_server, 3)
    stored = stored_files(pop_server)
    assert len(stored) == 3
    p = login(pop_server, client_tls)
    count, size = p.stat()
    assert count == 3 and size == sum(len(f) for f in stored)
    _, listing, _ = p.list()
    assert [int(line.split()[1]) for line in listing] == [len(f) for f in stored]
    for i, want in enumerate(stored, start=1):
        assert retr_bytes(p, i) == want
    p.quit()


def test_capabilities_before_and_after_tls(pop_server, client_tls):
    p = poplib.POP3(HOST, pop_server.ports["pop3"], timeout=TIMEOUT_S)
    before = p.capa()
    assert "STLS" in before and "UIDL" in before and "TOP" in before
    assert "USER" not in before, "passwords offered in clear text"
    with pytest.raises(poplib.error_proto):
        p.user(ALICE)  # refused before TLS (RFC 2595 §2)
    p.stls(context=client_tls)
    after = p.capa()
    assert "STLS" not in after and "USER" in after and "PLAIN" in after.get("SASL", [])
    p.quit()


def test_implicit_tls_and_auth_plain(pop_server, client_tls):
    deliver(pop_server, 1)
    p = poplib.POP3_SSL(HOST, pop_server.ports["pop3s"], timeout=TIMEOUT_S, context=client_tls)
    token = base64.b64encode(f"\0{ALICE}\0{PASSWORD}".encode()).decode()
    assert p._shortcmd(f"AUTH PLAIN {token}").startswith(b"+OK")
    assert p.stat()[0] == 1
    assert retr_bytes(p, 1) == stored_files(pop_server)[0]
    p.quit()


def test_wrong_password_is_refused_late_and_the_session_goes_on(make_server, client_tls):
    # limits.auth_failure_delay holds the answer to the n-th failure for n x the delay.
    pop_server = make_server(roles=ROLES, limits={"auth_failure_delay": "400ms"})
    p = poplib.POP3(HOST, pop_server.ports["pop3"], timeout=TIMEOUT_S)
    p.stls(context=client_tls)
    p.user(ALICE)
    started = time.monotonic()
    with pytest.raises(poplib.error_proto) as failed:
        p.pass_("not the password")
    assert time.monotonic() - started >= 0.4  # a lower bound only: never faster than the delay
    assert b"[AUTH]" in failed.value.args[0]
    p.user(ALICE)
    p.pass_(PASSWORD)
    assert p.stat()[0] == 0
    p.quit()


def test_dele_takes_effect_only_at_quit(pop_server, client_tls):
    deliver(pop_server, 3)
    p = login(pop_server, client_tls)
    p.dele(2)
    assert p.stat()[0] == 2
    with pytest.raises(poplib.error_proto):
        p.retr(2)
    p.rset()
    assert p.stat()[0] == 3
    p.dele(1)
    # A dropped connection never reaches UPDATE: nothing is removed.
    p.sock.shutdown(socket.SHUT_RDWR)  # the makefile() reader keeps the descriptor open
    p.sock.close()
    p = login_when_released(pop_server, client_tls)
    assert p.stat()[0] == 3
    p.dele(1)
    p.dele(3)
    p.quit()
    assert len(stored_files(pop_server)) == 1
    p = login(pop_server, client_tls)
    assert p.stat()[0] == 1
    assert b"Subject: message 2" in retr_bytes(p, 1)
    p.quit()


def test_uidl_stable_across_sessions_and_restarts(pop_server, client_tls):
    deliver(pop_server, 3)
    p = login(pop_server, client_tls)
    _, first, _ = p.uidl()
    p.dele(1)
    p.quit()
    pop_server.stop()
    pop_server.start()
    deliver(pop_server, 1)
    p = login(pop_server, client_tls)
    _, again, _ = p.uidl()
    p.quit()
    first_ids = [line.split()[1] for line in first]
    again_ids = [line.split()[1] for line in again]
    assert again_ids[:2] == first_ids[1:]
    assert len(again_ids) == 3 and again_ids[2] not in first_ids


def test_second_session_on_a_maildrop_is_refused_in_use(pop_server, client_tls):
    deliver(pop_server, 1)
    first = login(pop_server, client_tls)
    second = poplib.POP3(HOST, pop_server.ports["pop3"], timeout=TIMEOUT_S)
    second.stls(context=client_tls)
    second.user(ALICE)
    with pytest.raises(poplib.error_proto) as refused:
        second.pass_(PASSWORD)
    assert b"[IN-USE]" in refused.value.args[0]
    first.quit()
    second.user(ALICE)
    second.pass_(PASSWORD)
    assert second.stat()[0] == 1
    second.quit()


def test_top_sends_the_header_and_n_body_lines(pop_server, client_tls):
    deliver(pop_server, 1)
    stored = stored_files(pop_server)[0]
    header, _, body = stored.partition(b"\r\n\r\n")
    p = login(pop_server, client_tls)
    _, lines, _ = p.top(1, 2)
    got = b"".join(line + b"\r\n" for line in lines)
    assert got == header + b"\r\n\r\n" + b"".join(l + b"\r\n" for l in body.split(b"\r\n")[:2])
    p.quit()


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail is not installed")
def test_fetchmail_over_stls_fetches_and_deletes(pop_server, tls_files, tmp_path):
    sent = deliver(pop_server, 2)
    code, log, fetched = run_fetchmail(tmp_path, "POP3", pop_server.ports["pop3"], ALICE,
                                       tls_files[0])
    assert code == 0, log
    assert "STLS" in log
    assert len(fetched) == 2
    for body in sent:
        assert any(body.replace(b"\r\n", b"\n") in f.replace(b"\r\n", b"\n") for f in fetched)
    assert stored_files(pop_server) == [], "fetchmail deletes what it fetched"


@pytest.mark.skipif(shutil.which("frm") is None, reason="mailutils is not installed")
def test_mailutils_frm_lists_the_maildrop(make_server):
    # A lab listener (USER/PASS in clear text on loopback): frm's TLS setup needs a config.
    server = make_server(roles=ROLES, listener_options={"pop3": {"auth_without_tls": True}})
    deliver(server, 2)
    url = f"pop://{ALICE.replace('@', '%40')}:{PASSWORD.replace(' ', '%20')}@{HOST}:" \
          f"{server.ports['pop3']}"
    run = subprocess.run(["frm", url], capture_output=True, timeout=60)
    # frm's exit status is not an error indicator (1 with messages listed): judge the output.
    assert run.stderr == b"", run.stderr
    lines = [line for line in run.stdout.decode().splitlines() if line]
    assert lines == ["Bob\tmessage 1", "Bob\tmessage 2"], lines
