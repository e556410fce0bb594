"""Crash safety of the IMAP store: kill -9 mailsim-server during APPEND and EXPUNGE.

Client threads APPEND distinct messages (a unique token in the Message-ID) and expunge
messages they appended earlier, without pause, over IMAP; the test kills the server with
SIGKILL at random moments (seeded, printed) and restarts it on the same Maildir and ports.
Each client keeps a ledger of what the server acknowledged: an APPEND with its tagged OK
and APPENDUID, an expunge with the tagged OK of UID EXPUNGE.

The promises checked after every restart (issue 6 §4, DESIGN.md "Data at rest"):
- UIDVALIDITY never changes, and UIDNEXT never goes backwards;
- every acknowledged APPEND that was not expunged is there, byte for byte, under the UID
  its APPENDUID gave; no UID ever names another message;
- no acknowledged expunge is undone (an UID EXPUNGE whose answer the crash swallowed may
  have happened or not).

Environment: MAILSIM_SERVER (the binary), MAILSIM_CRASH_SEED (reproduce a run),
MAILSIM_IMAP_CRASH_KILLS (default 25).
"""

from __future__ import annotations

import imaplib
import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from mailsim_harness import (  # noqa: E402
    HOST, ServerProcess, cheap_pbkdf2_hash, crlf, server_binary)

KILLS = int(os.environ.get("MAILSIM_IMAP_CRASH_KILLS", "25"))
CLIENTS = 2
KILL_DELAY_S = (0.05, 0.4)
TIME_BUDGET_S = 90.0
SOCKET_TIMEOUT_S = 5.0
USER = "crash@crash.test"
PASSWORD = "crash-test-password"
TOKEN_RE = re.compile(rb"Message-ID: <([A-Za-z0-9.-]+)@crash\.test>")
APPENDUID_RE = re.compile(rb"APPENDUID (\d+) (\d+)")


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    appended: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # token -> uid, bytes
    expunged: set[str] = field(default_factory=set)
    # UID EXPUNGE sent but not answered (the server died): either outcome is right.
    expunge_unknown: set[str] = field(default_factory=set)
    uidvalidity: int | None = None


class Gate:
    """Lets the checker stop the clients between two operations, so that what it reads and
    the ledger describe the same moment."""

    def __init__(self, clients: int):
        self.cv = threading.Condition()
        self.paused = False
        self.idle = 0
        self.clients = clients

    def checkpoint(self):
        with self.cv:
            if not self.paused:
                return
            self.idle += 1
            self.cv.notify_all()
            while self.paused:
                self.cv.wait(0.1)
            self.idle -= 1

    def pause(self, timeout_s: float = 20.0):
        with self.cv:
            self.paused = True
            end = time.monotonic() + timeout_s
            while self.idle < self.clients and time.monotonic() < end:
                self.cv.wait(0.1)
            assert self.idle == self.clients, "clients did not pause"

    def resume(self):
        with self.cv:
            self.paused = False
            self.cv.notify_all()


def make_message(client: int, seq: int, rng: random.Random) -> tuple[str, bytes]:
    token = f"c{client}.s{seq}.{rng.getrandbits(32):08x}"
    body = "".join(f"line {i} of {token}\n" for i in range(rng.randint(1, 200)))
    return token, crlf(f"From: crash@crash.test\nSubject: {token}\n"
                       f"Message-ID: <{token}@crash.test>\n\n{body}")


def client_loop(client: int, port: int, ledger: Ledger, stop: threading.Event, gate: Gate,
                seed: int):
    """APPENDs, and now and then expunges one of its own acknowledged messages."""
    rng = random.Random(seed * 100 + client)
    seq = 0
    while not stop.is_set():
        gate.checkpoint()
        try:
            m = imaplib.IMAP4(HOST, port, timeout=SOCKET_TIMEOUT_S)
            m.login(USER, PASSWORD)
            m.select("INBOX")
            while not stop.is_set():
                gate.checkpoint()
                seq += 1
                if seq % 4 == 0:
                    expunge_one(m, client, ledger, rng)
                    continue
                token, data = make_message(client, seq, rng)
                typ, resp = m.append("INBOX", None, None, data)
                found = APPENDUID_RE.search(resp[0] or b"")
                if typ == "OK" and found:
                    with ledger.lock:
                        ledger.appended[token] = (int(found.group(2)), data)
        except (OSError, imaplib.IMAP4.error, EOFError):
            time.sleep(0.02)  # the server is down or restarting


def expunge_one(m: imaplib.IMAP4, client: int, ledger: Ledger, rng: random.Random):
    with ledger.lock:
        mine = sorted(t for t in ledger.appended
                      if t.startswith(f"c{client}.") and t not in ledger.expunged)
    if not mine:
        return
    token = rng.choice(mine)
    uid = ledger.appended[token][0]
    typ, _ = m.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
    if typ != "OK":
        return
    with ledger.lock:
        ledger.expunge_unknown.add(token)
    typ, _ = m.uid("EXPUNGE", str(uid))
    if typ == "OK":
        with ledger.lock:
            ledger.expunged.add(token)
            ledger.expunge_unknown.discard(token)


def check(port: int, ledger: Ledger, last_uidnext: int) -> int:
    """Reads the whole mailbox and checks the ledger; returns UIDNEXT."""
    m = imaplib.IMAP4(HOST, port, timeout=SOCKET_TIMEOUT_S * 4)
    m.login(USER, PASSWORD)
    typ, data = m.select("INBOX")
    assert typ == "OK", data
    uidvalidity = int(m.response("UIDVALIDITY")[1][0])
    uidnext = int(m.response("UIDNEXT")[1][0])
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert typ == "OK", data
    m.logout()
    by_token: dict[str, tuple[int, bytes]] = {}
    for item in data:
        if not isinstance(item, tuple):
            continue
        uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
        found = TOKEN_RE.search(item[1])
        assert found, f"message UID {uid} without a token: {item[1][:200]!r}"
        by_token[found.group(1).decode()] = (uid, item[1])
    with ledger.lock:
        if ledger.uidvalidity is None:
            ledger.uidvalidity = uidvalidity
        assert uidvalidity == ledger.uidvalidity, "UIDVALIDITY changed after a crash"
        assert uidnext >= last_uidnext, f"UIDNEXT went back: {last_uidnext} -> {uidnext}"
        for token in list(ledger.expunge_unknown):
            if token not in by_token:  # it did happen before the crash
                ledger.expunged.add(token)
                ledger.expunge_unknown.discard(token)
        for token, (uid, data) in ledger.appended.items():
            if token in ledger.expunged:
                assert token not in by_token, f"acknowledged expunge of {token} undone"
                continue
            assert token in by_token, f"acknowledged APPEND of {token} (UID {uid}) lost"
            assert by_token[token] == (uid, data), f"{token}: other UID or other bytes"
        assert all(uid < uidnext for uid, _ in by_token.values())
    return uidnext


def test_kill_9_during_append_and_expunge(tmp_path, tls_files=None):
    seed = int(os.environ.get("MAILSIM_CRASH_SEED", str(random.randrange(1 << 30))))
    print(f"imap crash test: MAILSIM_CRASH_SEED={seed}")
    rng = random.Random(seed)
    server = ServerProcess(workdir=tmp_path / "server", cert=None, key=None,
                           users={USER: cheap_pbkdf2_hash(PASSWORD)}, domains=["crash.test"],
                           roles=("smtp", "imap"), binary=server_binary(), log_level="info",
                           # No certificate: a lab listener taking LOGIN in clear text.
                           listener_options={"imap": {"auth_without_tls": True}})
    server.start()
    ledger = Ledger()
    stop = threading.Event()
    gate = Gate(CLIENTS)
    threads = [threading.Thread(target=client_loop,
                                args=(c, server.ports["imap"], ledger, stop, gate, seed),
                                daemon=True)
               for c in range(CLIENTS)]
    for t in threads:
        t.start()
    uidnext = 1
    kills = 0
    started = time.monotonic()
    try:
        while kills < KILLS and time.monotonic() - started < TIME_BUDGET_S:
            time.sleep(rng.uniform(*KILL_DELAY_S))
            server.kill()
            kills += 1
            server.start(keep_ports=True)
            gate.pause()
            uidnext = check(server.ports["imap"], ledger, uidnext)
            gate.resume()
    finally:
        stop.set()
        gate.resume()
        for t in threads:
            t.join(timeout=10)
        server.stop()
    print(f"imap crash test: {kills} kills, {len(ledger.appended)} appends acknowledged, "
          f"{len(ledger.expunged)} expunges acknowledged, final UIDNEXT {uidnext}")
    assert kills >= min(KILLS, 5)
    assert len(ledger.appended) > 0 and len(ledger.expunged) > 0

