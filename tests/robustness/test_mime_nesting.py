"""Hostile MIME read back over IMAP: nesting 200 deep, broken base64 and quoted-printable.

The messages arrive over SMTP (smtplib) and are read with FETCH BODYSTRUCTURE, BODY[...]
of deep sections, BINARY[...] (RFC 3516) of the broken parts, and SEARCH BODY/TEXT. The
server parses them with reference-server/message (docs/message.md):
- "depth_max 100: a multipart or message part at this depth is an opaque leaf
  application/octet-stream whose body is the rest up to the enclosing delimiter": so a
  BODYSTRUCTURE nests 100 levels and then ends in that leaf, and the parser's recursion
  (and the server's stack) is bounded whatever the message holds;
- "base64 with junk / QP with bad = | junk skipped / = kept"; codec.hpp: base64 "stops at
  padding", and a quoted-printable "=" at the end of a line is a soft line break;
- BINARY of data holding NUL is a literal8 (docs/imap-session.md); an unknown
  Content-Transfer-Encoding gets NO [UNKNOWN-CTE];
- a section that names no part is NIL.
Every answer is read with a strict parser (robustness_imap.parse_imap): balanced
parentheses, literals of the length they announce.
"""

from __future__ import annotations

import smtplib

import pytest

from mailsim_harness import HOST, crlf
from robustness_checks import assert_survived
from robustness_imap import RawImap, nesting_depth, parse_imap
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import plaintext_login

DEPTH = 200
DEPTH_MAX = 100               # message::parse_limits::depth_max
READER = "alice@example.test"
LEAF_WORD = b"bottomofthewell"


def deliver(server, message: bytes):
    with smtplib.SMTP(HOST, server.mx_port, timeout=10) as s:
        assert s.sendmail("sender@remote.example", [READER], message) == {}


def headers(subject: str, content_type: str, extra: str = "") -> bytes:
    return crlf(f"From: <sender@remote.example>\nTo: <{READER}>\nSubject: {subject}\n"
                f"MIME-Version: 1.0\n{extra}Content-Type: {content_type}\n\n")


# ------------------------------------------------------------------------------------------
# The messages, built so that each level's header and body are known.

def multipart_levels(depth: int) -> list[tuple[bytes, bytes]]:
    """(header, body) of each level of a multipart/mixed nesting: level 0 is the message,
    level k (1 <= k < depth) the only part of level k-1, level `depth` a text/plain leaf.
    Boundaries are fixed-width so that none is a prefix of another."""
    levels: list[tuple[bytes, bytes]] = [(b"", b"")] * (depth + 1)
    levels[depth] = (b"Content-Type: text/plain\r\n\r\n", LEAF_WORD + b"\r\n")
    for k in range(depth - 1, -1, -1):
        b = f"=_lvl{k:03d}_=".encode()
        ct = b"Content-Type: multipart/mixed; boundary=\"" + b + b"\"\r\n\r\n"
        header = headers("nested multipart", f'multipart/mixed; boundary="{b.decode()}"') \
            if k == 0 else ct
        child = levels[k + 1][0] + levels[k + 1][1]
        # The CRLF before a delimiter belongs to the delimiter, not to the part.
        levels[k] = (header, b"--" + b + b"\r\n" + child + b"\r\n--" + b + b"--\r\n")
    return levels


def rfc822_levels(depth: int) -> list[bytes]:
    """Whole messages: level k's body is level k+1 (message/rfc822); the last is text."""
    messages = [crlf(f"From: <level{depth}@remote.example>\nSubject: level {depth}\n\n")
                + LEAF_WORD + b"\r\n"]
    for k in range(depth - 1, -1, -1):
        head = crlf(f"From: <level{k}@remote.example>\nSubject: level {k}\n"
                    "Content-Type: message/rfc822\n\n")
        if k == 0:
            head = headers("nested rfc822", "message/rfc822")
        messages.insert(0, head + messages[0])
    return messages


def section(k: int) -> str:
    return ".".join(["1"] * k)


def fetch(c: RawImap, tag: str, items: str) -> list:
    """One message's FETCH answer, parsed strictly: the list after "* 1 FETCH"."""
    untagged, final = c.command(tag, f"FETCH 1 {items}")
    assert final == f"{tag} OK FETCH completed".encode(), (untagged, final)
    fetches = [r for r in untagged if r.startswith(b"* 1 FETCH ")]
    assert len(fetches) == 1, untagged
    value = parse_imap(fetches[0][2:])
    assert value[:2] == [b"1", b"FETCH"] and len(value) == 3, value
    return value[2]


def item(fetched: list, name: bytes):
    names = fetched[0::2]
    assert name in names, (name, names)
    return fetched[names.index(name) * 2 + 1]


def reader(server) -> RawImap:
    c = RawImap(server.ports["imap"])
    c.login(READER)
    return c


@pytest.fixture
def mime_server(make_server):
    server = make_server(roles=("smtp", "imap"), listener_options=plaintext_login("imap"))
    return server


# ------------------------------------------------------------------------------------------

def test_multipart_nested_200_deep(mime_server):
    server = mime_server
    levels = multipart_levels(DEPTH)
    message = levels[0][0] + levels[0][1]
    bound = memory_bound(server, allowance_kib(imap=1, message_bytes=len(message)),
                         "one IMAP session reading one message of a few KiB")
    deliver(server, message)
    with reader(server) as c:
        c.expect_ok("s", "SELECT INBOX")
        for tag, name in (("b1", "BODYSTRUCTURE"), ("b2", "BODY")):
            structure = item(fetch(c, tag, name), name.encode())
            # 100 multipart levels, each a list whose first element is its only child.
            node, multiparts = structure, 0
            while isinstance(node, list) and isinstance(node[0], list):
                assert len(node) >= 2 and node[1] == b"mixed", node[1:3]
                node, multiparts = node[0], multiparts + 1
            assert multiparts == DEPTH_MAX, multiparts
            assert [x.lower() for x in node[:2]] == [b"application", b"octet-stream"], node[:6]
            assert nesting_depth(structure) <= DEPTH_MAX + 2, nesting_depth(structure)
        # Deep sections: a multipart's body, its MIME header, the opaque leaf (the rest of
        # the nesting, raw), and parts beyond the limit, which do not exist.
        got = fetch(c, "d1", f"(BODY.PEEK[{section(50)}] BODY.PEEK[{section(50)}.MIME])")
        assert item(got, f"BODY[{section(50)}]".encode()) == levels[50][1]
        assert item(got, f"BODY[{section(50)}.MIME]".encode()) == levels[50][0]
        leaf = item(fetch(c, "d2", f"BODY.PEEK[{section(DEPTH_MAX)}]"),
                    f"BODY[{section(DEPTH_MAX)}]".encode())
        assert leaf == levels[DEPTH_MAX][1], leaf[:200]
        for k in (DEPTH_MAX + 1, DEPTH):
            got = fetch(c, f"d{k}", f"BODY.PEEK[{section(k)}]")
            assert item(got, f"BODY[{section(k)}]".encode()) is None
        # SEARCH reads the raw message: the leaf's word is found wherever it is.
        untagged, final = c.command("q1", f"SEARCH BODY {LEAF_WORD.decode()}")
        assert untagged == [b"* SEARCH 1"] and final == b"q1 OK SEARCH completed"
        untagged, _ = c.command("q2", "SEARCH TEXT =_lvl199_=")
        assert untagged == [b"* SEARCH 1"]
        untagged, _ = c.command("q3", "SEARCH BODY nowhereinthismessage")
        assert untagged == [b"* SEARCH"]
    assert_survived(server, bound)


def test_message_rfc822_nested_200_deep(mime_server):
    server = mime_server
    messages = rfc822_levels(DEPTH)
    bound = memory_bound(server, allowance_kib(imap=1, message_bytes=len(messages[0])),
                         "one IMAP session reading one message of a few KiB")
    deliver(server, messages[0])
    with reader(server) as c:
        c.expect_ok("s", "SELECT INBOX")
        for tag, name in (("b1", "BODYSTRUCTURE"), ("b2", "BODY")):
            structure = item(fetch(c, tag, name), name.encode())
            # ("message" "rfc822" params id description encoding size envelope body lines
            # ...): follow the body of each level down to the opaque leaf.
            node, levels = structure, 0
            while [x.lower() for x in node[:2]] == [b"message", b"rfc822"]:
                envelope = node[7]
                assert envelope[1] == f"level {levels + 1}".encode(), envelope[:2]
                node, levels = node[8], levels + 1
            assert levels == DEPTH_MAX, levels
            assert [x.lower() for x in node[:2]] == [b"application", b"octet-stream"], node[:6]
            assert nesting_depth(structure) <= DEPTH_MAX + 4, nesting_depth(structure)
        # 1.1...1 (k times) is the message embedded k levels down, and .HEADER its header
        # (as BODY[1] of a message/rfc822 message is the embedded message, BODY[1.HEADER]
        # its header).
        got = item(fetch(c, "d1", f"BODY.PEEK[{section(50)}]"), f"BODY[{section(50)}]".encode())
        assert got == messages[50], got[:200]
        got = fetch(c, "d2", f"BODY.PEEK[{section(50)}.HEADER]")
        assert item(got, f"BODY[{section(50)}.HEADER]".encode()) == \
            messages[50][:messages[50].index(b"\r\n\r\n") + 4]
        # At the limit the embedded message is an opaque leaf: its part 1 is its body
        # ("part 1 of a non-multipart message is its body"), the rest of the nesting as
        # raw bytes; nothing below that is a part.
        got = item(fetch(c, "d3", f"BODY.PEEK[{section(DEPTH_MAX)}]"),
                   f"BODY[{section(DEPTH_MAX)}]".encode())
        assert got == messages[DEPTH_MAX], got[:200]
        got = item(fetch(c, "d4", f"BODY.PEEK[{section(DEPTH_MAX + 1)}]"),
                   f"BODY[{section(DEPTH_MAX + 1)}]".encode())
        assert got == messages[DEPTH_MAX + 1], got[:200]
        for k in (DEPTH_MAX + 2, DEPTH + 1):
            got = fetch(c, f"d{k}", f"BODY.PEEK[{section(k)}]")
            assert item(got, f"BODY[{section(k)}]".encode()) is None
        untagged, _ = c.command("q1", f"SEARCH BODY {LEAF_WORD.decode()}")
        assert untagged == [b"* SEARCH 1"]
        untagged, _ = c.command("q2", 'SEARCH TEXT "Subject: level 199"')
        assert untagged == [b"* SEARCH 1"]
    assert_survived(server, bound)


# ------------------------------------------------------------------------------------------
# Broken transfer encodings: (encoding, encoded body, what BINARY gives by the documented
# rules). Each is one part of a multipart/mixed message, in this order.

LONG_QP = b"L" * 10000 + b"=41" + b"M" * 10000          # one 20 KB line, no soft breaks
BROKEN = [
    ("base64", b"SGVs*bG8g!d29y#bGQ=", b"Hello world"),             # junk skipped
    ("base64", b"SGVsbG8===", b"Hello"),                            # too much padding
    ("base64", b"SGVsbG8gd29ybG", b"Hello worl"),                   # truncated, no padding
    ("base64", b"SGk=SGVsbG8=", b"Hi"),                             # data after padding
    ("base64", b"AAEC/w==", b"\x00\x01\x02\xff"),                   # NUL: a literal8
    ("base64", b"====\r\n%%%%", b""),                               # nothing decodable
    ("quoted-printable", b"a=XYb=G1c", b"a=XYb=G1c"),               # bad "=XY" kept
    ("quoted-printable", b"line one=\r\nline two=", b"line oneline two"),  # "=" at ends
    ("quoted-printable", b"end with =4", b"end with =4"),           # cut escape kept
    ("quoted-printable", b"caf=c3=a9 =3D=3d", "café ==".encode()),  # lower-case hex
    ("quoted-printable", LONG_QP, b"L" * 10000 + b"A" + b"M" * 10000),
]


def broken_message() -> bytes:
    parts = []
    for i, (encoding, body, _) in enumerate(BROKEN):
        parts.append(crlf(f"--b\nContent-Type: application/x-part{i + 1}\n"
                          f"Content-Transfer-Encoding: {encoding}\n\n") + body + b"\r\n")
    parts.append(crlf("--b\nContent-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\n")
                 + b"begin 644 x\r\nend\r\n")
    return headers("broken encodings", 'multipart/mixed; boundary="b"') + b"".join(parts) \
        + b"--b--\r\n"


def test_broken_base64_and_quoted_printable(mime_server):
    server = mime_server
    message = broken_message()
    bound = memory_bound(server, allowance_kib(imap=1, message_bytes=len(message)),
                         "one IMAP session reading one 40 KB message")
    deliver(server, message)
    with reader(server) as c:
        c.expect_ok("s", "SELECT INBOX")
        structure = item(fetch(c, "b1", "BODYSTRUCTURE"), b"BODYSTRUCTURE")
        children = [x for x in structure if isinstance(x, list)][:len(BROKEN) + 1]
        assert len(children) == len(BROKEN) + 1
        for child, (encoding, body, _) in zip(children, BROKEN):
            assert child[5].lower() == encoding.encode(), child
            assert int(child[6]) == len(body), child       # the encoded size, as stored
        for i, (_, _, decoded) in enumerate(BROKEN, start=1):
            untagged, final = c.command(f"x{i}", f"FETCH 1 (BINARY.PEEK[{i}] BINARY.SIZE[{i}])")
            assert final == f"x{i} OK FETCH completed".encode(), final
            answer = untagged[0]
            # Data holding NUL comes as a literal8 (RFC 3516 §4.2), other data as a literal.
            marker = (b"~{%d}\r\n" if b"\x00" in decoded else b"{%d}\r\n") % len(decoded)
            assert marker + decoded in answer, (i, answer[:120])
            got = parse_imap(answer[2:])[2]
            assert item(got, f"BINARY[{i}]".encode()) == decoded
            assert int(item(got, f"BINARY.SIZE[{i}]".encode())) == len(decoded)
        unknown = len(BROKEN) + 1
        untagged, final = c.command("u", f"FETCH 1 BINARY.PEEK[{unknown}]")
        assert final.startswith(b"u NO [UNKNOWN-CTE]"), (untagged, final)
        got = item(fetch(c, "r", f"BODY.PEEK[{unknown}]"), f"BODY[{unknown}]".encode())
        assert got == b"begin 644 x\r\nend"          # BODY[] still gives the raw bytes
        # Words that are the same encoded or decoded: found either way.
        for key, found in (('BODY "line one"', True), ("BODY caf", True),
                           ("TEXT x-uuencode", True), ("BODY nowhereinthismessage", False)):
            untagged, final = c.command("q", f"SEARCH {key}")
            assert final == b"q OK SEARCH completed"
            assert untagged == [b"* SEARCH 1" if found else b"* SEARCH"], (key, untagged)
    assert_survived(server, bound)
