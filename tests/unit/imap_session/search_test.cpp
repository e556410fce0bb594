// SEARCH and UID SEARCH against a mailbox that others change (RFC 9051 §6.4.4, §7.5.1), and
// sequence numbers beyond the mailbox (RFC 9051 §9 seq-number).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
namespace {

TEST(imap_session_search, SequenceNumberBeyondTheMailboxIsBad) {
  selected_client t;
  EXPECT_EQ(t.c.send("a SEARCH 5\r\n"), "a BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.send("b SEARCH 1:3\r\n"), "b BAD invalid message sequence number\r\n");
  // Inside NOT, OR and groups too: the key is wrong whatever the rest says.
  EXPECT_EQ(t.c.send("c SEARCH OR SEEN NOT 3\r\n"), "c BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.send("d SEARCH (ALL (4))\r\n"), "d BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.send("e UID SEARCH 3\r\n"), "e BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.send("f SEARCH RETURN (COUNT) 9\r\n"), "f BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.raw().stats().errors, 6U);
  // Numbers the client knows of, and "*", are fine.
  EXPECT_EQ(t.c.send("g SEARCH 2:*\r\n"), "* SEARCH 2\r\ng OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("h SEARCH 1,2\r\n"), "* SEARCH 1 2\r\nh OK SEARCH completed\r\n");
}

TEST(imap_session_search, UidsBeyondTheMailboxAreNotAnError) {
  selected_client t;
  EXPECT_EQ(t.c.send("a UID SEARCH UID 5\r\n"), "* SEARCH\r\na OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("b SEARCH UID 2:99\r\n"), "* SEARCH 2\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.raw().stats().errors, 0U);
}

// An empty mailbox has no numbers to be out of range of: "1:*" finds nothing (clients send
// it before they look), and so does "*".
TEST(imap_session_search, SequenceSetsInAnEmptyMailboxFindNothing) {
  fixture f;
  client c(f);
  c.login();
  c.send("s SELECT Trash\r\n");
  EXPECT_EQ(c.send("a SEARCH 1:* NOT DELETED\r\n"), "* SEARCH\r\na OK SEARCH completed\r\n");
  EXPECT_EQ(c.send("c UID SEARCH *\r\n"), "* SEARCH\r\nc OK SEARCH completed\r\n");
  EXPECT_EQ(c.send("b SEARCH ALL\r\n"), "* SEARCH\r\nb OK SEARCH completed\r\n");
}

// A message another program removed is left out of both forms at once, and no EXPUNGE is
// sent until a command that allows it; the others keep the numbers the client knows.
TEST(imap_session_search, MessageExpungedOutsideIsLeftOut) {
  selected_client t;
  ASSERT_TRUE(expunge_outside(t.f, "INBOX", 1));
  EXPECT_EQ(t.c.send("a UID SEARCH ALL\r\n"), "* SEARCH 2\r\na OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("b SEARCH ALL\r\n"), "* SEARCH 2\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("c SEARCH 1\r\n"), "* SEARCH\r\nc OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("d NOOP\r\n"), "* 1 EXPUNGE\r\nd OK NOOP completed\r\n");
  EXPECT_EQ(t.c.send("e SEARCH ALL\r\n"), "* SEARCH 1\r\ne OK SEARCH completed\r\n");
}

// New mail is announced before the result, and the result includes it.
TEST(imap_session_search, NewMessageIsAnnouncedBeforeTheResult) {
  selected_client t;
  t.f.store.deliver(std::string(alice), "INBOX", plain_message());
  EXPECT_EQ(t.c.send("a UID SEARCH ALL\r\n"),
            "* 3 EXISTS\r\n* SEARCH 1 2 3\r\na OK SEARCH completed\r\n");
  t.f.store.deliver(std::string(alice), "INBOX", plain_message());
  EXPECT_EQ(t.c.send("b SEARCH 4\r\n"), "b BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.send("c SEARCH 3:*\r\n"),
            "* 4 EXISTS\r\n* SEARCH 3 4\r\nc OK SEARCH completed\r\n");
}

// Both at once, for an ESEARCH client: the gone message is out, the new one in.
TEST(imap_session_search, ExpungeAndDeliveryTogether) {
  selected_client t;
  t.c.send("e ENABLE IMAP4rev2\r\n");
  ASSERT_TRUE(expunge_outside(t.f, "INBOX", 2));
  t.f.store.deliver(std::string(alice), "INBOX", plain_message());
  EXPECT_EQ(t.c.send("a UID SEARCH RETURN (ALL COUNT) ALL\r\n"),
            "* 3 EXISTS\r\n* ESEARCH (TAG \"a\") UID ALL 1,3 COUNT 2\r\n"
            "a OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("b SEARCH ALL\r\n"),
            "* ESEARCH (TAG \"b\") ALL 1,3\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("c NOOP\r\n"), "* 2 EXPUNGE\r\nc OK NOOP completed\r\n");
}

}  // namespace
}  // namespace mailsim::imap::test
