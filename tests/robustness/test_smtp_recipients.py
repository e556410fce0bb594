"""10,000 RCPTs in one pipelined transaction against limits.recipients_max.

RFC 5321 §4.5.3.1.8: a server must take at least 100 recipients per transaction, and past
its limit it answers 452 ("too many recipients", §4.5.3.1.10) so that the client sends the
rest in another transaction; the recipients accepted so far stay valid and the message
goes to them. RFC 3463 gives 4.5.3. The 452s are the server's limit, not client errors:
they do not count toward errors_max (a pipelining client would otherwise be cut off).
"""

from __future__ import annotations

from robustness_checks import assert_survived
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import Sender, close_all, connect, read_until_closed, reply_codes

RECIPIENTS_MAX = 100
RCPTS = 10_000
MESSAGE = b"From: many@remote.example\r\nSubject: ten thousand\r\n\r\nHello, all of you.\r\n"


def test_ten_thousand_pipelined_rcpts(make_server):
    # Every rcptN@example.test exists through the catch-all, so each RCPT is a real one.
    server = make_server(limits={"recipients_max": RECIPIENTS_MAX},
                         catch_all={"example.test": "bob@example.test"})
    # The envelope holds at most RECIPIENTS_MAX recipients (a few hundred bytes each), and
    # the replies wait in the output only until the next read. Keeping all 10,000 would
    # add a few MiB of envelope; answering without reading would keep ~300 KB of replies.
    bound = memory_bound(server, allowance_kib(connections=1, message_bytes=len(MESSAGE)),
                         f"one session with at most {RECIPIENTS_MAX} recipients")
    commands = [b"EHLO many.remote.example", b"MAIL FROM:<many@remote.example>"]
    commands += [b"RCPT TO:<rcpt%d@example.test>" % i for i in range(RCPTS)]
    commands += [b"DATA"]
    stream = b"\r\n".join(commands) + b"\r\n" + MESSAGE + b".\r\nNOOP\r\nQUIT\r\n"
    s = connect(server.mx_port)
    try:
        sender = Sender(s, stream)  # all at once; the replies are read meanwhile
        sender.start()
        data, _ = read_until_closed(s)
        sender.finish()
        assert sender.error is None, sender.error
    finally:
        close_all([s])
    codes = reply_codes(data)
    assert codes[0].startswith("220 ") and codes[1].startswith("250 ")  # greeting, EHLO
    assert codes[2] == "250 2.1.0 Ok"  # MAIL
    rcpt = codes[3:3 + RCPTS]
    assert rcpt[:RECIPIENTS_MAX] == ["250 2.1.5 Ok"] * RECIPIENTS_MAX
    assert rcpt[RECIPIENTS_MAX:] == ["452 4.5.3 Error: too many recipients"] * (
        RCPTS - RECIPIENTS_MAX)
    rest = codes[3 + RCPTS:]
    assert rest[0].startswith("354 ")
    assert rest[1].startswith("250 2.0.0 Ok: queued as "), rest
    assert rest[2:] == ["250 2.0.0 Ok", "221 2.0.0 Bye"], rest
    # One copy for the one mailbox behind the 100 accepted addresses.
    copies = [d for d in server.delivered("bob@example.test")
              if b"Subject: ten thousand" in d.body]
    assert len(copies) == 1
    accepted = [e for e in server.new_log_events() if e.get("event") == "message_accepted"
                and e.get("from") == "<many@remote.example>"]
    assert len(accepted) == 1
    assert accepted[0]["recipients"] == [f"<rcpt{i}@example.test>" for i in range(RECIPIENTS_MAX)]
    assert_survived(server, bound)


def test_rest_of_the_recipients_go_in_the_next_transaction(make_server):
    """What the 452 asks for: a second transaction on the same connection takes the next
    RECIPIENTS_MAX, so the limit is per transaction, not per session."""
    server = make_server(limits={"recipients_max": RECIPIENTS_MAX},
                         catch_all={"example.test": "bob@example.test"})
    stream = b"EHLO many.remote.example\r\n"
    for batch in range(3):
        stream += b"MAIL FROM:<many@remote.example>\r\n"
        stream += b"".join(b"RCPT TO:<b%d.%d@example.test>\r\n" % (batch, i)
                           for i in range(RECIPIENTS_MAX + 1))
        stream += b"DATA\r\n" + MESSAGE + b".\r\n"
    stream += b"QUIT\r\n"
    s = connect(server.mx_port)
    try:
        sender = Sender(s, stream)
        sender.start()
        data, _ = read_until_closed(s)
        sender.finish()
    finally:
        close_all([s])
    codes = reply_codes(data)
    assert codes.count("452 4.5.3 Error: too many recipients") == 3
    assert sum(1 for c in codes if c.startswith("250 2.0.0 Ok: queued as ")) == 3
    assert codes[-1] == "221 2.0.0 Bye"
