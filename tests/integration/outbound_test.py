"""Outbound delivery over a loopback internet: a real unbound daemon serves the MX and A
records, scripted receivers (smtp_receiver.py) and mailsim-server instances listen on
distinct 127.x addresses, and a mailsim-server sender delivers what its users submit.

Every receiver listens on the same high port (the sender's queue.port), so that the DNS
answers alone decide which host gets the mail, as on the internet. All waits are bounded;
the retry schedules are shortened (fixed:1s) so that deferrals resolve within seconds.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
import ssl
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mailsim_harness import (  # noqa: E402
    HOST, PASSWORD, ServerProcess, cheap_pbkdf2_hash, free_port, make_self_signed_cert,
    server_binary)
from smtp_receiver import Receiver  # noqa: E402
from unbound_fixture import unbound_daemon  # noqa: E402

TIMEOUT_S = 30.0
SENDER = "alice@sender.test"


def zone(port_hosts: dict[str, str], extra: list[str] = ()) -> list[str]:
    """A records for host → address, plus extra zone lines."""
    lines = [f"{host}. 60 IN A {address}" for host, address in port_hosts.items()]
    return lines + list(extra)


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def port():
    return free_port()


def make_sender(tmp_path, dns_endpoint, port, tls_pair, queue_extra=None,
                extra=None) -> ServerProcess:
    cert, key = tls_pair
    queue = {
        "port": port,
        "retry": "fixed:1s,lifetime=1h,warn=off",
        "connect_timeout": "3s",
        "idle_keep": "200ms",
        "source_pools": [{"sender_domain": "sender.test", "addresses": ["127.0.0.5"]}],
    }
    queue.update(queue_extra or {})
    s = ServerProcess(workdir=tmp_path / "sender", cert=cert, key=key,
                      users={SENDER: cheap_pbkdf2_hash(PASSWORD)}, domains=["sender.test"],
                      hostname="out.sender.test", queue=queue,
                      dns={"forwarders": [dns_endpoint], "timeout": "3s"}, extra=extra or {})
    s.start()
    return s


def submit(sender: ServerProcess, rcpts: list[str], subject: str = "hello",
           fields: str = "") -> bytes:
    """Sends a message through the submission port; `fields`: extra CRLF-ended header lines."""
    body = (f"From: {SENDER}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n{fields}"
            f"Message-ID: <{subject}.{time.monotonic_ns()}@sender.test>\r\n\r\nbody of {subject}\r\n")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP(HOST, sender.submission_port, timeout=TIMEOUT_S) as s:
        s.starttls(context=context)
        s.login(SENDER, PASSWORD)
        s.sendmail(SENDER, rcpts, body.encode())
    return body.encode()


def wait_for(predicate, timeout_s: float = TIMEOUT_S, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def reports_in(sender: ServerProcess) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(d.raw, policy=email.policy.default)
            for d in sender.delivered(SENDER)]


def delivery_status(report: email.message.EmailMessage) -> list[dict[str, str]]:
    """The per-recipient groups of the message/delivery-status part, as dicts."""
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            groups = []
            for block in part.get_payload():
                groups.append({k.lower(): str(v) for k, v in block.items()})
            return groups[1:]  # the first block holds the per-message fields
    raise AssertionError("no message/delivery-status part")


def test_best_mx_gets_the_mail_from_the_pool_address(tmp_path, port, tls_pair):
    with Receiver("127.0.0.2", port, name="mx1.dest.test") as mx1, \
         Receiver("127.0.0.3", port, name="mx2.dest.test") as mx2, \
         unbound_daemon(zone({"mx1.dest.test": "127.0.0.2", "mx2.dest.test": "127.0.0.3"},
                             ["dest.test. 60 IN MX 20 mx2.dest.test.",
                              "dest.test. 60 IN MX 10 mx1.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair)
        try:
            body = submit(sender, ["bob@dest.test"])
            (msg,) = mx1.wait_for_messages(1)
            assert msg.mail_from == SENDER and msg.rcpt_to == ["bob@dest.test"]
            assert msg.data.endswith(body)  # the sender's Received line comes first
            assert msg.data.startswith(b"Received: from ")
            assert mx1.connections[0].peer[0] == "127.0.0.5"
            assert mx1.connections[0].ehlo == "out.sender.test"
            assert mx2.messages() == []
            done = wait_for(lambda: [e for e in sender.new_log_events()
                                     if e.get("event") in ("queue_delivered", "queue_relayed")],
                            what="the delivery log event")
            assert done[0]["source"] == "127.0.0.5" and done[0]["address"] == "127.0.0.2"
        finally:
            assert sender.stop() == 0


def test_class_header_picks_the_class_pool_and_is_removed(tmp_path, port, tls_pair):
    """X-Mailsim-Class: a message of class "bulk" leaves from the class pool's address and
    arrives without the field, and its local copy is stored without it too; one without it
    leaves from the sender-domain pool, and so does one whose first value is malformed (the
    second is not used; one log event)."""
    pools = {"source_pools": [{"sender_domain": "sender.test", "addresses": ["127.0.0.5"]},
                              {"class": "bulk", "addresses": ["127.0.0.6"]}]}
    with Receiver("127.0.0.2", port, name="mx.dest.test") as mx, \
         unbound_daemon(zone({"mx.dest.test": "127.0.0.2"},
                             ["dest.test. 60 IN MX 10 mx.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair, queue_extra=pools)
        try:
            classed = submit(sender, ["bob@dest.test", SENDER], subject="classed",
                             fields="X-Mailsim-Class: Bulk\r\n")
            plain = submit(sender, ["carol@dest.test"], subject="plain")
            submit(sender, ["dave@dest.test"], subject="malformed",
                   fields="X-Mailsim-Class: no way\r\nX-Mailsim-Class: bulk\r\n")
            mx.wait_for_messages(3)
            peer_of = {t.rcpt_to[0]: (c.peer[0], t.data)
                       for c in mx.connections for t in c.transactions}
            address, data = peer_of["bob@dest.test"]
            assert address == "127.0.0.6"
            assert b"X-Mailsim-Class" not in data and b"x-mailsim-class" not in data.lower()
            assert data.endswith(classed.replace(b"X-Mailsim-Class: Bulk\r\n", b""))
            (local,) = sender.delivered(SENDER)
            assert local.raw.endswith(classed.replace(b"X-Mailsim-Class: Bulk\r\n", b""))
            address, data = peer_of["carol@dest.test"]
            assert address == "127.0.0.5"
            assert data.endswith(plain)
            address, data = peer_of["dave@dest.test"]
            assert address == "127.0.0.5"
            assert b"x-mailsim-class" not in data.lower()
            ignored = [e for e in sender.new_log_events()
                       if e.get("event") == "queue_class_ignored"]
            assert len(ignored) == 1, ignored
            assert "malformed" in ignored[0]["detail"] and "only the first" in ignored[0]["detail"]
        finally:
            assert sender.stop() == 0


def test_next_mx_when_the_best_one_is_down(tmp_path, port, tls_pair):
    with Receiver("127.0.0.3", port, name="mx2.dest.test") as mx2, \
         unbound_daemon(zone({"mx1.dest.test": "127.0.0.2", "mx2.dest.test": "127.0.0.3"},
                             ["dest.test. 60 IN MX 10 mx1.dest.test.",
                              "dest.test. 60 IN MX 20 mx2.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair)
        try:
            submit(sender, ["bob@dest.test"])
            mx2.wait_for_messages(1)
        finally:
            assert sender.stop() == 0


def test_deferral_then_success(tmp_path, port, tls_pair):
    script = {"RCPT": ["450 4.2.0 greylisted, come back later", "250 2.1.5 ok"]}
    with Receiver("127.0.0.2", port, script=script, name="mx.dest.test") as mx, \
         unbound_daemon(zone({"mx.dest.test": "127.0.0.2"},
                             ["dest.test. 60 IN MX 10 mx.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair)
        try:
            submit(sender, ["bob@dest.test"])
            mx.wait_for_messages(1)
            assert len(mx.connections) >= 2
            # The receiver offers DSN: a 2xx there is "delivered" (it owes the reports now).
            wait_for(lambda: {"queue_deferred", "queue_delivered"}
                     <= {e["event"] for e in sender.log_events()}, what="the log events")
        finally:
            assert sender.stop() == 0


def test_bounce_reaches_the_senders_maildir_with_dsn_fields(tmp_path, port, tls_pair):
    script = {"RCPT": "550 5.1.1 <nobody@dest.test>: no such user"}
    with Receiver("127.0.0.2", port, script=script, name="mx.dest.test"), \
         unbound_daemon(zone({"mx.dest.test": "127.0.0.2"},
                             ["dest.test. 60 IN MX 10 mx.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair)
        try:
            submit(sender, ["nobody@dest.test"], subject="doomed")
            (report,) = wait_for(lambda: reports_in(sender), what="the bounce")
            assert report.get_content_type() == "multipart/report"
            assert report["Auto-Submitted"] == "auto-replied"
            (group,) = delivery_status(report)
            assert group["final-recipient"].lower() == "rfc822; nobody@dest.test"
            assert group["action"] == "failed" and group["status"] == "5.1.1"
            assert group["remote-mta"].lower() == "dns; mx.dest.test"
            assert "550" in group["diagnostic-code"]
            returned = [p for p in report.walk() if p.get_content_type() == "message/rfc822"]
            assert returned, "the original message comes back (RET unspecified: full)"
            delivered = sender.delivered(SENDER)[0]
            assert delivered.return_path == b""
        finally:
            assert sender.stop() == 0


def test_null_mx_bounces_at_once(tmp_path, port, tls_pair):
    with unbound_daemon(["nomail.test. 60 IN MX 0 ."]) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair)
        try:
            submit(sender, ["bob@nomail.test"])
            (report,) = wait_for(lambda: reports_in(sender), what="the bounce")
            (group,) = delivery_status(report)
            assert group["status"] == "5.1.10"
        finally:
            assert sender.stop() == 0


def test_starttls_required_versus_offered(tmp_path, port, tls_pair):
    cert, key = tls_pair
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    queue = {"destinations": [{"domain": "plain.test", "starttls": "required"},
                              {"domain": "tls.test", "starttls": "required"}]}
    with Receiver("127.0.0.2", port, name="mx.plain.test") as plain, \
         Receiver("127.0.0.3", port, name="mx.tls.test", tls_context=server_tls) as secure, \
         unbound_daemon(zone({"mx.plain.test": "127.0.0.2", "mx.tls.test": "127.0.0.3"},
                             ["plain.test. 60 IN MX 10 mx.plain.test.",
                              "tls.test. 60 IN MX 10 mx.tls.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair, queue)
        try:
            submit(sender, ["bob@plain.test"])
            submit(sender, ["bob@tls.test"])
            secure.wait_for_messages(1)
            assert secure.connections[-1].tls
            wait_for(lambda: any(e.get("event") == "queue_deferred" and e.get("status") == "4.7.4"
                                 for e in sender.log_events()), what="the TLS deferral")
            assert plain.messages() == []
        finally:
            assert sender.stop() == 0


def test_delivery_to_another_mailsim_server(tmp_path, port, tls_pair):
    """The receiving host is itself a mailsim-server: the message lands in its Maildir."""
    cert, key = tls_pair
    receiver = ServerProcess(workdir=tmp_path / "receiver", cert=cert, key=key,
                             users={"bob@dest.test": cheap_pbkdf2_hash(PASSWORD)},
                             domains=["dest.test"], hostname="mx.dest.test",
                             roles=("smtp",), listen_address="127.0.0.4")
    receiver.ports = {"smtp": port}
    with unbound_daemon(zone({"mx.dest.test": "127.0.0.4"},
                             ["dest.test. 60 IN MX 10 mx.dest.test."])) as dns:
        receiver.start(keep_ports=True)
        sender = make_sender(tmp_path, dns, port, tls_pair)
        try:
            body = submit(sender, ["bob@dest.test"], subject="across")
            (got,) = wait_for(lambda: receiver.delivered("bob@dest.test"), what="the delivery")
            assert got.body.endswith(body)
        finally:
            assert sender.stop() == 0
            assert receiver.stop() == 0


def test_kill_9_during_delivery_loses_nothing_acknowledged(tmp_path, port, tls_pair):
    """kill -9 the sender again and again while it submits and delivers; after the last
    restart every message it acknowledged reaches the receiver (at least once). The spool
    runs with fsync_each here (the other tests use the syncfs default)."""
    import random
    seed = int(time.time())
    print(f"seed {seed}")
    rng = random.Random(seed)
    with Receiver("127.0.0.2", port, name="mx.dest.test") as mx, \
         unbound_daemon(zone({"mx.dest.test": "127.0.0.2"},
                             ["dest.test. 60 IN MX 10 mx.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair, {"durability": "fsync_each"})
        acknowledged = []
        try:
            for round_ in range(8):
                for i in range(5):
                    subject = f"crash-{round_}-{i}"
                    try:
                        submit(sender, [f"u{round_}x{i}@dest.test"], subject=subject)
                        acknowledged.append(subject)
                    except (smtplib.SMTPException, OSError):
                        pass
                time.sleep(rng.uniform(0.0, 0.3))
                sender.kill()
                sender.start(keep_ports=True)
            def all_arrived():
                got = b"".join(m.data for m in mx.messages())
                return all(f"Subject: {s}\r\n".encode() in got for s in acknowledged)
            wait_for(all_arrived, timeout_s=60, what="every acknowledged message")
            assert len(acknowledged) >= 20
        finally:
            assert sender.stop() == 0


def test_queued_mail_is_dkim_signed_and_verifies_with_dkimpy(tmp_path, port, tls_pair):
    """dkim.sign: mail whose From domain has a key leaves signed; an independent verifier
    (Debian's python3-dkim) accepts the signature the receiver got."""
    dkim = pytest.importorskip("dkim")
    import re
    import subprocess
    key = tmp_path / "sender.test.s1.pem"
    out = subprocess.run([str(server_binary()), "dkim", "keygen", "--domain", "sender.test",
                          "--selector", "s1", "--out", str(key)],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    record = "".join(re.findall(r'"([^"]*)"', out)).encode()
    signing = {"dkim": {"sign": [{"domain": "sender.test", "selector": "s1",
                                  "key_file": str(key)}]}}
    with Receiver("127.0.0.2", port, name="mx.dest.test") as mx, \
         unbound_daemon(zone({"mx.dest.test": "127.0.0.2"},
                             ["dest.test. 60 IN MX 10 mx.dest.test."])) as dns:
        sender = make_sender(tmp_path, dns, port, tls_pair, extra=signing)
        try:
            submit(sender, ["bob@dest.test"], subject="signed")
            (msg,) = mx.wait_for_messages(1)
            assert b"DKIM-Signature:" in msg.data and b"d=sender.test" in msg.data
            lookups = []

            def dnsfunc(name, timeout=5):
                lookups.append(name)
                return record if name == b"s1._domainkey.sender.test." else None
            assert dkim.verify(msg.data, dnsfunc=dnsfunc), lookups
        finally:
            assert sender.stop() == 0
