"""Crash safety: kill -9 mailsim-server while clients send; nothing acknowledged is lost.

Several client threads send distinct messages (a unique token in the Message-ID, sizes
from 1 KiB to 64 KiB, DATA and BDAT, one or two recipients) to the MX port without pause.
The test kills the server with SIGKILL at random moments (seeded, printed) and restarts it
on the same Maildir and ports, many times, switching between the three durability modes
(a journal record per batch, one syncfs per batch, or fsync per file) from one run to the
next. Each client keeps an exact ledger: a message is
acknowledged only when its 250 reply was read; when the connection dies after the final
"." (or BDAT LAST) was sent and before the reply, the outcome is unknown and the client
sends the same message again, as an MTA would.

The promise checked (DESIGN.md, "Data at rest"): a 250 is given only after every copy is
durable, so
- after every crash, every message acknowledged so far is in each recipient's new/;
- every file in new/ is a complete message, byte-identical after the trace headers to one
  that was sent (the store writes in tmp/ and renames);
- the files a crash leaves in tmp/ are gone once the server has started again: complete
  ones (their bytes match the checksum in their name) moved into new/, the rest deleted;
- the journal has nothing to write again (SIGKILL keeps the page cache: every copy it holds
  is still in tmp/, new/ or cur/; power loss is what it is for, see the store's tests);
- a message is stored more often than once per recipient only when a 250 was lost (an
  unknown outcome followed by a resend); those duplicates are counted and reported.

Environment: MAILSIM_SERVER (the binary), MAILSIM_CRASH_SEED (reproduce a run),
MAILSIM_CRASH_KILLS (default 50), MAILSIM_CRASH_CLIENTS (default 4).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from mailsim_harness import (  # noqa: E402
    RawSmtp, ServerProcess, SmtpReplyError, cheap_pbkdf2_hash, server_binary, split_trace)

KILLS = int(os.environ.get("MAILSIM_CRASH_KILLS", "50"))
CLIENTS = int(os.environ.get("MAILSIM_CRASH_CLIENTS", "4"))
KILL_DELAY_S = (0.05, 0.5)
SIZE_BYTES = (1024, 64 * 1024)
TIME_BUDGET_S = 90.0
SOCKET_TIMEOUT_S = 5.0
DOMAIN = "crash.test"
USERS = [f"user{i}@{DOMAIN}" for i in range(4)]
DURABILITY_MODES = ("journal", "syncfs", "fsync_each")
TOKEN_RE = re.compile(rb"\r\nMessage-ID: <([A-Za-z0-9.-]+)@crash\.test>\r\n")


@dataclass
class Message:
    token: str
    recipients: list[str]
    data: bytes
    bdat: bool
    attempts: int = 0       # transactions begun
    unknown: int = 0        # attempts whose final chunk went out but no reply came back
    acked: bool = False
    acked_epoch: int | None = None


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: dict[str, Message] = field(default_factory=dict)
    awaiting_250: int = 0         # transactions between their final chunk and its reply
    unexpected: list[str] = field(default_factory=list)
    timeouts: int = 0
    epoch: int | None = None      # which server run is up (None while it is down)


def text_pool(rng: random.Random) -> list[bytes]:
    """Lines of printable text, some starting with dots, each ending in CRLF."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-_!?()"
    lines = []
    for _ in range(4000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        roll = rng.random()
        if roll < 0.05:
            line = "." + line
        elif roll < 0.07:
            line = ".." + line
        elif roll < 0.08:
            line = "."
        lines.append(line.encode() + b"\r\n")
    return lines


def make_message(rng: random.Random, pool: list[bytes], client: int, seq: int) -> Message:
    token = f"c{client}.m{seq}.{rng.getrandbits(32):08x}"
    recipients = rng.sample(USERS, 2 if rng.random() < 0.2 else 1)
    target = int(SIZE_BYTES[0] * (SIZE_BYTES[1] / SIZE_BYTES[0]) ** rng.random())  # log-uniform
    head = (f"From: client{client}@sender.example\r\n"
            f"To: {', '.join(recipients)}\r\n"
            f"Subject: crash test {token}\r\n"
            f"Message-ID: <{token}@{DOMAIN}>\r\n"
            f"\r\n").encode()
    parts = [head]
    size = len(head)
    i = rng.randrange(len(pool))
    while size < target:
        parts.append(pool[i])
        size += len(pool[i])
        i = (i + 1) % len(pool)
    return Message(token, recipients, b"".join(parts), bdat=rng.random() < 0.3)


def dot_stuff(data: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", data)


def send_one(conn: RawSmtp, msg: Message, ledger: Ledger, rng: random.Random):
    with ledger.lock:
        msg.attempts += 1
    conn.expect("MAIL FROM:<sender@sender.example>", 250)
    for rcpt in msg.recipients:
        conn.expect(f"RCPT TO:<{rcpt}>", 250)
    if msg.bdat:
        cuts = sorted(rng.sample(range(1, len(msg.data)), rng.randint(0, 2)))
        chunks = [msg.data[a:b] for a, b in zip([0] + cuts, cuts + [len(msg.data)])]
        for chunk in chunks[:-1]:
            conn.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            code, text = conn.reply()
            if code != 250:
                raise SmtpReplyError(f"BDAT chunk: {code} {text}")
        final = b"BDAT %d LAST\r\n" % len(chunks[-1]) + chunks[-1]
    else:
        conn.expect("DATA", 354)
        final = dot_stuff(msg.data) + b".\r\n"
    # From here on the server may have the whole message: the outcome is unknown until the
    # reply is read.
    with ledger.lock:
        msg.unknown += 1
        ledger.awaiting_250 += 1
    try:
        conn.send(final)
        code, text = conn.reply()
    finally:
        with ledger.lock:
            ledger.awaiting_250 -= 1
    if code != 250:
        raise SmtpReplyError(f"end of data: {code} {text}")
    with ledger.lock:
        msg.unknown -= 1
        msg.acked = True
        msg.acked_epoch = ledger.epoch


def client_loop(index: int, seed: int, port: int, pool: list[bytes], ledger: Ledger,
                stop: threading.Event):
    rng = random.Random(f"{seed}-client-{index}")
    seq = 0
    pending: Message | None = None
    while not stop.is_set():
        try:
            conn = RawSmtp(port, timeout_s=SOCKET_TIMEOUT_S)
        except OSError:
            time.sleep(0.02)  # the server is down; it comes back soon
            continue
        try:
            if conn.greeting[0] != 220:
                raise SmtpReplyError(f"greeting {conn.greeting}")
            conn.expect(f"EHLO client{index}.sender.example", 250)
            for _ in range(rng.randint(1, 4)):
                if stop.is_set():
                    break
                if pending is None:
                    seq += 1
                    pending = make_message(rng, pool, index, seq)
                    with ledger.lock:
                        ledger.messages[pending.token] = pending
                send_one(conn, pending, ledger, rng)
                pending = None
            if rng.random() < 0.7:
                conn.cmd("QUIT")
        except TimeoutError:
            with ledger.lock:
                ledger.timeouts += 1
        except SmtpReplyError as e:
            # A live server refused something it should accept. Give up on this message
            # (it is not acknowledged) and record the surprise.
            with ledger.lock:
                if ledger.epoch is not None:
                    ledger.unexpected.append(f"client {index}: {e}")
            pending = None
        except (OSError, ConnectionError):
            pass  # the server was killed under us: resend the pending message
        finally:
            conn.close()


class MaildirIndex:
    """What is in new/, read incrementally (files in new/ never change or move here)."""

    def __init__(self, server: ServerProcess, ledger: Ledger):
        self.server = server
        self.ledger = ledger
        self.seen: set[Path] = set()
        self.copies: Counter = Counter()   # (token, recipient) -> files
        self.bad: list[str] = []

    def scan(self):
        for path in self.server.all_files("new"):
            if path in self.seen:
                continue
            self.seen.add(path)
            user_dir = path.parent.parent.parent.name
            recipient = f"{user_dir}@{path.parent.parent.parent.parent.name}"
            raw = path.read_bytes()
            try:
                got = split_trace(path, raw)
            except AssertionError as e:
                self.bad.append(str(e))
                continue
            m = TOKEN_RE.search(got.body)
            with self.ledger.lock:
                msg = self.ledger.messages.get(m.group(1).decode()) if m else None
            if msg is None:
                self.bad.append(f"{path}: not a message that was sent ({len(raw)} bytes)")
                continue
            if got.body != msg.data:
                self.bad.append(f"{path}: {msg.token} differs from what was sent "
                                f"({len(got.body)} bytes stored, {len(msg.data)} sent)")
                continue
            if recipient not in msg.recipients:
                self.bad.append(f"{path}: {msg.token} delivered to {recipient}, "
                                f"not to {msg.recipients}")
            expected_for = msg.recipients[0].encode() if len(msg.recipients) == 1 else None
            if got.received_for != expected_for or got.return_path != b"sender@sender.example":
                self.bad.append(f"{path}: wrong trace headers {got.received!r}")
            self.copies[(msg.token, recipient)] += 1

    def missing(self, tokens) -> list[str]:
        out = []
        with self.ledger.lock:
            messages = [self.ledger.messages[t] for t in tokens]
        for msg in messages:
            for rcpt in msg.recipients:
                if self.copies[(msg.token, rcpt)] == 0:
                    out.append(f"{msg.token} -> {rcpt} (acked in run {msg.acked_epoch}, "
                               f"{msg.attempts} attempts)")
        return out


def acked_tokens(ledger: Ledger) -> list[str]:
    with ledger.lock:
        return [t for t, m in ledger.messages.items() if m.acked]


def test_kill_9_never_loses_an_acknowledged_message(tmp_path, capsys):
    binary = server_binary()
    if not binary.is_file():
        pytest.fail(f"mailsim-server not found at {binary} (build it, or set MAILSIM_SERVER)")
    seed_text = os.environ.get("MAILSIM_CRASH_SEED")
    seed = int(seed_text) if seed_text else random.SystemRandom().randrange(2**32)
    how = f"seed {seed}; reproduce with MAILSIM_CRASH_SEED={seed}"
    with capsys.disabled():
        print(f"\ncrash_safety: {how}, {KILLS} kills, {CLIENTS} clients", flush=True)
    rng = random.Random(seed)
    pool = text_pool(random.Random(f"{seed}-pool"))

    password_hash = cheap_pbkdf2_hash("unused")
    server = ServerProcess(workdir=tmp_path / "server", cert=None, key=None,
                           users={u: password_hash for u in USERS}, domains=[DOMAIN],
                           roles=("smtp",), log_level="info", binary=binary,
                           limits={"shutdown_grace": "10s", "command_timeout": "30s"})
    ledger = Ledger()
    index = MaildirIndex(server, ledger)
    stop = threading.Event()
    started = time.monotonic()
    server.start()
    ledger.epoch = server.starts
    threads = [threading.Thread(target=client_loop, name=f"client-{i}", daemon=True,
                                args=(i, seed, server.mx_port, pool, ledger, stop))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()

    kills = 0
    kills_in_flight = 0
    crash_tmp_files = 0
    problems: list[str] = []
    try:
        while kills < KILLS:
            if time.monotonic() - started > TIME_BUDGET_S:
                problems.append(f"time budget of {TIME_BUDGET_S}s spent after {kills} kills")
                break
            time.sleep(rng.uniform(*KILL_DELAY_S))
            with ledger.lock:
                in_flight = ledger.awaiting_250
                ledger.epoch = None
            server.kill()
            kills += 1
            kills_in_flight += in_flight > 0
            # The server is dead: whatever it acknowledged must be in new/ now.
            tmp_left = server.all_files("tmp")
            crash_tmp_files += len(tmp_left)
            index.scan()
            missing = index.missing(acked_tokens(ledger))
            if missing:
                problems.append(f"after kill {kills}: acknowledged but missing: {missing[:10]}")
                break
            server.delivery = {"durability": rng.choice(DURABILITY_MODES)}
            server.start(keep_ports=True)
            with ledger.lock:
                ledger.epoch = server.starts
            survivors = [p for p in tmp_left if p.exists()]
            if survivors:
                problems.append(f"after restart {kills}: tmp/ files of the crashed run "
                                f"were not cleaned: {survivors[:5]}")
        time.sleep(1.0)  # a last stretch of traffic on the final run
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        rc = server.stop(timeout_s=20)
    elapsed = time.monotonic() - started

    assert not any(t.is_alive() for t in threads), f"a client thread hung ({how})"
    assert rc == 0, f"final graceful stop exited {rc} ({how})"
    assert not problems, f"{problems} ({how})"

    index.scan()
    with ledger.lock:
        messages = list(ledger.messages.values())
    acked = [m for m in messages if m.acked]
    missing = index.missing([m.token for m in acked])
    duplicates = []
    unexplained = []
    unacked_delivered = 0
    for m in messages:
        for rcpt in m.recipients:
            n = index.copies[(m.token, rcpt)]
            allowed = (1 if m.acked else 0) + m.unknown
            if n > allowed:
                unexplained.append(f"{m.token} -> {rcpt}: {n} copies, {m.attempts} attempts, "
                                   f"{m.unknown} without reply, acked={m.acked}")
            if n > 1:
                duplicates.append(m.token)
            if n and not m.acked:
                unacked_delivered += 1
    tmp_files = server.all_files("tmp")
    cur_files = server.all_files("cur")
    # Each start reports what it did with the tmp/ files of the run before: completed (bytes
    # matching the checksum in the name: written by a barrier that finished) or removed.
    recovers = [e for e in server.log_events() if e.get("event") == "recover"]
    recovered = sum(e.get("recovered_tmp_files", 0) for e in recovers)
    removed = sum(e.get("removed_tmp_files", 0) for e in recovers)
    replayed = sum(e.get("journal_replayed_files", 0) for e in recovers)
    epochs_with_acks = len({m.acked_epoch for m in acked if m.acked_epoch is not None})
    resent = sum(1 for m in messages if m.attempts > 1)

    summary = (f"crash_safety: {how}; {kills} SIGKILLs ({kills_in_flight} with a transaction "
               f"awaiting its 250), {server.starts} server runs, {elapsed:.1f}s; "
               f"{len(messages)} messages, {len(acked)} acknowledged "
               f"(in {epochs_with_acks} runs), {resent} resent after a crash, "
               f"{len(duplicates)} duplicate copies after a lost 250, "
               f"{unacked_delivered} unacknowledged copies delivered, "
               f"{crash_tmp_files} tmp/ files left by crashes ({recovered} complete and "
               f"moved into new/ at start, {removed} removed, {replayed} rewritten from "
               f"the journal), "
               f"{len(index.seen)} files in new/, {ledger.timeouts} client timeouts")
    with capsys.disabled():
        print(summary, flush=True)

    assert not index.bad, f"corrupt or foreign files in new/: {index.bad[:10]} ({how})"
    assert not missing, f"acknowledged messages missing: {missing[:10]} ({how})"
    assert not unexplained, f"copies without a lost 250 to explain them: {unexplained[:10]} " \
                            f"({how})"
    assert tmp_files == [], f"files left in tmp/ after a clean stop: {tmp_files[:5]} ({how})"
    assert cur_files == [], f"files in cur/ (nobody read them): {cur_files[:5]} ({how})"
    assert not ledger.unexpected, f"unexpected replies: {ledger.unexpected[:10]} ({how})"
    assert recovered + removed == crash_tmp_files, summary
    assert replayed == 0, summary
    # The run must have been a real test: traffic all along and crashes under load.
    assert kills >= 20
    assert len(acked) >= 100, summary
    assert epochs_with_acks >= server.starts // 2, summary
    assert kills_in_flight >= kills // 4, summary
    # Passed: the Maildir is hundreds of megabytes of nothing interesting now.
    shutil.rmtree(server.maildir_root, ignore_errors=True)
