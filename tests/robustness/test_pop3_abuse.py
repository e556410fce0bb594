"""POP3 abuse: 1 MiB lines, pipelined garbage, slow clients, connection floods, pipelined RETR.

Limits (reference-server/pop3/session.hpp, docs/pop3.md "Limits"; the server passes only
its timeouts: reference-server/server/access_connection.cpp):
- a command line holds at most line_bytes_max = 1024 bytes (without CRLF; RFC 2449 §4
  asks for 255). A longer one is answered "-ERR line too long", skipped to its LF, and the
  session goes on (docs/pop3.md; the reader never holds more of it than the limit).
- every client error counts toward errors_max = 20 (fixed; `limits.errors_max` in the
  config is SMTP's), after which "-ERR too many errors, closing connection" and the close.
- the autologout timer, `pop3.idle_timeout`, is at least 10 minutes (RFC 1939 §3; the
  config refuses less) and counts from the last complete line. A test cannot wait 10
  minutes: here slow clients are shown to be held without harm (bounded per host, others
  served, memory flat); that a trickle does not restart the timer is a unit test,
  tests/unit/pop3/session_test.cpp PartialLinesDoNotResetTheIdleTimer.
- a connection past limits.connections_max or limits.connections_per_ip_max gets
  "-ERR [SYS/TEMP] too many connections" (RFC 3206) and is closed; on pop3s it is closed
  without a byte.

The abusive clients log in over clear text (auth_without_tls) as alice; the well-behaved
poplib client (STLS, USER/PASS) reads carol's maildrop.
"""

from __future__ import annotations

import random
import smtplib
import time

import pytest

from mailsim_harness import HOST, PASSWORD
from robustness_checks import assert_survived, check_pop3, send_mail
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    Sender, Trickler, close_all, connect, open_many, plaintext_login, read_line,
    read_until_closed, wait_for_idle)

MIB = 1 << 20
LINE_MAX = 1024               # pop3::limits::line_bytes_max
ERRORS_MAX = 20               # pop3::limits::errors_max
SEED = 20250309
ROLES = ("smtp", "pop3")
ABUSER = "alice@example.test"
TOO_LONG = "-ERR line too long"
TOO_MANY = "-ERR too many errors, closing connection"
SIGN_OFF = "+OK mx.example.test POP3 server signing off"


def pop3_server(make_server, **options):
    options.setdefault("roles", ROLES)
    return make_server(listener_options=plaintext_login("pop3"), **options)


def lines_of(data: bytes) -> list[str]:
    return [x.decode("utf-8", "replace") for x in data.split(b"\r\n") if x]


class RawPop3:
    """A minimal POP3 client over a plain socket, for single-line answers."""

    def __init__(self, port: int, source_ip: str = HOST):
        self.sock = connect(port, source_ip)
        self.buffer = bytearray()
        self.greeting = self.line()

    def line(self) -> str:
        line = read_line(self.sock, self.buffer)
        if not line and not self.buffer:
            raise ConnectionError("closed")
        return line.decode("utf-8", "replace")

    def cmd(self, text: bytes | str) -> str:
        self.sock.sendall((text.encode() if isinstance(text, str) else text) + b"\r\n")
        return self.line()

    def login(self, user: str = ABUSER):
        assert self.cmd(f"USER {user}").startswith("+OK")
        assert self.cmd(f"PASS {PASSWORD}").startswith("+OK")

    def read_until_closed(self) -> tuple[bytes, bool]:
        data, reset = read_until_closed(self.sock)
        data = bytes(self.buffer) + data
        self.buffer.clear()
        return data, reset

    def close(self):
        close_all([self.sock])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------------------
# 1 MiB lines.

def test_megabyte_lines_get_err_and_the_session_goes_on(make_server):
    server = pop3_server(make_server)
    bound = memory_bound(server, allowance_kib(pop3=1),
                         "one POP3 session; a 1 MiB line is never held (at most 1 KiB of it)")
    send_mail(server, recipient=ABUSER)
    with RawPop3(server.ports["pop3"]) as c:
        assert c.cmd(b"USER " + b"u" * MIB) == TOO_LONG   # before login
        c.login()
        assert c.cmd(b"NOOP " + b"x" * MIB) == TOO_LONG   # and after
        assert c.cmd("STAT").startswith("+OK 1 ")          # the maildrop is still open
        # The boundary: LIST with leading zeros (allowed) fills the line exactly.
        at_limit = b"LIST " + b"0" * (LINE_MAX - 6) + b"1"
        assert len(at_limit) == LINE_MAX
        assert c.cmd(at_limit).startswith("+OK 1 ")
        assert c.cmd(b"LIST 0" + at_limit[5:]) == TOO_LONG
        assert c.cmd("QUIT") == SIGN_OFF + " (0 messages deleted)"
    assert_survived(server, bound)


def test_long_lines_count_toward_errors_max(make_server):
    server = pop3_server(make_server)
    with RawPop3(server.ports["pop3"]) as c:
        for _ in range(ERRORS_MAX - 1):
            assert c.cmd(b"NOOP " + b"x" * MIB) == TOO_LONG
        # The last one is read whole before the close, so no reset can eat the answer.
        c.sock.sendall(b"NOOP " + b"x" * 3000 + b"\r\n")
        data, reset = c.read_until_closed()
    assert not reset
    assert lines_of(data) == [TOO_LONG, TOO_MANY], data


def test_many_clients_pipelining_megabyte_lines_stay_in_bounds(make_server):
    clients = 8
    server = pop3_server(make_server)
    bound = memory_bound(server, allowance_kib(pop3=clients + 1),
                         f"{clients} POP3 sessions of at most 128 KiB each; lines are skipped")
    socks = [connect(server.ports["pop3"]) for _ in range(clients)]
    senders = [Sender(s, b"".join(b"NOOP " + bytes([65 + i]) * MIB + b"\r\n" for i in range(4))
                      + b"QUIT\r\n") for s in socks]
    try:
        for t in senders:
            t.start()
        for s in socks:
            data, _ = read_until_closed(s)
            assert lines_of(data) == ["+OK POP3 mailsim ready"] + [TOO_LONG] * 4 + [SIGN_OFF]
        for t in senders:
            t.finish()
            assert t.error is None, t.error
    finally:
        close_all(socks)
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Pipelined garbage.

def garbage_line(rng: random.Random) -> bytes:
    """1 to 300 random bytes without LF that start with no letter (so no command)."""
    first = rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFF, ord("\r"), ord(" "), ord("#")])
    return bytes([first]) + bytes(b for b in rng.randbytes(rng.randint(0, 299)) if b != 0x0A)


def test_garbage_lines_reach_errors_max_then_close(make_server):
    server = pop3_server(make_server)
    rng = random.Random(SEED)
    for login in (False, True):
        with RawPop3(server.ports["pop3"]) as c:
            if login:
                c.login()
            c.sock.sendall(b"".join(garbage_line(rng) + b"\r\n" for _ in range(ERRORS_MAX)))
            data, reset = c.read_until_closed()
        assert not reset
        lines = lines_of(data)
        assert len(lines) == ERRORS_MAX + 1, lines
        assert all(x.startswith("-ERR ") for x in lines[:-1]) and lines[-1] == TOO_MANY, lines
    assert_survived(server, memory_bound(server, allowance_kib(pop3=1), "one POP3 session"))


def test_valid_commands_between_garbage_still_work(make_server):
    server = pop3_server(make_server)
    send_mail(server, recipient=ABUSER)
    rng = random.Random(SEED + 1)
    with RawPop3(server.ports["pop3"]) as c:
        c.login()
        c.sock.sendall(b"".join(garbage_line(rng) + b"\r\nSTAT\r\n" for _ in range(ERRORS_MAX - 1))
                       + b"QUIT\r\n")
        data, _ = c.read_until_closed()
    lines = lines_of(data)
    assert lines[-1] == SIGN_OFF + " (0 messages deleted)", lines
    assert [x.startswith("-ERR ") for x in lines[:-1]] == [True, False] * (ERRORS_MAX - 1), lines
    assert all(x.startswith("+OK 1 ") for x in lines[1:-1:2]), lines


def test_thousands_of_garbage_lines_from_many_clients(make_server):
    """8 clients each pipeline 1 MiB of garbage lines; each is cut off at errors_max (it
    may see a reset rather than the last -ERR: the log tells)."""
    clients = 8
    server = pop3_server(make_server)
    bound = memory_bound(server, allowance_kib(pop3=clients),
                         f"{clients} POP3 sessions, each closed after errors_max lines")
    rng = random.Random(SEED + 2)
    socks = [connect(server.ports["pop3"]) for _ in range(clients)]
    blobs = []
    for _ in socks:
        lines, size = [], 0
        while size < MIB:
            lines.append(garbage_line(rng) + b"\r\n")
            size += len(lines[-1])
        blobs.append(b"".join(lines))
    senders = [Sender(s, blob) for s, blob in zip(socks, blobs)]
    try:
        for t in senders:
            t.start()
        for s in socks:
            data, reset = read_until_closed(s)
            lines = lines_of(data)
            assert lines[0] == "+OK POP3 mailsim ready", lines
            assert all(x.startswith("-ERR ") for x in lines[1:]), lines
            if not reset:
                assert len(lines) == ERRORS_MAX + 2 and lines[-1] == TOO_MANY, lines
        for t in senders:
            t.finish()
    finally:
        close_all(socks)
    wait_for_idle(server)
    ends = [e for e in server.new_log_events()
            if e.get("event") == "disconnect" and "retrieved" in e]
    assert len([e for e in ends if e["errors"] == ERRORS_MAX]) == clients, ends
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Slow clients and floods.

TOTAL_MAX = 8
PER_IP_MAX = 4
FLOOD = 100
LIMITS = {"connections_max": TOTAL_MAX, "connections_per_ip_max": PER_IP_MAX}
REFUSED = "-ERR [SYS/TEMP] too many connections"
WHY = f"{TOTAL_MAX} held POP3 sessions of at most 128 KiB each; refused ones hold nothing"


def assert_refused(socks):
    for s in socks:
        data, _ = read_until_closed(s)
        assert lines_of(data) == [REFUSED], data


def test_slow_clients_are_held_harmlessly_and_capped_per_host(make_server):
    """A host's PER_IP_MAX clients trickle "USER ..." a byte per second; its further
    connections are refused, another host is served meanwhile, the slow ones are still
    connected (their 10-minute autologout is far off) and memory stays flat."""
    server = pop3_server(make_server, limits=LIMITS)
    bound = memory_bound(server, allowance_kib(pop3=TOTAL_MAX), WHY)
    slow = Trickler(server.ports["pop3"], PER_IP_MAX, b"USER " + b"s" * 100, duration_s=30,
                    source_ip="127.0.0.2")
    slow.start()
    try:
        assert slow.started_ticking.wait(10)
        flood = open_many(server.ports["pop3"], FLOOD, source_ip="127.0.0.2")
        try:
            assert_refused(flood)
        finally:
            close_all(flood)
        # Served over and over while the slow clients trickle on for a few seconds.
        while min(c.sent for c in slow.clients) < 5:
            check_pop3(server, source_ip="127.0.0.3")
            assert slow.open_count() == PER_IP_MAX, "a slow client was dropped"
            time.sleep(0.5)
    finally:
        slow.stop_requested.set()
        slow.finish()
    for c in slow.clients:
        assert lines_of(bytes(c.received)) == ["+OK POP3 mailsim ready"]
    wait_for_idle(server)
    check_pop3(server, source_ip="127.0.0.2")  # the slow host is served once they left
    assert_survived(server, bound)


def test_total_flood_is_refused_on_pop3_and_pop3s(make_server):
    server = pop3_server(make_server, limits=LIMITS, roles=ROLES + ("pop3s",))
    bound = memory_bound(server, allowance_kib(pop3=TOTAL_MAX), WHY)
    held = (open_many(server.ports["pop3"], PER_IP_MAX, source_ip="127.0.0.2")
            + open_many(server.ports["pop3"], PER_IP_MAX, source_ip="127.0.0.3"))
    try:
        for s in held:
            assert read_line(s, bytearray()) == b"+OK POP3 mailsim ready"
        for i in range(FLOOD // 2):
            ip = f"127.0.1.{i + 1}"
            pop3 = connect(server.ports["pop3"], ip)
            pop3s = connect(server.ports["pop3s"], ip)
            try:
                assert_refused([pop3])
                data, _ = read_until_closed(pop3s)
                assert data == b"", f"clear text on an implicit-TLS listener: {data!r}"
            finally:
                close_all([pop3, pop3s])
    finally:
        close_all(held)
    wait_for_idle(server)
    refusals = [e for e in server.new_log_events() if e.get("event") == "refused"]
    assert len(refusals) == FLOOD
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Pipelined RETR (RFC 2449 PIPELINING is advertised).

def test_pipelined_retr_of_a_large_message_is_bounded(make_server):
    """One client pipelines 2,000 RETRs of a 64 KiB message (16 KiB of commands) and
    reads every answer as it comes. The session stops reading commands once 256 KiB of
    answers wait (pop3::limits::output_pending_max), so it holds that plus one message; a
    session that answered a whole read's worth of commands (up to 512 of 8 bytes in a
    4 KiB read) before writing would hold 512 x 64 KiB = 32 MiB."""
    size = 64 * 1024
    count = 2000
    server = pop3_server(make_server, limits={"message_size_max": "1MiB"})
    bound = memory_bound(server, allowance_kib(pop3=1, message_bytes=size),
                         "one POP3 session holding at most 256 KiB of answers "
                         "plus one 64 KiB message (within the slack)")
    body = b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * (size // 80)
    with smtplib.SMTP(HOST, server.mx_port, timeout=10) as s:
        s.sendmail("sender@remote.example", [ABUSER], body)
    with RawPop3(server.ports["pop3"]) as c:
        c.login()
        sender = Sender(c.sock, b"RETR 1\r\n" * count + b"QUIT\r\n")
        sender.start()
        data, _ = c.read_until_closed()
        sender.finish()
    assert data.count(b"\r\n.\r\n") >= count, "not every RETR was answered"
    assert data.endswith((SIGN_OFF + " (0 messages deleted)\r\n").encode())
    assert_survived(server, bound)
