"""Fixtures for the robustness suite: a real mailsim-server under attack on loopback.

`make_server(**options)` starts a server (ServerProcess from tests/e2e/mailsim_harness.py)
with short timeouts, delivers one warm-up message (and, when `roles` include imap or pop3,
runs one well-behaved IMAP or POP3 session, which starts the password-hashing pool and
opens the store) and records the resulting RSS as `server.baseline_kib`, the base of every
memory bound (robustness_support.MemoryBound). At teardown it checks that the server is
still alive and that SIGTERM stops it with exit 0.

Each protocol's cases live in their own files (test_smtp_*.py, test_imap_*.py,
test_pop3_*.py, test_mime_*.py; see robustness_support.py's docstring); each test file
becomes one ctest.
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
from robustness_support import check_imap, check_pop3, proc_status_kib, send_mail  # noqa: E402

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
