"""Never an open relay: every trick for routing through a local address is refused.

All unauthenticated on the MX port. Each RCPT must get a 5xx (a 4xx would invite the client
to try again later), the DATA that follows must not be accepted, and nothing may land in
any Maildir. The same forms are tried with and without a catch-all for the local domain:
a catch-all must not turn "user%remote@local" into an accepted (and later relayed) address.
"""

from __future__ import annotations

import smtplib

import time

import pytest

from mailsim_harness import HOST, PASSWORD, USERS, RawSmtp, ServerProcess

TIMEOUT_S = 10

RELAY_FORMS = {
    "percent_hack": "<user%remote.example@example.test>",
    "percent_hack_upper_domain": "<user%remote.example@EXAMPLE.TEST>",
    "quoted_local_part": '<"user@remote.example"@example.test>',
    "bang_path": "<remote.example!user@example.test>",
    "bang_path_two_hops": "<remote.example!relay.example!user@example.test>",
    "source_route": "<@example.test:user@remote.example>",
    "source_route_two_hops": "<@example.test,@other.example:user@remote.example>",
    "external": "<user@remote.example>",
    "external_subdomain_of_local": "<user@sub.example.test>",
    "external_local_suffix": "<user@example.test.remote.example>",
    "address_literal": "<user@[127.0.0.1]>",
    "address_literal_ipv6": "<user@[IPv6:::1]>",
    "percent_and_literal": "<user%remote.example@[127.0.0.1]>",
}


@pytest.fixture(scope="module", params=["plain", "with_catch_all"])
def relay_server(request, tmp_path_factory, tls_files, password_hash, binary):
    """One server per catch-all variant, shared by the tests of this module."""
    options = {}
    if request.param == "with_catch_all":
        options["catch_all"] = {"example.test": "carol@example.test"}
    s = ServerProcess(workdir=tmp_path_factory.mktemp(f"relay-{request.param}"),
                      cert=tls_files[0], key=tls_files[1], binary=binary,
                      users={u: password_hash for u in USERS},
                      # A closed DNS world: remote.example does not exist (NXDOMAIN).
                      dns={"local_data": ["example.test. 60 IN MX 10 mx.example.test."]},
                      **options)
    s.start()
    yield s
    assert s.stop() == 0


@pytest.mark.parametrize("sender", ["<sender@remote.example>", "<alice@example.test>", "<>"])
@pytest.mark.parametrize("form", list(RELAY_FORMS))
def test_relay_attempt_is_refused(relay_server, form, sender):
    rcpt = RELAY_FORMS[form]
    with RawSmtp(relay_server.mx_port) as c:
        c.expect("EHLO attacker.remote.example", 250)
        c.expect(f"MAIL FROM:{sender}", 250)
        code, text = c.cmd(f"RCPT TO:{rcpt}")
        assert 500 <= code < 600, f"RCPT TO:{rcpt} got {code} {text}"
        # With no accepted recipient there is no transaction to send data into.
        code, text = c.cmd("DATA")
        assert code != 354, f"DATA accepted after refused RCPT: {code} {text}"
        c.cmd("QUIT")
    assert relay_server.all_files() == [], "a relay attempt was delivered"


def test_relay_refusal_is_554_5_7_1(relay_server):
    with RawSmtp(relay_server.mx_port) as c:
        c.expect("EHLO attacker.remote.example", 250)
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        code, text = c.cmd("RCPT TO:<user@remote.example>")
        assert code == 554 and text.startswith("5.7.1"), (code, text)


def test_relay_forms_among_valid_recipients(relay_server):
    """A valid local recipient in the same transaction delivers only to itself."""
    body = b"From: sender@remote.example\r\nSubject: mixed\r\n\r\nmixed\r\n"
    before = set(relay_server.all_files())
    with smtplib.SMTP(HOST, relay_server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo("attacker.remote.example")
        s.mail("sender@remote.example")
        for rcpt in RELAY_FORMS.values():
            code, _ = s.docmd("RCPT", f"TO:{rcpt}")
            assert 500 <= code < 600, (rcpt, code)
        code, _ = s.rcpt("bob@example.test")
        assert code == 250
        code, _ = s.data(body)
        assert code == 250
    new_files = set(relay_server.all_files()) - before
    assert len(new_files) == 1
    (path,) = new_files
    assert path.parent.parent.parent.name == "bob"
    # Leave the module's server clean for the other tests.
    path.unlink()


def _authenticated(server, client_tls):
    s = smtplib.SMTP(HOST, server.submission_port, timeout=TIMEOUT_S)
    s.starttls(context=client_tls)
    s.login("alice@example.test", PASSWORD)
    return s


def test_authenticated_external_recipient_is_queued(relay_server, client_tls):
    """An authenticated client may send to other domains: the message goes to the outbound
    spool (durable before the 250), not into any local Maildir. remote.example does not
    exist, so the sender soon gets the bounce (5.1.2) in her own Maildir."""
    with _authenticated(relay_server, client_tls) as s:
        s.mail("alice@example.test")
        code, text = s.rcpt("friend@remote.example")
        assert code == 250, (code, text)
        code, text = s.data(b"Subject: out\r\n\r\nto the world\r\n")
        assert code == 250 and b"queued as" in text, (code, text)
    deadline = time.monotonic() + 30
    while not relay_server.delivered("alice@example.test") and time.monotonic() < deadline:
        time.sleep(0.05)
    (bounce,) = relay_server.delivered("alice@example.test")
    assert bounce.return_path == b""
    assert b"Status: 5.1.2" in bounce.body and b"to the world" in bounce.body
    bounce.path.unlink()  # leave the module's server clean for the other tests
    assert relay_server.all_files() == []


@pytest.mark.parametrize("form", ["percent_hack", "bang_path", "quoted_local_part",
                                  "address_literal"])
def test_relay_tricks_are_refused_even_when_authenticated(relay_server, client_tls, form):
    with _authenticated(relay_server, client_tls) as s:
        s.mail("alice@example.test")
        code, text = s.docmd("RCPT", f"TO:{RELAY_FORMS[form]}")
        assert 500 <= code < 600, (code, text)
    assert relay_server.all_files() == []
