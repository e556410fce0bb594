"""TLS handshakes that stall: on submissions (implicit TLS, RFC 8314) and after STARTTLS.

The server bounds the whole handshake by one timer of limits.command_timeout
(reference-server/server/connection.cpp, handshake()), so a client that sends nothing, half
a ClientHello, or a ClientHello one byte at a time is closed when it runs out; nothing is
written in clear text on the implicit-TLS port, and the log says "tls_failed". Other
clients are served meanwhile (one I/O thread, but no handshake blocks it).
"""

from __future__ import annotations

import smtplib
import ssl

from mailsim_harness import HOST, PASSWORD
from robustness_checks import assert_survived, send_mail
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    SOCKET_TIMEOUT_S, Trickler, close_all, connect, open_many, read_line,
    read_until_closed, wait_for_idle)

STALLED = 10
TIMEOUT = {"command_timeout": "2s"}
# Each stalled handshake holds a session plus OpenSSL's state (inside PER_CONNECTION_KIB).
WHY = f"{STALLED} stalled TLS sessions plus one normal one, 128 KiB each"


def client_hello() -> bytes:
    """The first flight of a real TLS client (a ClientHello record), made in memory."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_side=False, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16", hello[:8]  # a handshake record
    return hello


def submit_over_tls(server, client_tls):
    """A well-behaved submission client on the implicit-TLS port."""
    with smtplib.SMTP_SSL(HOST, server.submissions_port, timeout=SOCKET_TIMEOUT_S,
                          context=client_tls) as s:
        s.ehlo("laptop.example.test")
        s.login("alice@example.test", PASSWORD)
        msg = b"From: alice@example.test\r\nSubject: over TLS\r\n\r\nserved\r\n"
        assert s.sendmail("alice@example.test", ["carol@example.test"], msg) == {}


def tls_failures(server) -> int:
    return sum(1 for e in server.new_log_events() if e.get("event") == "tls_failed")


def test_silent_and_half_hello_clients_are_closed(make_server, client_tls):
    server = make_server(limits=TIMEOUT)
    bound = memory_bound(server, allowance_kib(connections=STALLED + 1), WHY)
    silent = open_many(server.submissions_port, STALLED // 2)
    half = open_many(server.submissions_port, STALLED // 2)
    hello = client_hello()
    try:
        for s in half:
            s.sendall(hello[:len(hello) // 2])
        submit_over_tls(server, client_tls)  # served while they stall
        for s in silent + half:
            data, _ = read_until_closed(s)  # bounded by the socket timeout
            assert data == b"", f"clear text on the implicit-TLS port: {data[:80]!r}"
    finally:
        close_all(silent + half)
    wait_for_idle(server)
    assert tls_failures(server) == STALLED
    assert_survived(server, bound)


def test_handshake_trickled_one_byte_per_second_is_cut_off(make_server):
    """Unlike an SMTP command (see test_smtp_slowloris.py), the handshake has one deadline
    for the whole of it, so a trickled ClientHello does not keep the session alive."""
    server = make_server(limits=TIMEOUT)
    bound = memory_bound(server, allowance_kib(connections=STALLED + 1), WHY)
    hello = client_hello()
    slow = Trickler(server.submissions_port, STALLED, hello, interval_s=0.5, duration_s=8)
    slow.start()
    slow.finish()
    for c in slow.clients:
        assert c.closed, f"still connected after {c.sent} of {len(hello)} bytes"
        assert c.sent_when_closed < len(hello)
        assert bytes(c.received) == b""
    wait_for_idle(server)
    assert tls_failures(server) == STALLED
    assert_survived(server, bound)


def test_stalled_starttls_is_closed_without_a_reply(make_server):
    """STARTTLS answered 220, then nothing (or half a ClientHello): closed at the
    deadline; the session never falls back to clear text."""
    server = make_server(limits=TIMEOUT)
    bound = memory_bound(server, allowance_kib(connections=STALLED + 1), WHY)
    socks = open_many(server.mx_port, STALLED)
    hello = client_hello()
    try:
        for i, s in enumerate(socks):
            s.sendall(b"EHLO stall.remote.example\r\nSTARTTLS\r\n")
            buffer = bytearray()
            line = read_line(s, buffer)
            while not line.startswith(b"220 2.0.0"):
                assert line, "closed before the STARTTLS reply"
                line = read_line(s, buffer)
            if i % 2:
                s.sendall(hello[:len(hello) // 2])
        send_mail(server)  # served while they stall
        for s in socks:
            data, _ = read_until_closed(s)
            assert data == b"", f"clear text after STARTTLS: {data[:80]!r}"
    finally:
        close_all(socks)
    wait_for_idle(server)
    assert tls_failures(server) == STALLED
    assert_survived(server, bound)


def test_garbage_instead_of_a_handshake_is_closed(make_server, client_tls):
    """Plain SMTP (or any non-TLS bytes) on the implicit-TLS port: the handshake fails at
    once, the connection closes, nothing is answered in clear text."""
    server = make_server(limits=TIMEOUT)
    bound = memory_bound(server, allowance_kib(connections=STALLED + 1), WHY)
    socks = [connect(server.submissions_port) for _ in range(STALLED)]
    try:
        for i, s in enumerate(socks):
            s.sendall(b"EHLO plain.remote.example\r\n" if i % 2
                      else b"\x16\x03\x01\xff\xff" + b"\x00" * 64)
        for s in socks:
            data, _ = read_until_closed(s)
            assert not data.startswith(b"220"), data[:80]
    finally:
        close_all(socks)
    submit_over_tls(server, client_tls)
    wait_for_idle(server)
    assert tls_failures(server) == STALLED
    assert_survived(server, bound)
