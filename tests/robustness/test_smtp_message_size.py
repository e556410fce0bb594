"""Messages over limits.message_size_max: 552 5.3.4, and the excess is never buffered.

RFC 5321 §4.5.3.1.10 / RFC 1870: a server refuses a message over its fixed maximum with 552
(RFC 3463: 5.3.4, "message too big for system"). With SIZE declared in MAIL FROM the refusal
comes at MAIL (RFC 1870 §6); without it the DATA reader counts and drops the bytes past the
limit and answers after the end of data (reference-server/smtp/data_reader.hpp); a BDAT
chunk that would pass the limit is read and discarded, then refused (RFC 3030 §2). Either
way the session stays in step and the next transaction works.
"""

from __future__ import annotations

from robustness_checks import assert_survived
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import Sender, close_all, connect, read_until_closed, reply_codes

MIB = 1 << 20
SIZE_MAX = 64 * 1024       # the smallest value the config allows (RFC 5321's minimum)
SENT = 16 * MIB            # 256 times the limit
TOO_BIG = "552 5.3.4 Error: message exceeds fixed maximum message size"
# The server keeps at most SIZE_MAX of a message (plus its string's doubling); holding the
# 16 MiB that was sent would blow the bound four times over.
WHY = "one session holding at most message_size_max (64 KiB) of a 16 MiB message"


def body_of(size: int) -> bytes:
    line = b"x" * 76 + b"\r\n"
    return b"Subject: too big\r\n\r\n" + line * (size // len(line))


def pipeline(server, stream: bytes) -> list[str]:
    s = connect(server.mx_port)
    try:
        sender = Sender(s, stream)
        sender.start()
        data, _ = read_until_closed(s)
        sender.finish()
        assert sender.error is None, sender.error
    finally:
        close_all([s])
    return reply_codes(data)


def after_envelope(codes: list[str]) -> list[str]:
    """The replies after greeting, EHLO, MAIL and RCPT (which must all be positive)."""
    assert codes[0].startswith("220 ") and codes[1].startswith("250 "), codes
    assert codes[2:4] == ["250 2.1.0 Ok", "250 2.1.5 Ok"], codes
    return codes[4:]


ENVELOPE = (b"EHLO big.remote.example\r\nMAIL FROM:<big@remote.example>\r\n"
            b"RCPT TO:<bob@example.test>\r\n")
SMALL = (b"MAIL FROM:<small@remote.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
         b"Subject: small after big\r\n\r\nfits\r\n.\r\n")


def test_oversized_data_is_refused_after_the_end_without_buffering(make_server):
    server = make_server(limits={"message_size_max": "64KiB"})
    bound = memory_bound(server, allowance_kib(connections=1, message_bytes=SIZE_MAX), WHY)
    codes = pipeline(server, ENVELOPE + b"DATA\r\n" + body_of(SENT) + b".\r\n" + SMALL
                     + b"QUIT\r\n")
    codes = after_envelope(codes)
    assert codes[0].startswith("354 "), codes
    assert codes[1] == TOO_BIG, codes
    assert codes[2:4] == ["250 2.1.0 Ok", "250 2.1.5 Ok"] and codes[4].startswith("354 ")
    assert codes[5].startswith("250 2.0.0 Ok: queued as "), codes
    assert codes[6:] == ["221 2.0.0 Bye"]
    subjects = [d.body.split(b"\r\n", 1)[0] for d in server.delivered("bob@example.test")]
    assert b"Subject: too big" not in subjects
    assert b"Subject: small after big" in subjects
    assert_survived(server, bound)


def test_message_of_exactly_the_limit_is_accepted(make_server):
    server = make_server(limits={"message_size_max": "64KiB"})
    body = body_of(SIZE_MAX - 100)
    body += b"y" * (SIZE_MAX - len(body) - 2) + b"\r\n"
    assert len(body) == SIZE_MAX
    codes = after_envelope(pipeline(server, ENVELOPE + b"DATA\r\n" + body + b".\r\nQUIT\r\n"))
    assert codes[1].startswith("250 2.0.0 Ok: queued as "), codes
    codes = after_envelope(pipeline(server, ENVELOPE + b"DATA\r\n" + body + b"z\r\n.\r\nQUIT\r\n"))
    assert codes[1] == TOO_BIG, codes


def test_declared_size_is_refused_at_mail(make_server):
    server = make_server(limits={"message_size_max": "64KiB"})
    codes = pipeline(server, b"EHLO big.remote.example\r\n"
                     + b"MAIL FROM:<big@remote.example> SIZE=%d\r\n" % SENT + SMALL + b"QUIT\r\n")
    assert "250 SIZE 65536" in _ehlo_lines(server)
    assert codes[2] == "552 5.3.4 Error: message size exceeds fixed maximum message size", codes
    assert codes[3:5] == ["250 2.1.0 Ok", "250 2.1.5 Ok"], codes
    assert codes[5].startswith("354 ") and codes[6].startswith("250 2.0.0 Ok: queued as "), codes


def test_oversized_bdat_chunk_is_read_and_refused(make_server):
    server = make_server(limits={"message_size_max": "64KiB"})
    bound = memory_bound(server, allowance_kib(connections=1, message_bytes=SIZE_MAX), WHY)
    chunk = b"Subject: too big\r\n\r\n" + b"b" * (SENT - 20)
    codes = pipeline(server, ENVELOPE + b"BDAT %d LAST\r\n" % len(chunk) + chunk
                     + b"NOOP\r\n" + SMALL + b"QUIT\r\n")
    codes = after_envelope(codes)
    assert codes[0] == TOO_BIG, codes
    assert codes[1] == "250 2.0.0 Ok", codes  # the NOOP: the chunk's bytes were no commands
    assert codes[5].startswith("250 2.0.0 Ok: queued as "), codes
    assert_survived(server, bound)


def test_bdat_chunks_adding_up_past_the_limit_are_refused(make_server):
    server = make_server(limits={"message_size_max": "64KiB"})
    half = b"c" * (SIZE_MAX // 2 + 1)
    codes = pipeline(server, ENVELOPE + b"BDAT %d\r\n" % len(half) + half
                     + b"BDAT %d LAST\r\n" % len(half) + half + b"QUIT\r\n")
    codes = after_envelope(codes)
    assert codes[0] == f"250 2.0.0 {len(half)} octets received", codes
    assert codes[1] == TOO_BIG, codes
    assert codes[2:] == ["221 2.0.0 Bye"], codes


def _ehlo_lines(server) -> str:
    s = connect(server.mx_port)
    try:
        s.sendall(b"EHLO size.remote.example\r\nQUIT\r\n")
        data, _ = read_until_closed(s)
    finally:
        close_all([s])
    return data.decode().replace("250-", "250 ")
