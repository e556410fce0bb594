"""Helpers for the robustness suite: memory bounds, well-behaved clients, abusive clients.

The suite (tests/robustness) attacks a real mailsim-server on loopback and checks four
things after (and, where it makes sense, during) each attack:

1. the server process is still alive, and stops with exit code 0 at the end (the
   `make_server` fixture in conftest.py checks both);
2. its peak resident memory (VmHWM in /proc/<pid>/status) stays under a stated bound:
   the RSS measured after a warm-up delivery plus an allowance that each test justifies
   from the limits it configures (see `allowance_kib`);
3. a well-behaved client is still served (`send_mail` delivers and finds the message in
   the Maildir);
4. the abusive client gets the right reply or disconnect.

Protocols: the SMTP cases live in test_smtp_*.py, the IMAP cases (4 GB literals
announced, literal floods, slowloris, 1 MiB lines, garbage, floods) in test_imap_*.py, the
POP3 ones in test_pop3_*.py and the MIME cases (nesting 200 deep, broken base64 /
quoted-printable, read back over IMAP) in test_mime_*.py; the CMakeLists.txt registers
every test_*.py as its own ctest. Shared and protocol-neutral: `MemoryBound`, `Trickler`
(N clients that send one byte at a time to any port), `Sender` (pipelines a stream while
the test reads), `open_many`, `read_until_closed`, `wait_for`, `wait_for_idle`. The
well-behaved clients are `send_mail` (smtplib), `check_imap` (imaplib: STARTTLS, LOGIN,
SELECT, SEARCH, FETCH) and `check_pop3` (poplib: STLS, USER/PASS, STAT, RETR, QUIT); the
abusers speak IMAP through `RawImap` and `parse_imap` (a strict reader of the server's
answers, literals included).

Every socket has a timeout, every wait a deadline, and only 127.0.0.0/8 is used (clients
bind to 127.0.x.y source addresses to look like distinct hosts: Linux routes the whole
block to the loopback interface).
"""

from __future__ import annotations

import imaplib
import poplib
import re
import selectors
import smtplib
import socket
import ssl
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mailsim_harness import HOST, PASSWORD, ServerProcess, crlf

SOCKET_TIMEOUT_S = 10.0

# ------------------------------------------------------------------------------------------
# Memory.

# What one live SMTP session may hold, by the limits (reference-server/smtp/limits.hpp and
# reference-server/server/connection.cpp): the line reader keeps at most one line of
# max(command_line_max, auth_line_max) = 12 KiB plus one 4 KiB read; the read buffer lives
# in the coroutine frame (4 KiB); the session object, its envelope and pending replies are
# a few KiB; OpenSSL adds about 40 KiB per TLS connection (two 16 KiB record buffers and
# the SSL object). 128 KiB rounds that up with room to spare.
PER_CONNECTION_KIB = 128

# Allocator and run-time slack that no test can pin down exactly: glibc malloc keeps freed
# memory in its arenas (one per thread that allocates: the I/O thread, the delivery worker,
# the auth pool), log lines are formatted in memory, and the Maildir writer buffers one
# message. 4 MiB is well under what any of the attacks would cost if a limit were missing
# (each test says what that would be), so the bound still tells a leak from noise.
SLACK_KIB = 4 * 1024


# What one live IMAP session may hold, by the limits the server gives it
# (reference-server/imap/command_reader.hpp, session.hpp; server/access_connection.cpp):
# the command reader keeps at most one line of line_bytes_max = 64 KiB (fixed; an
# over-long line is skipped, only its last 32 bytes kept) plus one 4 KiB read, and the
# parsed command copies that line once more; answers to one read's worth of pipelined
# small commands (a FETCH stops filling the output at output_pending_max = 256 KiB, plus
# one message: tests that fetch large messages add that); the session, its parser and
# mailbox view a few KiB; TLS about 40 KiB. Literals come on top (`allowance_kib`'s
# literal_bytes): each is bounded by limits.message_size_max, which the tests set to its
# minimum, 64 KiB.
IMAP_SESSION_KIB = 256

# A POP3 session: a line of at most line_bytes_max = 1 KiB (fixed) and one 4 KiB read,
# the answers to that read's pipelined commands, the maildrop's listing, TLS: an SMTP
# session's 128 KiB covers it.
POP3_SESSION_KIB = PER_CONNECTION_KIB


def allowance_kib(connections: int = 0, message_bytes: int = 0, *, imap: int = 0,
                  pop3: int = 0, literal_bytes: int = 0) -> int:
    """The growth a test allows over the warm baseline: slack, live sessions (SMTP,
    IMAP, POP3), and for a test that stores messages, the copies of one message the server
    may hold at once (the session's buffer, growing by doubling, and the store's copy: 3x).
    `literal_bytes` is the sum of the IMAP literals held at once, counted the same way."""
    return (SLACK_KIB + connections * PER_CONNECTION_KIB + imap * IMAP_SESSION_KIB
            + pop3 * POP3_SESSION_KIB + 3 * (message_bytes + literal_bytes) // 1024)


def proc_status_kib(pid: int, key: str) -> int:
    """A "kB" value from /proc/<pid>/status, e.g. VmRSS (now) or VmHWM (peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/{pid}/status")


@dataclass
class MemoryBound:
    """The server's peak RSS must stay under baseline + allowance (both in KiB)."""
    pid: int
    baseline_kib: int
    allowance_kib: int
    why: str

    @property
    def limit_kib(self) -> int:
        return self.baseline_kib + self.allowance_kib

    def peak_kib(self) -> int:
        return proc_status_kib(self.pid, "VmHWM")

    def check(self) -> int:
        peak = self.peak_kib()
        assert peak <= self.limit_kib, (
            f"server peak RSS {peak} KiB exceeds {self.limit_kib} KiB (baseline "
            f"{self.baseline_kib} + allowance {self.allowance_kib}: {self.why})")
        # Shown by pytest -rP: what the bound left unused.
        print(f"memory: peak RSS {peak} KiB = baseline {self.baseline_kib} + "
              f"{peak - self.baseline_kib} KiB; bound {self.limit_kib} KiB ({self.why})")
        return peak


def memory_bound(server: ServerProcess, allowance: int, why: str) -> MemoryBound:
    """The bound for `server`, whose baseline conftest measured after a warm-up mail."""
    assert server.proc is not None
    return MemoryBound(server.proc.pid, server.baseline_kib, allowance, why)


# ------------------------------------------------------------------------------------------
# Well-behaved clients.

def send_mail(server: ServerProcess, tag: str | None = None, source_ip: str = HOST,
              recipient: str = "bob@example.test") -> str:
    """Delivers one small message on the MX port with smtplib, checks that it landed in
    the recipient's Maildir, and returns its unique tag."""
    tag = tag or uuid.uuid4().hex
    message = crlf(f"""\
From: Sender <sender@remote.example>
To: <{recipient}>
Subject: well-behaved {tag}
Message-ID: <{tag}@remote.example>

A client that follows the rules is served.
""")
    with smtplib.SMTP(HOST, server.mx_port, timeout=SOCKET_TIMEOUT_S,
                      source_address=(source_ip, 0)) as s:
        s.ehlo("well-behaved.remote.example")
        assert s.sendmail("sender@remote.example", [recipient], message) == {}
    wanted = f"Subject: well-behaved {tag}\r\n".encode()
    assert any(wanted in d.body for d in server.delivered(recipient)), \
        f"message {tag} accepted but not found in {recipient}'s Maildir"
    return tag


# The mailbox the well-behaved IMAP and POP3 clients read; the abusive clients of the
# tests log in as other users (a POP3 maildrop is locked by its session).
WELL_BEHAVED_USER = "carol@example.test"


def client_tls_context(server: ServerProcess) -> ssl.SSLContext:
    """A client context that trusts exactly the server's test certificate."""
    ctx = ssl.create_default_context(cafile=str(server.cert))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class _FromSourceAddress:
    """Mixin for imaplib/poplib: the client binds a chosen 127.x source address (each one
    stands for a host)."""

    def __init__(self, port: int, source_ip: str):
        self._source_ip = source_ip
        super().__init__(HOST, port, timeout=SOCKET_TIMEOUT_S)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source_ip, 0))


class _Imap(_FromSourceAddress, imaplib.IMAP4):
    """imaplib from a chosen source address."""


class _Pop3(_FromSourceAddress, poplib.POP3):
    """poplib from a chosen source address."""


def check_imap(server: ServerProcess, user: str = WELL_BEHAVED_USER,
               source_ip: str = HOST) -> str:
    """A well-behaved IMAP client: delivers a tagged message to `user` over SMTP, then
    with imaplib over the imap listener does STARTTLS, LOGIN, SELECT, SEARCH
    for the message and FETCH of its Subject, and LOGOUT. Returns the tag."""
    tag = send_mail(server, recipient=user)
    with _Imap(server.ports["imap"], source_ip) as m:
        m.starttls(ssl_context=client_tls_context(server))
        m.login(user, PASSWORD)
        typ, data = m.select("INBOX")
        assert typ == "OK", (typ, data)
        typ, data = m.search(None, "SUBJECT", tag)
        found = data[0].split() if typ == "OK" else []
        assert len(found) == 1, f"SEARCH SUBJECT {tag}: {typ} {data}"
        typ, data = m.fetch(found[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK" and isinstance(data[0], tuple), (typ, data)
        assert data[0][1] == f"Subject: well-behaved {tag}\r\n\r\n".encode(), data
        m.logout()
    return tag


def check_pop3(server: ServerProcess, user: str = WELL_BEHAVED_USER,
               source_ip: str = HOST) -> str:
    """A well-behaved POP3 client: delivers a tagged message to `user` over SMTP, then
    with poplib over the pop3 listener does STLS, USER/PASS, STAT, finds the message with
    TOP, RETRs it and QUITs (deleting nothing). Returns the tag."""
    tag = send_mail(server, recipient=user)
    wanted = f"Subject: well-behaved {tag}".encode()
    p = _Pop3(server.ports["pop3"], source_ip)
    try:
        p.stls(context=client_tls_context(server))
        p.user(user)
        p.pass_(PASSWORD)
        count, _ = p.stat()
        numbers = [n for n in range(count, 0, -1) if wanted in p.top(n, 0)[1]]
        assert len(numbers) == 1, f"{tag} is in {len(numbers)} of {count} messages"
        _, lines, _ = p.retr(numbers[0])
        assert wanted in lines and lines[-1] == b"A client that follows the rules is served."
        assert p.quit().startswith(b"+OK")
    finally:
        p.close()
    return tag


def assert_survived(server: ServerProcess, bound: MemoryBound) -> int:
    """After an attack: alive, served (over SMTP, and over IMAP and POP3 when the server
    has those listeners), under the memory bound. Returns the peak RSS."""
    assert server.running, f"server died: exit {server.proc.poll() if server.proc else None}"
    send_mail(server)
    if "imap" in server.roles:
        check_imap(server)
    if "pop3" in server.roles:
        check_pop3(server)
    assert server.running
    return bound.check()


# ------------------------------------------------------------------------------------------
# Waiting.

def wait_for(predicate, what: str, timeout_s: float = 10.0, interval_s: float = 0.02):
    """Polls `predicate` until it returns something true; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


def wait_for_idle(server: ServerProcess, timeout_s: float = 10.0):
    """Waits until every session the log shows starting has ended (connect and disconnect
    events pair up): then every place under the connection limits is free again."""
    def idle():
        events = server.new_log_events()
        kinds = [e.get("event") for e in events]
        return kinds.count("connect") == kinds.count("disconnect")
    return wait_for(idle, "every session to end", timeout_s)


# ------------------------------------------------------------------------------------------
# Raw sockets.

def connect(port: int, source_ip: str = HOST, timeout_s: float = SOCKET_TIMEOUT_S) -> socket.socket:
    s = socket.create_connection((HOST, port), timeout=timeout_s, source_address=(source_ip, 0))
    s.settimeout(timeout_s)
    return s


def open_many(port: int, count: int, source_ip: str = HOST) -> list[socket.socket]:
    """`count` connections from one source address, all open before any is read."""
    socks = []
    try:
        for _ in range(count):
            socks.append(connect(port, source_ip))
    except BaseException:
        close_all(socks)
        raise
    return socks


def close_all(socks, reset: bool = False):
    for s in socks:
        try:
            if reset:  # SO_LINGER 0: close sends RST, as a client that crashed would
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass


def read_line(sock: socket.socket, buffer: bytearray) -> bytes:
    """One CRLF-terminated line (without CRLF); b"" when the peer closed first."""
    while b"\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        buffer += chunk
    end = buffer.index(b"\r\n")
    line = bytes(buffer[:end])
    del buffer[:end + 2]
    return line


def read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything the peer sends until it closes: (bytes, was_reset). A reset counts as a
    close (the server closed with bytes of ours unread); a timeout raises."""
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data), True
        if not chunk:
            return bytes(data), False
        data += chunk


def reply_codes(data: bytes) -> list[str]:
    """The final lines of the replies in `data` as "code text" strings (continuation lines
    of multi-line replies, "250-...", are left out)."""
    lines = data.split(b"\r\n")
    return [line.decode("utf-8", "replace") for line in lines
            if len(line) >= 4 and line[:3].isdigit() and line[3:4] == b" "]


class Sender(threading.Thread):
    """Sends `data` on a socket from a thread, so that the test can read the replies at the
    same time (a pipelining client that only reads at the end deadlocks with a server that
    blocks on writing replies nobody reads). An error (the server closed) is recorded."""

    def __init__(self, sock: socket.socket, data: bytes):
        super().__init__(daemon=True)
        self.sock, self.data, self.error = sock, data, None

    def run(self):
        try:
            self.sock.sendall(self.data)
        except OSError as e:
            self.error = e

    def finish(self, timeout_s: float = 30.0):
        self.join(timeout_s)
        assert not self.is_alive(), "sender still blocked"


# ------------------------------------------------------------------------------------------
# Slow clients.

@dataclass
class SlowClient:
    sock: socket.socket
    payload: bytes
    sent: int = 0
    received: bytearray = field(default_factory=bytearray)
    closed: bool = False
    sent_when_closed: int | None = None   # payload bytes sent when the server closed

    @property
    def finished_payload(self) -> bool:
        return self.sent >= len(self.payload)


class Trickler(threading.Thread):
    """`count` clients connected to `port`, each sending `prefix` at once and then
    `payload` one byte every `interval_s` (a slowloris), reading whatever comes back.

    It runs for `duration_s` or until every client is closed or done, then closes the
    clients that are still open. Runs in a thread so that the test can act meanwhile.
    """

    def __init__(self, port: int, count: int, payload: bytes, *, prefix: bytes = b"",
                 interval_s: float = 1.0, duration_s: float = 10.0, source_ip: str = HOST):
        super().__init__(daemon=True)
        self.interval_s, self.duration_s = interval_s, duration_s
        self.clients = [SlowClient(s, payload) for s in open_many(port, count, source_ip)]
        self.prefix = prefix
        self.started_ticking = threading.Event()
        self.stop_requested = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        try:
            self._run()
        except BaseException as e:  # reported by finish()
            self.error = e
        finally:
            close_all(c.sock for c in self.clients)

    def _run(self):
        selector = selectors.DefaultSelector()
        for c in self.clients:
            if self.prefix:
                c.sock.sendall(self.prefix)
            c.sock.setblocking(False)
            selector.register(c.sock, selectors.EVENT_READ, c)
        self.started_ticking.set()
        end = time.monotonic() + self.duration_s
        next_tick = time.monotonic()
        while time.monotonic() < end and not self.stop_requested.is_set():
            if all(c.closed or c.finished_payload for c in self.clients):
                break
            now = time.monotonic()
            if now >= next_tick:
                for c in self.clients:
                    self._send_one(c, selector)
                next_tick = now + self.interval_s
            for key, _ in selector.select(timeout=max(0.0, min(next_tick, end) - time.monotonic())):
                self._read(key.data, selector)
        selector.close()

    def _send_one(self, c: SlowClient, selector):
        if c.closed or c.finished_payload:
            return
        try:
            c.sock.send(c.payload[c.sent:c.sent + 1])
            c.sent += 1
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self._mark_closed(c, selector)

    def _read(self, c: SlowClient, selector):
        try:
            chunk = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if chunk:
            c.received += chunk
        else:
            self._mark_closed(c, selector)

    def _mark_closed(self, c: SlowClient, selector):
        if not c.closed:
            c.closed = True
            c.sent_when_closed = c.sent
            selector.unregister(c.sock)

    def open_count(self) -> int:
        return sum(1 for c in self.clients if not c.closed)

    def finish(self, timeout_s: float | None = None):
        self.join(timeout_s if timeout_s is not None else self.duration_s + 10)
        assert not self.is_alive(), "trickler did not end"
        if self.error:
            raise self.error


# ------------------------------------------------------------------------------------------
# IMAP on the wire, for what imaplib will not send (4 GB literals, 1 MiB lines, garbage)
# and for reading answers exactly as they come.

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


# Clear-text logins on the imap and pop3 listeners (a lab option, docs/configuration.md
# `auth_without_tls`), so that the abusive raw-socket clients need no TLS. The
# well-behaved clients still use STARTTLS / STLS.
def plaintext_login(*roles: str) -> dict[str, dict]:
    return {role: {"auth_without_tls": True} for role in roles}


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
