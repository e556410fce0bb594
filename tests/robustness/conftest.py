"""Fixtures for the robustness suite: a real mailsim-server under attack on loopback.

The suite checks four things after (and, where it makes sense, during) each attack:

1. the server process is still alive, and stops with exit code 0 at the end (the
   `make_server` fixture below checks both);
2. its peak resident memory (VmHWM in /proc/<pid>/status) stays under a stated bound:
   the RSS measured after a warm-up plus an allowance that each test justifies from the
   limits it configures (robustness_memory.py);
3. a well-behaved client is still served (robustness_checks.py: smtplib delivers and the
   message is in the Maildir; imaplib and poplib read it back);
4. the abusive client gets the right reply or disconnect. The abusers use raw sockets,
   pipelining senders and slowloris tricklers (robustness_sockets.py) and, for IMAP, a raw
   client with a strict reader of the answers (robustness_imap.py).

`make_server(**options)` starts a server (ServerProcess from tests/e2e/mailsim_harness.py)
with short timeouts, delivers one warm-up message (and, when `roles` include imap or pop3,
runs one well-behaved IMAP or POP3 session, which starts the password-hashing pool and
opens the store) and records the resulting RSS as `server.baseline_kib`, the base of every
memory bound (robustness_memory.MemoryBound). At teardown it checks that the server is
still alive and that SIGTERM stops it with exit 0.

Each protocol's cases live in their own files: SMTP in test_smtp_*.py, IMAP (4 GB
literals announced, literal floods, slowloris, 1 MiB lines, garbage, floods) in
test_imap_*.py, POP3 in test_pop3_*.py, MIME (nesting 200 deep, broken base64 /
quoted-printable, read back over IMAP) in test_mime_*.py. The CMakeLists.txt registers
each test file as its own ctest.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
sys.path.insert(0, str(HERE))

from mailsim_harness import USERS, ServerProcess  # noqa: E402
from harness_fixtures import binary, client_tls, password_hash, tls_files  # noqa: E402,F401
from robustness_checks import check_imap, check_pop3, send_mail  # noqa: E402
from robustness_memory import proc_status_kib  # noqa: E402

# Short enough that a timeout test takes seconds, long enough that a busy 2-core machine
# never times out a well-behaved client by accident. Tests override them where it matters.
DEFAULT_LIMITS = {"command_timeout": "3s", "data_timeout": "3s", "shutdown_grace": "2s"}


@pytest.fixture
def make_server(tmp_path, tls_files, password_hash, binary):
    """Factory: make_server(limits={...}, **ServerProcess fields) -> a started, warmed-up
    ServerProcess with `baseline_kib` set."""
    started: list[ServerProcess] = []

    def make(name: str = "server", **options) -> ServerProcess:
        options.setdefault("users", {u: password_hash for u in USERS})
        options["limits"] = {**DEFAULT_LIMITS, **options.get("limits", {})}
        # info, not debug: a flood must not be slowed down by a log line per 2xx reply.
        options.setdefault("log_level", "info")
        s = ServerProcess(workdir=tmp_path / name, cert=tls_files[0], key=tls_files[1],
                          binary=binary, **options)
        started.append(s)
        s.start()
        send_mail(s, "warm-up")  # the first delivery starts the worker and fills caches
        if "imap" in s.roles:
            check_imap(s)
        if "pop3" in s.roles:
            check_pop3(s)
        s.baseline_kib = proc_status_kib(s.proc.pid, "VmRSS")
        return s

    yield make
    problems = []
    for s in started:
        if s.proc is not None and s.proc.poll() is not None:
            stderr = (s.workdir / f"stderr.{s.starts}").read_text(errors="replace")[-2000:]
            problems.append(f"{s.workdir}: server died during the test with exit "
                            f"{s.proc.returncode}; stderr: {stderr}")
        rc = s.stop()
        if rc not in (None, 0):
            problems.append(f"{s.workdir}: exit {rc} after SIGTERM")
    if problems:
        pytest.fail("; ".join(problems))
