"""Session fixtures shared by the suites that run a real mailsim-server (tests/e2e,
tests/robustness): import them into a conftest.py to use them there.

    from harness_fixtures import binary, client_tls, password_hash, tls_files  # noqa: F401
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from mailsim_harness import PASSWORD, cheap_pbkdf2_hash, make_self_signed_cert, server_binary


@pytest.fixture(scope="session")
def binary() -> Path:
    path = server_binary()
    if not path.is_file():
        pytest.fail(f"mailsim-server not found at {path} (build it, or set MAILSIM_SERVER)")
    return path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def client_tls(tls_files) -> ssl.SSLContext:
    """A client context that trusts exactly the test certificate and checks the name."""
    ctx = ssl.create_default_context(cafile=str(tls_files[0]))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


@pytest.fixture(scope="session")
def password_hash() -> str:
    return cheap_pbkdf2_hash(PASSWORD)
