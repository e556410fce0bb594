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

Adding a protocol: the SMTP cases live in test_smtp_*.py. IMAP cases (4 GB literals
announced, literal floods, slow IDLE clients) and MIME cases (nesting 200 deep, broken
base64 / quoted-printable) go in test_imap_*.py and test_mime_*.py next to them; the
CMakeLists.txt registers every test_*.py as its own ctest. What they need is here already
and does not speak SMTP: `MemoryBound`, `Trickler` (N clients that send one byte at a time
to any port), `Sender` (pipelines a stream while the test reads), `open_many`,
`read_until_closed`, `wait_for`, `wait_for_idle`. An IMAP well-behaved client would sit
beside `send_mail`; MIME cases arrive over SMTP and can reuse it as it is.

Every socket has a timeout, every wait a deadline, and only 127.0.0.0/8 is used (clients
bind to 127.0.x.y source addresses to look like distinct hosts: Linux routes the whole
block to the loopback interface).
"""

from __future__ import annotations

import selectors
import smtplib
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mailsim_harness import HOST, ServerProcess, crlf

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


def allowance_kib(connections: int = 0, message_bytes: int = 0) -> int:
    """The growth a test allows over the warm baseline: slack, live sessions, and for a
    test that stores messages, the copies of one message the server may hold at once (the
    session's buffer, growing by doubling, and the store's copy: 3x)."""
    return SLACK_KIB + connections * PER_CONNECTION_KIB + 3 * message_bytes // 1024


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


def assert_survived(server: ServerProcess, bound: MemoryBound) -> int:
    """After an attack: alive, served, under the memory bound. Returns the peak RSS."""
    assert server.running, f"server died: exit {server.proc.poll() if server.proc else None}"
    send_mail(server)
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
