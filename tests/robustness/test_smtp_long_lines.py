"""Command lines of 1 MiB: one "500 5.5.2 Error: line too long", and the session goes on.

RFC 5321 §4.5.3.1.4 bounds a command line (512 octets at least; limits.command_line_max,
2 KiB by default) and §4.2.2 lists "500 Line too long". The server's line reader
(reference-server/core/line_reader.hpp) never holds more than max(command_line_max,
auth_line_max) = 12 KiB of a line: it answers as soon as the line is known to be too long,
skips the rest of it up to its LF, and reads the next command as usual. Each over-long line
counts toward limits.errors_max (docs/configuration.md), after which 421 4.7.0 closes.
"""

from __future__ import annotations

from mailsim_harness import RawSmtp
from robustness_checks import assert_survived
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    Sender, close_all, connect, read_until_closed, reply_codes, wait_for_idle)

MIB = 1 << 20


def test_one_mebibyte_command_line_is_refused_and_the_session_goes_on(make_server):
    server = make_server()
    bound = memory_bound(server, allowance_kib(connections=1),
                         "one session; a 1 MiB line is never held (at most 12 KiB of it)")
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO long.remote.example", 250)
        code, text = c.cmd(b"NOOP " + b"x" * MIB)
        assert (code, text) == (500, "5.5.2 Error: line too long")
        # Exactly one reply for the line: the next command gets its own answer.
        c.expect("NOOP", 250)
        code, text = c.cmd(b"MAIL FROM:<" + b"a" * MIB + b"@remote.example>")
        assert (code, text) == (500, "5.5.2 Error: line too long")
        # A whole transaction still works on the same connection.
        c.expect("MAIL FROM:<long@remote.example>", 250)
        c.expect("RCPT TO:<bob@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: after a long line\r\n\r\nstill here\r\n.\r\n")
        code, text = c.reply()
        assert code == 250, (code, text)
        c.expect("QUIT", 221)
    assert any(b"Subject: after a long line" in d.body
               for d in server.delivered("bob@example.test"))
    assert_survived(server, bound)


def test_line_just_over_the_limit_is_refused_and_one_at_it_is_read(make_server):
    """The boundary: command_line_max bytes are a command, one more is too long."""
    server = make_server(limits={"command_line_max": "1KiB"})
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO long.remote.example", 250)
        at_limit = b"NOOP " + b"x" * (1024 - 5)
        c.expect(at_limit, 250)
        code, text = c.cmd(at_limit + b"x")
        assert (code, text) == (500, "5.5.2 Error: line too long")
        c.expect("NOOP", 250)


def test_many_clients_pipelining_long_lines_stay_in_bounds(make_server):
    """8 clients each pipeline four 1 MiB lines and QUIT in one write. Each gets four
    500 5.5.2 and a 221. A server that buffered whole lines would hold 8 MiB or more at
    once (32 MiB in all), well past the bound."""
    clients = 8
    server = make_server()
    bound = memory_bound(server, allowance_kib(connections=clients),
                         f"{clients} sessions of at most 128 KiB each; lines are skipped")
    socks = [connect(server.mx_port) for _ in range(clients)]
    senders = [Sender(s, b"".join(b"NOOP " + bytes([65 + i]) * MIB + b"\r\n" for i in range(4))
                      + b"QUIT\r\n") for s in socks]
    try:
        for t in senders:
            t.start()
        for s in socks:
            data, _ = read_until_closed(s)
            assert reply_codes(data) == (["220 mx.example.test ESMTP mailsim"]
                                         + ["500 5.5.2 Error: line too long"] * 4
                                         + ["221 2.0.0 Bye"]), reply_codes(data)
        for t in senders:
            t.finish()
            assert t.error is None, t.error
    finally:
        close_all(socks)
    assert_survived(server, bound)


def test_endless_line_then_close_holds_nothing(make_server):
    """8 MiB without any LF, then the client goes away: the server drops it as it reads."""
    server = make_server()
    bound = memory_bound(server, allowance_kib(connections=1),
                         "one session that never completes a line; 8 MiB if it were kept")
    s = connect(server.mx_port)
    try:
        sender = Sender(s, b"HELO " + b"z" * (8 * MIB))
        sender.start()
        sender.finish()
        assert sender.error is None, sender.error
    finally:
        close_all([s])
    wait_for_idle(server)
    assert_survived(server, bound)


def test_long_lines_count_toward_errors_max(make_server):
    server = make_server(limits={"errors_max": 3})
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO long.remote.example", 250)
        for _ in range(2):
            code, text = c.cmd(b"NOOP " + b"x" * MIB)
            assert (code, text) == (500, "5.5.2 Error: line too long")
        # The last one is over command_line_max but within what the reader holds, so the
        # server has read all of it when it closes: no reset can eat the 421.
        c.send(b"NOOP " + b"x" * 3000 + b"\r\n")
        rest = c.read_until_closed()
    assert reply_codes(rest) == ["500 5.5.2 Error: line too long",
                                 "421 4.7.0 mx.example.test Error: too many errors"], rest
