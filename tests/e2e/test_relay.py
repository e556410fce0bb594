"""Never an open relay: every trick for routing through a local address is refused.

All unauthenticated on the MX port. Each RCPT must get a 5xx (a 4xx would invite the client
to try again later), the DATA that follows must not be accepted, and nothing may land in
any Maildir. The same forms are tried with and without a catch-all for the local domain:
a catch-all must not turn "user%remote@local" into an accepted (and later relayed) address.
"""

from __future__ import annotations

import smtplib

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
                      users={u: password_hash for u in USERS}, **options)
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


def test_authenticated_external_recipient_is_451_for_now(relay_server, client_tls):
    """Documented stop-gap: outbound delivery does not exist yet, so an authenticated client
    sending to another domain is told to try later (451 4.3.0), not refused for good."""
    with _authenticated(relay_server, client_tls) as s:
        s.mail("alice@example.test")
        code, text = s.rcpt("friend@remote.example")
        assert code == 451 and text.startswith(b"4.3.0"), (code, text)
    assert relay_server.all_files() == []


@pytest.mark.parametrize("form", ["percent_hack", "bang_path", "quoted_local_part",
                                  "address_literal"])
def test_relay_tricks_are_refused_even_when_authenticated(relay_server, client_tls, form):
    with _authenticated(relay_server, client_tls) as s:
        s.mail("alice@example.test")
        code, text = s.docmd("RCPT", f"TO:{RELAY_FORMS[form]}")
        assert 500 <= code < 600, (code, text)
    assert relay_server.all_files() == []
