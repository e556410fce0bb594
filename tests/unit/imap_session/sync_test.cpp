// Untagged updates: two sessions on one mailbox see each other's changes (RFC 9051 §5.2,
// §7.5.1), IDLE reports them at the poll deadline, QRESYNC reports VANISHED.
#include <gtest/gtest.h>

#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

struct two_clients {
  fixture f;
  client one{f};
  client two{f};
  two_clients() {
    one.login();
    two.login();
    one.send("s SELECT INBOX\r\n");
    two.send("s SELECT INBOX\r\n");
  }
};

TEST(imap_session_sync, OtherSessionsChangesArriveBeforeTaggedOk) {
  two_clients t;
  t.one.send("a STORE 2 +FLAGS (\\Flagged)\r\n");
  EXPECT_EQ(t.two.send("b NOOP\r\n"), "* 2 FETCH (FLAGS (\\Flagged))\r\nb OK NOOP completed\r\n");
  t.one.send("c APPEND INBOX {3+}\r\nnew\r\n");
  EXPECT_EQ(t.two.send("d NOOP\r\n"), "* 3 EXISTS\r\nd OK NOOP completed\r\n");
  t.one.send("e STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  t.one.send("f EXPUNGE\r\n");
  EXPECT_EQ(t.two.send("g NOOP\r\n"),
            "* 1 EXPUNGE\r\ng OK NOOP completed\r\n");
  EXPECT_EQ(t.two.send("h FETCH 1:* UID\r\n"),
            "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\nh OK FETCH completed\r\n");
}

TEST(imap_session_sync, NoExpungeDuringFetchStoreSearch) {
  two_clients t;
  t.one.send("a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  t.one.send("b EXPUNGE\r\n");
  // Message 1 is gone, but two's client still numbers it: FETCH may not say EXPUNGE. The
  // first FETCH answers from the view as last synced; the next one knows it is gone.
  EXPECT_EQ(t.two.send("c FETCH 1:2 (UID)\r\n"),
            "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\nc OK FETCH completed\r\n");
  EXPECT_EQ(t.two.send("c2 FETCH 1:2 (UID)\r\n"),
            "* 2 FETCH (UID 2)\r\nc2 NO [EXPUNGEISSUED] some messages were expunged\r\n");
  EXPECT_EQ(t.two.send("d SEARCH ALL\r\n"), "* SEARCH 2\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(t.two.send("e STORE 2 +FLAGS (\\Seen)\r\n"),
            "* 2 FETCH (FLAGS (\\Seen))\r\ne OK STORE completed\r\n");
  // New mail is still reported during FETCH: EXISTS does not renumber.
  t.f.store.deliver(std::string(alice), "INBOX", "Subject: x\r\n\r\nx\r\n");
  EXPECT_EQ(t.two.send("f FETCH 2 (UID)\r\n"),
            "* 2 FETCH (UID 2)\r\n* 3 EXISTS\r\nf OK FETCH completed\r\n");
  EXPECT_EQ(t.two.send("g NOOP\r\n"), "* 1 EXPUNGE\r\ng OK NOOP completed\r\n");
}

TEST(imap_session_sync, IdleReportsAtThePollDeadline) {
  two_clients t;
  EXPECT_EQ(t.two.send("i IDLE\r\n"), "+ idling\r\n");
  auto deadline = t.two.raw().next_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline - t.f.clock.now(), core::duration_ms(500));
  t.f.store.deliver(std::string(alice), "INBOX", "Subject: x\r\n\r\nx\r\n");
  t.one.send("a STORE 1 -FLAGS (\\Seen)\r\n");
  t.f.clock.advance(core::duration_ms(499));
  t.two.raw().on_timeout(t.f.clock.now());
  EXPECT_EQ(t.two.pump(), "");
  t.f.clock.advance(core::duration_ms(1));
  t.two.raw().on_timeout(t.f.clock.now());
  EXPECT_EQ(t.two.pump(), "* 3 EXISTS\r\n* 1 FETCH (FLAGS ())\r\n");
  deadline = t.two.raw().next_deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(*deadline - t.f.clock.now(), core::duration_ms(500));
  EXPECT_EQ(t.two.send("DONE\r\n"), "i OK IDLE terminated\r\n");
  EXPECT_EQ(t.two.send("j IDLE\r\n"), "+ idling\r\n");
  EXPECT_EQ(t.two.send("NOPE\r\n"), "j BAD expected DONE\r\n");
  EXPECT_EQ(t.two.send("k IDLE\r\n"), "+ idling\r\n");
  EXPECT_EQ(t.two.send("DONE {3}\r\n"), "k BAD unexpected literal\r\n");
  EXPECT_EQ(t.two.send("l NOOP\r\n"), "l OK NOOP completed\r\n");
}

TEST(imap_session_sync, QresyncReportsVanished) {
  fixture f;
  client c(f);
  client other(f);
  c.login();
  other.login();
  f.store.deliver(std::string(alice), "INBOX", "Subject: three\r\n\r\n3\r\n");
  other.send("s SELECT INBOX\r\n");
  other.send("t STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  other.send("u EXPUNGE\r\n");
  EXPECT_EQ(c.send("a ENABLE QRESYNC\r\n"), "* ENABLED QRESYNC\r\na OK ENABLE completed\r\n");
  // UIDs 1:2 were known at MODSEQ 3: 1 is gone, 4 (UID 3) changed since; 7 never existed.
  std::string out = c.send("b SELECT INBOX (QRESYNC (1000 3 1:7))\r\n");
  EXPECT_TRUE(contains(out, "* VANISHED (EARLIER) 1\r\n")) << out;
  EXPECT_TRUE(contains(out, "* 2 FETCH (UID 3 FLAGS () MODSEQ (4))\r\n")) << out;
  EXPECT_FALSE(contains(out, "UID 2 ")) << out;
  other.send("v STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  other.send("w EXPUNGE\r\n");
  EXPECT_EQ(c.send("c NOOP\r\n"), "* VANISHED 2\r\nc OK NOOP completed\r\n");
  out = c.send("d SELECT Trash\r\n");
  EXPECT_EQ(out.rfind("* OK [CLOSED] previous mailbox closed\r\n", 0), 0U) << out;
}

// Two sessions of alice: `one` has Work (two messages) selected, `two` is only logged in.
struct work_selected {
  fixture f;
  client one{f};
  client two{f};
  work_selected() {
    one.login();
    two.login();
    one.send("c CREATE Work\r\n");
    f.store.deliver(std::string(alice), "Work", "Subject: a\r\n\r\na\r\n");
    f.store.deliver(std::string(alice), "Work", "Subject: b\r\n\r\nb\r\n");
    one.send("s SELECT Work\r\n");
  }
};

// RFC 9051 §7.1.5: the selected mailbox was deleted by another session; the next sync
// point ends the session with BYE instead of a tagged answer (Dovecot does the same).
TEST(imap_session_sync, SelectedMailboxDeletedElsewhereEndsWithBye) {
  work_selected t;
  EXPECT_EQ(t.two.send("a DELETE Work\r\n"), "a OK DELETE completed\r\n");
  EXPECT_EQ(t.one.send("b NOOP\r\n"), "* BYE Mailbox was deleted\r\n");
  EXPECT_TRUE(t.one.closed());
  EXPECT_FALSE(t.one.raw().next_deadline());
  EXPECT_EQ(t.one.send("c NOOP\r\n"), "");  // nothing more is read after BYE
}

// A command that fails because the mailbox is gone (STORE here) ends the same way.
TEST(imap_session_sync, SelectedMailboxRenamedElsewhereEndsWithBye) {
  work_selected t;
  EXPECT_EQ(t.two.send("a RENAME Work Play\r\n"), "a OK RENAME completed\r\n");
  EXPECT_EQ(t.one.send("b STORE 1 +FLAGS (\\Seen)\r\n"), "* BYE Mailbox was deleted\r\n");
  EXPECT_TRUE(t.one.closed());
}

TEST(imap_session_sync, SelectedMailboxDeletedDuringIdleEndsWithBye) {
  work_selected t;
  EXPECT_EQ(t.one.send("i IDLE\r\n"), "+ idling\r\n");
  ASSERT_TRUE(t.f.store.remove_folder(std::string(alice), "Work"));
  t.f.clock.advance(core::duration_ms(500));
  t.one.raw().on_timeout(t.f.clock.now());
  EXPECT_EQ(t.one.pump(), "* BYE Mailbox was deleted\r\n");
  EXPECT_TRUE(t.one.closed());
  EXPECT_FALSE(t.one.raw().next_deadline());
}

// Only this session's own RENAME keeps the mailbox selected under its new name; a mailbox
// that other sessions change but do not remove stays selected.
TEST(imap_session_sync, OwnRenameOfSelectedMailboxFollowsIt) {
  work_selected t;
  EXPECT_EQ(t.one.send("a RENAME Work Play\r\n"), "a OK RENAME completed\r\n");
  t.f.store.deliver(std::string(alice), "Play", "Subject: c\r\n\r\nc\r\n");
  EXPECT_EQ(t.one.send("b NOOP\r\n"), "* 3 EXISTS\r\nb OK NOOP completed\r\n");
  EXPECT_EQ(t.one.send("c UID FETCH 1:* UID\r\n"),
            "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n"
            "c OK FETCH completed\r\n");
  // A parent's rename moves the selected child too.
  t.one.send("d CREATE Play/Sub\r\n");
  t.one.send("e SELECT Play/Sub\r\n");
  EXPECT_EQ(t.one.send("f RENAME Play Game\r\n"), "f OK RENAME completed\r\n");
  EXPECT_EQ(t.one.send("g NOOP\r\n"), "g OK NOOP completed\r\n");
  EXPECT_EQ(t.one.send("h DELETE Game/Sub\r\n"), "h NO [INUSE] mailbox is selected\r\n");
  EXPECT_FALSE(t.one.closed());
}

}  // namespace
}  // namespace mailsim::imap::test
