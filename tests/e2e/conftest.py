"""Fixtures for the end-to-end suite: a real mailsim-server on loopback ports.

`make_server(**options)` writes a config into a fresh tmp folder, starts the server (path
from $MAILSIM_SERVER, else build/dev/bin/mailsim-server), waits for its listeners and, at
teardown, stops it with SIGTERM (SIGKILL after a deadline). `server` is one started with the
defaults: domain example.test, users alice/bob/carol and a UTF-8 user, all with the
password PASSWORD, listeners smtp (MX), submission and submissions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mailsim_harness import PASSWORD, USERS, ServerProcess  # noqa: E402
from harness_fixtures import binary, client_tls, password_hash, tls_files  # noqa: E402,F401


@pytest.fixture
def make_server(tmp_path, tls_files, password_hash, binary):
    """Factory: make_server(**ServerProcess fields) -> a started ServerProcess."""
    started: list[ServerProcess] = []

    def make(name: str = "server", start: bool = True, **options) -> ServerProcess:
        options.setdefault("users", {u: password_hash for u in USERS})
        s = ServerProcess(workdir=tmp_path / name, cert=tls_files[0], key=tls_files[1],
                          binary=binary, **options)
        started.append(s)
        if start:
            s.start()
        return s

    yield make
    crashed = []
    for s in started:
        rc = s.stop()
        if rc not in (None, 0):
            crashed.append(f"{s.workdir}: exit {rc}")
    if crashed:
        pytest.fail("server did not stop cleanly on SIGTERM: " + "; ".join(crashed))


@pytest.fixture
def server(make_server) -> ServerProcess:
    return make_server()
