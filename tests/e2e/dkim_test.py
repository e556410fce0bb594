"""`mailsim-server dkim` against two independent DKIM implementations.

- dkimpy 1.1.4 (Debian's python3-dkim, `import dkim`; python3-nacl for ed25519): verifies what
  `mailsim-server dkim sign` writes, with a `dnsfunc=` that returns our key record; and signs
  messages that `mailsim-server dkim verify` must pass.
- OpenDKIM (libopendkim.so.11 from libopendkim11, the library opendkim-testmsg wraps).
  opendkim-testmsg itself only asks the system resolver, so it cannot be pointed at a test
  key; the library can: its DKIM_QUERY_FILE query method reads key records from a file
  ("<selector>._domainkey.<domain> <record>" lines). The library is called through ctypes,
  with the option numbers of OpenDKIM 2.11's dkim.h.

Everything runs locally and ends by itself: one test starts a private unbound on a loopback
port (stopped at teardown) to check `verify --dns`; every subprocess has a timeout.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

dkim = pytest.importorskip("dkim")

TIMEOUT_S = 120
DOMAIN = "example.com"
REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = Path(os.environ.get("MAILSIM_CONFORMANCE_DIR", REPO.parent / "shared/conformance"))

MESSAGE = (
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: DKIM interop \r\n"
    b"\tfolded subject\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <interop-1@example.com>\r\n"
    b"\r\n"
    b"Hello  Bob, \r\n"
    b"\r\n"
    b"\tThis line starts with a tab and ends with spaces.   \r\n"
    b"\r\n"
    b"\r\n"
)


def run(binary: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "dkim", *args], input=stdin, capture_output=True,
                          timeout=TIMEOUT_S)


def record_of(zone_line: str) -> bytes:
    """The TXT record text of a zone line: its character-strings concatenated."""
    return "".join(re.findall(r'"([^"]*)"', zone_line)).encode()


class Key:
    def __init__(self, path: Path, selector: str, zone_line: str):
        self.path = path
        self.selector = selector
        self.zone_line = zone_line
        self.record = record_of(zone_line)
        self.name = f"{selector}._domainkey.{DOMAIN}".encode()

    def dnsfunc(self, name, timeout=5):  # noqa: ARG002 (dkimpy's signature)
        assert name.rstrip(b".") == self.name, name
        return self.record


def keygen(binary: Path, tmp_path: Path, algorithm: str, selector: str) -> Key:
    path = tmp_path / f"{selector}.pem"
    p = run(binary, "keygen", "--domain", DOMAIN, "--selector", selector,
            "--algorithm", algorithm, "--out", str(path))
    assert p.returncode == 0, p.stderr
    return Key(path, selector, p.stdout.decode().strip())


def sign(binary: Path, key: Key, message: bytes = MESSAGE, *extra: str) -> bytes:
    p = run(binary, "sign", "--key", str(key.path), "--domain", DOMAIN, "--selector", key.selector,
            *extra, stdin=message)
    assert p.returncode == 0, p.stderr
    return p.stdout


def verify(binary: Path, zone: Path, message: bytes) -> subprocess.CompletedProcess:
    return run(binary, "verify", "--zone", str(zone), stdin=message)


@pytest.fixture(scope="module")
def rsa_key(binary, tmp_path_factory) -> Key:
    return keygen(binary, tmp_path_factory.mktemp("rsa"), "rsa-sha256", "rsa2048")


@pytest.fixture(scope="module")
def ed_key(binary, tmp_path_factory) -> Key:
    return keygen(binary, tmp_path_factory.mktemp("ed"), "ed25519-sha256", "ed")


# ------------------------------------------------------------------------------------------
# OpenDKIM through its library.

DKIM_OP_SETOPT = 1
DKIM_OPTS_QUERYMETHOD = 6
DKIM_OPTS_QUERYINFO = 7
DKIM_QUERY_FILE = 1
DKIM_STAT_OK = 0
DKIM_STAT_BADSIG = 1


def _libopendkim():
    name = ctypes.util.find_library("opendkim") or "libopendkim.so.11"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        pytest.skip("libopendkim (package libopendkim11) is not installed")
    lib.dkim_init.restype = ctypes.c_void_p
    lib.dkim_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.dkim_close.argtypes = [ctypes.c_void_p]
    lib.dkim_options.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p,
                                 ctypes.c_size_t]
    lib.dkim_verify.restype = ctypes.c_void_p
    lib.dkim_verify.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p,
                                ctypes.POINTER(ctypes.c_int)]
    lib.dkim_chunk.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.dkim_eom.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.dkim_free.argtypes = [ctypes.c_void_p]
    lib.dkim_getresultstr.restype = ctypes.c_char_p
    lib.dkim_getresultstr.argtypes = [ctypes.c_int]
    return lib


def opendkim_verify(message: bytes, key: Key, workdir: Path) -> tuple[int, str]:
    """OpenDKIM's verdict on `message`: (DKIM_STAT code, its text)."""
    lib = _libopendkim()
    keyfile = workdir / "opendkim-keys.txt"
    keyfile.write_bytes(key.name + b" " + key.record + b"\n")
    path = str(keyfile).encode()
    handle = lib.dkim_init(None, None)
    assert handle
    try:
        method = ctypes.c_int(DKIM_QUERY_FILE)
        assert lib.dkim_options(handle, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD,
                                ctypes.byref(method), ctypes.sizeof(method)) == DKIM_STAT_OK
        assert lib.dkim_options(handle, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
                                ctypes.c_char_p(path), len(path)) == DKIM_STAT_OK
        status = ctypes.c_int(0)
        job = lib.dkim_verify(handle, b"mailsim-e2e", None, ctypes.byref(status))
        assert job, status.value
        try:
            lib.dkim_chunk(job, message, len(message))
            lib.dkim_chunk(job, None, 0)
            result = lib.dkim_eom(job, None)
            return result, lib.dkim_getresultstr(result).decode()
        finally:
            lib.dkim_free(job)
    finally:
        lib.dkim_close(handle)


# ------------------------------------------------------------------------------------------
# keygen


def test_keygen_writes_a_private_pem_and_prints_the_zone_line(binary, tmp_path):
    key = keygen(binary, tmp_path, "rsa-sha256", "sel")
    assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
    assert key.path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert re.fullmatch(r'sel\._domainkey\.example\.com\. IN TXT \( "v=DKIM1; k=rsa; "'
                        r'( "[^"]{1,255}")+ \)', key.zone_line), key.zone_line
    assert key.record.startswith(b"v=DKIM1; k=rsa; p=MII")
    ed = keygen(binary, tmp_path, "ed25519-sha256", "ed")
    assert re.fullmatch(rb"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=", ed.record)


def test_keygen_refuses_to_overwrite_and_bad_arguments(binary, tmp_path):
    key = keygen(binary, tmp_path, "ed25519-sha256", "ed")
    before = key.path.read_bytes()
    again = run(binary, "keygen", "--domain", DOMAIN, "--selector", "ed", "--algorithm",
                "ed25519-sha256", "--out", str(key.path))
    assert again.returncode == 2 and b"exists" in again.stderr
    assert key.path.read_bytes() == before
    for args in (["--domain", DOMAIN, "--selector", "s", "--bits", "512", "--out", "x"],
                 ["--domain", DOMAIN, "--selector", "s", "--algorithm", "rsa-sha1", "--out", "x"],
                 ["--domain", DOMAIN, "--selector", "s"],
                 ["--domain", DOMAIN, "--selector", "s", "--out", "x", "--colour", "blue"]):
        p = run(binary, "keygen", *args)
        assert p.returncode == 2, args
        assert p.stderr.startswith(b"mailsim-server dkim: "), p.stderr


# ------------------------------------------------------------------------------------------
# What mailsim signs, dkimpy and OpenDKIM verify.


@pytest.mark.parametrize("canonicalization", ["relaxed/relaxed", "simple/simple",
                                              "relaxed/simple", "simple/relaxed"])
def test_rsa_signature_verified_by_dkimpy_and_opendkim(binary, rsa_key, tmp_path,
                                                      canonicalization):
    signed = sign(binary, rsa_key, MESSAGE, "--canonicalization", canonicalization)
    assert signed.endswith(MESSAGE)
    assert f"c={canonicalization};".encode() in signed
    assert dkim.verify(signed, dnsfunc=rsa_key.dnsfunc)
    assert opendkim_verify(signed, rsa_key, tmp_path) == (DKIM_STAT_OK, "Success")
    tampered = signed.replace(b"Hello  Bob", b"Hello  Eve")
    assert not dkim.verify(tampered, dnsfunc=rsa_key.dnsfunc)
    assert opendkim_verify(tampered, rsa_key, tmp_path)[0] == DKIM_STAT_BADSIG


@pytest.mark.parametrize("canonicalization", ["relaxed/relaxed", "simple/simple"])
def test_ed25519_signature_verified_by_dkimpy_and_opendkim(binary, ed_key, tmp_path,
                                                          canonicalization):
    signed = sign(binary, ed_key, MESSAGE, "--canonicalization", canonicalization)
    assert b"a=ed25519-sha256;" in signed
    assert dkim.verify(signed, dnsfunc=ed_key.dnsfunc)
    assert opendkim_verify(signed, ed_key, tmp_path) == (DKIM_STAT_OK, "Success")
    tampered = signed.replace(b"Subject: DKIM interop", b"Subject: DKIM interop!")
    assert not dkim.verify(tampered, dnsfunc=ed_key.dnsfunc)
    assert opendkim_verify(tampered, ed_key, tmp_path)[0] == DKIM_STAT_BADSIG


def test_signing_options_are_understood_by_dkimpy(binary, rsa_key):
    signed = sign(binary, rsa_key, MESSAGE, "--headers", "from:to:subject", "--oversign",
                  "from:subject", "--identity", "alice@example.com", "--expire", "3600",
                  "--body-length")
    assert re.search(rb"h=from:to:subject:from:subject;", signed.replace(b"\r\n ", b""))
    assert dkim.verify(signed, dnsfunc=rsa_key.dnsfunc)
    # l= lets a list append a footer; dkimpy (like us) still passes it.
    assert dkim.verify(signed + b"-- \r\nfooter\r\n", dnsfunc=rsa_key.dnsfunc)


def test_lf_input_is_signed_as_crlf_and_written_back_with_lf(binary, ed_key):
    lf_message = MESSAGE.replace(b"\r\n", b"\n")
    signed = sign(binary, ed_key, lf_message)
    assert b"\r" not in signed
    assert signed.endswith(lf_message)
    assert dkim.verify(signed.replace(b"\n", b"\r\n"), dnsfunc=ed_key.dnsfunc)


def test_key_from_opendkim_genkey_signs(binary, tmp_path):
    genkey = Path("/usr/sbin/opendkim-genkey")
    if not genkey.exists():
        pytest.skip("opendkim-genkey (opendkim-tools) is not installed")
    subprocess.run([str(genkey), "-D", str(tmp_path), "-d", DOMAIN, "-s", "odk"], check=True,
                   capture_output=True, timeout=TIMEOUT_S)
    key = Key(tmp_path / "odk.private", "odk", (tmp_path / "odk.txt").read_text())
    signed = sign(binary, key)
    assert dkim.verify(signed, dnsfunc=key.dnsfunc)
    # Its zone file names the key relative to the domain; $ORIGIN completes it.
    zone = tmp_path / "odk.zone"
    zone.write_text(f"$ORIGIN {DOMAIN}.\n" + (tmp_path / "odk.txt").read_text())
    p = verify(binary, zone, signed)
    assert p.returncode == 0, p.stdout + p.stderr


# ------------------------------------------------------------------------------------------
# What dkimpy signs, mailsim verifies.


@pytest.mark.parametrize("canonicalization", [(b"relaxed", b"relaxed"), (b"simple", b"simple")])
def test_dkimpy_rsa_signature_passes_our_verifier(binary, tmp_path, canonicalization):
    key = keygen(binary, tmp_path, "rsa-sha256", "py")
    signature = dkim.sign(MESSAGE, b"py", DOMAIN.encode(), key.path.read_bytes(),
                          canonicalize=canonicalization,
                          include_headers=[b"from", b"to", b"subject", b"date"])
    zone = tmp_path / "zone"
    zone.write_text(key.zone_line + "\n")
    p = verify(binary, zone, signature + MESSAGE)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == b"dkim=pass header.d=example.com header.s=py header.a=rsa-sha256\n"
    p = verify(binary, zone, signature + MESSAGE.replace(b"Bob,", b"Rob,"))
    assert p.returncode == 1
    assert b'dkim=fail reason="body hash did not verify"' in p.stdout


@pytest.mark.parametrize("canonicalization", [(b"relaxed", b"relaxed"), (b"simple", b"simple")])
def test_dkimpy_ed25519_signature_passes_our_verifier(binary, tmp_path, canonicalization):
    nacl_signing = pytest.importorskip("nacl.signing")
    import base64
    seed = nacl_signing.SigningKey.generate()
    public = base64.b64encode(bytes(seed.verify_key)).decode()
    signature = dkim.sign(MESSAGE, b"pyed", DOMAIN.encode(), base64.b64encode(bytes(seed)),
                          signature_algorithm=b"ed25519-sha256", canonicalize=canonicalization,
                          include_headers=[b"from", b"to", b"subject"])
    zone = tmp_path / "zone"
    zone.write_text(f'pyed._domainkey.{DOMAIN}. 300 IN TXT "v=DKIM1; k=ed25519; p={public}"\n')
    p = verify(binary, zone, signature + MESSAGE)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == b"dkim=pass header.d=example.com header.s=pyed header.a=ed25519-sha256\n"
    # A signed header changed after signing: the header hash no longer verifies.
    tampered = signature + MESSAGE.replace(b"Subject: DKIM interop", b"Subject: DKIM interop!")
    p = verify(binary, zone, tampered)
    assert p.returncode == 1
    assert b'dkim=fail reason="signature did not verify"' in p.stdout


def test_dkimpy_rsa_sha1_is_refused(binary, tmp_path):
    # dkimpy still signs rsa-sha1; RFC 8301 §3.1 says verifiers must not accept it.
    key = keygen(binary, tmp_path, "rsa-sha256", "old")
    signature = dkim.sign(MESSAGE, b"old", DOMAIN.encode(), key.path.read_bytes(),
                          signature_algorithm=b"rsa-sha1")
    assert dkim.verify(signature + MESSAGE, dnsfunc=key.dnsfunc)
    zone = tmp_path / "zone"
    zone.write_text(key.zone_line + "\n")
    p = verify(binary, zone, signature + MESSAGE)
    assert p.returncode == 1
    assert p.stdout.startswith(b'dkim=permerror reason="rsa-sha1 not accepted (RFC 8301)"')


# ------------------------------------------------------------------------------------------
# The CLI itself.


def test_rfc8463_example_verifies(binary):
    eml = CONFORMANCE / "rfc8463-A3-signed.eml"
    if not eml.exists():
        pytest.skip(f"{eml} not found (set MAILSIM_CONFORMANCE_DIR)")
    p = verify(binary, CONFORMANCE / "rfc8463-A2-dns.zone", eml.read_bytes())
    assert p.returncode == 0, p.stderr
    assert p.stdout == (
        b"dkim=pass header.d=football.example.com header.s=brisbane header.a=ed25519-sha256\n"
        b"dkim=pass header.d=football.example.com header.s=test header.a=rsa-sha256\n")


def test_verify_reports_each_signature_and_exit_status(binary, rsa_key, ed_key, tmp_path):
    zone = tmp_path / "zone"
    zone.write_text(rsa_key.zone_line + "\n")  # the ed25519 key is not published
    both = sign(binary, ed_key, sign(binary, rsa_key))
    p = verify(binary, zone, both)
    assert p.returncode == 0  # one pass is enough
    assert p.stdout.decode().splitlines() == [
        'dkim=permerror reason="no key" header.d=example.com header.s=ed header.a=ed25519-sha256',
        "dkim=pass header.d=example.com header.s=rsa2048 header.a=rsa-sha256",
    ]
    unsigned = verify(binary, zone, MESSAGE)
    assert (unsigned.returncode, unsigned.stdout) == (1, b"dkim=none\n")
    # No signature, no lookup: without --zone (the system resolver) the answer is the same.
    p = run(binary, "verify", stdin=MESSAGE)
    assert (p.returncode, p.stdout) == (1, b"dkim=none\n")


def _dns_answers(port: int) -> bool:
    """Whether a DNS server answers on 127.0.0.1:port (one UDP query for example.com/A)."""
    query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x07example\x03com\x00\x00\x01\x00\x01")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", port))
            return s.recv(512)[:2] == b"\x12\x34"
        except OSError:
            return False


@pytest.fixture
def unbound_daemon(tmp_path, rsa_key):
    """A private unbound on a loopback port that serves rsa_key's record (and nothing else)."""
    exe = shutil.which("unbound") or "/usr/sbin/unbound"
    if not Path(exe).exists():
        pytest.skip("unbound is not installed")
    from mailsim_harness import free_port
    port = free_port()
    record = rsa_key.record.decode()
    strings = " ".join(f'"{record[i:i + 255]}"' for i in range(0, len(record), 255))
    conf = tmp_path / "unbound.conf"
    conf.write_text(f"""server:
  interface: 127.0.0.1
  port: {port}
  do-ip6: no
  do-daemonize: no
  use-syslog: no
  logfile: ""
  chroot: ""
  username: ""
  directory: "{tmp_path}"
  pidfile: "{tmp_path}/unbound.pid"
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "example.com." static
  local-data: '{rsa_key.selector}._domainkey.example.com. 300 IN TXT {strings}'
""")
    proc = subprocess.Popen([exe, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not _dns_answers(port):
            if proc.poll() is not None:
                pytest.fail(f"unbound exited: {proc.stderr.read().decode(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail("unbound did not answer within 15 s")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_verify_through_a_dns_server(binary, rsa_key, unbound_daemon):
    signed = sign(binary, rsa_key)
    p = run(binary, "verify", "--dns", f"127.0.0.1@{unbound_daemon}", stdin=signed)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == b"dkim=pass header.d=example.com header.s=rsa2048 header.a=rsa-sha256\n"
    # A selector the server does not have: NXDOMAIN from the static zone, "no key".
    other = sign(binary, Key(rsa_key.path, "gone", rsa_key.zone_line))
    p = run(binary, "verify", "--dns", f"127.0.0.1@{unbound_daemon}", stdin=other)
    assert p.returncode == 1
    assert p.stdout.startswith(b'dkim=permerror reason="no key" header.d=example.com header.s=gone')


def test_bad_input_is_a_usage_error(binary, rsa_key, tmp_path):
    cases = [
        (["sign", "--key", str(tmp_path / "missing.pem"), "--domain", DOMAIN, "--selector", "s"],
         b"missing.pem"),
        (["sign", "--key", str(rsa_key.path), "--domain", DOMAIN], b"needs"),
        (["sign", "--key", str(rsa_key.path), "--domain", DOMAIN, "--selector", "s",
          "--algorithm", "ed25519-sha256"], b"is not a key for"),
        (["sign", "--key", str(rsa_key.path), "--domain", DOMAIN, "--selector", "s",
          "--canonicalization", "loose"], b"--canonicalization"),
        (["verify", "--zone", str(tmp_path / "nope")], b"nope"),
        (["verify", "--dns", "not-an-ip"], b"not-an-ip"),
        (["frobnicate"], b"unknown dkim command"),
    ]
    bad_zone = tmp_path / "bad.zone"
    bad_zone.write_text('x.example.com. 300 IN TXT "unterminated\n')
    cases.append((["verify", "--zone", str(bad_zone)], b"unterminated string"))
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello\n")
    cases.append((["sign", "--key", str(not_a_key), "--domain", DOMAIN, "--selector", "s"],
                  b"not a PEM private key"))
    for args, message in cases:
        p = run(binary, *args, stdin=MESSAGE)
        assert p.returncode == 2, (args, p.stderr)
        assert message in p.stderr, (args, p.stderr)
    no_from = run(binary, "sign", "--key", str(rsa_key.path), "--domain", DOMAIN, "--selector",
                  "s", stdin=MESSAGE.replace(b"From:", b"Sender:"))
    assert no_from.returncode == 1
    assert b"no From field" in no_from.stderr
