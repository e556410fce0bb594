"""`mailsim-server arc seal|verify` against dkimpy's ARC implementation (RFC 8617).

dkimpy 1.1.4 (Debian's python3-dkim, with python3-authres): `dkim.arc_sign` and
`dkim.arc_verify`, given a `dnsfunc=` that answers from the test's key records; mailsim reads
the same records from a zone file (`--zone`, the format `dkim verify` takes). Keys come from
`mailsim-server dkim keygen`. Covered: dkimpy seals and mailsim verifies, mailsim seals and
dkimpy verifies, mixed chains both ways and four hops long, tampering after sealing (body,
signed header, an older ARC-Authentication-Results), sealing a failed chain, oldest-pass, the
command's output and exit codes.

Known limits of dkimpy 1.1.4 that the tests rely on or pin down:
- its ARC accepts only a=rsa-sha256 (ARC_HASH_ALGORITHMS), so Ed25519 seals interoperate with
  mailsim only;
- arc_sign takes cv= from the arc= result of an Authentication-Results field with its
  authserv-id, which the tests add as a receiving MTA would;
- arc_verify returns None (not b"fail") for a chain whose newest seal says cv=fail;
- it checks t= against the real clock (10 h slack), so the seals here use the real time.

Everything is local and bounded: no network (keys come from the zone file or the dict), and
every subprocess has a timeout.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

dkim = pytest.importorskip("dkim")
pytest.importorskip("authres")

TIMEOUT_S = 60
REPO = Path(__file__).resolve().parents[2]

MESSAGE = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Friends <friends@lists.example>\r\n"
    b"Subject: ARC interop\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <arc-interop-1@example.com>\r\n"
    b"\r\n"
    b"Hello  list, \r\n"
    b"\r\n"
    b"\tsee you there.\r\n"
)


@pytest.fixture(scope="module")
def binary() -> Path:
    path = Path(os.environ.get("MAILSIM_SERVER", REPO / "build/dev/bin/mailsim-server"))
    if not path.is_file():
        pytest.fail(f"mailsim-server not found at {path} (build it, or set MAILSIM_SERVER)")
    return path


def run(binary: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], input=stdin, capture_output=True,
                          timeout=TIMEOUT_S)


class Key:
    """A key made by `dkim keygen`, with its TXT record as a zone line and as text."""

    def __init__(self, binary: Path, folder: Path, domain: str, selector: str, algorithm: str):
        self.domain = domain
        self.selector = selector
        self.path = folder / f"{selector}.{domain}.pem"
        p = run(binary, "dkim", "keygen", "--domain", domain, "--selector", selector,
                "--algorithm", algorithm, "--out", str(self.path))
        assert p.returncode == 0, p.stderr
        self.zone_line = p.stdout.decode().strip()
        self.record = "".join(re.findall(r'"([^"]*)"', self.zone_line)).encode()
        self.pem = self.path.read_bytes()
        self.name = f"{selector}._domainkey.{domain}"


class World:
    def __init__(self, binary: Path, folder: Path):
        self.binary = binary
        self.ms = Key(binary, folder, "lists.example", "ms", "rsa-sha256")
        self.py = Key(binary, folder, "relay.example", "py", "rsa-sha256")
        self.ed = Key(binary, folder, "lists.example", "ed", "ed25519-sha256")
        self.zone = folder / "keys.zone"
        self.zone.write_text("".join(k.zone_line + "\n" for k in (self.ms, self.py, self.ed)))
        self.records = {k.name: k.record for k in (self.ms, self.py, self.ed)}

    def dnsfunc(self, name, timeout=5):  # noqa: ARG002 (dkimpy's signature)
        return self.records.get(name.decode().rstrip("."), b"")

    # -- mailsim --

    def ms_seal(self, message: bytes, *extra: str, key: Key | None = None) -> bytes:
        p = self.ms_seal_run(message, *extra, key=key)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def ms_seal_run(self, message: bytes, *extra: str, key: Key | None = None):
        key = key or self.ms
        return run(self.binary, "arc", "seal", "--key", str(key.path), "--domain", key.domain,
                   "--selector", key.selector, "--authserv-id", "mx." + key.domain,
                   "--authres", "spf=pass smtp.mailfrom=example.com", "--zone", str(self.zone),
                   *extra, stdin=message)

    def ms_verify(self, message: bytes):
        p = run(self.binary, "arc", "verify", "--zone", str(self.zone), stdin=message)
        lines = p.stdout.decode().splitlines()
        assert lines, p.stderr
        return p, lines

    def ms_status(self, message: bytes) -> str:
        p, lines = self.ms_verify(message)
        assert p.returncode == (0 if lines[0] == "pass" else 1), (p.returncode, lines)
        return lines[0]

    # -- dkimpy --

    def py_seal(self, message: bytes, arc_result: str | None = None) -> bytes:
        """Seals as relay.example; `arc_result` is this hop's verdict on the chain, written
        into its Authentication-Results field (dkimpy reads cv= from there)."""
        results = "spf=pass smtp.mailfrom=example.com"
        if arc_result is not None:
            results += "; arc=" + arc_result
        # A receiver drops fields in its own name that came with the message (RFC 8601 §5);
        # dkimpy would also read two arc= results as a failed chain.
        message = re.sub(rb"(?m)^Authentication-Results: relay\.example;[^\r]*\r\n", b"", message)
        received = f"Authentication-Results: relay.example; {results}\r\n".encode() + message
        fields = dkim.arc_sign(received, self.py.selector.encode(), self.py.domain.encode(),
                               self.py.pem, b"relay.example")
        assert fields, "dkimpy did not seal"
        return b"".join(fields) + received

    def py_verify(self, message: bytes):
        cv, results, reason = dkim.arc_verify(message, dnsfunc=self.dnsfunc)
        return cv, results, reason


@pytest.fixture(scope="module")
def world(binary, tmp_path_factory) -> World:
    return World(binary, tmp_path_factory.mktemp("arc"))


def ms_hop(world: World, message: bytes) -> bytes:
    """A mailsim hop: validates the chain and seals with the result."""
    return world.ms_seal(message)


def py_hop(world: World, message: bytes) -> bytes:
    """A dkimpy hop: mailsim's verdict (as a receiving MTA would have it) into A-R, then seal."""
    status = world.ms_status(message) if b"ARC-Seal" in message else None
    return world.py_seal(message, status)


def tamper(message: bytes, old: bytes, new: bytes) -> bytes:
    assert old in message
    return message.replace(old, new, 1)


# ------------------------------------------------------------------------------------------
# One sealer, the other verifier.

def test_dkimpy_seal_is_verified_by_mailsim(world):
    sealed = py_hop(world, MESSAGE)
    assert world.py_verify(sealed)[0] == b"pass"
    p, lines = world.ms_verify(sealed)
    assert p.returncode == 0, lines
    assert lines[0] == "pass"
    assert lines[1] == ("i=1 cv=none as=pass d=relay.example s=py a=rsa-sha256; "
                        "ams=pass d=relay.example s=py a=rsa-sha256")
    assert lines[-1] == "authres: arc=pass"


def test_mailsim_seal_is_verified_by_dkimpy(world):
    sealed = ms_hop(world, MESSAGE)
    assert sealed.startswith(b"ARC-Seal: i=1; a=rsa-sha256; t=")
    cv, results, reason = world.py_verify(sealed)
    assert cv == b"pass", reason
    assert results[0]["as-valid"] and results[0]["ams-valid"]
    assert world.ms_status(sealed) == "pass"


# ------------------------------------------------------------------------------------------
# Mixed chains.

def test_dkimpy_first_then_mailsim_verified_by_both(world):
    sealed = ms_hop(world, py_hop(world, MESSAGE))
    assert b"ARC-Seal: i=2; a=rsa-sha256;" in sealed and b"cv=pass;" in sealed
    cv, results, reason = world.py_verify(sealed)
    assert cv == b"pass", reason
    assert [r["instance"] for r in results] == [2, 1]
    assert world.ms_status(sealed) == "pass"


def test_mailsim_first_then_dkimpy_verified_by_both(world):
    sealed = py_hop(world, ms_hop(world, MESSAGE))
    assert b"ARC-Seal: i=2; cv=pass;" in sealed
    cv, _, reason = world.py_verify(sealed)
    assert cv == b"pass", reason
    p, lines = world.ms_verify(sealed)
    assert lines[0] == "pass"
    assert lines[1].startswith("i=2 cv=pass as=pass d=relay.example s=py")
    assert lines[2].startswith("i=1 cv=none as=pass d=lists.example s=ms")


def test_four_alternating_hops_pass_at_every_step(world):
    message = MESSAGE
    for hop in range(4):
        message = (ms_hop if hop % 2 == 0 else py_hop)(world, message)
        cv, _, reason = world.py_verify(message)
        assert cv == b"pass", (hop, reason)
        assert world.ms_status(message) == "pass", hop
    assert message.count(b"ARC-Seal:") == 4


# ------------------------------------------------------------------------------------------
# Tampering after sealing: both implementations fail the chain.

@pytest.fixture(scope="module")
def mixed_chain(world) -> bytes:
    return py_hop(world, ms_hop(world, py_hop(world, MESSAGE)))


@pytest.mark.parametrize("old,new,reason", [
    (b"\tsee you there.", b"\tsee you later.",
     "reason: i=3: ARC-Message-Signature: body hash did not verify"),
    (b"Subject: ARC interop", b"Subject: ARC interop!",
     "reason: i=3: ARC-Message-Signature: signature did not verify"),
    (b"ARC-Authentication-Results: i=1; relay.example; spf=pass",
     b"ARC-Authentication-Results: i=1; relay.example; spf=fail",
     "reason: i=3: ARC-Seal: signature did not verify"),
])
def test_tampering_fails_in_both(world, mixed_chain, old, new, reason):
    assert world.py_verify(mixed_chain)[0] == b"pass"
    tampered = tamper(mixed_chain, old, new)
    cv, _, _ = world.py_verify(tampered)
    assert cv == b"fail"
    p, lines = world.ms_verify(tampered)
    assert p.returncode == 1
    assert lines[:2] == ["fail", reason]


def test_failed_chain_is_sealed_with_cv_fail_and_stays_failed(world):
    broken = tamper(py_hop(world, MESSAGE), b"\tsee you there.", b"\tsee you later.")
    assert world.ms_status(broken) == "fail"
    sealed = ms_hop(world, broken)
    assert b"cv=fail;" in sealed
    assert b"arc=fail reason=" in sealed  # this hop's verdict, recorded in its AAR
    # dkimpy calls a chain closed by cv=fail "terminated" and returns None.
    assert world.py_verify(sealed)[0] in (None, b"fail")
    p, lines = world.ms_verify(sealed)
    assert lines[:2] == ["fail", "reason: i=2: ARC-Seal has cv=fail"]
    # A closed chain is not continued.
    p = world.ms_seal_run(sealed)
    assert p.returncode == 1
    assert b"cv=fail" in p.stderr


def test_oldest_pass_after_a_list_changes_the_subject(world):
    """A list verifies dkimpy's set, tags the Subject and seals: the first AMS breaks, the
    chain still passes, and oldest-pass says from where the message is intact."""
    first = py_hop(world, MESSAGE)
    assert world.ms_status(first) == "pass"
    tagged = tamper(first, b"Subject: ARC interop", b"Subject: [friends] ARC interop")
    sealed = world.ms_seal(tagged, "--cv", "pass")
    assert world.py_verify(sealed)[0] == b"pass"
    p, lines = world.ms_verify(sealed)
    assert lines[0] == "pass"
    assert "ams=fail (signature did not verify)" in lines[2]
    assert lines[-1] == "authres: arc=pass header.oldest-pass=2"


# ------------------------------------------------------------------------------------------
# Ed25519: mailsim only.

def test_ed25519_seals_verify_in_mailsim_and_dkimpy_refuses_them(world):
    sealed = world.ms_seal(MESSAGE, key=world.ed)
    assert b"a=ed25519-sha256" in sealed
    assert world.ms_status(sealed) == "pass"
    cv, _, reason = world.py_verify(sealed)
    assert cv == b"fail" and "unknown signature algorithm" in reason


# ------------------------------------------------------------------------------------------
# The command itself.

def test_unsealed_message_is_none_with_exit_1(world):
    p, lines = world.ms_verify(MESSAGE)
    assert p.returncode == 1
    assert lines == ["none", "authres: arc=none"]


def test_lf_input_is_sealed_as_crlf_and_written_back_with_lf(world):
    lf = MESSAGE.replace(b"\r\n", b"\n")
    sealed = world.ms_seal(lf, "--cv", "none")
    assert b"\r" not in sealed
    crlf = sealed.replace(b"\n", b"\r\n")
    assert world.py_verify(crlf)[0] == b"pass"
    assert world.ms_status(sealed) == "pass"


def test_authres_and_remote_ip_go_into_the_new_aar(world):
    sealed = world.ms_seal(MESSAGE, "--cv", "none", "--remote-ip", "192.0.2.7")
    aar = re.search(rb"ARC-Authentication-Results: .*?\r\n(?=\S)", sealed, re.S).group(0)
    assert aar == (b"ARC-Authentication-Results: i=1; mx.lists.example;\r\n"
                   b"\tspf=pass smtp.mailfrom=example.com;\r\n"
                   b"\tarc=none smtp.remote-ip=192.0.2.7\r\n")


def test_usage_errors_exit_2(world):
    assert run(world.binary, "arc").returncode == 2
    assert run(world.binary, "arc", "frobnicate").returncode == 2
    assert run(world.binary, "arc", "verify", "--bogus").returncode == 2
    p = run(world.binary, "arc", "seal", "--key", str(world.ms.path), "--domain", "x.example",
            "--selector", "s", stdin=MESSAGE)
    assert p.returncode == 2 and b"--authserv-id" in p.stderr
    p = world.ms_seal_run(MESSAGE, "--cv", "maybe")
    assert p.returncode == 2
    assert run(world.binary, "arc", "--help").returncode == 0
