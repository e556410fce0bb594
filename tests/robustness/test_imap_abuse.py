"""IMAP abuse: 1 MiB command lines, pipelined garbage, and connection floods.

Limits (reference-server/imap/command_reader.hpp and session.hpp; the server passes its
own config only for literals and timeouts, reference-server/server/access_connection.cpp):
- a command line holds at most line_bytes_max = 64 KiB (without literals and CRLF). A
  longer one is skipped to its LF, keeping only its last bytes, and answered
  "<tag> BAD command line too long" (untagged "* BAD" without a readable tag); the session
  goes on. One that ends by announcing a non-synchronizing literal {N+} cannot be skipped
  (the literal would be read as commands): "* BYE" and close (RFC 7888 §4).
- every BAD counts toward errors_max = 20 (docs/imap-session.md; fixed: `limits.errors_max`
  in the config is SMTP's), after which "* BYE too many errors, closing connection" and
  the close.
- a connection past limits.connections_max or limits.connections_per_ip_max (all
  listeners together) gets "* BYE [UNAVAILABLE] too many connections" (RFC 9051 §7.1.5)
  and is closed; on an imaps listener it is closed without a byte.

The abusive clients log in over clear text (auth_without_tls); the well-behaved imaplib
client uses STARTTLS. Garbage comes from a seeded generator, so a failure replays.
"""

from __future__ import annotations

import random
import smtplib

from mailsim_harness import HOST
from robustness_checks import assert_survived, check_imap, send_mail
from robustness_imap import RawImap, imap_lines
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    Sender, Trickler, close_all, connect, open_many, plaintext_login, read_line,
    read_until_closed, wait_for_idle)

MIB = 1 << 20
LINE_MAX = 64 * 1024            # imap::reader_limits::line_bytes_max
ERRORS_MAX = 20                 # imap::limits::errors_max
SEED = 20250308
ROLES = ("smtp", "imap")
ABUSER = "alice@example.test"
TOO_LONG = "BAD command line too long"
TOO_MANY = "* BYE too many errors, closing connection"


def imap_server(make_server, **options):
    options.setdefault("roles", ROLES)
    return make_server(listener_options=plaintext_login("imap"), **options)


# ------------------------------------------------------------------------------------------
# 1 MiB command lines.

def test_megabyte_lines_get_bad_and_the_selected_session_goes_on(make_server):
    server = imap_server(make_server)
    bound = memory_bound(server, allowance_kib(imap=1),
                         "one IMAP session; a 1 MiB line is never held (at most 64 KiB of it)")
    send_mail(server, recipient=ABUSER)
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        c.expect_ok("s", "SELECT INBOX")
        before, final = c.command("a1", b"NOOP " + b"x" * MIB)
        assert (before, final.decode()) == ([], f"a1 {TOO_LONG}")
        # The session state is intact: still selected, same message.
        untagged = c.expect_ok("a2", "FETCH 1 (UID FLAGS)")
        assert untagged == [b"* 1 FETCH (UID 1 FLAGS ())"], untagged
        # Ending in a synchronizing literal: refused the same way, no "+" (the client,
        # waiting for one, sends nothing more of it).
        before, final = c.command("a3", b"APPEND INBOX " + b"y" * MIB + b" {5}")
        assert (before, final.decode()) == ([], f"a3 {TOO_LONG}")
        # Without a readable tag the BAD is untagged.
        c.send(b"(" + b"z" * MIB + b"\r\n")
        assert c.response().decode() == "* " + TOO_LONG
        # The boundary: a line of exactly line_bytes_max is a command, one more is not.
        search = b'a4 SEARCH TEXT "'
        at_limit = search + b"q" * (LINE_MAX - len(search) - 1) + b'"'
        assert len(at_limit) == LINE_MAX
        untagged, final = c.command("a4", at_limit[3:])
        assert untagged == [b"* SEARCH"] and final == b"a4 OK SEARCH completed", final
        before, final = c.command("a5", at_limit[3:-1] + b'q"')
        assert (before, final.decode()) == ([], f"a5 {TOO_LONG}")
        c.expect_ok("a6", "LOGOUT")
    assert_survived(server, bound)


def test_megabyte_line_announcing_nonsync_literal_gets_bye(make_server):
    server = imap_server(make_server)
    bound = memory_bound(server, allowance_kib(imap=1), "one IMAP session; nothing held")
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        c.send(b"a1 APPEND INBOX " + b"y" * MIB + b" {5+}\r\n")
        data, reset = c.read_until_closed()
    assert not reset
    assert imap_lines(data) == ["* BYE literal too large, cannot continue"], data
    assert_survived(server, bound)


def test_many_clients_pipelining_megabyte_lines_stay_in_bounds(make_server):
    """8 clients each pipeline four 1 MiB lines and LOGOUT in one write: four BADs each,
    then the LOGOUT. A server that buffered whole lines would hold 8 MiB or more at once
    (32 MiB in all), well past the bound."""
    clients = 8
    server = imap_server(make_server)
    bound = memory_bound(server, allowance_kib(imap=clients + 1),
                         f"{clients} IMAP sessions of at most 256 KiB each; lines are skipped")
    conns = [RawImap(server.ports["imap"]) for _ in range(clients)]
    senders = [Sender(c.sock, b"".join(b"l%d NOOP " % i + bytes([65 + i]) * MIB + b"\r\n"
                                       for i in range(4)) + b"o LOGOUT\r\n")
               for c in conns]
    try:
        for t in senders:
            t.start()
        for c in conns:
            data, _ = c.read_until_closed()
            assert imap_lines(data) == ([f"l{i} {TOO_LONG}" for i in range(4)]
                                        + ["* BYE logging out", "o OK LOGOUT completed"]), data
        for t in senders:
            t.finish()
            assert t.error is None, t.error
    finally:
        close_all(c.sock for c in conns)
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Pipelined garbage.

def garbage_line(rng: random.Random) -> bytes:
    """1 to 300 random bytes that are no command and announce no literal: the first byte
    is none a tag may start with, there is no LF, and the last byte is not "}"."""
    first = rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFF, ord("("), ord(" "), ord("*"), ord("\r")])
    rest = bytes(b for b in rng.randbytes(rng.randint(0, 299)) if b != 0x0A)
    line = bytes([first]) + rest
    return line + b"." if line.endswith(b"}") else line


def is_bad(line: str) -> bool:
    return line.startswith("* BAD ")


def test_garbage_lines_reach_errors_max_then_bye(make_server):
    """Exactly ERRORS_MAX garbage lines in one write: ERRORS_MAX BADs, then the BYE and
    the close (only that many, so that the server has read all of it when it closes)."""
    server = imap_server(make_server)
    rng = random.Random(SEED)
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        c.send(b"".join(garbage_line(rng) + b"\r\n" for _ in range(ERRORS_MAX)))
        data, reset = c.read_until_closed()
    assert not reset
    lines = imap_lines(data)
    assert len(lines) == ERRORS_MAX + 1 and all(map(is_bad, lines[:-1])), lines
    assert lines[-1] == TOO_MANY, lines
    assert_survived(server, memory_bound(server, allowance_kib(imap=1), "one IMAP session"))


def test_valid_commands_between_garbage_still_work(make_server):
    server = imap_server(make_server)
    rng = random.Random(SEED + 1)
    stream = b"".join(garbage_line(rng) + b"\r\nn%d NOOP\r\n" % i for i in range(ERRORS_MAX - 1))
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        c.send(stream + b"o LOGOUT\r\n")
        data, _ = c.read_until_closed()
    lines = imap_lines(data)
    assert lines[-2:] == ["* BYE logging out", "o OK LOGOUT completed"], lines
    expected = []
    for i in range(ERRORS_MAX - 1):
        expected += ["BAD", f"n{i} OK NOOP completed"]
    assert ["BAD" if is_bad(x) else x for x in lines[:-2]] == expected, lines


def test_thousands_of_garbage_lines_from_many_clients(make_server):
    """8 clients each pipeline 1 MiB of garbage lines (about 7,000 each), 4 of them before
    login. Each is closed at errors_max (most of its garbage unread, so it may see a reset
    rather than the BYE: the log tells); nothing else happens."""
    clients = 8
    server = imap_server(make_server)
    bound = memory_bound(server, allowance_kib(imap=clients),
                         f"{clients} IMAP sessions, each closed after errors_max lines")
    rng = random.Random(SEED + 2)
    conns = [RawImap(server.ports["imap"]) for _ in range(clients)]
    try:
        for c in conns[:clients // 2]:
            c.login(ABUSER)
        blobs = []
        for _ in conns:
            lines, size = [], 0
            while size < MIB:
                lines.append(garbage_line(rng) + b"\r\n")
                size += len(lines[-1])
            blobs.append(b"".join(lines))
        senders = [Sender(c.sock, blob) for c, blob in zip(conns, blobs)]
        for t in senders:
            t.start()
        for c in conns:
            data, reset = c.read_until_closed()
            lines = imap_lines(data)
            assert all(map(is_bad, lines[:-1])) and len(lines) <= ERRORS_MAX + 1, lines
            if not reset:
                assert lines[-1] == TOO_MANY and len(lines) == ERRORS_MAX + 1, lines
        for t in senders:
            t.finish()
    finally:
        close_all(c.sock for c in conns)
    wait_for_idle(server)
    ends = [e for e in server.new_log_events()
            if e.get("event") == "disconnect" and "fetched" in e]
    cut = [e for e in ends if e["errors"] == ERRORS_MAX]
    assert len(cut) == clients, ends
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Connection floods.

TOTAL_MAX = 8
PER_IP_MAX = 4
FLOOD = 100
LIMITS = {"connections_max": TOTAL_MAX, "connections_per_ip_max": PER_IP_MAX}
REFUSED = "* BYE [UNAVAILABLE] too many connections"
WHY = f"{TOTAL_MAX} held IMAP sessions of at most 256 KiB each; refused ones hold nothing"


def assert_refused(socks):
    for s in socks:
        data, _ = read_until_closed(s)
        assert imap_lines(data) == [REFUSED], data


def greet(socks):
    for s in socks:
        line = read_line(s, bytearray())
        assert line.startswith(b"* OK "), line


def test_per_ip_flood_of_slow_clients_is_refused_and_other_hosts_are_served(make_server):
    """One host holds its PER_IP_MAX sessions with clients trickling a LOGIN a byte per
    second; its 100 further connections are refused with BYE; another host is served
    meanwhile; once the slow ones leave, the flooding host is served again."""
    server = imap_server(make_server, limits=LIMITS)
    bound = memory_bound(server, allowance_kib(imap=TOTAL_MAX), WHY)
    slow = Trickler(server.ports["imap"], PER_IP_MAX, b"a1 LOGIN " + b"x" * 100,
                    duration_s=30, source_ip="127.0.0.2")
    slow.start()
    try:
        assert slow.started_ticking.wait(10)
        flood = open_many(server.ports["imap"], FLOOD, source_ip="127.0.0.2")
        try:
            assert_refused(flood)
        finally:
            close_all(flood)
        check_imap(server, source_ip="127.0.0.3")
        assert slow.open_count() == PER_IP_MAX
    finally:
        slow.stop_requested.set()
        slow.finish()
    for c in slow.clients:
        assert imap_lines(bytes(c.received))[0].startswith("* OK ")
    wait_for_idle(server)
    check_imap(server, source_ip="127.0.0.2")
    refusals = [e for e in server.new_log_events() if e.get("event") == "refused"]
    assert len(refusals) == FLOOD
    assert_survived(server, bound)


def test_total_flood_is_refused_on_imap_and_imaps(make_server):
    server = imap_server(make_server, limits=LIMITS, roles=ROLES + ("imaps",))
    bound = memory_bound(server, allowance_kib(imap=TOTAL_MAX), WHY)
    held = (open_many(server.ports["imap"], PER_IP_MAX, source_ip="127.0.0.2")
            + open_many(server.ports["imap"], PER_IP_MAX, source_ip="127.0.0.3"))
    try:
        greet(held)
        for i in range(FLOOD // 2):  # many hosts, each well under its own limit
            ip = f"127.0.1.{i + 1}"
            imap = connect(server.ports["imap"], ip)
            imaps = connect(server.ports["imaps"], ip)
            try:
                assert_refused([imap])
                data, _ = read_until_closed(imaps)
                assert data == b"", f"clear text on an implicit-TLS listener: {data!r}"
            finally:
                close_all([imap, imaps])
    finally:
        close_all(held)
    wait_for_idle(server)
    # Every place is free again: TOTAL_MAX sessions at once are greeted.
    again = (open_many(server.ports["imap"], PER_IP_MAX, source_ip="127.0.0.2")
             + open_many(server.ports["imap"], PER_IP_MAX, source_ip="127.0.0.4"))
    try:
        greet(again)
    finally:
        close_all(again)
    wait_for_idle(server)
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Pipelined FETCH: the answer to a small command can be large.

def test_pipelined_fetches_of_a_large_message_stream(make_server):
    """One client pipelines 600 FETCHes of a 64 KiB message (about 16 KiB of commands)
    and reads every answer as it comes. The session stops filling its output at
    output_pending_max = 256 KiB and lets the server write it before it reads the next
    command (docs/imap-session.md, event `write`); answering a whole 4 KiB read's commands
    first would hold about 150 x 64 KiB = 9.6 MiB."""
    size = 64 * 1024
    count = 600
    server = imap_server(make_server, limits={"message_size_max": "1MiB"})
    bound = memory_bound(server, allowance_kib(imap=1, message_bytes=size) + 256,
                         "one IMAP session: output_pending_max (256 KiB) of answers and "
                         "one 64 KiB message at a time")
    body = b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * (size // 80)
    send_mail(server, recipient=ABUSER)
    with smtplib.SMTP(HOST, server.mx_port, timeout=10) as s:
        s.sendmail("sender@remote.example", [ABUSER], body)
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        c.expect_ok("s", "EXAMINE INBOX")
        sender = Sender(c.sock, b"".join(b"f%d FETCH 2 BODY.PEEK[TEXT]\r\n" % i
                                         for i in range(count)) + b"o LOGOUT\r\n")
        sender.start()
        for i in range(count):
            untagged, final = c.until_tagged(f"f{i}")
            assert final == f"f{i} OK FETCH completed".encode(), final
            assert len(untagged) == 1 and untagged[0].endswith(body[16:] + b")"), untagged[:1]
        sender.finish()
        c.until_tagged("o")
    assert_survived(server, bound)
