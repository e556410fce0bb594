"""Test harness for driving a real mailsim-server process from pytest.

The e2e suite (tests/e2e) and the crash-safety test (tests/integration) share it. It knows
how to write a config file, start the server on free loopback ports, wait until it listens,
stop it (SIGTERM, then SIGKILL after a deadline), read its JSON log, read what it delivered
into the Maildir, and speak raw SMTP where smtplib cannot (BDAT, odd addresses, limits).

Everything here is bounded: every socket has a timeout, every wait has a deadline, and a
server that does not stop by itself is killed. Only 127.0.0.1 is ever used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
SOCKET_TIMEOUT_S = 10.0

# The users of the default test config, all with the same synthetic password.
PASSWORD = "correct horse battery staple"
USERS = ["alice@example.test", "bob@example.test", "carol@example.test", "josé@example.test"]


def server_binary() -> Path:
    """The server under test: $MAILSIM_SERVER, else the dev preset's build output."""
    configured = os.environ.get("MAILSIM_SERVER")
    path = Path(configured) if configured else REPO_ROOT / "build/dev/bin/mailsim-server"
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


# ------------------------------------------------------------------------------------------
# Secrets and certificates made once per test session.

def cheap_pbkdf2_hash(password: str, iterations: int = 4096) -> str:
    """A "$pbkdf2-sha256$i=N$salt$hash" string the server verifies, at a test-friendly cost.

    The server's default cost (600,000 iterations) takes about a quarter second per login;
    4096 is the RFC 7677 minimum and is plenty for synthetic test passwords.
    """
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations, dklen=32)
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731 (standard, padded)
    return f"$pbkdf2-sha256$i={iterations}${b64(salt)}${b64(key)}"


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throw-away RSA certificate for 127.0.0.1 / localhost, made with the openssl CLI."""
    directory.mkdir(parents=True, exist_ok=True)
    cert = directory / "test.crt"
    key = directory / "test.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
         "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


# ------------------------------------------------------------------------------------------
# A small YAML writer: the test configs are plain mappings, lists and scalars.

def _yaml_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string is a valid YAML double-quoted scalar (same escapes).
    return json.dumps(str(value), ensure_ascii=False)


def to_yaml(value, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for key, item in value.items():
            head = f"{pad}{_yaml_scalar(key) if not _plain_key(key) else key}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head + "\n" + to_yaml(item, indent + 2))
            else:
                out.append(head + " " + (_yaml_scalar(item) if not isinstance(item, (dict, list))
                                         else ("{}" if isinstance(item, dict) else "[]")) + "\n")
        return "".join(out)
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and item:
                text = to_yaml(item, indent + 2)
                out.append(pad + "- " + text[indent + 2:])
            else:
                out.append(pad + "- " + _yaml_scalar(item) + "\n")
        return "".join(out)
    return pad + _yaml_scalar(value) + "\n"


def _plain_key(key) -> bool:
    return isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) is not None


# ------------------------------------------------------------------------------------------
# Ports.

def _ephemeral_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A port nobody listens on, for the server to bind moments later (a race that
    ServerProcess.start() survives by retrying with new ports).

    It comes from outside the kernel's ephemeral range, so that no client socket ever gets
    it as its own local port: a client connecting to a port whose server is down (between a
    kill and a restart) could otherwise connect to itself (TCP simultaneous open) and hold
    the port the server is about to bind.
    """
    low, high = _ephemeral_port_range()
    choices = [(10000, low - 1), (high + 1, 65535)]
    choices = [(a, b) for a, b in choices if b - a >= 1000]
    rng = random.SystemRandom()
    for _ in range(100 if choices else 0):
        a, b = rng.choice(choices)
        port = rng.randint(a, b)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def free_ports(count: int) -> list:
    """`count` distinct free ports: two calls of free_port() can give the same one, which
    the server's config check refuses for two listeners."""
    ports = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


# ------------------------------------------------------------------------------------------
# Maildir contents.

@dataclass
class Delivered:
    """One Maildir file split into the trace block the server prepends and the message."""
    path: Path
    raw: bytes
    return_path: bytes       # the address between the angle brackets
    received: bytes          # the whole Received field, folds included
    body: bytes              # everything after the trace block: the message as sent

    @property
    def received_for(self) -> bytes | None:
        m = re.search(rb"\r\n\tfor <([^>]*)>;", self.received)
        return m.group(1) if m else None

    @property
    def received_with(self) -> bytes | None:
        m = re.search(rb" with ([A-Z0-9]+)", self.received)
        return m.group(1) if m else None


def split_trace(path: Path, raw: bytes) -> Delivered:
    """Parses "Return-Path: <...>CRLF" and a folded "Received: ..." field off a file."""
    m = re.match(rb"Return-Path: <([^>\r\n]*)>\r\n", raw)
    if not m:
        raise AssertionError(f"{path}: does not start with a Return-Path line: {raw[:80]!r}")
    pos = m.end()
    if not raw.startswith(b"Received: ", pos):
        raise AssertionError(f"{path}: no Received field after Return-Path: {raw[pos:pos + 80]!r}")
    end = raw.find(b"\r\n", pos)
    while end != -1 and raw[end + 2:end + 3] in (b"\t", b" "):
        end = raw.find(b"\r\n", end + 2)
    if end == -1:
        raise AssertionError(f"{path}: unterminated Received field")
    received = raw[pos:end + 2]
    return Delivered(path, raw, m.group(1), received, raw[end + 2:])


def delivery_order(path: Path) -> tuple[int, int]:
    """Sort key of a Maildir file name in the order the server delivered: its seconds, then
    the process's counter Q<n>. The names themselves do not sort (M<usec> is not padded)."""
    m = re.match(r"(\d+)\..*Q(\d+)", path.name)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def escape_path_component(name: str) -> str:
    """The server's mapping of a name to one directory name (see maildir_layout.hpp)."""
    out = []
    raw = name.encode("utf-8")
    if not raw:
        return "%"
    for i, byte in enumerate(raw):
        ch = chr(byte)
        keep = byte < 0x80 and (ch.isalnum() or ch in "-_+=.~")
        if keep and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


# ------------------------------------------------------------------------------------------
# The server process.

class ServerStartError(RuntimeError):
    pass


@dataclass
class ServerProcess:
    """A mailsim-server with its own folder, config, ports, Maildir root and log file."""
    workdir: Path
    cert: Path | None
    key: Path | None
    users: dict[str, str]                  # address -> password hash
    quotas: dict[str, str] = field(default_factory=dict)   # address -> size ("100KiB")
    aliases: dict[str, object] = field(default_factory=dict)
    domains: list[str] = field(default_factory=lambda: ["example.test"])
    catch_all: dict[str, str] = field(default_factory=dict)
    limits: dict[str, object] = field(default_factory=dict)
    smtp: dict[str, object] = field(default_factory=dict)
    delivery: dict[str, object] = field(default_factory=dict)
    queue: dict[str, object] = field(default_factory=dict)  # the outbound queue: section
    dns: dict[str, object] = field(default_factory=dict)    # the resolver: section
    listen_address: str = HOST  # another 127.x address makes it one more "host"
    extra: dict[str, object] = field(default_factory=dict)  # more top-level sections
    roles: tuple[str, ...] = ("smtp", "submission", "submissions")
    listener_options: dict[str, dict] = field(default_factory=dict)  # role -> extra keys
    hostname: str = "mx.example.test"
    log_level: str = "debug"               # debug also logs every 2xx/3xx reply
    binary: Path = field(default_factory=server_binary)

    proc: subprocess.Popen | None = None
    ports: dict[str, int] = field(default_factory=dict)
    starts: int = 0

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.maildir_root = self.workdir / "maildir"
        self.state_dir = self.workdir / "state"
        self.log_path = self.workdir / "server.log"
        self.config_path = self.workdir / "mailsim.yaml"
        self._log_offset = 0

    # -- config ----------------------------------------------------------------------------

    def config(self) -> dict:
        limits = {"shutdown_grace": "5s", "command_timeout": "30s", "data_timeout": "30s"}
        limits.update(self.limits)
        cfg: dict = {
            "server": {
                "hostname": self.hostname,
                "state_dir": str(self.state_dir),
                "maildir_root": str(self.maildir_root),
                "log": {"file": str(self.log_path), "level": self.log_level},
            },
            "listeners": [
                {"name": role, "role": role, "address": self.listen_address,
                 "port": self.ports[role], **self.listener_options.get(role, {})}
                for role in self.roles
            ],
        }
        if self.cert is not None:
            cfg["tls"] = {"certificate": str(self.cert), "private_key": str(self.key)}
        cfg["domains"] = list(self.domains)
        cfg["users"] = [{"address": a, "password_hash": h,
                         **({"quota": self.quotas[a]} if a in self.quotas else {})}
                        for a, h in self.users.items()]
        aliases = {f"postmaster@{d}": next(iter(self.users)) for d in self.domains}
        aliases.update(self.aliases)
        cfg["aliases"] = aliases
        if self.catch_all:
            cfg["catch_all"] = dict(self.catch_all)
        cfg["limits"] = limits
        if self.smtp:
            cfg["smtp"] = dict(self.smtp)
        if self.delivery:
            cfg["delivery"] = dict(self.delivery)
        if self.queue:
            cfg["queue"] = dict(self.queue)
        if self.dns:
            cfg["dns"] = dict(self.dns)
        cfg.update(self.extra)
        return cfg

    def write_config(self) -> Path:
        self.config_path.write_text(to_yaml(self.config()), encoding="utf-8")
        return self.config_path

    # -- life cycle ------------------------------------------------------------------------

    @property
    def mx_port(self) -> int:
        return self.ports["smtp"]

    @property
    def submission_port(self) -> int:
        return self.ports["submission"]

    @property
    def submissions_port(self) -> int:
        return self.ports["submissions"]

    def start(self, attempts: int = 5, timeout_s: float = 15.0, keep_ports: bool = False):
        """Starts the server and waits until every listener is up (its "listening" lines).

        Fresh ports are picked for each attempt, so a port taken between free_port() and
        the server's bind() only costs a retry. keep_ports restarts on the same ports (the
        crash test), retrying while the old socket is still around.
        """
        assert self.proc is None, "already running"
        last_error = ""
        for attempt in range(attempts):
            if not keep_ports or not self.ports:
                self.ports = dict(zip(self.roles, free_ports(len(self.roles))))
            self.write_config()
            self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            self.starts += 1
            out = open(self.workdir / f"stdout.{self.starts}", "wb")
            err = open(self.workdir / f"stderr.{self.starts}", "wb")
            try:
                self.proc = subprocess.Popen(
                    [str(self.binary), "--config", str(self.config_path)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=self.workdir)
            finally:
                out.close()
                err.close()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                listening = [e for e in self.new_log_events() if e.get("event") == "listening"]
                if len(listening) >= len(self.roles):
                    return self
                time.sleep(0.02)
            if self.proc.poll() is None:  # alive but silent: give up on it
                self.kill()
                raise ServerStartError(f"server did not listen within {timeout_s}s; "
                                       f"log: {self.log_text()[-2000:]}")
            stderr = (self.workdir / f"stderr.{self.starts}").read_text(errors="replace")
            last_error = f"exit {self.proc.returncode}: {stderr.strip()}"
            self.proc = None
            if "cannot listen" not in stderr:
                raise ServerStartError(last_error)
            time.sleep(0.2 * (attempt + 1))
        raise ServerStartError(f"could not start after {attempts} attempts; last: {last_error}")

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after timeout_s; returns the exit code (None if not run)."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL: the crash the durability promise has to survive."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        return proc.returncode

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- log -------------------------------------------------------------------------------

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") \
            if self.log_path.exists() else ""

    def log_events(self) -> list[dict]:
        """Every complete JSON line of the log (all runs)."""
        return _parse_json_lines(self.log_path, 0)

    def new_log_events(self) -> list[dict]:
        """The JSON lines written since the last start()."""
        return _parse_json_lines(self.log_path, self._log_offset)

    # -- Maildir ---------------------------------------------------------------------------

    def maildir(self, address: str) -> Path:
        local, _, domain = address.rpartition("@")
        return (self.maildir_root / escape_path_component(domain.lower())
                / escape_path_component(local) / "Maildir")

    def delivered(self, address: str) -> list[Delivered]:
        """The messages in the user's new/, in delivery order."""
        new = self.maildir(address) / "new"
        if not new.is_dir():
            return []
        return [split_trace(p, p.read_bytes()) for p in sorted(new.iterdir(), key=delivery_order)]

    def all_files(self, subdir: str | None = None) -> list[Path]:
        """Every message file under the Maildir root (in new/ cur/ tmp/, or just `subdir`)."""
        if not self.maildir_root.exists():
            return []
        names = (subdir,) if subdir else ("new", "cur", "tmp")
        return sorted(p for p in self.maildir_root.rglob("*")
                      if p.is_file() and p.parent.name in names
                      and p.parent.parent.name == "Maildir")


def _parse_json_lines(path: Path, offset: int) -> list[dict]:
    if not path.exists():
        return []
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    events = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            # A line still being written, or one cut short by a SIGKILL with the next run's
            # first line appended to it: keep the complete object at the end, if any.
            pos = line.find(b'{"', 1)
            while pos != -1:
                try:
                    events.append(json.loads(line[pos:]))
                    break
                except ValueError:
                    pos = line.find(b'{"', pos + 1)
    return events


# ------------------------------------------------------------------------------------------
# Raw SMTP, for what smtplib cannot send (BDAT, odd addresses) and for watching replies.

class SmtpReplyError(AssertionError):
    pass


class RawSmtp:
    """A minimal blocking SMTP client over a plain socket (or an already wrapped one)."""

    def __init__(self, port: int, host: str = HOST, timeout_s: float = SOCKET_TIMEOUT_S,
                 sock: socket.socket | None = None, read_greeting: bool = True):
        self.sock = sock or socket.create_connection((host, port), timeout=timeout_s)
        self.sock.settimeout(timeout_s)
        self.buffer = b""
        self.greeting = self.reply() if read_greeting else None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; unread: {self.buffer!r}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def reply(self) -> tuple[int, str]:
        """One (possibly multi-line) reply: (code, text lines joined by newlines)."""
        lines = []
        while True:
            line = self._line()
            if len(line) < 3 or not line[:3].isdigit():
                raise SmtpReplyError(f"malformed reply line {line!r}")
            lines.append(line[4:].decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(lines)

    def cmd(self, line: str | bytes) -> tuple[int, str]:
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply()

    def expect(self, line: str | bytes, code: int) -> str:
        got, text = self.cmd(line)
        if got != code:
            raise SmtpReplyError(f"{line!r}: expected {code}, got {got} {text}")
        return text

    def read_until_closed(self) -> bytes:
        """Whatever the server still sends, until it closes (or the socket times out)."""
        data = self.buffer
        self.buffer = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk


# ------------------------------------------------------------------------------------------
# Messages.

def crlf(text: str) -> bytes:
    """A message written with "\\n" in the test, as CRLF bytes on the wire."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def queue_id(reply_text: str) -> str | None:
    m = re.search(r"queued as (\S+)", reply_text)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------------
# Real clients.

def run_fetchmail(workdir: Path, proto: str, port: int, user: str, cafile: Path
                  ) -> tuple[int, str, list[bytes]]:
    """Runs fetchmail once against HOST:port with `proto` (POP3 or IMAP) over STARTTLS/STLS
    with certificate checks against `cafile`, delivering each message into a file of its own.
    Returns fetchmail's exit status, its verbose log and the fetched messages."""
    out = workdir / "fetched"
    out.mkdir()
    rc = workdir / "fetchmailrc"
    rc.write_text(
        f'poll {HOST} with proto {proto} port {port}\n'
        f'  user "{user}" there with password "{PASSWORD}"\n'
        f'  sslproto "TLS1.2+" sslcertck sslcertfile "{cafile}" sslcommonname "localhost"\n'
        f'  mda "/bin/sh -c \'cat > {out}/msg.$$\'"\n')
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(workdir), FETCHMAILHOME=str(workdir))
    # As root fetchmail locks /var/run/fetchmail.pid whatever FETCHMAILHOME says, so tests
    # that ctest runs side by side would collide: each run gets its own lock.
    run = subprocess.run(["fetchmail", "-f", str(rc), "--nosyslog", "-v",
                          "--pidfile", str(workdir / "fetchmail.pid")], env=env,
                         capture_output=True, timeout=60)
    log = (run.stdout + run.stderr).decode(errors="replace")
    return run.returncode, log, sorted(p.read_bytes() for p in out.iterdir())
