// SELECT/EXAMINE, mailbox management, LIST/LSUB/STATUS/NAMESPACE, APPEND, CLOSE, UNSELECT,
// EXPUNGE.
#include <gtest/gtest.h>

#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

TEST(imap_session_select, SelectForRev1Client) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a SELECT INBOX\r\n"),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
            "* 2 EXISTS\r\n"
            "* 0 RECENT\r\n"
            "* OK [UNSEEN 2] first unseen\r\n"
            "* OK [UIDVALIDITY 1000] UIDs valid\r\n"
            "* OK [UIDNEXT 3] predicted next UID\r\n"
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags "
            "permitted\r\n"
            "* OK [HIGHESTMODSEQ 3] modseq\r\n"
            "a OK [READ-WRITE] SELECT completed\r\n");
}

TEST(imap_session_select, ExamineForRev2ClientIsReadOnly) {
  fixture f;
  client c(f);
  c.login();
  c.send("a ENABLE IMAP4rev2\r\n");
  std::string out = c.send("b EXAMINE inbox\r\n");
  EXPECT_FALSE(contains(out, "RECENT")) << out;
  EXPECT_TRUE(contains(out, "* OK [PERMANENTFLAGS ()] read-only mailbox\r\n")) << out;
  EXPECT_TRUE(contains(out, "* LIST () \"/\" INBOX\r\n")) << out;
  EXPECT_TRUE(contains(out, "b OK [READ-ONLY] EXAMINE completed\r\n")) << out;
  EXPECT_EQ(c.send("c STORE 1 +FLAGS (\\Deleted)\r\n"), "c NO [READ-ONLY] mailbox is read-only\r\n");
  EXPECT_EQ(c.send("d EXPUNGE\r\n"), "d NO [READ-ONLY] mailbox is read-only\r\n");
  // FETCH of a body does not set \Seen in a read-only mailbox.
  out = c.send("e FETCH 2 (BODY[TEXT])\r\n");
  EXPECT_FALSE(contains(out, "FLAGS")) << out;
  // A rev2 client is told where the old mailbox's responses end.
  out = c.send("f SELECT Trash\r\n");
  EXPECT_EQ(out.rfind("* OK [CLOSED] previous mailbox closed\r\n", 0), 0U) << out;
}

TEST(imap_session_select, SelectMissingMailboxLeavesSelectedState) {
  fixture f;
  client c(f);
  c.login();
  c.send("a SELECT INBOX\r\n");
  EXPECT_EQ(c.send("b SELECT Nope\r\n"), "b NO [NONEXISTENT] mailbox does not exist\r\n");
  EXPECT_EQ(c.send("c FETCH 1 FLAGS\r\n"), "c BAD command not valid in this state\r\n");
}

TEST(imap_session_mailbox, CreateRenameDeleteSubscribe) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a CREATE Work/\r\n"), "a OK CREATE completed\r\n");
  EXPECT_EQ(c.send("b CREATE Work\r\n"), "b NO [ALREADYEXISTS] mailbox already exists\r\n");
  EXPECT_EQ(c.send("c CREATE INBOX\r\n"), "c NO [ALREADYEXISTS] INBOX already exists\r\n");
  EXPECT_EQ(c.send("d CREATE Work/2024\r\n"), "d OK CREATE completed\r\n");
  EXPECT_EQ(c.send("e RENAME Work Jobs\r\n"), "e OK RENAME completed\r\n");
  EXPECT_EQ(c.send("f LIST \"\" \"Jobs*\"\r\n"),
            "* LIST (\\HasChildren) \"/\" Jobs\r\n"
            "* LIST (\\HasNoChildren) \"/\" Jobs/2024\r\n"
            "f OK LIST completed\r\n");
  EXPECT_EQ(c.send("g LIST \"\" \"Jobs%\"\r\n"),
            "* LIST (\\HasChildren) \"/\" Jobs\r\ng OK LIST completed\r\n");
  EXPECT_EQ(c.send("h RENAME Nope Other\r\n"), "h NO [NONEXISTENT] mailbox does not exist\r\n");
  EXPECT_EQ(c.send("i DELETE INBOX\r\n"), "i NO [CANNOT] INBOX cannot be deleted\r\n");
  EXPECT_EQ(c.send("j SUBSCRIBE Jobs\r\n"), "j OK SUBSCRIBE completed\r\n");
  EXPECT_EQ(c.send("k LSUB \"\" Jo*\r\n"), "* LSUB () \"/\" Jobs\r\nk OK LSUB completed\r\n");
  EXPECT_EQ(c.send("l UNSUBSCRIBE Jobs\r\n"), "l OK UNSUBSCRIBE completed\r\n");
  EXPECT_EQ(c.send("m LSUB \"\" Jo*\r\n"), "m OK LSUB completed\r\n");
  EXPECT_EQ(c.send("n DELETE Jobs/2024\r\n"), "n OK DELETE completed\r\n");
  EXPECT_EQ(c.send("o DELETE Jobs/2024\r\n"), "o NO [NONEXISTENT] mailbox does not exist\r\n");
}

TEST(imap_session_mailbox, NonAsciiNamesAreModifiedUtf7) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a CREATE R&AOk-sum&AOk-\r\n"), "a OK CREATE completed\r\n");
  EXPECT_EQ(c.send("b LIST \"\" R*\r\n"),
            "* LIST (\\HasNoChildren) \"/\" R&AOk-sum&AOk-\r\nb OK LIST completed\r\n");
  c.send("c ENABLE UTF8=ACCEPT\r\n");
  EXPECT_EQ(c.send("d LIST \"\" R*\r\n"),
            "* LIST (\\HasNoChildren) \"/\" \"R\xc3\xa9sum\xc3\xa9\"\r\nd OK LIST completed\r\n");
}

TEST(imap_session_list, SeparatorSpecialUseAndReturnOptions) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a LIST \"\" \"\"\r\n"), "* LIST (\\Noselect) \"/\" \"\"\r\na OK LIST completed\r\n");
  EXPECT_EQ(c.send("b LIST (SPECIAL-USE) \"\" *\r\n"),
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
            "* LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n"
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
            "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
            "b OK LIST completed\r\n");
  EXPECT_EQ(c.send("c LIST \"\" inbox RETURN (SUBSCRIBED STATUS (MESSAGES UNSEEN))\r\n"),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"
            "* STATUS INBOX (MESSAGES 2 UNSEEN 1)\r\n"
            "c OK LIST completed\r\n");
  EXPECT_EQ(c.send("d NAMESPACE\r\n"), "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nd OK NAMESPACE completed\r\n");
}

TEST(imap_session_list, PatternListsAndUseAttributes) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a LIST \"\" (INBOX Sent) RETURN (CHILDREN SPECIAL-USE)\r\n"),
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
            "a OK LIST completed\r\n");
  EXPECT_EQ(c.send("b CREATE Archive (USE (\\Archive))\r\n"),
            "b NO [USEATTR] special-use attributes cannot be assigned\r\n");
  EXPECT_EQ(c.send("c LIST (SUBSCRIBED) \"\" T*\r\n"),
            "* LIST (\\HasNoChildren \\Trash \\Subscribed) \"/\" Trash\r\nc OK LIST completed\r\n");
}

TEST(imap_session_mailbox, Status) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
                   "HIGHESTMODSEQ)\r\n"),
            "* STATUS INBOX (MESSAGES 2 RECENT 0 UIDNEXT 3 UIDVALIDITY 1000 UNSEEN 1 DELETED 0 "
            "SIZE 470 HIGHESTMODSEQ 3)\r\na OK STATUS completed\r\n");
  EXPECT_EQ(c.send("b STATUS Nope (MESSAGES)\r\n"), "b NO [NONEXISTENT] mailbox does not exist\r\n");
}

TEST(imap_session_append, AppendWithFlagsAndDate) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a APPEND Drafts (\\Draft $Work) \"05-Jan-2024 10:00:00 +0100\" {5}\r\n"),
            "+ Ready for literal data\r\n");
  EXPECT_EQ(c.send("draft\r\n"), "a OK [APPENDUID 1001 1] APPEND completed\r\n");
  c.send("b SELECT Drafts\r\n");
  EXPECT_EQ(c.send("c FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)\r\n"),
            "* 1 FETCH (FLAGS (\\Draft $Work) INTERNALDATE \"05-Jan-2024 09:00:00 +0000\" "
            "RFC822.SIZE 5)\r\nc OK FETCH completed\r\n");
  EXPECT_EQ(c.send("d APPEND Nope {1+}\r\nx\r\n"), "d NO [TRYCREATE] mailbox does not exist\r\n");
  EXPECT_EQ(c.send("e APPEND Drafts (\\Bogus) {1+}\r\nx\r\n"), "e BAD invalid flag\r\n");
  f.store.fail_append = true;
  EXPECT_EQ(c.send("f APPEND Drafts {1+}\r\nx\r\n"),
            "f NO [SERVERBUG] append: internal error\r\n");
}

TEST(imap_session_append, AppendToSelectedMailboxReportsExists) {
  fixture f;
  client c(f);
  c.login();
  c.send("a SELECT INBOX\r\n");
  EXPECT_EQ(c.send("b APPEND INBOX {3+}\r\nnew\r\n"),
            "* 3 EXISTS\r\nb OK [APPENDUID 1000 3] APPEND completed\r\n");
}

TEST(imap_session_expunge, CloseUnselectAndUidExpunge) {
  fixture f;
  client c(f);
  c.login();
  c.send("a SELECT INBOX\r\n");
  c.send("b STORE 1:2 +FLAGS.SILENT (\\Deleted)\r\n");
  EXPECT_EQ(c.send("c UID EXPUNGE 2\r\n"), "* 2 EXPUNGE\r\nc OK EXPUNGE completed\r\n");
  EXPECT_EQ(c.send("d UNSELECT\r\n"), "d OK UNSELECT completed\r\n");
  EXPECT_EQ(f.store.folder(std::string(alice), "INBOX")->entries.size(), 1U);
  c.send("e SELECT INBOX\r\n");
  EXPECT_EQ(c.send("f CLOSE\r\n"), "f OK CLOSE completed\r\n");  // no EXPUNGE responses
  EXPECT_TRUE(f.store.folder(std::string(alice), "INBOX")->entries.empty());
  EXPECT_EQ(c.send("g NOOP\r\n"), "g OK NOOP completed\r\n");
}

TEST(imap_session_expunge, ExamineThenCloseDoesNotExpunge) {
  fixture f;
  client c(f);
  c.login();
  c.send("a SELECT INBOX\r\n");
  c.send("b STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
  c.send("c EXAMINE INBOX\r\n");
  EXPECT_EQ(c.send("d CLOSE\r\n"), "d OK CLOSE completed\r\n");
  EXPECT_EQ(f.store.folder(std::string(alice), "INBOX")->entries.size(), 2U);
}

}  // namespace
}  // namespace mailsim::imap::test
