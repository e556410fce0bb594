"""IMAP literals of 4 GB announced, and floods of literals up to the limit.

A client that sends a synchronizing literal {N} waits for the server's "+" before the N
bytes (RFC 9051 §4.3, §7.5); a server that will not take them answers the command with a
tagged NO or BAD instead, and the client sends nothing. docs/imap-session.md: one over
the reader's limits gets "NO [TOOBIG]", before any of its bytes is read; the server takes
literals up to limits.message_size_max (docs/configuration.md, "An IMAP APPEND literal may
be as large as limits.message_size_max"), set here to its minimum, 64 KiB. A
non-synchronizing literal {N+} (RFC 7888 LITERAL+) comes without waiting: one over the
limit cannot be skipped (its bytes would be read as commands), so the server sends
"* BYE" and closes (RFC 7888 §4; reference-server/imap/command_reader.hpp). The size is
judged as announced, so announcing 4 GB costs the server nothing.

The abusive clients log in over clear text (the listener's lab option auth_without_tls),
as alice or bob; the well-behaved imaplib client reads carol's mailbox over STARTTLS.
"""

from __future__ import annotations

from mailsim_harness import crlf
from robustness_checks import assert_survived, check_imap
from robustness_imap import RawImap, imap_lines
from robustness_memory import allowance_kib, memory_bound
from robustness_sockets import close_all, plaintext_login, wait_for_idle

LIMIT = 64 * 1024               # limits.message_size_max, so the largest literal
HUGE = 4294967295               # 4 GiB - 1, announced and never sent
OPTIONS = {"roles": ("smtp", "imap"), "listener_options": plaintext_login("imap"),
           "limits": {"message_size_max": "64KiB"}}
TOOBIG = "NO [TOOBIG] literal too large"
ABUSER = "alice@example.test"


def message_of(size: int, subject: str = "literal") -> bytes:
    """A message of exactly `size` bytes."""
    head = crlf(f"Subject: {subject}\n\n")
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


def test_sync_4gb_literal_is_refused_before_any_byte_and_the_session_goes_on(make_server):
    server = make_server(**OPTIONS)
    bound = memory_bound(server, allowance_kib(imap=1, literal_bytes=LIMIT),
                         "one IMAP session holding at most one 64 KiB literal; "
                         "believing the announcement would take 4 GiB")
    with RawImap(server.ports["imap"]) as c:
        # Before login: the size is judged before the command is.
        before, final = c.command("a0", f"APPEND INBOX {{{HUGE}}}")
        assert (before, final.decode()) == ([], f"a0 {TOOBIG}")
        c.login(ABUSER)
        c.expect_ok("s", "SELECT INBOX")
        announcements = [f"{{{HUGE}}}", f"~{{{HUGE}}}",          # literal8 (RFC 3516)
                         "{18446744073709551616}",               # past 64 bits
                         f"{{{LIMIT + 1}}}"]                     # one byte over
        for i, literal in enumerate(announcements):
            tag = f"a{i + 1}"
            before, final = c.command(tag, f"APPEND INBOX (\\Seen) {literal}")
            # No "+" came first: the client must not send a byte of it.
            assert (before, final.decode()) == ([], f"{tag} {TOOBIG}"), literal
        c.expect_ok("n", "NOOP")
        # A literal of exactly the limit is taken, on the same connection.
        c.send(f"b1 APPEND INBOX {{{LIMIT}}}\r\n".encode())
        assert c.response() == b"+ Ready for literal data"
        c.send(message_of(LIMIT, "at the limit") + b"\r\n")
        _, final = c.until_tagged("b1")
        assert final.startswith(b"b1 OK [APPENDUID "), final
        untagged = c.expect_ok("f", "FETCH * (RFC822.SIZE)")
        assert untagged[-1].endswith(f"FETCH (RFC822.SIZE {LIMIT})".encode()), untagged
        c.expect_ok("o", "LOGOUT")
    stored = [p.read_bytes() for p in server.all_files() if "alice" in str(p)]
    assert stored == [message_of(LIMIT, "at the limit")]
    assert_survived(server, bound)


def test_thousand_4gb_announcements_pipelined_cost_nothing(make_server):
    """Refusing is no protocol error (NO, not BAD), so it does not count toward the error
    limit: 1000 of them in one write get 1000 NOs and the session goes on."""
    server = make_server(**OPTIONS)
    bound = memory_bound(server, allowance_kib(imap=1),
                         "one IMAP session; each refused announcement holds nothing")
    count = 1000
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        c.send(b"".join(f"p{i} APPEND INBOX {{{HUGE}}}\r\n".encode() for i in range(count))
               + b"z NOOP\r\n")
        before, final = c.until_tagged("z")
        assert final == b"z OK NOOP completed", final
        assert [r.decode() for r in before] == [f"p{i} {TOOBIG}" for i in range(count)]
    assert_survived(server, bound)


def test_nonsync_4gb_literal_gets_bye_and_close(make_server):
    """{N+} over the limit, before and after login: "* BYE" and the close, and none of the
    bytes that follow (the literal the client is already sending, here made of commands)
    is read as a command."""
    server = make_server(**OPTIONS)
    bound = memory_bound(server, allowance_kib(imap=1),
                         "one IMAP session; the literal is never read")
    for login in (False, True):
        with RawImap(server.ports["imap"]) as c:
            if login:
                c.login(ABUSER)
            # Only the announcement: the server reads all of it before it closes, so no
            # reset can eat the BYE.
            c.send(f"a1 APPEND INBOX {{{HUGE}+}}\r\n".encode())
            data, reset = c.read_until_closed()
        assert not reset
        assert imap_lines(data) == ["* BYE literal too large, cannot continue"], data
    with RawImap(server.ports["imap"]) as c:
        c.login(ABUSER)
        smuggled = b"x1 CREATE Smuggled\r\n" * 200
        c.send(f"a1 APPEND INBOX {{{HUGE}+}}\r\n".encode() + smuggled)
        data, _ = c.read_until_closed()  # may be reset: the server left bytes unread
        assert b"x1" not in data, data
        assert all(line.startswith("* BYE ") for line in imap_lines(data)), data
    assert not (server.maildir(ABUSER) / ".Smuggled").exists()
    assert_survived(server, bound)


def test_literal_flood_stays_within_the_limits(make_server):
    """20 sessions, half of them never logged in, each holding a literal of all but one
    byte of the limit at once (the worst a literal can cost); meanwhile a well-behaved
    client is served. Then the logged-in ones finish theirs and pipeline four more
    full-size APPENDs (LITERAL+) and 100 announcements of 4 GB each."""
    sessions = 20
    server = make_server(**OPTIONS)
    bound = memory_bound(server, allowance_kib(imap=sessions + 1, literal_bytes=sessions * LIMIT),
                         f"{sessions} IMAP sessions each holding one literal of at most "
                         "message_size_max (64 KiB), and one well-behaved session")
    hosts = ["127.0.0.2", "127.0.0.3"]
    clients = [RawImap(server.ports["imap"], hosts[i % 2]) for i in range(sessions)]
    logged_in = clients[:sessions // 2]
    anonymous = clients[sessions // 2:]
    body = message_of(LIMIT, "flood")
    try:
        for c in logged_in:
            c.login(ABUSER)
        for c in clients:  # LITERAL+: no "+" to wait for; the last byte never comes
            c.send(f"h APPEND INBOX {{{LIMIT}+}}\r\n".encode() + body[:-1])
        check_imap(server)  # served while every literal is held
        bound.check()
        for c in logged_in:
            c.send(body[-1:] + b"\r\n")
            _, final = c.until_tagged("h")
            assert final.startswith(b"h OK [APPENDUID "), final
            c.send(b"".join(f"m{i} APPEND INBOX {{{LIMIT}+}}\r\n".encode() + body + b"\r\n"
                            for i in range(4))
                   + b"".join(f"t{i} APPEND INBOX {{{HUGE}}}\r\n".encode() for i in range(100)))
            for i in range(4):
                _, final = c.until_tagged(f"m{i}")
                assert final.startswith(f"m{i} OK [APPENDUID ".encode()), final
            for i in range(100):
                assert c.until_tagged(f"t{i}")[1].decode() == f"t{i} {TOOBIG}"
        for c in anonymous:  # APPEND before login: the literal is read, then refused
            c.send(body[-1:] + b"\r\n")
            _, final = c.until_tagged("h")
            assert final == b"h BAD command not valid in this state", final
    finally:
        close_all(c.sock for c in clients)
    wait_for_idle(server)
    assert len([p for p in server.all_files() if "alice" in str(p)]) == 5 * len(logged_in)
    assert_survived(server, bound)


def test_literals_before_login_are_credential_sized(make_server):
    """Before login a literal can only carry credentials, so the session takes none larger
    than imap::limits::unauthenticated_literal_bytes_max (64 KiB) whatever
    message_size_max allows after login: strangers at the connection limit cannot make the
    server hold message-sized literals."""
    pre_login_max = 64 * 1024
    server = make_server(**{**OPTIONS, "limits": {"message_size_max": "1MiB"}})
    bound = memory_bound(server, allowance_kib(imap=1, literal_bytes=256 * 1024),
                         "one IMAP session holding one 256 KiB literal after login")
    with RawImap(server.ports["imap"]) as c:
        before, final = c.command("a0", f"LOGIN {{{pre_login_max + 1}}}")
        assert (before, final.decode()) == ([], f"a0 {TOOBIG}")
        c.login(ABUSER)
        size = 256 * 1024
        c.send(f"b1 APPEND INBOX {{{size}}}\r\n".encode())
        assert c.response() == b"+ Ready for literal data"
        c.send(message_of(size, "after login") + b"\r\n")
        _, final = c.until_tagged("b1")
        assert final.startswith(b"b1 OK [APPENDUID "), final
        c.expect_ok("o", "LOGOUT")
    assert_survived(server, bound)
