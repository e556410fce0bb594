"""Well-behaved clients for the robustness suite: is the server still serving?

Offers `send_mail` (smtplib on the MX port; checks the message reached the Maildir),
`check_imap` (imaplib: STARTTLS, LOGIN, SELECT, SEARCH, FETCH), `check_pop3` (poplib:
STLS, USER/PASS, STAT, TOP, RETR, QUIT), `client_tls_context`, `WELL_BEHAVED_USER` (the
mailbox these clients read) and `assert_survived`, the check every test makes after an
attack: alive, served on each of its listeners, under its memory bound.
"""

from __future__ import annotations

import imaplib
import poplib
import smtplib
import socket
import ssl
import uuid

from mailsim_harness import HOST, PASSWORD, ServerProcess, crlf
from robustness_memory import MemoryBound
from robustness_sockets import SOCKET_TIMEOUT_S

def send_mail(server: ServerProcess, tag: str | None = None, source_ip: str = HOST,
              recipient: str = "bob@example.test") -> str:
    """Delivers one small message on the MX port with smtplib, checks that it landed in
    the recipient's Maildir, and returns its unique tag."""
    tag = tag or uuid.uuid4().hex
    message = crlf(f"""\
From: Sender <sender@remote.example>
To: <{recipient}>
Subject: well-behaved {tag}
Message-ID: <{tag}@remote.example>

A client that follows the rules is served.
""")
    with smtplib.SMTP(HOST, server.mx_port, timeout=SOCKET_TIMEOUT_S,
                      source_address=(source_ip, 0)) as s:
        s.ehlo("well-behaved.remote.example")
        assert s.sendmail("sender@remote.example", [recipient], message) == {}
    wanted = f"Subject: well-behaved {tag}\r\n".encode()
    assert any(wanted in d.body for d in server.delivered(recipient)), \
        f"message {tag} accepted but not found in {recipient}'s Maildir"
    return tag


# The mailbox the well-behaved IMAP and POP3 clients read; the abusive clients of the
# tests log in as other users (a POP3 maildrop is locked by its session).
WELL_BEHAVED_USER = "carol@example.test"


def client_tls_context(server: ServerProcess) -> ssl.SSLContext:
    """A client context that trusts exactly the server's test certificate."""
    ctx = ssl.create_default_context(cafile=str(server.cert))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class _FromSourceAddress:
    """Mixin for imaplib/poplib: the client binds a chosen 127.x source address (each one
    stands for a host)."""

    def __init__(self, port: int, source_ip: str):
        self._source_ip = source_ip
        super().__init__(HOST, port, timeout=SOCKET_TIMEOUT_S)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source_ip, 0))


class _Imap(_FromSourceAddress, imaplib.IMAP4):
    """imaplib from a chosen source address."""


class _Pop3(_FromSourceAddress, poplib.POP3):
    """poplib from a chosen source address."""


def check_imap(server: ServerProcess, user: str = WELL_BEHAVED_USER,
               source_ip: str = HOST) -> str:
    """A well-behaved IMAP client: delivers a tagged message to `user` over SMTP, then
    with imaplib over the imap listener does STARTTLS, LOGIN, SELECT, SEARCH
    for the message and FETCH of its Subject, and LOGOUT. Returns the tag."""
    tag = send_mail(server, recipient=user)
    with _Imap(server.ports["imap"], source_ip) as m:
        m.starttls(ssl_context=client_tls_context(server))
        m.login(user, PASSWORD)
        typ, data = m.select("INBOX")
        assert typ == "OK", (typ, data)
        typ, data = m.search(None, "SUBJECT", tag)
        found = data[0].split() if typ == "OK" else []
        assert len(found) == 1, f"SEARCH SUBJECT {tag}: {typ} {data}"
        typ, data = m.fetch(found[0], "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK" and isinstance(data[0], tuple), (typ, data)
        assert data[0][1] == f"Subject: well-behaved {tag}\r\n\r\n".encode(), data
        m.logout()
    return tag


def check_pop3(server: ServerProcess, user: str = WELL_BEHAVED_USER,
               source_ip: str = HOST) -> str:
    """A well-behaved POP3 client: delivers a tagged message to `user` over SMTP, then
    with poplib over the pop3 listener does STLS, USER/PASS, STAT, finds the message with
    TOP, RETRs it and QUITs (deleting nothing). Returns the tag."""
    tag = send_mail(server, recipient=user)
    wanted = f"Subject: well-behaved {tag}".encode()
    p = _Pop3(server.ports["pop3"], source_ip)
    try:
        p.stls(context=client_tls_context(server))
        p.user(user)
        p.pass_(PASSWORD)
        count, _ = p.stat()
        numbers = [n for n in range(count, 0, -1) if wanted in p.top(n, 0)[1]]
        assert len(numbers) == 1, f"{tag} is in {len(numbers)} of {count} messages"
        _, lines, _ = p.retr(numbers[0])
        assert wanted in lines and lines[-1] == b"A client that follows the rules is served."
        assert p.quit().startswith(b"+OK")
    finally:
        p.close()
    return tag


def assert_survived(server: ServerProcess, bound: MemoryBound) -> int:
    """After an attack: alive, served (over SMTP, and over IMAP and POP3 when the server
    has those listeners), under the memory bound. Returns the peak RSS."""
    assert server.running, f"server died: exit {server.proc.poll() if server.proc else None}"
    send_mail(server)
    if "imap" in server.roles:
        check_imap(server)
    if "pop3" in server.roles:
        check_pop3(server)
    assert server.running
    return bound.check()
