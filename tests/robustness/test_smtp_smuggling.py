"""SMTP smuggling (the CVE-2023-51766 family), pipelined: sloppy ends never end DATA.

Only CR LF "." CR LF ends message data (RFC 5321 §4.1.1.4). A bare LF or CR in content
(RFC 5321 §2.3.8 forbids them) never counts as a line end for that, and with the default
smtp.bare_newlines: reject the whole message is refused with 554 5.5.2 after the real end
(docs/configuration.md). tests/e2e covers each vector once, step by step; here every vector
rides in one pipelined stream on one connection, with the smuggled transaction right after
it, so that a server that ended DATA early would answer the smuggled MAIL/RCPT/DATA and the
reply count would show it.
"""

from __future__ import annotations

from robustness_checks import assert_survived
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import Sender, close_all, connect, read_until_closed, reply_codes

VECTORS = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r", b"\r.\r\n", b"\n.\r",
           b"\r.\n"]
SMUGGLED = (b"MAIL FROM:<ceo@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
            b"From: ceo@example.test\r\nSubject: smuggled\r\n\r\npay now\r\n")
REFUSED = "554 5.5.2 Error: bare CR or LF in message data"


def carrier(vector: bytes) -> bytes:
    return (b"MAIL FROM:<sender@remote.example>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"
            b"From: sender@remote.example\r\nSubject: carrier\r\n\r\nhello" + vector
            + SMUGGLED + b".\r\n")


def test_every_vector_pipelined_on_one_connection(make_server):
    server = make_server()
    bound = memory_bound(server, allowance_kib(connections=1),
                         "one session holding one small message at a time")
    stream = (b"EHLO smuggler.remote.example\r\n" + b"".join(carrier(v) for v in VECTORS)
              + b"NOOP\r\nQUIT\r\n")
    s = connect(server.mx_port)
    try:
        sender = Sender(s, stream)
        sender.start()
        data, _ = read_until_closed(s)
        sender.finish()
    finally:
        close_all([s])
    codes = reply_codes(data)
    per_carrier = ["250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
                   REFUSED]
    assert codes[2:] == per_carrier * len(VECTORS) + ["250 2.0.0 Ok", "221 2.0.0 Bye"], codes
    assert server.delivered("alice@example.test") == []
    assert not any(b"smuggled" in d.body for d in server.delivered("bob@example.test"))
    assert_survived(server, bound)


def test_smuggled_text_after_a_real_end_is_pipelining_not_smuggling(make_server):
    """The control case: after a real CRLF.CRLF, the next bytes are commands (RFC 2920), so
    the second transaction is the client's own and is delivered."""
    server = make_server()
    stream = (b"EHLO honest.remote.example\r\n"
              + carrier(b"\r\n.\r\n")
              + b"QUIT\r\n")
    s = connect(server.mx_port)
    try:
        s.sendall(stream)
        data, _ = read_until_closed(s)
    finally:
        close_all([s])
    codes = reply_codes(data)[2:]
    assert [c[:3] for c in codes] == ["250", "250", "354", "250", "250", "250", "354", "250",
                                      "221"], codes
    assert len(server.delivered("alice@example.test")) == 1
    assert any(b"Subject: smuggled" in d.body for d in server.delivered("bob@example.test"))
