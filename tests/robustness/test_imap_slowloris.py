"""IMAP slow clients before login: the autologout timer closes them, a byte at a time or not.

RFC 9051 §5.4: a server's inactivity autologout timer is at least 30 minutes once logged in;
before login it may be shorter. The session (docs/imap-session.md, "Timeouts") logs out
after `autologout_unauthenticated` (the server's `imap.login_timeout`, 1 minute by default)
with "* BYE autologout; idle for too long", and "only whole commands restart it": a client
trickling one byte per second never completes a command, so it is logged out as if it were
silent, instead of holding its session for ever (a slowloris).

The test sets `imap.login_timeout` to 20 s and waits it out once, for trickling and silent
clients together, checking the well-behaved client over that time. The per-host cap on slow
clients is in test_imap_abuse.py.
"""

from __future__ import annotations

import time

from robustness_checks import assert_survived, check_imap
from robustness_imap import imap_lines
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    Trickler, close_all, open_many, plaintext_login, read_until_closed)

SLOW = 10
SILENT = 10
AUTOLOGOUT_S = 20                     # imap.login_timeout below
# A LOGIN that would take 100 s at one byte per second: the trickle outlasts the timer.
ENDLESS_LOGIN = b"a1 LOGIN alice@example.test " + b"x" * 72
BYE = "* BYE autologout; idle for too long"


def test_slow_and_silent_clients_are_logged_out_before_login(make_server):
    server = make_server(roles=("smtp", "imap"), listener_options=plaintext_login("imap"),
                         extra={"imap": {"login_timeout": f"{AUTOLOGOUT_S}s"}})
    bound = memory_bound(server, allowance_kib(imap=SLOW + SILENT + 1),
                         f"{SLOW + SILENT} idle IMAP sessions and one well-behaved one, "
                         "256 KiB each")
    assert len(ENDLESS_LOGIN) == 100
    slow = Trickler(server.ports["imap"], SLOW, ENDLESS_LOGIN, duration_s=AUTOLOGOUT_S + 20,
                    source_ip="127.0.0.2")
    silent = open_many(server.ports["imap"], SILENT, source_ip="127.0.0.3")
    slow.start()
    try:
        assert slow.started_ticking.wait(10)
        # Served while every slow client is still there (the timer has 20 s to run).
        end = time.monotonic() + AUTOLOGOUT_S - 8
        while time.monotonic() < end:
            check_imap(server)
            assert slow.open_count() == SLOW, "a slow client was dropped early"
            time.sleep(5)
        slow.finish(timeout_s=AUTOLOGOUT_S + 30)  # ends when all are closed, or fails
        for s in silent:
            data, _ = read_until_closed(s)  # closed by now, or within the 10 s timeout
            lines = imap_lines(data)
            assert lines[0].startswith("* OK ") and lines[1:] == [BYE], lines
    finally:
        slow.stop_requested.set()
        close_all(silent)
    still_open = [c for c in slow.clients if not c.closed]
    assert not still_open, (
        f"{len(still_open)} of {SLOW} slow clients still connected after "
        f"{still_open[0].sent} bytes at one per second")
    for c in slow.clients:
        lines = imap_lines(bytes(c.received))
        assert lines[0].startswith("* OK ") and lines[1:] == [BYE], lines
        # Logged out mid-command: the trickle had not got through its 100 bytes.
        assert c.sent_when_closed < len(ENDLESS_LOGIN), c.sent_when_closed
    assert_survived(server, bound)
