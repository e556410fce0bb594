"""A small scripted SMTP receiver for the loopback-internet tests.

It stands in for a remote mail host that the outbound queue delivers to: it listens on one
loopback address and port (127.x.y.z, so that several "hosts" share a machine), answers with
a script — 421/450/550 at a chosen command, a dropped connection, STARTTLS offered or not —
and records what it received: the client's source address, EHLO name, envelope and message
bytes, per connection. Everything is bounded: socket timeouts, a line-length cap, a message
size cap, a thread per connection and a stop() that closes them all.

Script keys (all optional; a value is a reply line such as "450 4.2.0 try later", or the
word "drop" to close the connection without a reply at that point):
  greeting, EHLO, HELO, MAIL, RCPT, DATA (the 354 step), DOT (the reply to the message),
  STARTTLS. A list value gives one reply per occurrence, the last one repeating:
  {"RCPT": ["450 4.2.0 later", "250 2.1.5 ok"]} defers the first RCPT ever received.
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

LINE_MAX = 4096
MESSAGE_MAX = 16 * 1024 * 1024
SOCKET_TIMEOUT_S = 15.0


@dataclass
class Transaction:
    mail_from: str = ""  # the address inside <>; "" for the null reverse path
    mail_params: str = ""  # what followed it, e.g. "SIZE=123 RET=HDRS"
    rcpt_to: list[str] = field(default_factory=list)
    rcpt_params: list[str] = field(default_factory=list)
    data: bytes = b""


_PATH = re.compile(r"^(?:FROM|TO):\s*<([^>]*)>\s*(.*)$", re.IGNORECASE)


def _split_path(arg: str) -> tuple[str, str]:
    m = _PATH.match(arg)
    return (m.group(1), m.group(2)) if m else (arg, "")


@dataclass
class Connection:
    peer: tuple
    ehlo: str = ""
    tls: bool = False
    commands: list[str] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)


class Receiver:
    """One scripted SMTP host on (host, port); port 0 picks a free one."""

    def __init__(self, host: str, port: int = 0, script: dict | None = None,
                 name: str = "mx.remote.test", tls_context: ssl.SSLContext | None = None):
        self.script = dict(script or {})
        self.name = name
        self.tls_context = tls_context  # STARTTLS is offered only when set
        self.connections: list[Connection] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()

    # -- what tests read ----------------------------------------------------------------------
    def messages(self) -> list[Transaction]:
        """Every transaction that reached an accepted end of DATA."""
        with self._lock:
            return [t for c in self.connections for t in c.transactions if t.data]

    def wait_for_messages(self, count: int, timeout_s: float = 30.0) -> list[Transaction]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.messages()) >= count:
                return self.messages()
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: {len(self.messages())} messages, wanted {count}")

    def wait_for_connections(self, count: int, timeout_s: float = 30.0) -> list[Connection]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.connections) >= count:
                    return list(self.connections)
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: {len(self.connections)} connections, wanted {count}")

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                try:
                    s.close()
                except OSError:
                    pass
        for t in [self._accept_thread, *self._threads]:
            t.join(timeout=5)

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the server side ----------------------------------------------------------------------
    def _reply_for(self, key: str, default: str) -> str:
        with self._lock:
            n = self._counts.get(key, 0)
            self._counts[key] = n + 1
        value = self.script.get(key, default)
        if isinstance(value, list):
            value = value[min(n, len(value) - 1)] if value else default
        return value

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(SOCKET_TIMEOUT_S)
            conn = Connection(peer=peer)
            with self._lock:
                self.connections.append(conn)
                self._sockets.append(sock)
            t = threading.Thread(target=self._serve, args=(sock, conn), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, sock: socket.socket, conn: Connection) -> None:
        try:
            _Session(self, sock, conn).run()
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass


class _Session:
    """One connection: a line-based SMTP state machine driven by the receiver's script."""

    def __init__(self, receiver: Receiver, sock: socket.socket, conn: Connection):
        self.r = receiver
        self.sock = sock
        self.conn = conn
        self.buffer = b""
        self.txn: Transaction | None = None

    def send(self, line: str) -> bool:
        if line == "drop":
            return False
        self.sock.sendall(line.encode() + b"\r\n")
        return True

    def read_line(self) -> bytes | None:
        while b"\r\n" not in self.buffer:
            if len(self.buffer) > LINE_MAX:
                raise ValueError("line too long")
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read_data(self) -> bytes | None:
        # A CRLF in front lets an empty message (".CRLF" at once) end like any other.
        self.buffer = b"\r\n" + self.buffer
        while b"\r\n.\r\n" not in self.buffer:
            if len(self.buffer) > MESSAGE_MAX:
                raise ValueError("message too large")
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        data, self.buffer = self.buffer[2:].split(b"\r\n.\r\n", 1) if not self.buffer.startswith(
            b"\r\n.\r\n") else (b"", self.buffer[5:])
        if not data:
            return b""
        lines = [l[1:] if l.startswith(b".") else l for l in data.split(b"\r\n")]
        return b"\r\n".join(lines) + b"\r\n"

    def run(self) -> None:
        if not self.send(self.r._reply_for("greeting", f"220 {self.r.name} ESMTP test receiver")):
            return
        while True:
            line = self.read_line()
            if line is None:
                return
            text = line.decode("utf-8", "replace")
            self.conn.commands.append(text)
            if not self.command(text):
                return

    def command(self, text: str) -> bool:
        verb = text.split(" ", 1)[0].upper()
        arg = text[len(verb):].strip()
        if verb == "EHLO":
            self.conn.ehlo = arg
            return self.ehlo()
        if verb == "HELO":
            self.conn.ehlo = arg
            return self.send(self.r._reply_for("HELO", f"250 {self.r.name}"))
        if verb == "STARTTLS" and self.r.tls_context is not None and not self.conn.tls:
            if not self.send(self.r._reply_for("STARTTLS", "220 2.0.0 go ahead")):
                return False
            self.buffer = b""  # bytes pipelined before the handshake are not trusted
            self.sock = self.r.tls_context.wrap_socket(self.sock, server_side=True)
            self.conn.tls = True
            return True
        if verb == "MAIL":
            reply = self.r._reply_for("MAIL", "250 2.1.0 ok")
            if reply.startswith("250"):
                address, params = _split_path(arg)
                self.txn = Transaction(mail_from=address, mail_params=params)
            return self.send(reply)
        if verb == "RCPT":
            reply = self.r._reply_for("RCPT", "250 2.1.5 ok")
            if reply.startswith("250") and self.txn is not None:
                address, params = _split_path(arg)
                self.txn.rcpt_to.append(address)
                self.txn.rcpt_params.append(params)
            return self.send(reply)
        if verb == "DATA":
            return self.data()
        if verb == "RSET":
            self.txn = None
            return self.send("250 2.0.0 ok")
        if verb == "NOOP":
            return self.send("250 2.0.0 ok")
        if verb == "QUIT":
            self.send("221 2.0.0 bye")
            return False
        return self.send("502 5.5.1 not implemented here")

    def ehlo(self) -> bool:
        reply = self.r._reply_for("EHLO", "")
        if reply:
            return self.send(reply)
        lines = [self.r.name, "PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 20000000",
                 "DSN", "SMTPUTF8"]
        if self.r.tls_context is not None and not self.conn.tls:
            lines.append("STARTTLS")
        out = [f"250-{l}" for l in lines[:-1]] + [f"250 {lines[-1]}"]
        self.sock.sendall("\r\n".join(out).encode() + b"\r\n")
        return True

    def data(self) -> bool:
        if self.txn is None or not self.txn.rcpt_to:
            return self.send("503 5.5.1 no valid recipients")
        reply = self.r._reply_for("DATA", "354 end with <CRLF>.<CRLF>")
        if not self.send(reply):
            return False
        if not reply.startswith("354"):
            return True
        data = self.read_data()
        if data is None:
            return False
        final = self.r._reply_for("DOT", "250 2.0.0 queued")
        if final.startswith("250"):
            self.txn.data = data
            self.conn.transactions.append(self.txn)
        self.txn = None
        return self.send(final)
