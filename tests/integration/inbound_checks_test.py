"""The receiving-side checks of mailsim-server (the `inbound:` section) over a loopback
internet: a real unbound daemon serves SPF, DKIM, DMARC and DNSBL records, Python's smtplib
connects from distinct 127.x source addresses (each one a different "client host"), and
the test checks the SMTP replies and what reached the Maildir: accepted into the inbox,
filed into Junk, refused (SPF 550 5.7.23, DMARC 550 5.7.26 / 451 4.7.26, DNSBL 554 5.7.1),
greylisted (450 4.2.0, then accepted), and the Authentication-Results field written.

Messages are DKIM-signed with dkimpy (python3-dkim), an independent implementation.
Every wait is bounded; only 127.0.0.0/8 is used.
"""

from __future__ import annotations

import base64
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mailsim_harness import (  # noqa: E402
    HOST, PASSWORD, ServerProcess, cheap_pbkdf2_hash, delivery_order)
from unbound_fixture import unbound_daemon  # noqa: E402

dkim = pytest.importorskip("dkim")

RCPT = "alice@example.test"
GOOD_IP = "127.0.0.8"     # allowed by the SPF records below
STRANGER_IP = "127.0.0.9"  # allowed nowhere, listed on bl.test
TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def rsa_key(tmp_path_factory):
    """A 2048-bit key and its DKIM record text."""
    folder = tmp_path_factory.mktemp("dkim")
    pem = folder / "key.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(pem), "2048"], check=True,
                   capture_output=True, timeout=60)
    der = subprocess.run(["openssl", "rsa", "-in", str(pem), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True, timeout=60).stdout
    return pem.read_bytes(), "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def txt(name: str, text: str) -> str:
    """A TXT record line, the text split into 255-octet strings (RFC 1035 §3.3)."""
    parts = " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))
    return f"{name}. 60 IN TXT {parts}"


def zone(record: str) -> list[str]:
    return [
        txt("good.test", f"v=spf1 ip4:{GOOD_IP} -all"),
        txt("_dmarc.good.test", "v=DMARC1; p=reject"),
        txt("sel._domainkey.good.test", record),
        txt("reject.test", f"v=spf1 ip4:{GOOD_IP} -all"),
        txt("_dmarc.reject.test", "v=DMARC1; p=reject"),
        txt("quarantine.test", f"v=spf1 ip4:{GOOD_IP} -all"),
        txt("_dmarc.quarantine.test", "v=DMARC1; p=quarantine"),
        txt("temp.test", f"v=spf1 ip4:{GOOD_IP} -all"),
        'local-zone: "_dmarc.temp.test." refuse',
        # bl.test lists 127.0.0.9 (RFC 5782 §2.1: octets reversed), with a reason.
        "9.0.0.127.bl.test. 60 IN A 127.0.0.2",
        txt("9.0.0.127.bl.test", "Listed for testing"),
        "bl.test. 60 IN A 127.0.0.1",
    ]


def message(from_addr: str, subject: str, extra_headers: str = "") -> bytes:
    return (f"From: {from_addr}\r\nTo: {RCPT}\r\nSubject: {subject}\r\n"
            f"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
            f"Message-ID: <{time.monotonic_ns()}@test>\r\n{extra_headers}\r\n"
            f"Body of {subject}.\r\n").encode()


def signed(msg: bytes, key: bytes, domain: str = "good.test") -> bytes:
    return dkim.sign(msg, b"sel", domain.encode(), key,
                     include_headers=[b"from", b"to", b"subject", b"date", b"message-id"]) + msg


def send(server: ServerProcess, source_ip: str, mail_from: str, msg: bytes,
         helo: str = "client.test"):
    """Sends one message; returns (code, text) of the first refusal, or (250, text)."""
    with smtplib.SMTP(HOST, server.ports["smtp"], local_hostname=helo,
                      source_address=(source_ip, 0), timeout=TIMEOUT_S) as s:
        code, text = s.ehlo()
        code, text = s.mail(mail_from)
        if code != 250:
            return code, text.decode()
        code, text = s.rcpt(RCPT)
        if code != 250:
            return code, text.decode()
        code, text = s.data(msg)
        return code, text.decode()


def stored(server: ServerProcess, folder: str = "") -> list[bytes]:
    base = server.maildir(RCPT) / (f".{folder}" if folder else "")
    new = base / "new"
    if not new.is_dir():
        return []
    return [p.read_bytes() for p in sorted(new.iterdir(), key=delivery_order)]


def make_server(tmp_path, dns, name: str, inbound: dict) -> ServerProcess:
    server = ServerProcess(workdir=tmp_path / name, cert=None, key=None,
                           users={RCPT: cheap_pbkdf2_hash(PASSWORD)}, roles=("smtp",),
                           dns={"forwarders": [dns], "timeout": "3s"},
                           extra={"inbound": inbound})
    server.start()
    return server


CHECKS = {
    "authserv_id": "mx.example.test",
    "spf": {"fail": "reject"},
    "dnsbl": [{"zone": "bl.test", "txt": True}],
    "spam": {"rules": [{"name": "SUBJ_LOTTERY", "header": "Subject", "contains": "lottery",
                        "score": "6"}]},
}


@pytest.fixture(scope="module")
def mx(tmp_path_factory, rsa_key):
    with unbound_daemon(zone(rsa_key[1])) as dns:
        server = make_server(tmp_path_factory.mktemp("mx"), dns, "mx", CHECKS)
        try:
            yield server
        finally:
            assert server.stop() == 0


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n", 1)[0].decode()


def test_authenticated_mail_reaches_the_inbox_with_authentication_results(mx, rsa_key):
    forged = "Authentication-Results: mx.example.test; dkim=pass header.d=good.test\r\n"
    msg = signed(message("news@good.test", "weekly news", forged), rsa_key[0])
    before = len(stored(mx))
    assert send(mx, GOOD_IP, "bounce@good.test", msg)[0] == 250
    raw = stored(mx)[before]
    head = header_block(raw)
    assert "Authentication-Results: mx.example.test;" in head
    assert "spf=pass smtp.mailfrom=good.test" in head
    assert "dkim=pass header.d=good.test header.s=sel" in head
    assert "dmarc=pass" in head and "header.from=good.test" in head
    assert "X-Spam-Status: No," in head
    # The client's forged field in our name was removed (RFC 8601 §5); the signature
    # still verified on what the client sent.
    assert head.count("Authentication-Results:") == 1


def test_spf_fail_is_refused_at_mail_from(mx):
    code, text = send(mx, "127.0.0.10", "someone@good.test", message("someone@good.test", "hi"))
    assert code == 550 and text.startswith("5.7.23"), text
    assert "SPF fail" in text and "good.test" in text


def test_dnsbl_listing_is_refused_at_rcpt_naming_the_list(mx):
    code, text = send(mx, STRANGER_IP, "x@unknown-sender.test", message("x@unknown-sender.test", "hi"))
    assert code == 554 and text.startswith("5.7.1"), text
    assert "bl.test" in text and "Listed for testing" in text


def test_dmarc_reject_policy_refuses_unaligned_mail(mx):
    # SPF passes for good.test, but the From domain reject.test has no aligned pass.
    code, text = send(mx, GOOD_IP, "bounce@good.test", message("ceo@reject.test", "wire money"))
    assert code == 550 and text.startswith("5.7.26"), text
    assert "reject.test" in text


def test_dmarc_quarantine_files_into_junk(mx):
    before = len(stored(mx, "Junk"))
    assert send(mx, GOOD_IP, "bounce@good.test", message("promo@quarantine.test", "offer"))[0] == 250
    junk = stored(mx, "Junk")
    assert len(junk) == before + 1
    assert "dmarc=fail" in header_block(junk[-1])


def test_dmarc_dns_failure_defers(mx):
    code, text = send(mx, GOOD_IP, "bounce@good.test", message("x@temp.test", "temp"))
    assert code == 451 and text.startswith("4.7.26"), text


def test_spam_score_files_into_junk(mx, rsa_key):
    msg = signed(message("news@good.test", "you won the lottery"), rsa_key[0])
    before = len(stored(mx, "Junk"))
    assert send(mx, GOOD_IP, "bounce@good.test", msg)[0] == 250
    junk = stored(mx, "Junk")
    assert len(junk) == before + 1
    head = header_block(junk[-1])
    assert "X-Spam-Status: Yes," in head and "SUBJ_LOTTERY" in head


def test_greylisting_defers_the_first_attempt_then_accepts(tmp_path, rsa_key):
    with unbound_daemon(zone(rsa_key[1])) as dns:
        server = make_server(tmp_path, dns, "grey", {"greylist": {"delay": "1s",
                                                                  "retry_window": "1h"}})
        try:
            msg = signed(message("news@good.test", "grey"), rsa_key[0])
            code, text = send(server, GOOD_IP, "bounce@good.test", msg)
            assert code == 450 and text.startswith("4.2.0"), text
            code, text = send(server, GOOD_IP, "bounce@good.test", msg)
            assert code == 450, "a retry before the delay is still deferred"
            time.sleep(1.5)
            assert send(server, GOOD_IP, "bounce@good.test", msg)[0] == 250
            assert len(stored(server)) == 1
        finally:
            assert server.stop() == 0


def test_the_greylist_survives_a_restart(tmp_path, rsa_key):
    with unbound_daemon(zone(rsa_key[1])) as dns:
        server = make_server(tmp_path, dns, "grey", {"greylist": {"delay": "1s",
                                                                  "retry_window": "1h"}})
        try:
            msg = signed(message("news@good.test", "grey"), rsa_key[0])
            assert send(server, GOOD_IP, "bounce@good.test", msg)[0] == 450
            assert server.stop() == 0
            assert (server.state_dir / "greylist.txt").is_file()
            server.start()
            time.sleep(1.5)
            # Without the saved table the restarted server would not know the triplet.
            assert send(server, GOOD_IP, "bounce@good.test", msg)[0] == 250
        finally:
            assert server.stop() == 0
