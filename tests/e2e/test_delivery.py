"""Inbound delivery on the MX port: what the client sent is what lands in the Maildir.

Every test sends with a real client (Python's smtplib, swaks, or a raw socket for BDAT,
which smtplib lacks) and then reads the Maildir file back: the server prepends exactly a
Return-Path line and one Received field (folded with CRLF TAB), and after those the file
must equal the message bytes as sent, CRLFs and all, with dot-stuffing undone.
"""

from __future__ import annotations

import os
import smtplib
import subprocess

import pytest

from mailsim_harness import HOST, RawSmtp, crlf, queue_id

TIMEOUT_S = 10


def only_message(server, address):
    files = server.delivered(address)
    assert len(files) == 1, f"{address}: expected one message, found {[f.path for f in files]}"
    return files[0]


def assert_delivered(server, address, body: bytes, sender: bytes, for_clause: bool = True):
    got = only_message(server, address)
    assert got.return_path == sender
    assert got.body == body, "stored message differs from what was sent"
    if for_clause:
        assert got.received_for == address.encode("utf-8")
    else:
        assert got.received_for is None, "a multi-recipient copy must not name a recipient"
    assert got.received.startswith(b"Received: from ")
    assert b"\r\n\tby mx.example.test (mailsim) with " in got.received
    return got


PLAIN = crlf("""\
From: Sender <sender@remote.example>
To: Alice <alice@example.test>
Subject: plain ASCII
Message-ID: <plain-1@remote.example>
Date: Tue, 25 Nov 2025 10:00:00 +0000

Hello Alice,
.a line that starts with a dot must be unstuffed back to one dot
..and one that starts with two
.
  indented line, trailing spaces   
""")


def test_plain_ascii_message_is_stored_byte_for_byte(server):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo("client.remote.example")
        refused = s.sendmail("sender@remote.example", ["alice@example.test"], PLAIN)
        assert refused == {}
    got = assert_delivered(server, "alice@example.test", PLAIN, b"sender@remote.example")
    assert got.received_with == b"ESMTP"
    assert got.received.startswith(b"Received: from client.remote.example (")
    assert b"[127.0.0.1]" in got.received


def test_helo_client_is_recorded_as_smtp(server):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.helo("old.remote.example")
        s.sendmail("sender@remote.example", ["bob@example.test"], PLAIN)
    got = assert_delivered(server, "bob@example.test", PLAIN, b"sender@remote.example")
    assert got.received_with == b"SMTP"


def test_null_reverse_path(server):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.sendmail("<>", ["alice@example.test"], PLAIN)
    assert_delivered(server, "alice@example.test", PLAIN, b"")


EIGHT_BIT = crlf("""\
From: Jürgen <juergen@remote.example>
To: alice@example.test
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Köln — ½ € ✓ 日本語
""")


def test_8bit_utf8_body_with_8bitmime(server):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo()
        assert s.has_extn("8bitmime")
        s.sendmail("juergen@remote.example", ["alice@example.test"], EIGHT_BIT,
                   mail_options=["BODY=8BITMIME"])
    assert_delivered(server, "alice@example.test", EIGHT_BIT, b"juergen@remote.example")


SMTPUTF8_MESSAGE = crlf("""\
From: Jürgen Müller <müller@remote.example>
To: José <josé@example.test>
Subject: Grüße, José — 日本語の件名
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

¡Hola José! Ünïcödé in the headers, the envelope and the body.
""")


def test_smtputf8_envelope_and_headers(server):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo()
        assert s.has_extn("smtputf8")
        refused = s.sendmail("müller@remote.example", ["josé@example.test"], SMTPUTF8_MESSAGE,
                             mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        assert refused == {}
    got = assert_delivered(server, "josé@example.test", SMTPUTF8_MESSAGE,
                           "müller@remote.example".encode())
    assert got.received_with == b"UTF8SMTP"


def test_utf8_address_without_smtputf8_is_refused(server):
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.remote.example", 250)
        code, _ = c.cmd("MAIL FROM:<müller@remote.example>")
        if code == 250:
            code, _ = c.cmd("RCPT TO:<josé@example.test>")
        assert 500 <= code < 600
    assert server.all_files() == []


def test_multiple_recipients_each_get_an_identical_copy(server):
    body = crlf("""\
From: sender@remote.example
To: alice@example.test, bob@example.test
Cc: carol@example.test
Subject: to three

One message, three recipients.
""")
    rcpts = ["alice@example.test", "bob@example.test", "carol@example.test"]
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        assert s.sendmail("sender@remote.example", rcpts, body) == {}
    ids = set()
    for rcpt in rcpts:
        got = assert_delivered(server, rcpt, body, b"sender@remote.example", for_clause=False)
        ids.add(got.received)
    # The three copies are of one transaction: one Received field, the same for everybody.
    assert len(ids) == 1
    assert server.delivered("josé@example.test") == []


def test_recipient_reached_twice_through_an_alias_gets_one_copy(make_server):
    server = make_server(aliases={"team@example.test": ["alice@example.test",
                                                         "bob@example.test"]})
    body = crlf("From: sender@remote.example\nSubject: team\n\nhi team\n")
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        assert s.sendmail("sender@remote.example",
                          ["team@example.test", "alice@example.test"], body) == {}
    assert_delivered(server, "alice@example.test", body, b"sender@remote.example",
                     for_clause=False)
    assert_delivered(server, "bob@example.test", body, b"sender@remote.example",
                     for_clause=False)


def test_unknown_local_user_is_refused_and_others_still_get_it(server):
    body = crlf("From: sender@remote.example\nSubject: partial\n\nhello\n")
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        refused = s.sendmail("sender@remote.example",
                             ["nobody@example.test", "bob@example.test"], body)
    assert set(refused) == {"nobody@example.test"}
    assert refused["nobody@example.test"][0] == 550
    assert_delivered(server, "bob@example.test", body, b"sender@remote.example")


# ---------------------------------------------------------------------------------------
# BDAT (RFC 3030): smtplib has no BDAT, so these speak raw SMTP.

def bdat_session(port):
    c = RawSmtp(port)
    text = c.expect("EHLO client.remote.example", 250)
    keywords = {line.split()[0].upper() for line in text.split("\n")[1:] if line}
    return c, keywords


def test_bdat_chunks_are_joined_exactly(server):
    message = crlf("""\
From: sender@remote.example
To: alice@example.test
Subject: chunked

First chunk ends mid-line here ->""") + crlf("""<- second chunk continues.
.
A lone dot line above must survive: BDAT does no dot-stuffing.
""")
    cut = message.index(b"<- second")
    chunks = [message[:cut], message[cut:cut + 10], message[cut + 10:]]
    c, keywords = bdat_session(server.mx_port)
    with c:
        assert "CHUNKING" in keywords
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        for chunk in chunks:
            c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
            code, text = c.reply()
            assert code == 250, text
        code, text = c.cmd("BDAT 0 LAST")
        assert code == 250, text
        assert queue_id(text)
        c.expect("QUIT", 221)
    assert_delivered(server, "alice@example.test", message, b"sender@remote.example")


def test_bdat_binarymime_keeps_bare_cr_lf_and_nul(server):
    # Bare CR, bare LF, NUL, 0xFF and SMTP-significant sequences: binary is binary.
    payload = (b"\x00\x01\x02\r\x0a\n\r\n.\r\n\r.\r\n.\n\xff\xfe" + os.urandom(3000)
               + b"\r\n.\r\n" + bytes(range(256)))
    message = crlf("""\
From: sender@remote.example
To: bob@example.test
Subject: binary
MIME-Version: 1.0
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

""") + payload
    c, keywords = bdat_session(server.mx_port)
    with c:
        assert "BINARYMIME" in keywords
        c.expect("MAIL FROM:<sender@remote.example> BODY=BINARYMIME", 250)
        c.expect("RCPT TO:<bob@example.test>", 250)
        first, last = message[:1000], message[1000:]
        c.send(b"BDAT %d\r\n" % len(first) + first)
        code, text = c.reply()
        assert code == 250, text
        c.send(b"BDAT %d LAST\r\n" % len(last) + last)
        code, text = c.reply()
        assert code == 250, text
    assert_delivered(server, "bob@example.test", message, b"sender@remote.example")


def test_bdat_pipelined_large_chunks_and_two_transactions(server):
    big = crlf("From: sender@remote.example\nSubject: big\n\n") + \
        b"".join(b"line %06d of a big chunked message\r\n" % i for i in range(6000))
    small = crlf("From: sender@remote.example\nSubject: small\n\nsmall one\n")
    c, _ = bdat_session(server.mx_port)
    with c:
        # One write: MAIL, RCPT and two chunks pipelined (RFC 2920 and RFC 3030 §4.2).
        half = len(big) // 2
        c.send(b"MAIL FROM:<sender@remote.example>\r\nRCPT TO:<carol@example.test>\r\n"
               + b"BDAT %d\r\n" % half + big[:half]
               + b"BDAT %d LAST\r\n" % (len(big) - half) + big[half:])
        for _ in range(4):
            code, text = c.reply()
            assert code == 250, text
        # A second transaction on the same connection, one LAST chunk.
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<carol@example.test>", 250)
        c.send(b"BDAT %d LAST\r\n" % len(small) + small)
        code, text = c.reply()
        assert code == 250, text
    files = server.delivered("carol@example.test")
    assert sorted(f.body for f in files) == sorted([big, small])
    assert len({f.received for f in files}) == 2


# ---------------------------------------------------------------------------------------
# swaks, a third-party SMTP client, against the MX port.

def test_swaks_plain_to_mx(server, tmp_path):
    message = crlf("""\
From: swaks@remote.example
To: alice@example.test
Subject: sent by swaks
Message-ID: <swaks-mx-1@remote.example>

Body line one.
.Leading dot.
""")
    # swaks ends DATA with its own CRLF "." CRLF, so the file leaves the last CRLF off.
    data_file = tmp_path / "message.eml"
    data_file.write_bytes(message[:-2])
    result = subprocess.run(
        ["swaks", "--server", f"{HOST}:{server.mx_port}", "--helo", "swaks.remote.example",
         "--from", "swaks@remote.example", "--to", "alice@example.test",
         "--data", f"@{data_file}", "--timeout", "10"],
        capture_output=True, timeout=60)
    assert result.returncode == 0, result.stdout.decode(errors="replace")
    got = assert_delivered(server, "alice@example.test", message, b"swaks@remote.example")
    assert got.received.startswith(b"Received: from swaks.remote.example (")


@pytest.mark.parametrize("size", [70 * 1024])
def test_size_extension_refuses_too_big(make_server, size):
    server = make_server(limits={"message_size_max": "64KiB"})
    body = crlf("From: sender@remote.example\nSubject: big\n\n") + b"x" * 70 + b"\r\n"
    body = body * (size // len(body) + 1)
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo()
        assert int(s.esmtp_features["size"]) == 64 * 1024
        code, text = s.docmd("MAIL", f"FROM:<sender@remote.example> SIZE={len(body)}")
        assert code == 552 and text.startswith(b"5.3.4"), (code, text)
        # Without a SIZE parameter the data itself is measured.
        s.rset()
        s.mail("sender@remote.example")
        s.rcpt("alice@example.test")
        code, text = s.data(body)
        assert code == 552, (code, text)
    assert server.all_files() == []


def test_dsn_parameters_are_accepted(server):
    body = crlf("From: sender@remote.example\nSubject: dsn\n\nwith DSN parameters\n")
    with RawSmtp(server.mx_port) as c:
        text = c.expect("EHLO client.remote.example", 250)
        assert "DSN" in text.split("\n")
        c.expect("MAIL FROM:<sender@remote.example> RET=HDRS ENVID=QQ314159", 250)
        c.expect("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,DELAY "
                 "ORCPT=rfc822;Alice+2B@example.test", 250)
        c.expect("RCPT TO:<bob@example.test> NOTIFY=NEVER", 250)
        c.expect("DATA", 354)
        c.send(body + b".\r\n")
        code, text = c.reply()
        assert code == 250, text
        code, text = c.cmd("RCPT TO:<carol@example.test> NOTIFY=NEVER,SUCCESS")
        assert code == 501 or code == 503, (code, text)
    for rcpt in ("alice@example.test", "bob@example.test"):
        assert_delivered(server, rcpt, body, b"sender@remote.example", for_clause=False)


SMUGGLING_VECTORS = {
    "lf_dot_lf": b"\n.\n",
    "cr_dot_cr": b"\r.\r",
    "lf_dot_crlf": b"\n.\r\n",
    "crlf_dot_lf": b"\r\n.\n",
    "crlf_dot_cr": b"\r\n.\r",
    "cr_dot_crlf": b"\r.\r\n",
}


@pytest.mark.parametrize("vector", list(SMUGGLING_VECTORS))
def test_smuggled_second_message_is_never_delivered(server, vector):
    """CVE-2023-51766 family: a sloppy end-of-data must not split one message into two."""
    smuggled = (b"MAIL FROM:<ceo@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                b"From: ceo@example.test\r\nSubject: smuggled\r\n\r\npay now\r\n")
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.remote.example", 250)
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"From: sender@remote.example\r\nSubject: carrier\r\n\r\nhello"
               + SMUGGLING_VECTORS[vector] + smuggled + b".\r\n")
        code, text = c.reply()
        # The default policy (bare_newlines: reject) refuses the whole message.
        assert code == 554 and text.startswith("5.5.2"), (code, text)
        c.expect("NOOP", 250)  # the session is still in step: nothing was left unread
    assert server.delivered("bob@example.test") == []
    assert server.all_files() == []


def test_bare_newline_normalize_policy_keeps_one_message(make_server):
    server = make_server(smtp={"bare_newlines": "normalize"})
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.remote.example", 250)
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: carrier\r\n\r\nhello\n.\nMAIL FROM:<ceo@example.test>\r\n"
               b"RCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n")
        code, text = c.reply()
        assert code == 250, (code, text)
        c.expect("NOOP", 250)
    assert server.delivered("bob@example.test") == []
    (got,) = server.delivered("alice@example.test")
    assert b"MAIL FROM:<ceo@example.test>" in got.body  # it stayed inside the one message
    assert b"\r\n" in got.body and b"\n" not in got.body.replace(b"\r\n", b"")


def test_quota_refusals(make_server):
    server = make_server(start=False, quotas={"bob@example.test": "100KiB",
                                              "carol@example.test": "100KiB"})
    # Bob's mailbox is full already: a message of exactly his quota sits in cur/.
    cur = server.maildir("bob@example.test") / "cur"
    for sub in ("tmp", "new", "cur"):
        (cur.parent / sub).mkdir(parents=True, exist_ok=True)
    (cur / "1700000000.M1P1Q1.prefill,S=102400:2,S").write_bytes(b"x" * 102400)
    server.start()
    big = crlf("From: sender@remote.example\nSubject: big\n\n") + b"y" * 70 + b"\r\n"
    big = big * 850  # about 60 KiB
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo()
        s.mail("sender@remote.example")
        code, text = s.rcpt("bob@example.test")
        assert code == 452 and text.startswith(b"4.2.2"), (code, text)
        s.rset()
        assert s.sendmail("sender@remote.example", ["carol@example.test"], big) == {}
        s.mail("sender@remote.example")
        assert s.rcpt("carol@example.test")[0] == 250
        code, text = s.data(big)
        assert code == 552 and text.startswith(b"5.2.2"), (code, text)
        small = crlf("From: sender@remote.example\nSubject: small\n\nfits\n")
        assert s.sendmail("sender@remote.example", ["carol@example.test"], small) == {}
    assert sorted(d.body for d in server.delivered("carol@example.test")) == sorted([big, small])
    assert server.delivered("bob@example.test") == []


def test_unqualified_postmaster_is_accepted(server):
    # RFC 5321 §4.1.1.3 and §4.5.1: "<Postmaster>" without a domain MUST be accepted.
    body = crlf("From: sender@remote.example\nTo: postmaster\nSubject: abuse report\n\nhi\n")
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo("client.remote.example")
        s.mail("sender@remote.example")
        code, text = s.rcpt("postmaster")
        assert code == 250, (code, text)
        code, text = s.data(body)
        assert code == 250, (code, text)
    # postmaster@example.test is an alias of alice@example.test in the test config.
    (got,) = server.delivered("alice@example.test")
    assert got.body == body


def test_pipelined_transaction_with_a_refused_recipient(server):
    body = crlf("From: sender@remote.example\nSubject: pipelined\n\npipelined\n")
    with RawSmtp(server.mx_port) as c:
        text = c.expect("EHLO client.remote.example", 250)
        assert "PIPELINING" in text.split("\n")
        c.send(b"MAIL FROM:<sender@remote.example>\r\nRCPT TO:<alice@example.test>\r\n"
               b"RCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
        assert [c.reply()[0] for _ in range(5)] == [250, 250, 550, 250, 354]
        c.send(body + b".\r\nQUIT\r\n")
        code, text = c.reply()
        assert code == 250, text
        assert c.reply()[0] == 221
    for rcpt in ("alice@example.test", "bob@example.test"):
        assert_delivered(server, rcpt, body, b"sender@remote.example", for_clause=False)
    assert server.delivered("nobody@example.test") == []


def test_rset_after_a_bdat_chunk_discards_the_message(server):
    with RawSmtp(server.mx_port) as c:
        c.expect("EHLO client.remote.example", 250)
        c.expect("MAIL FROM:<sender@remote.example>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        chunk = b"Subject: abandoned\r\n\r\nfirst part\r\n"
        c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
        assert c.reply()[0] == 250
        c.expect("RSET", 250)
        # A BDAT after RSET has no transaction; its bytes are still read, not executed.
        payload = b"RCPT TO:<bob@example.test>\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(payload) + payload)
        code, _ = c.reply()
        assert code == 503
        c.expect("NOOP", 250)
    assert server.all_files("new") == []
