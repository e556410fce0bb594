"""IMAP on the wire for the robustness suite: a raw client and a strict reader.

Offers `RawImap`, a minimal blocking client over a plain socket for what imaplib will not
send (4 GB literals announced, 1 MiB lines, garbage) that reads each response exactly as
it comes, literals included; `imap_lines` (a closed session's output as lines);
`parse_imap`, which reads a response's data strictly as RFC 9051 §9 writes it and raises
`ImapSyntaxError` on anything malformed; and `nesting_depth` of a parsed value.
"""

from __future__ import annotations

import re

from mailsim_harness import HOST, PASSWORD
from robustness_sockets import SOCKET_TIMEOUT_S, close_all, connect, read_until_closed

_LITERAL_AT_END = re.compile(rb"~?\{(\d+)\}$")


class RawImap:
    """A minimal blocking IMAP client over a plain socket. Reads the greeting."""

    def __init__(self, port: int, source_ip: str = HOST, timeout_s: float = SOCKET_TIMEOUT_S):
        self.sock = connect(port, source_ip, timeout_s)
        self.buffer = bytearray()
        self.greeting = self.response()

    def close(self):
        close_all([self.sock])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def response(self) -> bytes:
        """One server response: a line, and when it ends in a literal ({n} or ~{n}) the
        literal's n bytes and the rest of the response, CRLFs kept inside."""
        out = bytearray()
        while True:
            end = self._raw_line()
            out += end
            m = _LITERAL_AT_END.search(end)
            if not m:
                return bytes(out)
            out += b"\r\n" + self._exactly(int(m.group(1)))

    def _raw_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; unread: {bytes(self.buffer)!r}")
            self.buffer += chunk
        end = self.buffer.index(b"\r\n")
        line = bytes(self.buffer[:end])
        del self.buffer[:end + 2]
        return line

    def _exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed inside a {n}-byte literal")
            self.buffer += chunk
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def until_tagged(self, tag: str) -> tuple[list[bytes], bytes]:
        """Responses up to the tagged one: (the ones before it, the tagged one)."""
        before = []
        prefix = tag.encode() + b" "
        while True:
            r = self.response()
            if r.startswith(prefix):
                return before, r
            before.append(r)

    def command(self, tag: str, text: str | bytes) -> tuple[list[bytes], bytes]:
        if isinstance(text, str):
            text = text.encode()
        self.send(tag.encode() + b" " + text + b"\r\n")
        return self.until_tagged(tag)

    def expect_ok(self, tag: str, text: str | bytes) -> list[bytes]:
        untagged, final = self.command(tag, text)
        assert final.startswith(f"{tag} OK".encode()), (text, untagged, final)
        return untagged

    def login(self, user: str, password: str = PASSWORD):
        """LOGIN over clear text: the tests' listeners allow it (auth_without_tls)."""
        self.expect_ok("L", f'LOGIN "{user}" "{password}"')

    def read_until_closed(self) -> tuple[bytes, bool]:
        data, reset = read_until_closed(self.sock)
        data = bytes(self.buffer) + data
        self.buffer.clear()
        return data, reset


def imap_lines(data: bytes) -> list[str]:
    """The response lines in `data` (no literals expected), decoded."""
    return [line.decode("utf-8", "replace") for line in data.split(b"\r\n") if line]


class ImapSyntaxError(AssertionError):
    pass


def parse_imap(data: bytes) -> list:
    """Reads a response's data (what follows "* " or the tag) into Python values, strictly
    as RFC 9051 §9 writes them: "(" ... ")" lists become lists, quoted strings and
    literals ({n} and literal8 ~{n}) bytes, NIL None, other atoms bytes (with a [...]
    section, which may hold spaces and parentheses, kept in the atom); lists may follow
    each other without a space (a multipart's parts in BODYSTRUCTURE). Raises
    ImapSyntaxError on anything malformed: an unbalanced parenthesis, a literal whose
    length does not match, a bad escape, a stray character."""
    value, pos = _parse_items(data, 0, closing=False)
    if pos != len(data):
        raise ImapSyntaxError(f"trailing bytes at {pos}: {data[pos:pos + 40]!r}")
    return value


def _parse_items(data: bytes, pos: int, closing: bool) -> tuple[list, int]:
    items = []
    while pos < len(data):
        if data[pos:pos + 1] == b")":
            if not closing:
                raise ImapSyntaxError(f"unbalanced ')' at {pos}")
            return items, pos + 1
        # Items are separated by exactly one space, except the parts of a multipart body
        # structure, which follow each other directly (RFC 9051 §9: 1*body SP subtype).
        adjacent_lists = items and isinstance(items[-1], list) and data[pos:pos + 1] == b"("
        if items and not adjacent_lists:
            if data[pos:pos + 1] != b" ":
                raise ImapSyntaxError(f"items not separated by a space at {pos}: "
                                      f"{data[pos:pos + 20]!r}")
            pos += 1
            if data[pos:pos + 1] in (b")", b" ", b""):
                raise ImapSyntaxError(f"stray space at {pos - 1}")
        item, pos = _parse_item(data, pos)
        items.append(item)
    if closing:
        raise ImapSyntaxError("unclosed '('")
    return items, pos


def _parse_item(data: bytes, pos: int):
    c = data[pos:pos + 1]
    if c == b"(":
        return _parse_items(data, pos + 1, closing=True)
    if c == b'"':
        return _parse_quoted(data, pos + 1)
    if c == b"{" or data[pos:pos + 2] == b"~{":
        return _parse_literal(data, pos + (1 if c == b"~" else 0))
    end = pos
    while end < len(data) and data[end:end + 1] not in (b" ", b"(", b")", b'"', b"{", b"\r", b"\n"):
        if data[end:end + 1] == b"[":
            close = data.find(b"]", end)
            if close < 0:
                raise ImapSyntaxError(f"unclosed '[' at {end}")
            end = close
        end += 1
    if end == pos:
        raise ImapSyntaxError(f"unexpected {data[pos:pos + 20]!r} at {pos}")
    atom = data[pos:end]
    if any(b < 0x20 or b > 0x7E for b in atom):
        raise ImapSyntaxError(f"control or 8-bit byte in atom {atom!r}")
    return (None if atom == b"NIL" else atom), end


def _parse_quoted(data: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while pos < len(data):
        c = data[pos]
        if c == 0x22:
            return bytes(out), pos + 1
        if c == 0x5C:
            if data[pos + 1:pos + 2] not in (b'"', b"\\"):
                raise ImapSyntaxError(f"bad escape in a quoted string at {pos}")
            out += data[pos + 1:pos + 2]
            pos += 2
            continue
        if c in (0x0D, 0x0A, 0x00):
            raise ImapSyntaxError(f"CR, LF or NUL in a quoted string at {pos}")
        out.append(c)
        pos += 1
    raise ImapSyntaxError("unterminated quoted string")


def _parse_literal(data: bytes, pos: int) -> tuple[bytes, int]:
    m = re.compile(rb"\{(\d+)\}\r\n").match(data, pos)
    if not m:
        raise ImapSyntaxError(f"bad literal header at {pos}: {data[pos:pos + 20]!r}")
    n = int(m.group(1))
    start = m.end()
    if start + n > len(data):
        raise ImapSyntaxError(f"literal of {n} bytes runs past the response")
    return data[start:start + n], start + n


def nesting_depth(value) -> int:
    """How deeply parenthesized lists nest in a parse_imap value (a list counts 1)."""
    if not isinstance(value, list):
        return 0
    return 1 + max((nesting_depth(v) for v in value), default=0)
