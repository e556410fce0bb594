"""Pipelined garbage: random bytes, binary, NULs, bare CR and LF mixes.

Each line that is not a command costs the client one protocol error (500 5.5.1 unknown
command, 500 5.5.2 for a bare CR or an over-long line, 501 for bad arguments); at
limits.errors_max the server answers "421 4.7.0 ... too many errors" and closes
(docs/configuration.md). Bytes are bytes: no NUL, no 0xFF and no stray CR may crash or
confuse it. The garbage is made by a seeded generator, so a failure replays.
"""

from __future__ import annotations

import random

import pytest

from robustness_checks import assert_survived
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import (
    Sender, close_all, connect, read_until_closed, reply_codes, wait_for_idle)

SEED = 20250207
ERRORS_MAX = 5
TOO_MANY = "421 4.7.0 mx.example.test Error: too many errors"


def garbage_bound(server):
    """Up to 8 sessions at once, each cut off after errors_max lines; a server that kept
    the garbage (8 x 1 MiB in the biggest case) would pass the bound."""
    return memory_bound(server, allowance_kib(connections=8),
                        "8 sessions at most, each cut off after errors_max lines")


def garbage_line(rng: random.Random) -> bytes:
    """A line of 1 to 300 random bytes that is no command: it starts with a byte no verb
    starts with, and it holds no LF (a CR may appear anywhere)."""
    first = rng.choice([0x00, 0x01, 0x7F, 0x80, 0xFF, ord("\r"), ord(" "), ord("#")])
    rest = bytes(b for b in rng.randbytes(rng.randint(0, 299)) if b != 0x0A)
    return bytes([first]) + rest


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"], ids=["crlf", "bare_lf"])
def test_garbage_lines_reach_errors_max_then_421(make_server, ending):
    """Exactly ERRORS_MAX garbage lines in one write: ERRORS_MAX error replies, the last
    followed by 421 4.7.0, and the close. (Only that many, so the server has read all
    of it when it closes: unread bytes would turn the close into a reset.)"""
    server = make_server(limits={"errors_max": ERRORS_MAX})
    rng = random.Random(SEED)
    stream = b"EHLO garbage.remote.example\r\n" + b"".join(
        garbage_line(rng) + ending for _ in range(ERRORS_MAX))
    s = connect(server.mx_port)
    try:
        s.sendall(stream)
        data, _ = read_until_closed(s)
    finally:
        close_all([s])
    codes = reply_codes(data)
    assert codes[0].startswith("220 ") and codes[1].startswith("250 "), codes
    errors = codes[2:-1]
    assert len(errors) == ERRORS_MAX, codes
    assert all(c[:3] in ("500", "501") for c in errors), codes
    assert codes[-1] == TOO_MANY, codes
    assert_survived(server, garbage_bound(server))


def test_valid_commands_between_garbage_still_work(make_server):
    """Errors below the limit do not end the session: commands between them are served."""
    server = make_server(limits={"errors_max": ERRORS_MAX})
    rng = random.Random(SEED + 1)
    stream = b"EHLO garbage.remote.example\r\n"
    for _ in range(ERRORS_MAX - 1):
        stream += garbage_line(rng) + b"\r\nNOOP\r\n"
    stream += b"QUIT\r\n"
    s = connect(server.mx_port)
    try:
        s.sendall(stream)
        data, _ = read_until_closed(s)
    finally:
        close_all([s])
    codes = reply_codes(data)[2:]
    assert codes[-1] == "221 2.0.0 Bye", codes
    assert codes[1:-1:2] == ["250 2.0.0 Ok"] * (ERRORS_MAX - 1), codes


def binary_blob(rng: random.Random, size: int) -> bytes:
    """Random bytes with CRLF, bare LF, bare CR and NUL runs mixed in."""
    pieces = []
    total = 0
    while total < size:
        piece = rng.choice([
            rng.randbytes(rng.randint(1, 600)),
            b"\r\n", b"\n", b"\r", b"\r\r\n", b"\n\r", b"\x00" * rng.randint(1, 64),
            b"\r\n.\r\n", b"MAIL FROM:<\x00>\r\n", b"\xff\xfe\xfd\r\n",
        ])
        pieces.append(piece)
        total += len(piece)
    return b"".join(pieces)[:size]


def test_megabyte_of_pipelined_binary_garbage_from_many_clients(make_server):
    """8 clients each pipeline 1 MiB of binary garbage. Each is cut off after errors_max
    errors (the server closes with most of the garbage unread, so the client may see a
    reset rather than the 421: the log tells); nothing else happens."""
    clients = 8
    server = make_server(limits={"errors_max": ERRORS_MAX})
    bound = garbage_bound(server)
    rng = random.Random(SEED + 2)
    socks = [connect(server.mx_port) for _ in range(clients)]
    senders = [Sender(s, binary_blob(rng, 1 << 20)) for s in socks]
    try:
        for t in senders:
            t.start()
        for s in socks:
            data, reset = read_until_closed(s)
            codes = reply_codes(data)
            assert codes and codes[0].startswith("220 "), data[:200]
            assert all(c[:1] in ("4", "5") for c in codes[1:]), codes
            if not reset:
                assert codes[-1] == TOO_MANY, codes
        for t in senders:
            t.finish()
    finally:
        close_all(socks)
    wait_for_idle(server)
    ends = [e for e in server.new_log_events() if e.get("event") == "disconnect"]
    cut = [e for e in ends if e["errors"] >= ERRORS_MAX]
    assert len(cut) == clients, ends
    too_many = [e for e in server.new_log_events()
                if e.get("event") == "reply" and e.get("text") == TOO_MANY]
    assert len(too_many) == clients
    assert_survived(server, bound)


def test_garbage_inside_data_is_just_content(make_server):
    """Binary bytes after DATA are message content: no error, no early end. Its bare CRs
    and LFs get the whole message refused (bare_newlines: reject) with 554 5.5.2, after
    the real end of data, and the session goes on."""
    server = make_server()
    rng = random.Random(SEED + 3)
    blob = binary_blob(rng, 256 * 1024)
    # Dot-stuffed (RFC 5321 §4.5.2), so that only the real end of data ends it.
    blob = b"x" + blob.replace(b"\r\n.", b"\r\n..")
    stream = (b"EHLO garbage.remote.example\r\nMAIL FROM:<g@remote.example>\r\n"
              b"RCPT TO:<bob@example.test>\r\nDATA\r\n" + blob + b"\r\n.\r\nNOOP\r\nQUIT\r\n")
    s = connect(server.mx_port)
    try:
        sender = Sender(s, stream)
        sender.start()
        data, _ = read_until_closed(s)
        sender.finish()
    finally:
        close_all([s])
    codes = reply_codes(data)[2:]
    assert codes == ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                     "554 5.5.2 Error: bare CR or LF in message data", "250 2.0.0 Ok",
                     "221 2.0.0 Bye"], codes
    assert_survived(server, memory_bound(
        server, allowance_kib(connections=1, message_bytes=len(blob)),
        "one session holding one 256 KiB message"))
