"""`mailsim-server dmarc check` against python3-authheaders over a real unbound daemon.

One private unbound (unbound_fixture.py) serves SPF, DKIM and DMARC records for a set of
generated cases: aligned and unaligned identifiers, strict and relaxed modes, the subdomain
policy sp=, the fallback to the organizational domain, pct=0 and pct=100, no record, a
broken record, and more. Messages are signed by dkimpy (python3-dkim) with an RSA key made
by the test. Each case runs through

- ours: `$MAILSIM_SERVER dmarc check FILE --ip --mail-from --helo --dns 127.0.0.1@PORT`;
- theirs: `authheaders.authenticate_message(..., spf=True, dkim=True, dmarc=True)`, with
  dnspython's default resolver (which pyspf, dkimpy and authheaders all use) pointed at the
  same daemon,

and the DMARC results (and the requested policy) are compared. Where authheaders 0.15.2
departs from RFC 7489 the case asserts our (RFC) answer and says why in `why`:

- it does not implement pct= (the disposition is not compared; ours is asserted);
- it applies sp= to mail from the organizational domain itself when the record was found
  there (§6.3 defines sp= for subdomains only);
- it ignores a record without p= even when rua= is valid (§6.6.3 step 6: act as p=none);
- it treats several DMARC records at the From domain as none there and falls back to the
  organizational domain (§6.6.3 step 5: several records end discovery: no policy);
- a syntactically incorrect record (adkim=x) is evaluated anyway (§11.2: permerror);
- it verifies only the first DKIM-Signature (§4.2 / RFC 6376 §6.1: any valid aligned
  signature is enough);
- it counts a signature under a t=y key (RFC 6376 §3.6.1: treat the mail as unsigned);
- a DNS failure (REFUSED/SERVFAIL) reads as "no record" (§6.6.3 step 3 falls back only on
  an indication that there is no record; a transient failure is temperror).
Known authheaders limits the cases avoid: its From parser takes [a-z0-9.] only (hyphens
and IDNs break it), it needs a non-null MAIL FROM, and with publicsuffix2 it takes an
unlisted TLD (such as `test`) as the organizational domain, so the cases use listed TLDs
(com, net, org, co.uk) served by the local daemon only.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

authheaders = pytest.importorskip("authheaders")
dkim = pytest.importorskip("dkim")
dns_resolver = pytest.importorskip("dns.resolver")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unbound_fixture import split_endpoint, unbound_daemon  # noqa: E402

TIMEOUT_S = 60
REPO = Path(__file__).resolve().parents[2]
AUTHSERV_ID = "mx.receiver.example"
UNAUTHORIZED_IP = "192.0.2.99"

# Organizational domains the daemon serves (each a static zone, so that missing names are
# NXDOMAIN rather than REFUSED).
ZONES = ["example.com", "example.net", "example.org", "spdomain.co.uk", "nosp.co.uk",
         "pctzero.co.uk", "pctfull.co.uk", "badrecord.co.uk", "nopolicy.co.uk",
         "tworecords.org", "testkey.co.uk", "mixed.co.uk"]

SPF = {
    "example.com": "v=spf1 ip4:192.0.2.10 -all",
    "mail.example.com": "v=spf1 ip4:192.0.2.11 -all",
    "bounce.example.net": "v=spf1 ip4:192.0.2.20 -all",
    "example.org": "v=spf1 ip4:192.0.2.30 -all",
}

DMARC = {
    "example.com": ["v=DMARC1; p=reject"],
    "example.net": ["v=DMARC1; p=reject; adkim=s; aspf=s"],
    "spdomain.co.uk": ["v=DMARC1; p=reject; sp=quarantine"],
    "nosp.co.uk": ["v=DMARC1; p=quarantine"],
    "pctzero.co.uk": ["v=DMARC1; p=reject; pct=0"],
    "pctfull.co.uk": ["v=DMARC1; p=reject; pct=100"],
    "badrecord.co.uk": ["v=DMARC1; p=reject; adkim=x"],
    "nopolicy.co.uk": ["v=DMARC1; rua=mailto:reports@nopolicy.co.uk"],
    "sub.tworecords.org": ["v=DMARC1; p=none", "v=DMARC1; p=quarantine"],
    "tworecords.org": ["v=DMARC1; p=reject"],
    "testkey.co.uk": ["v=DMARC1; p=reject"],
    "mixed.co.uk": ["v=spf1 -all", "v=DMARC1; p=reject"],
}

# (selector, domain) pairs whose key record is published; "tkey" records carry t=y.
KEYS = [("sel", d) for d in ("example.com", "mail.example.com", "example.org", "example.net",
                             "sub.example.net", "badrecord.co.uk", "nopolicy.co.uk")]
KEYS.append(("tkey", "testkey.co.uk"))


@dataclasses.dataclass
class Case:
    name: str
    author: str                  # the From domain
    mail_from: str               # the MAIL FROM address
    ip: str = UNAUTHORIZED_IP
    signers: tuple = ()          # (selector, d=) pairs, signed in order (the last on top)
    result: str = "fail"         # ours
    policy: str | None = None    # ours: the requested policy (p= or sp=)
    disposition: str | None = None
    theirs: str | None = None    # authheaders' result when it differs from ours
    theirs_policy: str | None = None  # authheaders' policy when it differs from ours
    why: str = ""                # why authheaders differs (RFC 7489 unless said)


CASES = [
    Case("spf_relaxed_alignment_passes", "example.com", "bounce@mail.example.com",
         ip="192.0.2.11", result="pass", policy="reject", disposition="none"),
    Case("spf_strict_alignment_fails_for_a_subdomain", "example.net",
         "bounce@bounce.example.net", ip="192.0.2.20", policy="reject", disposition="reject"),
    Case("spf_strict_alignment_passes_for_the_same_name", "bounce.example.net",
         "bounce@bounce.example.net", ip="192.0.2.20", result="pass", policy="reject",
         disposition="none"),
    Case("dkim_relaxed_alignment_passes", "example.com", "x@example.org",
         signers=(("sel", "mail.example.com"),), result="pass", policy="reject",
         disposition="none"),
    Case("dkim_strict_alignment_passes_for_the_same_name", "sub.example.net", "x@example.org",
         signers=(("sel", "sub.example.net"),), result="pass", policy="reject",
         disposition="none"),
    Case("dkim_strict_alignment_fails_for_the_parent", "sub.example.net", "x@example.org",
         signers=(("sel", "example.net"),), policy="reject", disposition="reject"),
    Case("unaligned_dkim_and_spf_fail", "example.com", "x@example.org",
         signers=(("sel", "example.org"),), policy="reject", disposition="reject"),
    Case("subdomain_gets_sp", "news.spdomain.co.uk", "x@example.org", policy="quarantine",
         disposition="quarantine"),
    Case("organizational_domain_itself_gets_p", "spdomain.co.uk", "x@example.org",
         policy="reject", disposition="reject", theirs_policy="quarantine",
         why="sp= is for subdomains (RFC 7489 §6.3); authheaders applies it to the "
             "organizational domain whenever the record was found at the From domain"),
    Case("organizational_domain_fallback_without_sp_gives_p", "a.b.nosp.co.uk", "x@example.org",
         policy="quarantine", disposition="quarantine"),
    Case("pct_zero_weakens_reject_to_quarantine", "pctzero.co.uk", "x@example.org",
         policy="reject", disposition="quarantine"),
    Case("pct_hundred_enacts_reject", "pctfull.co.uk", "x@example.org", policy="reject",
         disposition="reject"),
    Case("missing_record_is_none", "example.org", "x@example.org", ip="192.0.2.30",
         result="none"),
    Case("broken_record_is_permerror", "badrecord.co.uk", "x@example.org",
         signers=(("sel", "badrecord.co.uk"),), result="permerror", theirs="fail",
         why="adkim=x makes the record syntactically incorrect: permerror (§11.2); "
             "authheaders evaluates it and no DKIM mode matches"),
    Case("record_without_p_but_with_rua_reads_as_p_none", "nopolicy.co.uk", "x@example.org",
         signers=(("sel", "nopolicy.co.uk"),), result="pass", policy="none",
         disposition="none", theirs="none",
         why="§6.6.3 step 6: with a valid rua= the receiver acts as if p=none was published; "
             "authheaders drops a record without p="),
    Case("several_records_end_discovery", "sub.tworecords.org", "x@example.org",
         result="none", theirs="fail",
         why="§6.6.3 step 5: several DMARC records at the name end discovery (no policy); "
             "authheaders treats them as no record and falls back to the organizational "
             "domain's p=reject"),
    Case("testing_key_signature_does_not_count", "testkey.co.uk", "x@example.org",
         signers=(("tkey", "testkey.co.uk"),), policy="reject", disposition="reject",
         theirs="pass",
         why="RFC 6376 §3.6.1: mail signed under a t=y key is treated as unsigned; "
             "authheaders counts the signature"),
    Case("aligned_second_signature_is_enough", "example.com", "x@example.org",
         signers=(("sel", "example.com"), ("sel", "example.org")), result="pass",
         policy="reject", disposition="none", theirs="fail",
         why="any valid aligned signature gives pass (§4.2); authheaders verifies only the "
             "first DKIM-Signature (here the unaligned example.org one)"),
    Case("non_dmarc_txt_records_are_ignored", "mixed.co.uk", "x@example.org",
         policy="reject", disposition="reject"),
    Case("dns_failure_is_temperror", "unserved.com", "x@example.org", result="temperror",
         theirs="none",
         why="the daemon refuses the name (a failure, not an answer): §6.6.3 step 3 falls "
             "back only on an indication that no record exists; authheaders reads the "
             "failure as no record"),
    Case("spf_and_dkim_both_pass", "example.com", "alice@example.com", ip="192.0.2.10",
         signers=(("sel", "example.com"),), result="pass", policy="reject",
         disposition="none"),
]


def txt_line(name: str, text: str) -> str:
    """A zone-file TXT record, split into character-strings of at most 255 octets."""
    strings = " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))
    return f"{name}. 300 IN TXT {strings}"


@pytest.fixture(scope="module")
def binary() -> Path:
    path = Path(os.environ.get("MAILSIM_SERVER", REPO / "build/dev/bin/mailsim-server"))
    if not path.exists():
        pytest.fail(f"mailsim-server not found at {path} (build it, or set MAILSIM_SERVER)")
    return path


@pytest.fixture(scope="module")
def key() -> tuple[bytes, str]:
    """An RSA-2048 private key (PEM) and its public half as a key record's p=."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64
    return pem, base64.b64encode(der).decode()


def zone_lines(public: str) -> list[str]:
    lines = [f'local-zone: "{zone}." static' for zone in ZONES]
    lines += [txt_line(name, record) for name, record in SPF.items()]
    for domain, records in DMARC.items():
        lines += [txt_line(f"_dmarc.{domain}", record) for record in records]
    for selector, domain in KEYS:
        flags = "t=y; " if selector == "tkey" else ""
        lines.append(txt_line(f"{selector}._domainkey.{domain}",
                              f"v=DKIM1; k=rsa; {flags}p={public}"))
    return lines


@pytest.fixture(scope="module")
def endpoint(key) -> str:
    with unbound_daemon(zone_lines(key[1])) as ep:
        yield ep


@pytest.fixture(scope="module")
def python_dns(endpoint):
    """dnspython's default resolver (pyspf, dkimpy, authheaders) pointed at the daemon."""
    host, port = split_endpoint(endpoint)
    resolver = dns_resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.lifetime = 5
    saved = dns_resolver.default_resolver
    dns_resolver.default_resolver = resolver
    yield resolver
    dns_resolver.default_resolver = saved


def message_for(case: Case, pem: bytes) -> bytes:
    msg = (f"From: Alice <alice@{case.author}>\r\n"
           f"To: Bob <bob@receiver.example.com>\r\n"
           f"Subject: {case.name}\r\n"
           f"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
           f"Message-ID: <{case.name}@{case.author}>\r\n"
           f"\r\n"
           f"Hello Bob.\r\n").encode()
    for selector, domain in case.signers:
        msg = dkim.sign(msg, selector.encode(), domain.encode(), pem,
                        include_headers=[b"from", b"to", b"subject", b"date"]) + msg
    return msg


def ours(binary: Path, endpoint: str, path: Path, case: Case, *extra: str):
    p = subprocess.run([str(binary), "dmarc", "check", str(path), "--ip", case.ip,
                        "--mail-from", case.mail_from, "--helo", "mta.sender.example",
                        "--dns", endpoint, "--authserv-id", AUTHSERV_ID, *extra],
                       capture_output=True, timeout=TIMEOUT_S)
    return p, p.stdout.decode()


def field(output: str, key: str) -> str | None:
    m = re.search(rf"^{re.escape(key)}: (.*)$", output, re.M)
    return m.group(1) if m else None


def theirs(message: bytes, case: Case) -> tuple[str, str | None]:
    header = authheaders.authenticate_message(
        message, AUTHSERV_ID, spf=True, dkim=True, dmarc=True, ip=case.ip,
        mail_from=case.mail_from, helo="mta.sender.example")
    result = re.search(r"\bdmarc=(\w+)", header).group(1)
    policy = re.search(r"\bpolicy\.dmarc=(\w+)", header)
    return result, policy.group(1) if policy else None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_dmarc_result_against_authheaders(binary, endpoint, python_dns, key, tmp_path, case):
    message = message_for(case, key[0])
    path = tmp_path / "message.eml"
    path.write_bytes(message)
    p, out = ours(binary, endpoint, path, case)
    assert p.returncode == (0 if case.result == "pass" else 1), out + p.stderr.decode()
    lines = out.splitlines()
    assert lines[0] == case.result, out
    assert field(out, "header.from") == case.author
    if case.policy is not None:
        assert re.match(rf"s?p={case.policy}\b", field(out, "policy")), out
        assert field(out, "disposition").split()[0] == case.disposition, out
    their_result, their_policy = theirs(message, case)
    expected = case.theirs or case.result
    assert their_result == expected, f"authheaders: {their_result}; {case.why}"
    if case.policy is not None and their_policy is not None:
        assert their_policy == (case.theirs_policy or case.policy), case.why
    assert (case.theirs is None and case.theirs_policy is None) or case.why


def test_output_lines_and_authentication_results(binary, endpoint, key, tmp_path):
    case = CASES[-1]  # SPF and DKIM both pass
    path = tmp_path / "message.eml"
    path.write_bytes(message_for(case, key[0]))
    p, out = ours(binary, endpoint, path, case)
    assert p.returncode == 0, out
    assert field(out, "organizational-domain") == "example.com"
    assert field(out, "policy-domain") == "example.com (_dmarc.example.com)"
    assert field(out, "record") == "v=DMARC1; p=reject"
    assert field(out, "spf") == "pass domain=example.com aligned (aspf=r)"
    assert field(out, "dkim") == "pass d=example.com s=sel aligned (adkim=r)"
    ar = out[out.index("Authentication-Results:"):]
    assert ar == (f"Authentication-Results: {AUTHSERV_ID};\n"
                  "\tspf=pass smtp.mailfrom=example.com;\n"
                  "\tdkim=pass header.d=example.com header.s=sel header.a=rsa-sha256;\n"
                  "\tdmarc=pass (p=reject dis=none) header.from=example.com\n")


def test_without_a_record_alignment_is_shown_relaxed(binary, endpoint, key, tmp_path):
    case = next(c for c in CASES if c.name == "missing_record_is_none")
    path = tmp_path / "message.eml"
    path.write_bytes(message_for(case, key[0]))
    _, out = ours(binary, endpoint, path, case)
    assert field(out, "reason") == "no DMARC record"
    assert field(out, "spf") == "pass domain=example.org aligned (aspf=r)"
    assert "dmarc=none header.from=example.org" in out


def test_sampled_out_disposition_is_explained(binary, endpoint, key, tmp_path):
    case = next(c for c in CASES if c.name.startswith("pct_zero"))
    path = tmp_path / "message.eml"
    path.write_bytes(message_for(case, key[0]))
    _, out = ours(binary, endpoint, path, case)
    assert field(out, "disposition") == "quarantine (left out by pct=0: reject weakened)"
    assert "dmarc=fail (p=reject pct=0 dis=quarantine) header.from=pctzero.co.uk" in out


def test_lf_message_file_is_read_as_crlf(binary, endpoint, key, tmp_path):
    case = next(c for c in CASES if c.name == "dkim_relaxed_alignment_passes")
    path = tmp_path / "message.eml"
    path.write_bytes(message_for(case, key[0]).replace(b"\r\n", b"\n"))
    p, out = ours(binary, endpoint, path, case)
    assert p.returncode == 0, out
    assert field(out, "dkim") == "pass d=mail.example.com s=sel aligned (adkim=r)"


def test_psl_option_changes_the_organizational_domain(binary, endpoint, key, tmp_path):
    # Without "co.uk" in the list, nosp.co.uk's subdomains belong to the organizational
    # domain co.uk, which publishes no record.
    case = next(c for c in CASES if c.name.startswith("organizational_domain_fallback"))
    path = tmp_path / "message.eml"
    path.write_bytes(message_for(case, key[0]))
    psl = tmp_path / "psl.dat"
    psl.write_text("uk\ncom\n")
    p, out = ours(binary, endpoint, path, case, "--psl", str(psl))
    assert p.returncode == 1
    assert field(out, "organizational-domain") == "co.uk"
    assert out.splitlines()[0] in ("none", "temperror"), out  # co.uk is not served
    missing = ours(binary, endpoint, path, case, "--psl", str(tmp_path / "absent.dat"))[0]
    assert missing.returncode == 2
    assert b"absent.dat" in missing.stderr


def test_private_section_counts_unless_icann_only(binary, endpoint, key, tmp_path):
    # A list that makes nosp.co.uk a PRIVATE public suffix: its subdomains become their
    # own organizational domains, which publish nothing.
    case = next(c for c in CASES if c.name.startswith("organizational_domain_fallback"))
    path = tmp_path / "message.eml"
    path.write_bytes(message_for(case, key[0]))
    psl = tmp_path / "psl.dat"
    psl.write_text("uk\nco.uk\n// ===BEGIN PRIVATE DOMAINS===\nnosp.co.uk\n")
    _, whole = ours(binary, endpoint, path, case, "--psl", str(psl))
    assert field(whole, "organizational-domain") == "b.nosp.co.uk"
    assert whole.splitlines()[0] == "none", whole
    _, icann = ours(binary, endpoint, path, case, "--psl", str(psl), "--icann-only")
    assert field(icann, "organizational-domain") == "nosp.co.uk"
    assert icann.splitlines()[0] == "fail", icann


def test_usage_errors(binary, tmp_path):
    message = tmp_path / "m.eml"
    message.write_bytes(b"From: a@example.com\r\n\r\nhi\r\n")
    cases = [
        ["check", "--ip", "192.0.2.1", "--mail-from", "a@example.com", "--helo", "h"],
        ["check", str(message), "--ip", "nonsense", "--mail-from", "a@b", "--helo", "h"],
        ["check", str(message), "--ip", "192.0.2.1", "--helo", "h"],
        ["check", str(tmp_path / "missing.eml"), "--ip", "192.0.2.1", "--mail-from", "a@b",
         "--helo", "h"],
        ["verify"],
        [],
    ]
    for args in cases:
        p = subprocess.run([str(binary), "dmarc", *args], capture_output=True,
                           timeout=TIMEOUT_S)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
    help_run = subprocess.run([str(binary), "dmarc", "--help"], capture_output=True,
                              timeout=TIMEOUT_S)
    assert help_run.returncode == 0 and b"dmarc check MESSAGE_FILE" in help_run.stdout
