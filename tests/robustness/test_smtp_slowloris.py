"""Slow clients: silent ones and slowloris ones (one byte per second) against command_timeout.

RFC 5321 §4.5.3.2.7 gives the server a timeout while it "is awaiting the next command";
docs/configuration.md says limits.command_timeout (and data_timeout for message content)
is that bound, answered with 421 4.4.2 and a close. A client that holds a session open by
trickling a byte now and then is still one that has not sent its next command: the timeout
has to bound the whole command (or the whole wait for the next data line), not the gap
between two bytes, or N such clients hold N sessions for ever (a slowloris).
"""

from __future__ import annotations

import pytest

from mailsim_harness import HOST
from robustness_checks import assert_survived, send_mail
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    Trickler, close_all, open_many, read_until_closed, reply_codes)

SLOW_CLIENTS = 20
# A command that never ends: the slow client sends it one byte at a time, no CRLF.
ENDLESS_COMMAND = b"NOOP " + b"x" * 100
# Pipelined up to the message content, which then trickles in without an end.
DATA_PREFIX = (b"EHLO slow.remote.example\r\nMAIL FROM:<slow@remote.example>\r\n"
               b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
ENDLESS_CONTENT = b"Subject: slow\r\n\r\n" + b"y" * 100


def timed_out(data: bytes) -> bool:
    return any(r.startswith("421 4.4.2 ") for r in reply_codes(data))


def test_silent_clients_are_timed_out_with_421(make_server):
    """Connect and say nothing, or half a command and then nothing: 421 4.4.2 and close
    after command_timeout."""
    server = make_server(limits={"command_timeout": "2s"})
    bound = memory_bound(server, allowance_kib(connections=SLOW_CLIENTS),
                         "20 idle sessions of at most 128 KiB each")
    silent = open_many(server.mx_port, SLOW_CLIENTS // 2)
    half = open_many(server.mx_port, SLOW_CLIENTS // 2)
    try:
        for s in half:
            s.sendall(b"MAIL FROM:<half@remote.exa")
        for s in silent + half:
            data, _ = read_until_closed(s)  # bounded by the socket timeout (10 s)
            codes = reply_codes(data)
            assert codes[0].startswith("220 "), codes
            assert timed_out(data), f"no 421 4.4.2 before the close: {codes}"
    finally:
        close_all(silent + half)
    assert_survived(server, bound)


def test_well_behaved_client_is_served_while_slow_clients_hang_on(make_server):
    # A timeout well past the test's duration: the slow clients are certainly still
    # connected while the well-behaved client is served.
    server = make_server(limits={"command_timeout": "60s", "data_timeout": "60s"})
    bound = memory_bound(server, allowance_kib(connections=SLOW_CLIENTS + 1),
                         "20 slow sessions plus one normal one, 128 KiB each")
    commands = Trickler(server.mx_port, SLOW_CLIENTS // 2, ENDLESS_COMMAND, duration_s=30)
    data = Trickler(server.mx_port, SLOW_CLIENTS // 2, ENDLESS_CONTENT, prefix=DATA_PREFIX,
                    duration_s=30)
    commands.start()
    data.start()
    try:
        assert commands.started_ticking.wait(10) and data.started_ticking.wait(10)
        send_mail(server)
        send_mail(server, source_ip="127.0.0.2")
        assert commands.open_count() == SLOW_CLIENTS // 2, "a slow client was dropped early"
        assert data.open_count() == SLOW_CLIENTS // 2, "a slow client was dropped early"
    finally:
        commands.stop_requested.set()
        data.stop_requested.set()
        commands.finish()
        data.finish()
    for c in commands.clients + data.clients:
        assert reply_codes(bytes(c.received))[0].startswith("220 ")
    assert_survived(server, bound)


@pytest.mark.parametrize("phase", ["command", "data"])
def test_slowloris_is_timed_out_before_its_command_ends(make_server, phase):
    """20 clients send one byte per second of a command (or of message content) that
    never ends. With a 2 s timeout each must get 421 4.4.2 and be closed long before its
    100-byte trickle is through; the trickle stops after 4 timeouts."""
    server = make_server(limits={"command_timeout": "2s", "data_timeout": "2s"})
    bound = memory_bound(server, allowance_kib(connections=SLOW_CLIENTS),
                         "20 slow sessions, 128 KiB each")
    if phase == "command":
        slow = Trickler(server.mx_port, SLOW_CLIENTS, ENDLESS_COMMAND, duration_s=8)
    else:
        slow = Trickler(server.mx_port, SLOW_CLIENTS, ENDLESS_CONTENT, prefix=DATA_PREFIX,
                        duration_s=8)
    slow.start()
    try:
        assert slow.started_ticking.wait(10)
        send_mail(server)  # served meanwhile
    finally:
        slow.finish()
    assert server.running
    still_open = [c for c in slow.clients if not c.closed]
    assert not still_open, (
        f"{len(still_open)} of {SLOW_CLIENTS} slow clients still connected after "
        f"{still_open[0].sent} bytes at one per second (timeout 2s); they got "
        f"{reply_codes(bytes(still_open[0].received))}")
    for c in slow.clients:
        assert timed_out(bytes(c.received)), reply_codes(bytes(c.received))
    assert_survived(server, bound)


def test_slow_clients_from_one_host_do_not_lock_out_others(make_server):
    """The per-IP limit keeps one slow host from taking every session: a slow host holds
    its connections_per_ip_max sessions, the rest of its connections get 421 4.7.0, and
    another host is still served."""
    server = make_server(limits={"command_timeout": "60s", "connections_max": 30,
                                 "connections_per_ip_max": 10})
    bound = memory_bound(server, allowance_kib(connections=11),
                         "10 slow sessions plus one normal one, 128 KiB each")
    slow = Trickler(server.mx_port, 10, ENDLESS_COMMAND, duration_s=30, source_ip="127.0.0.3")
    slow.start()
    try:
        assert slow.started_ticking.wait(10)
        extra = open_many(server.mx_port, 5, source_ip="127.0.0.3")
        try:
            for s in extra:
                data, _ = read_until_closed(s)
                assert reply_codes(data)[0].startswith("421 4.7.0 "), data
        finally:
            close_all(extra)
        send_mail(server, source_ip=HOST)
        assert slow.open_count() == 10
    finally:
        slow.stop_requested.set()
        slow.finish()
    assert_survived(server, bound)
