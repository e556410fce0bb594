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
