// FETCH, STORE, COPY, MOVE and SEARCH.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(imap_session_fetch, SimpleItems) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 1 (UID FLAGS RFC822.SIZE INTERNALDATE)\r\n"),
            "* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 124 INTERNALDATE "
            "\"14-Nov-2023 22:13:20 +0000\")\r\na OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b UID FETCH 2 FLAGS\r\n"),
            "* 2 FETCH (UID 2 FLAGS ())\r\nb OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("c FETCH 1 ENVELOPE\r\n"),
            "* 1 FETCH (ENVELOPE (\"Mon, 13 Nov 2023 10:00:00 +0000\" \"hello\" ((\"Bob\" NIL "
            "\"bob\" \"example.test\")) ((\"Bob\" NIL \"bob\" \"example.test\")) ((\"Bob\" NIL "
            "\"bob\" \"example.test\")) ((NIL NIL \"alice\" \"example.test\")) NIL NIL NIL "
            "NIL))\r\nc OK FETCH completed\r\n");
}

TEST(imap_session_fetch, BodySectionsAndPartials) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 1 (BODY.PEEK[TEXT] BODY.PEEK[]<0.4>)\r\n"),
            "* 1 FETCH (BODY[TEXT] {13}\r\nHello Alice\r\n BODY[]<0> {4}\r\nFrom)\r\n"
            "a OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b FETCH 2 (BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[9])\r\n"),
            "* 2 FETCH (BODY[1] {13}\r\nSee attached. BODY[1.MIME] {43}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n BODY[9] NIL)\r\n"
            "b OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("c FETCH 2 (BINARY.PEEK[2] BINARY.SIZE[2])\r\n"),
            std::string("* 2 FETCH (BINARY[2] ~{4}\r\n\0\1\2\3 BINARY.SIZE[2] 4)\r\n", 51) +
                "c OK FETCH completed\r\n");
  std::string out = t.c.send("d FETCH 2 (RFC822.HEADER BODY BODYSTRUCTURE)\r\n");
  EXPECT_TRUE(contains(out, "RFC822.HEADER {")) << out;
  EXPECT_TRUE(contains(out, "BODY ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 13 0)"))
      << out;
  EXPECT_TRUE(contains(out, "\"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)")) << out;
}

// RFC 9051 §7.5.2: the response names the header fields as the client spelled them (as
// Dovecot does); which fields match does not depend on case.
TEST(imap_session_fetch, HeaderFieldNamesAreEchoedAsSent) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (from sUbJeCt)])\r\n"),
            "* 1 FETCH (BODY[HEADER.FIELDS (from sUbJeCt)] {48}\r\n"
            "From: Bob <bob@example.test>\r\nSubject: hello\r\n\r\n)\r\n"
            "a OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (To date)])\r\n"),
            "* 1 FETCH (BODY[HEADER.FIELDS.NOT (To date)] {48}\r\n"
            "From: Bob <bob@example.test>\r\nSubject: hello\r\n\r\n)\r\n"
            "b OK FETCH completed\r\n");
}

// BODY[] of a stored CRLF file is the file itself; a file another program wrote with bare
// LF line ends is sent with CRLF, as IMAP requires.
TEST(imap_session_fetch, WholeMessageIsSentWithCrlfLines) {
  fixture f;
  f.store.deliver(std::string(alice), "INBOX", "Subject: crlf\r\n\r\nbody\r\n", flag_seen);
  f.store.deliver(std::string(alice), "INBOX", "Subject: lf\n\nbody\n", flag_seen);
  client c(f);
  c.login();
  c.send("s SELECT INBOX\r\n");
  const std::size_t n = f.store.folder(std::string(alice), "INBOX")->entries.size();
  EXPECT_EQ(c.send("a FETCH " + std::to_string(n - 1) + ":" + std::to_string(n) +
                   " BODY.PEEK[]\r\n"),
            "* " + std::to_string(n - 1) + " FETCH (BODY[] {23}\r\nSubject: crlf\r\n\r\nbody\r\n)\r\n"
            "* " + std::to_string(n) + " FETCH (BODY[] {21}\r\nSubject: lf\r\n\r\nbody\r\n)\r\n"
            "a OK FETCH completed\r\n");
}

TEST(imap_session_fetch, UnknownTransferEncodingIsLeftOut) {
  fixture f;
  f.store.deliver(std::string(alice), "INBOX",
                  "Subject: odd\r\nContent-Transfer-Encoding: x-odd\r\n\r\nzzz\r\n", flag_seen);
  client c(f);
  c.login();
  c.send("s SELECT INBOX\r\n");
  EXPECT_EQ(c.send("a FETCH 3 (UID BINARY[1] RFC822.SIZE)\r\n"),
            "* 3 FETCH (UID 3 RFC822.SIZE 55)\r\n"
            "a NO [UNKNOWN-CTE] unknown content-transfer-encoding\r\n");
}

TEST(imap_session_fetch, NonPeekBodySetsSeen) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 2 (BODY[1])\r\n"),
            "* 2 FETCH (BODY[1] {13}\r\nSee attached. FLAGS (\\Seen))\r\na OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b FETCH 2 (BODY[1] FLAGS)\r\n"),
            "* 2 FETCH (BODY[1] {13}\r\nSee attached. FLAGS (\\Seen))\r\nb OK FETCH completed\r\n");
}

TEST(imap_session_fetch, BadSequenceNumbers) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 3 FLAGS\r\n"), "a BAD invalid message sequence number\r\n");
  EXPECT_EQ(t.c.send("b UID FETCH 3:* FLAGS\r\n"),
            "* 2 FETCH (UID 2 FLAGS ())\r\nb OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("c UID FETCH 7 FLAGS\r\n"), "c OK FETCH completed\r\n");
}

TEST(imap_session_fetch, OverlappingAndReversedRangesAreMerged) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 2:1,1:*,1:*,2 (UID)\r\n"),
            "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\na OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b UID SEARCH UID 2:1,1:*,5\r\n"), "* SEARCH 1 2\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("c FETCH 1,3:2 (UID)\r\n"), "c BAD invalid message sequence number\r\n");
}

TEST(imap_session_fetch, ChangedSinceAndModseq) {
  selected_client t;
  EXPECT_EQ(t.c.send("a FETCH 1:* (FLAGS) (CHANGEDSINCE 2)\r\n"),
            "* 2 FETCH (FLAGS () MODSEQ (3))\r\na OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b FETCH 1 (MODSEQ)\r\n"), "* 1 FETCH (MODSEQ (2))\r\nb OK FETCH completed\r\n");
}

TEST(imap_session_store, FlagsAddRemoveReplaceSilent) {
  selected_client t;
  EXPECT_EQ(t.c.send("a STORE 2 +FLAGS (\\Flagged $Work)\r\n"),
            "* 2 FETCH (FLAGS (\\Flagged $Work))\r\na OK STORE completed\r\n");
  EXPECT_EQ(t.c.send("b STORE 2 -FLAGS ($Work)\r\n"),
            "* 2 FETCH (FLAGS (\\Flagged))\r\nb OK STORE completed\r\n");
  EXPECT_EQ(t.c.send("c UID STORE 1:2 FLAGS (\\Answered)\r\n"),
            "* 1 FETCH (UID 1 FLAGS (\\Answered))\r\n* 2 FETCH (UID 2 FLAGS (\\Answered))\r\n"
            "c OK STORE completed\r\n");
  EXPECT_EQ(t.c.send("d STORE 1 +FLAGS.SILENT (\\Seen)\r\n"), "d OK STORE completed\r\n");
  EXPECT_EQ(t.c.send("e STORE 1 +FLAGS (\\Recent)\r\n"), "e BAD invalid flag\r\n");
}

TEST(imap_session_store, UnchangedSinceReportsModified) {
  selected_client t;
  // Message 1 has MODSEQ 2, message 2 MODSEQ 3.
  EXPECT_EQ(t.c.send("a STORE 1:2 (UNCHANGEDSINCE 2) +FLAGS (\\Flagged)\r\n"),
            "* 1 FETCH (FLAGS (\\Flagged \\Seen) MODSEQ (4))\r\n"
            "a OK [MODIFIED 2] conditional STORE failed\r\n");
}

TEST(imap_session_copy, CopyAndMoveWithCopyuid) {
  selected_client t;
  EXPECT_EQ(t.c.send("a COPY 1:2 Trash\r\n"),
            "a OK [COPYUID 1004 1:2 1:2] COPY completed\r\n");
  EXPECT_EQ(t.c.send("b COPY 1 Nope\r\n"), "b NO [TRYCREATE] mailbox does not exist\r\n");
  EXPECT_EQ(t.c.send("c UID MOVE 1 Sent\r\n"),
            "* OK [COPYUID 1003 1 1] moved\r\n* 1 EXPUNGE\r\nc OK MOVE completed\r\n");
  EXPECT_EQ(t.c.send("d STATUS Sent (MESSAGES)\r\n"),
            "* STATUS Sent (MESSAGES 1)\r\nd OK STATUS completed\r\n");
  EXPECT_EQ(t.c.send("e FETCH 1 (UID)\r\n"), "* 1 FETCH (UID 2)\r\ne OK FETCH completed\r\n");
}

TEST(imap_session_search, KeysOfEveryKind) {
  selected_client t;
  auto search = [&t](std::string_view criteria) {
    std::string out = t.c.send("a SEARCH " + std::string(criteria) + "\r\n");
    EXPECT_TRUE(contains(out, "a OK SEARCH completed\r\n")) << criteria << ": " << out;
    return out.substr(0, out.find("\r\n"));
  };
  EXPECT_EQ(search("ALL"), "* SEARCH 1 2");
  EXPECT_EQ(search("SEEN"), "* SEARCH 1");
  EXPECT_EQ(search("UNSEEN"), "* SEARCH 2");
  EXPECT_EQ(search("FROM carol"), "* SEARCH 2");
  EXPECT_EQ(search("SUBJECT HELLO"), "* SEARCH 1");
  EXPECT_EQ(search("HEADER Content-Type \"\""), "* SEARCH 2");
  EXPECT_EQ(search("BODY alice"), "* SEARCH 1");
  EXPECT_EQ(search("TEXT carol"), "* SEARCH 2");
  EXPECT_EQ(search("LARGER 200"), "* SEARCH 2");
  EXPECT_EQ(search("SMALLER 200"), "* SEARCH 1");
  EXPECT_EQ(search("SENTON 13-Nov-2023"), "* SEARCH 1");
  EXPECT_EQ(search("SENTSINCE 14-Nov-2023"), "* SEARCH 2");
  EXPECT_EQ(search("SENTBEFORE 14-Nov-2023"), "* SEARCH 1");
  EXPECT_EQ(search("ON 14-Nov-2023"), "* SEARCH 1 2");
  EXPECT_EQ(search("BEFORE 14-Nov-2023"), "* SEARCH");
  EXPECT_EQ(search("SINCE 1-Jan-2023"), "* SEARCH 1 2");
  EXPECT_EQ(search("UID 2:*"), "* SEARCH 2");
  EXPECT_EQ(search("2"), "* SEARCH 2");
  EXPECT_EQ(search("NOT 2"), "* SEARCH 1");
  EXPECT_EQ(search("OR SEEN FLAGGED"), "* SEARCH 1");
  EXPECT_EQ(search("(UNSEEN FROM bob)"), "* SEARCH");
  EXPECT_EQ(search("NEW"), "* SEARCH");
  EXPECT_EQ(search("OLD"), "* SEARCH 1 2");
  EXPECT_EQ(search("KEYWORD $Work"), "* SEARCH");
  EXPECT_EQ(search("UNKEYWORD $Work"), "* SEARCH 1 2");
  EXPECT_EQ(search("MODSEQ 3"), "* SEARCH 2 (MODSEQ 3)");
  EXPECT_EQ(search("CHARSET UTF-8 TO alice"), "* SEARCH 1 2");
  EXPECT_EQ(t.c.send("b SEARCH CHARSET KOI8-R ALL\r\n"),
            "b NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset\r\n");
}

TEST(imap_session_search, EsearchAndUidSearch) {
  selected_client t;
  EXPECT_EQ(t.c.send("a UID SEARCH RETURN () ALL\r\n"),
            "* ESEARCH (TAG \"a\") UID ALL 1:2\r\na OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("b SEARCH RETURN (MIN MAX COUNT) UNSEEN\r\n"),
            "* ESEARCH (TAG \"b\") MIN 2 MAX 2 COUNT 1\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("c SEARCH RETURN (COUNT) DELETED\r\n"),
            "* ESEARCH (TAG \"c\") COUNT 0\r\nc OK SEARCH completed\r\n");
}

TEST(imap_session_search, SaveAndDollar) {
  selected_client t;
  // Before any SAVE "$" is the empty set.
  EXPECT_EQ(t.c.send("a FETCH $ (UID)\r\n"), "a OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("b SEARCH RETURN (SAVE) UNSEEN\r\n"), "b OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("c FETCH $ (UID)\r\n"), "* 2 FETCH (UID 2)\r\nc OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("d UID SEARCH NOT UID $\r\n"), "* SEARCH 1\r\nd OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("e SEARCH RETURN (SAVE MIN COUNT) ALL\r\n"),
            "* ESEARCH (TAG \"e\") MIN 1 COUNT 2\r\ne OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("f UID STORE $ +FLAGS (\\Flagged)\r\n"),
            "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen))\r\nf OK STORE completed\r\n");
  // A new SELECT starts with an empty result again.
  t.c.send("g SELECT INBOX\r\n");
  EXPECT_EQ(t.c.send("h SEARCH $\r\n"), "* SEARCH\r\nh OK SEARCH completed\r\n");
}

TEST(imap_session_search, Rev2ClientsAlwaysGetEsearch) {
  selected_client t;
  t.c.send("a ENABLE IMAP4rev2\r\n");
  EXPECT_EQ(t.c.send("b SEARCH UNSEEN\r\n"),
            "* ESEARCH (TAG \"b\") ALL 2\r\nb OK SEARCH completed\r\n");
  EXPECT_EQ(t.c.send("c SEARCH DRAFT\r\n"), "* ESEARCH (TAG \"c\")\r\nc OK SEARCH completed\r\n");
}

TEST(imap_session_store, SilentStoreStillReportsModseqWithCondstore) {
  selected_client t;
  t.c.send("a ENABLE CONDSTORE\r\n");
  EXPECT_EQ(t.c.send("b STORE 2 +FLAGS.SILENT (\\Flagged)\r\n"),
            "* 2 FETCH (MODSEQ (4))\r\nb OK STORE completed\r\n");
  // Nothing changes the second time, so nothing is reported.
  EXPECT_EQ(t.c.send("c STORE 2 +FLAGS.SILENT (\\Flagged)\r\n"), "c OK STORE completed\r\n");
}

TEST(imap_session_fetch, UidFetchVanished) {
  selected_client t;
  t.c.send("a ENABLE QRESYNC\r\n");
  t.c.send("b STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  t.c.send("c EXPUNGE\r\n");
  EXPECT_EQ(t.c.send("d UID FETCH 1:5 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n"),
            "* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS () MODSEQ (3))\r\n"
            "d OK FETCH completed\r\n");
  EXPECT_EQ(t.c.send("e FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n"),
            "e BAD VANISHED needs QRESYNC, UID FETCH and CHANGEDSINCE\r\n");
}

// A FETCH whose answer outgrows limits::output_pending_max is written in parts (event
// write): the bytes are the same as in one piece, and a command pipelined behind it is
// answered after its tagged OK.
TEST(imap_session_fetch, LongAnswersAreWrittenInParts) {
  const std::string input =
      "L1 LOGIN alice@example.test secret\r\ns SELECT INBOX\r\n"
      "a FETCH 1:* (UID BODY.PEEK[])\r\nb NOOP\r\n";
  auto run_with = [&input](std::size_t pending_max) {
    fixture f;
    for (int i = 0; i < 40; ++i) f.store.deliver(std::string(alice), "INBOX", plain_message());
    harness_config config;
    config.lim.output_pending_max = pending_max;
    return run_session(f, {input}, config);
  };
  const session_run whole = run_with(1 << 20);
  const session_run parts = run_with(300);
  EXPECT_EQ(whole.writes, 0);
  EXPECT_GE(parts.writes, 10);
  EXPECT_EQ(mailsim::test::printable(parts.output), mailsim::test::printable(whole.output));
  const std::size_t fetched = parts.output.find("a OK FETCH completed");
  ASSERT_NE(fetched, std::string::npos);
  EXPECT_TRUE(contains(parts.output, "* 42 FETCH (UID 42 BODY[] {"));
  EXPECT_GT(parts.output.find("b OK NOOP completed"), fetched);
}

// The server stopping in the middle of a long FETCH ends it with BYE and no tagged reply.
TEST(imap_session_fetch, ShutdownDuringALongAnswer) {
  fixture f;
  for (int i = 0; i < 40; ++i) f.store.deliver(std::string(alice), "INBOX", plain_message());
  harness_config config;
  config.lim.output_pending_max = 300;
  session s(config.opts, config.lim, f.make_deps());
  s.start();
  s.feed("L1 LOGIN alice@example.test secret\r\ns SELECT INBOX\r\na FETCH 1:* BODY.PEEK[]\r\n");
  std::string wire;
  event_kind ev = event_kind::need_more;
  for (int guard = 0; guard < 100 && ev != event_kind::write; ++guard) {
    ev = s.next_event();
    wire += s.take_output();
    if (ev == event_kind::auth) s.run_auth();
  }
  ASSERT_EQ(ev, event_kind::write);
  s.shutdown();
  EXPECT_EQ(s.next_event(), event_kind::close);
  wire += s.take_output();
  EXPECT_TRUE(contains(wire, "* BYE server shutting down\r\n")) << wire;
  EXPECT_FALSE(contains(wire, "a OK")) << wire;
  EXPECT_FALSE(s.next_deadline());
}

// FETCH BODY[] of unseen messages sets \Seen on all of them at once and tells the client.
TEST(imap_session_fetch, BodyFetchMarksEveryMessageSeen) {
  fixture f;
  for (int i = 0; i < 3; ++i) f.store.deliver(std::string(alice), "INBOX", plain_message());
  client c(f);
  c.login();
  c.send("s SELECT INBOX\r\n");
  const std::string out = c.send("a FETCH 2:* BODY[]\r\n");
  for (int n = 2; n <= 5; ++n) {
    EXPECT_TRUE(contains(out, "* " + std::to_string(n) + " FETCH (BODY[] {")) << out;
  }
  EXPECT_EQ(std::count(out.begin(), out.end(), '\\'), 4) << out;  // one "FLAGS (\Seen)" each
  EXPECT_EQ(c.send("b FETCH 1:* FLAGS\r\n"),
            "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"
            "* 3 FETCH (FLAGS (\\Seen))\r\n* 4 FETCH (FLAGS (\\Seen))\r\n"
            "* 5 FETCH (FLAGS (\\Seen))\r\nb OK FETCH completed\r\n");
}

}  // namespace
}  // namespace mailsim::imap::test
