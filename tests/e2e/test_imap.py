"""IMAP4rev2/rev1 (RFC 9051, RFC 3501) on the reference server, read with real clients:
Python's imaplib over STARTTLS and implicit TLS (imaps, RFC 8314), and fetchmail.

Mail goes in over SMTP and comes out over IMAP byte for byte (BODY.PEEK[] is the Maildir
file as stored). Flags set over IMAP land in the Maildir file names; two sessions on one
mailbox see each other's changes; IDLE reports a new delivery within a second or two.
"""

from __future__ import annotations

import imaplib
import re
import shutil
import smtplib
import socket
import subprocess
import time

import pytest

from mailsim_harness import HOST, PASSWORD, crlf, delivery_order, run_fetchmail

TIMEOUT_S = 10
ROLES = ("smtp", "imap", "imaps")
ALICE = "alice@example.test"


def message(n: int) -> bytes:
    return crlf(f"""\
From: Bob <bob@example.test>
To: Alice <alice@example.test>
Subject: message {n}
Message-ID: <m{n}@example.test>

Body of message {n}.
""")


@pytest.fixture
def imap_server(make_server):
    return make_server(roles=ROLES)


def deliver(server, count: int, start: int = 1) -> list[bytes]:
    sent = [message(i) for i in range(start, start + count)]
    with smtplib.SMTP(HOST, server.mx_port, timeout=TIMEOUT_S) as s:
        for body in sent:
            s.sendmail("bob@example.test", [ALICE], body)
    return sent


def stored_files(server, folder: str = "") -> list:
    root = server.maildir(ALICE) / folder if folder else server.maildir(ALICE)
    files = [p for d in ("new", "cur") if (root / d).is_dir() for p in (root / d).iterdir()]
    return sorted(files, key=delivery_order)


def login(server, client_tls) -> imaplib.IMAP4:
    m = imaplib.IMAP4(HOST, server.ports["imap"], timeout=TIMEOUT_S)
    m.starttls(ssl_context=client_tls)
    m.login(ALICE, PASSWORD)
    return m


def test_deliver_then_fetch_byte_for_byte_over_starttls(imap_server, client_tls):
    deliver(imap_server, 3)
    m = login(imap_server, client_tls)
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"3"]
    typ, data = m.fetch("1:*", "(UID RFC822.SIZE BODY.PEEK[])")
    assert typ == "OK"
    bodies = [item[1] for item in data if isinstance(item, tuple)]
    stored = [p.read_bytes() for p in stored_files(imap_server)]
    assert bodies == stored
    m.logout()


def test_logindisabled_before_tls_and_capabilities_after(imap_server, client_tls):
    m = imaplib.IMAP4(HOST, imap_server.ports["imap"], timeout=TIMEOUT_S)
    assert "LOGINDISABLED" in m.capabilities and "STARTTLS" in m.capabilities
    with pytest.raises(imaplib.IMAP4.error):
        m.login(ALICE, PASSWORD)
    m.starttls(ssl_context=client_tls)
    caps = m.capabilities
    assert "LOGINDISABLED" not in caps and "STARTTLS" not in caps
    m.login(ALICE, PASSWORD)
    typ, data = m.capability()
    caps = data[0].upper().split()
    for cap in (b"IMAP4REV1", b"IMAP4REV2", b"IDLE", b"UIDPLUS", b"MOVE", b"CONDSTORE",
                b"QRESYNC", b"SPECIAL-USE", b"LITERAL+"):
        assert cap in caps, cap
    m.logout()


def test_implicit_tls_list_special_use_and_append(imap_server, client_tls):
    m = imaplib.IMAP4_SSL(HOST, imap_server.ports["imaps"], timeout=TIMEOUT_S,
                          ssl_context=client_tls)
    m.login(ALICE, PASSWORD)
    typ, data = m.list()
    assert typ == "OK"
    listing = b"\n".join(data)
    for name, use in ((b"Sent", b"\\Sent"), (b"Drafts", b"\\Drafts"), (b"Junk", b"\\Junk"),
                      (b"Trash", b"\\Trash")):
        assert re.search(rb"\(.*" + re.escape(use) + rb".*\) \"/\" \"?" + name, listing), listing
    draft = crlf("From: alice@example.test\nSubject: draft\n\nnot sent yet\n")
    typ, data = m.append("Drafts", "(\\Draft \\Seen)", None, draft)
    assert typ == "OK" and b"APPENDUID" in data[0]
    files = stored_files(imap_server, ".Drafts")
    assert len(files) == 1 and files[0].read_bytes() == draft
    assert files[0].name.endswith(":2,DS")
    m.logout()


def test_store_flags_land_in_file_names_and_expunge_removes(imap_server, client_tls):
    deliver(imap_server, 3)
    m = login(imap_server, client_tls)
    m.select("INBOX")
    typ, _ = m.store("1", "+FLAGS", "(\\Seen \\Flagged)")
    assert typ == "OK"
    names = [p.name for p in stored_files(imap_server)]
    assert names[0].endswith(":2,FS"), names
    typ, data = m.search(None, "UNSEEN")
    assert data == [b"2 3"]
    m.store("2", "+FLAGS", "(\\Deleted)")
    typ, data = m.expunge()
    assert typ == "OK" and data == [b"2"]
    assert len(stored_files(imap_server)) == 2
    m.logout()


def test_two_sessions_see_each_others_changes(imap_server, client_tls):
    deliver(imap_server, 2)
    a = login(imap_server, client_tls)
    b = login(imap_server, client_tls)
    a.select("INBOX")
    b.select("INBOX")
    a.store("1", "+FLAGS", "(\\Deleted)")
    a.expunge()
    deliver(imap_server, 1, start=3)
    typ, _ = b.noop()
    assert typ == "OK"
    untagged = b.untagged_responses
    assert b"1" in untagged.get("EXPUNGE", []), untagged
    assert untagged.get("EXISTS"), untagged
    a.logout()
    b.logout()


def test_idle_reports_a_delivery(imap_server, client_tls):
    m = login(imap_server, client_tls)
    m.select("INBOX")
    sock = m.sock
    sock.sendall(b"i1 IDLE\r\n")
    sock.settimeout(5)
    assert sock.recv(4096).startswith(b"+")
    deliver(imap_server, 1)
    got = b""
    deadline = time.monotonic() + 5
    while b"EXISTS" not in got and time.monotonic() < deadline:
        got += sock.recv(4096)
    assert b"* 1 EXISTS" in got, got
    sock.sendall(b"DONE\r\n")
    while b"i1 OK" not in got and time.monotonic() < deadline + 5:
        got += sock.recv(4096)
    assert b"i1 OK" in got, got


def test_move_to_another_mailbox_gives_copyuid(imap_server, client_tls):
    deliver(imap_server, 2)
    m = login(imap_server, client_tls)
    m.select("INBOX")
    typ, data = m.uid("MOVE", "1:*", "Trash")
    assert typ == "OK", data
    assert len(stored_files(imap_server)) == 0
    assert len(stored_files(imap_server, ".Trash")) == 2
    typ, data = m.status("Trash", "(MESSAGES UIDNEXT)")
    assert typ == "OK" and b"MESSAGES 2" in data[0]
    m.logout()


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail is not installed")
def test_fetchmail_over_starttls_fetches(imap_server, tls_files, tmp_path):
    sent = deliver(imap_server, 2)
    code, log, fetched = run_fetchmail(tmp_path, "IMAP", imap_server.ports["imap"], ALICE,
                                       tls_files[0])
    assert code == 0, log
    assert "STARTTLS" in log
    assert len(fetched) == 2, log
    for body in sent:
        assert any(body.replace(b"\r\n", b"\n") in f.replace(b"\r\n", b"\n") for f in fetched)


@pytest.mark.skipif(shutil.which("frm") is None, reason="mailutils is not installed")
def test_mailutils_frm_lists_the_inbox(make_server):
    # A lab listener (LOGIN in clear text on loopback): frm's TLS setup needs a config file.
    server = make_server(roles=ROLES, listener_options={"imap": {"auth_without_tls": True}})
    deliver(server, 2)
    url = f"imap://{ALICE.replace('@', '%40')}:{PASSWORD.replace(' ', '%20')}@{HOST}:" \
          f"{server.ports['imap']}"
    run = subprocess.run(["frm", url], capture_output=True, timeout=60)
    # frm's exit status is not an error indicator (1 with messages listed): judge the output.
    assert run.stderr == b"", run.stderr
    lines = run.stdout.decode().splitlines()
    assert lines == ["Bob\tmessage 1", "Bob\tmessage 2"], lines


def raw_login(server, client_tls) -> "ssl.SSLSocket":
    """A TLS socket logged in as ALICE, for what imaplib cannot send (LITERAL+, limits)."""
    sock = socket.create_connection((HOST, server.ports["imaps"]), timeout=TIMEOUT_S)
    tls = client_tls.wrap_socket(sock, server_hostname="localhost")
    read_until(tls, b"\r\n")
    tls.sendall(f'l LOGIN "{ALICE}" "{PASSWORD}"\r\n'.encode())
    assert b"l OK" in read_until(tls, b"l ")
    return tls


def read_until(sock, marker: bytes, limit: int = 1 << 20) -> bytes:
    got = b""
    while marker not in got or not got.endswith(b"\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
        assert len(got) < limit
    return got


def test_literal_plus_append_and_oversized_literals(imap_server, client_tls):
    tls = raw_login(imap_server, client_tls)
    body = crlf("Subject: literal plus\n\nno continuation needed\n")
    tls.sendall(f"a APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n")
    assert b"a OK [APPENDUID" in read_until(tls, b"a ")
    # A 4 GB synchronizing literal is refused before any of it is sent; the session goes on.
    tls.sendall(b"b APPEND INBOX {4000000000}\r\n")
    answer = read_until(tls, b"b ")
    assert b"b NO [TOOBIG]" in answer or b"b BAD" in answer, answer
    tls.sendall(b"c NOOP\r\n")
    assert b"c OK" in read_until(tls, b"c ")
    # A non-synchronizing one cannot be skipped (RFC 7888 §4): BYE and close.
    tls.sendall(b"d APPEND INBOX {4000000000+}\r\n")
    assert b"* BYE" in read_until(tls, b"BYE")
    assert tls.recv(100) == b""
    typ_files = stored_files(imap_server)
    assert len(typ_files) == 1 and typ_files[0].read_bytes() == body


def test_sigterm_ends_idle_imap_and_pop3_sessions_cleanly(make_server, client_tls):
    server = make_server(roles=("smtp", "imap", "pop3"))
    m = login(server, client_tls)
    m.select("INBOX")
    m.sock.sendall(b"i IDLE\r\n")
    m.sock.settimeout(5)
    assert m.sock.recv(4096).startswith(b"+")
    import poplib
    p = poplib.POP3(HOST, server.ports["pop3"], timeout=TIMEOUT_S)
    p.stls(context=client_tls)
    p.user(ALICE)
    p.pass_(PASSWORD)
    assert server.stop() == 0
    got = b""
    while True:
        chunk = m.sock.recv(4096)
        if not chunk:
            break
        got += chunk
    assert b"* BYE" in got, got
    assert p.file.readline().startswith(b"-ERR")


def test_selected_mailbox_deleted_elsewhere_ends_with_bye_and_subscription_stays(
        imap_server, client_tls):
    first = login(imap_server, client_tls)
    assert first.create("Gone")[0] == "OK"
    assert first.subscribe("Gone")[0] == "OK"
    assert first.select("Gone")[0] == "OK"
    second = login(imap_server, client_tls)
    assert second.delete("Gone")[0] == "OK"
    # The Maildir folder is gone under the first session's open mailbox: its next sync
    # finds it missing and the session ends (RFC 9051 §7.1.5), not a silent empty view.
    with pytest.raises(imaplib.IMAP4.abort):
        first.noop()
    assert b"Mailbox was deleted" in b" ".join(first.untagged_responses.get("BYE", []))
    # The subscription outlives the mailbox (RFC 9051 §6.3.9, RFC 5258 §3.1).
    typ, data = second.lsub('""', "Gone")
    assert typ == "OK" and data == [b'(\\Noselect) "/" Gone'], data
    typ, data = second.list('(SUBSCRIBED) ""', "Gone")
    assert typ == "OK" and data == [b'(\\NonExistent \\Subscribed) "/" Gone'], data
    typ, data = second.list('""', "Gone")
    assert typ == "OK" and data == [None], data
    second.logout()
