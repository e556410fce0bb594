"""Connection floods past limits.connections_max and limits.connections_per_ip_max.

A connection past a limit gets "421 4.7.0 ... too many connections" and is closed at once
(RFC 5321 §3.1: a server that cannot serve may answer 421); on an implicit-TLS listener
(submissions) it is closed without a byte, since nothing may go out in clear text there.
The limits count live sessions: when they end, however they end (QUIT, close, reset,
timeout), their places are free again; the churn tests check that no count leaks.

Source addresses 127.0.x.y stand for distinct hosts (all loopback).
"""

from __future__ import annotations

import smtplib

import pytest

from robustness_checks import assert_survived, send_mail
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    close_all, connect, open_many, read_line, read_until_closed, reply_codes, wait_for,
    wait_for_idle)

TOTAL_MAX = 8
PER_IP_MAX = 4
FLOOD = 100
LIMITS = {"connections_max": TOTAL_MAX, "connections_per_ip_max": PER_IP_MAX}
# The flood's refused connections hold nothing once closed; only the held sessions count.
# Without a limit, FLOOD sessions would hold FLOOD x (coroutine, session, buffers).
WHY = f"{TOTAL_MAX} held sessions of at most 128 KiB each; refused ones hold nothing"


def greet(socks):
    """Reads each socket's 220 greeting (the session is live on the server)."""
    for s in socks:
        line = read_line(s, bytearray())
        assert line.startswith(b"220 "), line


def assert_refused(socks, clear_text: bool = True):
    for s in socks:
        data, _ = read_until_closed(s)
        if clear_text:
            codes = reply_codes(data)
            assert len(codes) == 1 and codes[0].startswith("421 4.7.0 "), data
            assert "too many connections" in codes[0]
        else:
            assert data == b"", f"clear text on an implicit-TLS listener: {data!r}"


def test_per_ip_flood_is_refused_and_other_hosts_are_served(make_server):
    server = make_server(limits=LIMITS)
    bound = memory_bound(server, allowance_kib(connections=TOTAL_MAX), WHY)
    held = open_many(server.mx_port, PER_IP_MAX, source_ip="127.0.0.2")
    try:
        greet(held)
        flood = open_many(server.mx_port, FLOOD, source_ip="127.0.0.2")
        try:
            assert_refused(flood)
        finally:
            close_all(flood)
        # Another host is served meanwhile (PER_IP_MAX + 1 <= TOTAL_MAX).
        send_mail(server, source_ip="127.0.0.3")
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            send_mail(server, source_ip="127.0.0.2")
        assert refused.value.smtp_code == 421
    finally:
        close_all(held)
    # Once the held sessions end, the flooding host is served again.
    wait_for_idle(server)
    send_mail(server, source_ip="127.0.0.2")
    refusals = [e for e in server.new_log_events() if e.get("event") == "refused"]
    assert len(refusals) == FLOOD + 1
    assert_survived(server, bound)


def test_total_flood_is_refused_on_every_listener(make_server):
    server = make_server(limits=LIMITS)
    bound = memory_bound(server, allowance_kib(connections=TOTAL_MAX), WHY)
    held = (open_many(server.mx_port, PER_IP_MAX, source_ip="127.0.0.2")
            + open_many(server.submission_port, PER_IP_MAX, source_ip="127.0.0.3"))
    try:
        greet(held)
        for i in range(FLOOD // 4):  # many hosts, each well under its own limit
            ip = f"127.0.1.{i + 1}"
            mx = connect(server.mx_port, ip)
            submission = connect(server.submission_port, ip)
            submissions = connect(server.submissions_port, ip)
            try:
                assert_refused([mx, submission])
                assert_refused([submissions], clear_text=False)
            finally:
                close_all([mx, submission, submissions])
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            send_mail(server)
        assert refused.value.smtp_code == 421
    finally:
        close_all(held)
    wait_for_idle(server)
    assert_survived(server, bound)


def test_connection_churn_frees_every_place(make_server):
    """Hundreds of connections that close at once, some mid-command: when they are gone,
    every place counts as free again (no leaked per-IP or total count)."""
    server = make_server(limits=LIMITS)
    bound = memory_bound(server, allowance_kib(connections=TOTAL_MAX), WHY)
    for i in range(300):
        s = connect(server.mx_port, f"127.0.2.{i % 2 + 1}")
        # The greeting (220, or 421 when the host is at its limit while the server has
        # not yet seen earlier closes) means the session has started: resets before that
        # are the next test's business.
        read_line(s, bytearray())
        if i % 3 == 1:
            s.sendall(b"EHLO churn.remote.example\r\nMAIL FROM:<a@remote.exa")
        close_all([s], reset=(i % 2 == 0))
    # TOTAL_MAX places, PER_IP_MAX for each of the two churned hosts.
    assert_places_free(server, {"127.0.2.1": PER_IP_MAX, "127.0.2.2": PER_IP_MAX})
    assert_survived(server, bound)


def test_reset_connections_free_their_places(make_server):
    """Clients that connect and reset at once (crashed or hostile clients, port scanners):
    once they are gone, their host has all its places again. The case that matters is a
    reset landing between the accept and the start of the session; a burst of 100 resets
    while the server is still accepting the burst produces one with a good chance (about
    one burst in three here), so the bursts go on until the log shows such a session, for
    at most 100 bursts."""
    per_ip = 100
    server = make_server(limits={"connections_max": 2 * per_ip, "connections_per_ip_max": per_ip})
    bound = memory_bound(server, allowance_kib(connections=per_ip),
                         f"{per_ip} sessions at most, 128 KiB each")
    unknown = 0
    for _ in range(100):
        close_all(open_many(server.mx_port, per_ip, source_ip="127.0.2.1"), reset=True)
        wait_for_idle(server)  # else the next burst finds the host still at its limit
        unknown = sum(1 for e in server.new_log_events()
                      if e.get("event") == "connect" and e.get("peer") == "unknown")
        if unknown:
            break
    assert_places_free(server, {"127.0.2.1": per_ip},
                       note=f"{unknown} sessions were logged with peer \"unknown\"")
    assert_survived(server, bound)


def assert_places_free(server, hosts: dict[str, int], note: str = ""):
    """Opens hosts[ip] sessions from each ip at once and expects a 220 on each, once the
    log shows every earlier session ended. A connection reset before its session started
    leaves no trace in the log, so this still retries for a while; a leaked count (per IP
    or in total) keeps refusing some of them for good."""
    wait_for_idle(server)
    def all_free() -> bool:
        socks = [s for ip, n in hosts.items() for s in open_many(server.mx_port, n, ip)]
        try:
            return all(read_line(s, bytearray()).startswith(b"220 ") for s in socks)
        finally:
            close_all(socks)
    wait_for(all_free, "every place to be free after the churn" + (f" ({note})" if note else ""),
             timeout_s=5, interval_s=0.2)
    wait_for_idle(server)
