"""Raw sockets for the abusive clients of the robustness suite, and the waits that follow.

Offers `connect`, `open_many` (many connections from one 127.x source address),
`close_all` (optionally with a reset), `read_line`, `read_until_closed`, `reply_codes`
(the final lines of SMTP replies), `Sender` (pipelines a stream from a thread while the
test reads), `Trickler` (N slowloris clients sending one byte at a time to any port),
`wait_for` / `wait_for_idle` (deadline-bound polling) and `plaintext_login` (listener
options that let the raw clients log in without TLS).

Every socket has a timeout (SOCKET_TIMEOUT_S), every wait a deadline, and only
127.0.0.0/8 is used (clients bind to 127.0.x.y source addresses to look like distinct
hosts: Linux routes the whole block to the loopback interface).
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from mailsim_harness import HOST, ServerProcess

SOCKET_TIMEOUT_S = 10.0

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
# Clear-text listeners.

# Clear-text logins on the imap and pop3 listeners (a lab option, docs/configuration.md
# `auth_without_tls`), so that the abusive raw-socket clients need no TLS. The
# well-behaved clients still use STARTTLS / STLS.
def plaintext_login(*roles: str) -> dict[str, dict]:
    return {role: {"auth_without_tls": True} for role in roles}
