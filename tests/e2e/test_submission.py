"""Submission (RFC 6409, STARTTLS on its own port) and submissions (RFC 8314 implicit TLS).

On submission the server asks for STARTTLS before anything else and AUTH before MAIL; AUTH
is not even offered in clear text. Clients here verify the server certificate against the
test CA (the self-signed certificate itself), so the TLS is real, not "verify off".
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from mailsim_harness import HOST, PASSWORD, RawSmtp, ServerProcess, crlf

TIMEOUT_S = 10

MESSAGE = crlf("""\
From: Alice <alice@example.test>
To: Bob <bob@example.test>
Subject: submitted

Sent through the submission port.
.dot line
""")


def submit_ok(server: ServerProcess, rcpt: str, body: bytes, protocol: bytes):
    files = server.delivered(rcpt)
    assert len(files) == 1
    got = files[0]
    assert got.body == body
    assert got.return_path == b"alice@example.test"
    assert got.received_for == rcpt.encode()
    assert got.received_with == protocol
    return got


def test_submission_requires_starttls_before_mail(server):
    with smtplib.SMTP(HOST, server.submission_port, timeout=TIMEOUT_S) as s:
        s.ehlo("client.example.test")
        assert s.has_extn("starttls")
        code, text = s.mail("alice@example.test")
        assert code == 530 and text.startswith(b"5.7.0"), (code, text)
    assert server.all_files() == []


def test_submission_does_not_offer_auth_before_tls(server):
    with smtplib.SMTP(HOST, server.submission_port, timeout=TIMEOUT_S) as s:
        s.ehlo()
        assert not s.has_extn("auth"), "AUTH offered on a clear-text connection"
        # A client that tries anyway is told to start TLS first: on a listener that requires
        # TLS every command but EHLO, NOOP, STARTTLS and QUIT gets 530 (RFC 3207 §4).
        code, text = s.docmd("AUTH", "PLAIN " + _plain("alice@example.test", PASSWORD))
        assert code == 530 and text.startswith(b"5.7.0"), (code, text)


def test_mx_port_does_not_offer_auth_before_tls(server):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.ehlo()
        assert s.has_extn("starttls")
        assert not s.has_extn("auth")
        code, text = s.docmd("AUTH", "PLAIN " + _plain("alice@example.test", PASSWORD))
        assert code == 538 and text.startswith(b"5.7.11"), (code, text)


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def test_submission_requires_auth_after_starttls(server, client_tls):
    with smtplib.SMTP(HOST, server.submission_port, timeout=TIMEOUT_S) as s:
        s.starttls(context=client_tls)
        s.ehlo()
        assert s.has_extn("auth")
        code, text = s.mail("alice@example.test")
        assert code == 530 and text.startswith(b"5.7.0"), (code, text)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_submission_starttls_then_auth_delivers(server, client_tls, mechanism):
    with smtplib.SMTP(HOST, server.submission_port, timeout=TIMEOUT_S) as s:
        s.ehlo("laptop.example.test")
        s.starttls(context=client_tls)
        s.ehlo("laptop.example.test")
        assert mechanism in s.esmtp_features["auth"].split()
        s.user, s.password = "alice@example.test", PASSWORD
        method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login}[mechanism]
        code, text = s.auth(mechanism, method, initial_response_ok=(mechanism == "PLAIN"))
        assert code == 235, (code, text)
        assert s.sendmail("alice@example.test", ["bob@example.test"], MESSAGE) == {}
    submit_ok(server, "bob@example.test", MESSAGE, b"ESMTPSA")


def test_submissions_implicit_tls_delivers(server, client_tls):
    with smtplib.SMTP_SSL(HOST, server.submissions_port, timeout=TIMEOUT_S,
                          context=client_tls) as s:
        s.ehlo("laptop.example.test")
        assert not s.has_extn("starttls"), "STARTTLS offered inside TLS"
        s.login("alice@example.test", PASSWORD)
        assert s.sendmail("alice@example.test", ["carol@example.test"], MESSAGE) == {}
        tls_version = s.sock.version()
    assert tls_version in ("TLSv1.2", "TLSv1.3")
    submit_ok(server, "carol@example.test", MESSAGE, b"ESMTPSA")


def test_wrong_password_is_535_and_slowed(server, client_tls):
    with smtplib.SMTP_SSL(HOST, server.submissions_port, timeout=TIMEOUT_S,
                          context=client_tls) as s:
        s.ehlo()
        started = time.monotonic()
        # One mechanism only: smtplib's login() would try each offered one, and each
        # failure costs another second.
        s.user, s.password = "alice@example.test", "not the password"
        with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
            s.auth("PLAIN", s.auth_plain)
        elapsed = time.monotonic() - started
        assert failure.value.smtp_code == 535
        assert failure.value.smtp_error.startswith(b"5.7.8")
        # RFC 4954 §4 lets a server slow down failures; this one waits ~1 s per failure.
        assert elapsed >= 0.8, f"failure answered after {elapsed:.2f}s"
        # The session goes on and a correct login still works.
        s.login("alice@example.test", PASSWORD)
        assert s.sendmail("alice@example.test", ["bob@example.test"], MESSAGE) == {}
    submit_ok(server, "bob@example.test", MESSAGE, b"ESMTPSA")


def test_unknown_user_is_535(server, client_tls):
    with smtplib.SMTP_SSL(HOST, server.submissions_port, timeout=TIMEOUT_S,
                          context=client_tls) as s:
        s.ehlo()
        s.user, s.password = "mallory@example.test", PASSWORD
        with pytest.raises(smtplib.SMTPAuthenticationError) as failure:
            s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        assert failure.value.smtp_code == 535
        assert failure.value.smtp_error.startswith(b"5.7.8")


def test_swaks_starttls_auth_plain_on_submission(server, tmp_path):
    message = crlf("""\
From: alice@example.test
To: bob@example.test
Subject: swaks over STARTTLS

Authenticated and encrypted.
""")
    data_file = tmp_path / "message.eml"
    data_file.write_bytes(message[:-2])  # swaks adds the last CRLF before "."
    result = subprocess.run(
        ["swaks", "--server", f"{HOST}:{server.submission_port}", "--tls",
         "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", PASSWORD,
         "--from", "alice@example.test", "--to", "bob@example.test",
         "--data", f"@{data_file}", "--timeout", "10"],
        capture_output=True, timeout=60)
    transcript = result.stdout.decode(errors="replace")
    assert result.returncode == 0, transcript
    assert "235 " in transcript
    submit_ok(server, "bob@example.test", message, b"ESMTPSA")


def test_auth_on_mx_after_starttls_is_recorded(server, client_tls):
    # The MX port offers AUTH under TLS but does not require it.
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.starttls(context=client_tls)
        s.login("alice@example.test", PASSWORD)
        assert s.sendmail("alice@example.test", ["bob@example.test"], MESSAGE) == {}
    submit_ok(server, "bob@example.test", MESSAGE, b"ESMTPSA")


def test_mx_starttls_without_auth_is_esmtps(server, client_tls):
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        s.starttls(context=client_tls)
        assert s.sendmail("alice@example.test", ["bob@example.test"], MESSAGE) == {}
    submit_ok(server, "bob@example.test", MESSAGE, b"ESMTPS")


def test_commands_pipelined_with_starttls_are_discarded(server, client_tls):
    # CVE-2011-0411: bytes sent after STARTTLS but before the handshake must not be executed
    # inside the TLS session.
    c = RawSmtp(server.mx_port)
    try:
        c.expect("EHLO client.example.test", 250)
        c.send(b"STARTTLS\r\nRSET\r\n")
        code, _ = c.reply()
        assert code == 220
        tls = client_tls.wrap_socket(c.sock, server_hostname=HOST)
        t = RawSmtp(0, sock=tls, read_greeting=False)
        # If "RSET" had been buffered and replayed, its 250 would arrive before EHLO's reply.
        text = t.expect("EHLO client.example.test", 250)
        assert "STARTTLS" not in text.upper().split()
        t.expect("NOOP", 250)
        t.close()
    except ssl.SSLError as e:
        pytest.fail(f"TLS handshake failed: {e}")
    finally:
        c.close()


def test_hash_password_output_works_for_login(make_server, binary, client_tls):
    """`mailsim-server hash-password` output in a config lets the user log in."""
    result = subprocess.run([str(binary), "hash-password"], input=b"secret\n",
                            capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    line = result.stdout.decode().strip()
    assert line.startswith("$pbkdf2-sha256$i="), line
    assert "secret" not in line
    server = make_server(users={"dave@example.test": line})
    with smtplib.SMTP_SSL(HOST, server.submissions_port, timeout=TIMEOUT_S,
                          context=client_tls) as s:
        s.login("dave@example.test", "secret")
        assert s.sendmail("dave@example.test", ["dave@example.test"], MESSAGE) == {}
    got = server.delivered("dave@example.test")
    assert len(got) == 1 and got[0].body == MESSAGE


def test_hash_password_scrypt_works_for_login(make_server, binary, client_tls):
    result = subprocess.run([str(binary), "hash-password", "--scheme", "scrypt"],
                            input=b"secret\n", capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    line = result.stdout.decode().strip()
    assert line.startswith("$scrypt$"), line
    server = make_server(users={"dave@example.test": line}, smtp={"auth_mechanisms":
                                                                  ["PLAIN", "LOGIN"]})
    with smtplib.SMTP_SSL(HOST, server.submissions_port, timeout=TIMEOUT_S,
                          context=client_tls) as s:
        s.login("dave@example.test", "secret")


def test_hash_password_without_input_fails(binary):
    result = subprocess.run([str(binary), "hash-password"], input=b"",
                            capture_output=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == b""


def test_repeated_auth_failures_slow_down_then_close(make_server, client_tls):
    # A short delay keeps the test fast; the growth per failure is what is checked.
    server = make_server(limits={"auth_failure_delay": "200ms", "auth_failures_max": 3})
    sock = client_tls.wrap_socket(socket.create_connection((HOST, server.submissions_port),
                                                           timeout=TIMEOUT_S),
                                  server_hostname=HOST)
    with RawSmtp(0, sock=sock) as c:
        c.expect("EHLO laptop.example.test", 250)
        wrong = "PLAIN " + _plain("alice@example.test", "wrong")
        for failure in range(1, 4):
            started = time.monotonic()
            code, text = c.cmd("AUTH " + wrong)
            elapsed = time.monotonic() - started
            assert code == 535 and text.startswith("5.7.8"), (failure, code, text)
            assert elapsed >= 0.2 * failure * 0.9, f"failure {failure} after {elapsed:.2f}s"
        # Enough: the server says goodbye instead of letting the guessing go on.
        try:
            c.send(b"AUTH " + wrong.encode() + b"\r\n")
        except OSError:
            pass
        rest = c.read_until_closed()
    assert rest.startswith(b"421 4.7.0 "), rest
