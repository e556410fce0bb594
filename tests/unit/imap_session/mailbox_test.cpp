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

// RFC 6154 §3/§5.3: CREATE-SPECIAL-USE is not advertised, so a USE list is understood but
// refused with [USEATTR], and nothing is created; a malformed USE list is a syntax error.
TEST(imap_session_mailbox, CreateWithUseListIsRefusedWithoutCreating) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_FALSE(contains(c.send("a CAPABILITY\r\n"), "CREATE-SPECIAL-USE"));
  EXPECT_EQ(c.send("b CREATE Outbox (USE (\\Sent))\r\n"),
            "b NO [USEATTR] special-use attributes cannot be assigned\r\n");
  EXPECT_EQ(c.send("c CREATE Both (USE (\\Sent \\Archive))\r\n"),
            "c NO [USEATTR] special-use attributes cannot be assigned\r\n");
  EXPECT_EQ(c.send("d LIST \"\" Outbox\r\n"), "d OK LIST completed\r\n");
  EXPECT_EQ(f.store.folder(std::string(alice), "Outbox"), nullptr);
  EXPECT_EQ(c.send("e CREATE Outbox (USE \\Sent)\r\n"), "e BAD expected '(' at offset 21\r\n");
  EXPECT_EQ(c.send("f CREATE Outbox (USE (Sent))\r\n"),
            "f BAD expected special-use attribute at offset 22\r\n");
  EXPECT_EQ(c.send("g CREATE Outbox (USE (\\Sent)\r\n"), "g BAD expected ')' at offset 28\r\n");
  EXPECT_EQ(c.send("h CREATE Outbox (KIND (\\Sent))\r\n"), "h BAD expected USE at offset 17\r\n");
  EXPECT_EQ(c.send("i CREATE Outbox (USE (\\*))\r\n"), "i BAD expected flag at offset 23\r\n");
  EXPECT_EQ(f.store.folder(std::string(alice), "Outbox"), nullptr);
  EXPECT_EQ(c.send("j CREATE Outbox\r\n"), "j OK CREATE completed\r\n");
}

// RFC 9051 §6.3.9 / RFC 5258 §3.1: a subscription is a name, and stays when its mailbox
// goes. LIST (SUBSCRIBED) shows such a name \NonExistent, LSUB \Noselect; a plain LIST
// (even with RETURN (SUBSCRIBED)) lists existing mailboxes only.
TEST(imap_session_list, SubscribedNamesWithNoMailbox) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a SUBSCRIBE Archive\r\n"), "a OK SUBSCRIBE completed\r\n");
  c.send("b CREATE Work\r\n");
  c.send("c SUBSCRIBE Work\r\n");
  EXPECT_EQ(c.send("d DELETE Work\r\n"), "d OK DELETE completed\r\n");
  EXPECT_EQ(c.send("e LIST (SUBSCRIBED) \"\" *\r\n"),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"
            "* LIST (\\NonExistent \\Subscribed) \"/\" Archive\r\n"
            "* LIST (\\HasNoChildren \\Drafts \\Subscribed) \"/\" Drafts\r\n"
            "* LIST (\\HasNoChildren \\Junk \\Subscribed) \"/\" Junk\r\n"
            "* LIST (\\HasNoChildren \\Sent \\Subscribed) \"/\" Sent\r\n"
            "* LIST (\\HasNoChildren \\Trash \\Subscribed) \"/\" Trash\r\n"
            "* LIST (\\NonExistent \\Subscribed) \"/\" Work\r\n"
            "e OK LIST completed\r\n");
  EXPECT_EQ(c.send("f LSUB \"\" *\r\n"),
            "* LSUB () \"/\" INBOX\r\n"
            "* LSUB (\\Noselect) \"/\" Archive\r\n"
            "* LSUB () \"/\" Drafts\r\n"
            "* LSUB () \"/\" Junk\r\n"
            "* LSUB () \"/\" Sent\r\n"
            "* LSUB () \"/\" Trash\r\n"
            "* LSUB (\\Noselect) \"/\" Work\r\n"
            "f OK LSUB completed\r\n");
  const std::string plain = c.send("g LIST \"\" *\r\n");
  EXPECT_FALSE(contains(plain, "Archive")) << plain;
  EXPECT_FALSE(contains(plain, "Work")) << plain;
  EXPECT_EQ(c.send("h LIST \"\" (Archive Work Sent) RETURN (SUBSCRIBED)\r\n"),
            "* LIST (\\HasNoChildren \\Sent \\Subscribed) \"/\" Sent\r\nh OK LIST completed\r\n");
  // SPECIAL-USE selects existing special-use mailboxes only.
  const std::string special = c.send("i LIST (SPECIAL-USE SUBSCRIBED) \"\" *\r\n");
  EXPECT_FALSE(contains(special, "Archive")) << special;
  EXPECT_EQ(c.send("j UNSUBSCRIBE Archive\r\n"), "j OK UNSUBSCRIBE completed\r\n");
  EXPECT_EQ(c.send("k LSUB \"\" A*\r\n"), "k OK LSUB completed\r\n");
  EXPECT_EQ(c.send("l LIST (SUBSCRIBED) \"\" A*\r\n"), "l OK LIST completed\r\n");
}

// RFC 5819: STATUS is given for existing mailboxes only; a name with no mailbox still gets
// its LIST line.
TEST(imap_session_list, ReturnStatusSkipsNamesWithNoMailbox) {
  fixture f;
  client c(f);
  c.login();
  c.send("a SUBSCRIBE Gone\r\n");
  EXPECT_EQ(c.send("b LIST (SUBSCRIBED) \"\" (INBOX Gone) RETURN (STATUS (MESSAGES))\r\n"),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX\r\n"
            "* STATUS INBOX (MESSAGES 2)\r\n"
            "* LIST (\\NonExistent \\Subscribed) \"/\" Gone\r\n"
            "b OK LIST completed\r\n");
  EXPECT_EQ(c.send("c LIST \"\" Gone RETURN (STATUS (MESSAGES))\r\n"), "c OK LIST completed\r\n");
}

// A subscribed name with no mailbox can have mailboxes below it (a parent removed by
// another program while its children stay); non-ASCII names come back as the client is
// used to reading them.
TEST(imap_session_list, NameWithNoMailboxButChildrenAndNonAsciiName) {
  fixture f;
  client c(f);
  c.login();
  c.send("a CREATE Projects/2024\r\n");
  ASSERT_TRUE(f.store.remove_folder(std::string(alice), "Projects"));
  c.send("b SUBSCRIBE Projects\r\n");
  c.send("c SUBSCRIBE R&AOk-sum&AOk-\r\n");
  EXPECT_EQ(c.send("d LIST (SUBSCRIBED) \"\" (P* R*)\r\n"),
            "* LIST (\\NonExistent \\HasChildren \\Subscribed) \"/\" Projects\r\n"
            "* LIST (\\NonExistent \\Subscribed) \"/\" R&AOk-sum&AOk-\r\n"
            "d OK LIST completed\r\n");
  EXPECT_EQ(c.send("e LIST \"\" P*\r\n"),
            "* LIST (\\HasNoChildren) \"/\" Projects/2024\r\ne OK LIST completed\r\n");
  c.send("f ENABLE UTF8=ACCEPT\r\n");
  EXPECT_EQ(c.send("g LSUB \"\" R*\r\n"),
            "* LSUB (\\Noselect) \"/\" \"R\xc3\xa9sum\xc3\xa9\"\r\ng OK LSUB completed\r\n");
  // Such a name cannot be selected.
  EXPECT_EQ(c.send("h SELECT Projects\r\n"), "h NO [NONEXISTENT] mailbox does not exist\r\n");
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

// "." and ".." levels are refused by the session itself, before any backend sees them (the
// memory backend would take them).
TEST(imap_session_hierarchy, DotLevelsAreRefusedBeforeTheBackend) {
  fixture f;
  client c(f);
  c.login();
  c.send("a CREATE Work\r\n");
  const std::string refusal = " NO [CANNOT] \".\" and \"..\" are not valid hierarchy levels\r\n";
  for (const std::string command :
       {"CREATE ../escape", "CREATE Projects/../../x", "CREATE Work/./x", "CREATE Work/../",
        "CREATE ..", "RENAME Work ../Work", "RENAME ../Work Other", "RENAME INBOX ../Old",
        "DELETE Work/..", "SUBSCRIBE a/./b"}) {
    EXPECT_EQ(c.send("b " + command + "\r\n"), "b" + refusal) << command;
  }
  const std::size_t folders = f.store.account(std::string(alice)).folders.size();
  EXPECT_EQ(folders, 6U);  // INBOX, Drafts, Junk, Sent, Trash, Work
  EXPECT_EQ(f.store.folder(std::string(alice), "Work")->entries.size(), 0U);
  EXPECT_EQ(f.store.folder(std::string(alice), "INBOX")->entries.size(), 2U);
  // An old subscription with such a name can still be dropped.
  EXPECT_EQ(c.send("c UNSUBSCRIBE ..\r\n"), "c OK UNSUBSCRIBE completed\r\n");
  // Dots inside a level are ordinary characters.
  EXPECT_EQ(c.send("d CREATE v1.2/...x\r\n"), "d OK CREATE completed\r\n");
}

// RFC 9051 §6.3.4 / §6.3.6: CREATE and RENAME make the missing superior levels, each a
// real, selectable mailbox with its own UIDVALIDITY.
TEST(imap_session_hierarchy, CreateAndRenameMakeSuperiorLevels) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("a CREATE Archive/2023\r\n"), "a OK CREATE completed\r\n");
  EXPECT_EQ(c.send("b LIST \"\" Archive*\r\n"),
            "* LIST (\\HasChildren) \"/\" Archive\r\n"
            "* LIST (\\HasNoChildren) \"/\" Archive/2023\r\n"
            "b OK LIST completed\r\n");
  const std::string selected = c.send("c SELECT Archive\r\n");
  EXPECT_TRUE(contains(selected, "c OK [READ-WRITE] SELECT completed")) << selected;
  EXPECT_NE(f.store.folder(std::string(alice), "Archive")->uid_validity,
            f.store.folder(std::string(alice), "Archive/2023")->uid_validity);
  EXPECT_EQ(c.send("d CREATE Archive/2023\r\n"), "d NO [ALREADYEXISTS] mailbox already exists\r\n");
  c.send("e CREATE Work\r\n");
  EXPECT_EQ(c.send("f RENAME Work Old/Years/Work\r\n"), "f OK RENAME completed\r\n");
  EXPECT_EQ(c.send("g LIST \"\" Old*\r\n"),
            "* LIST (\\HasChildren) \"/\" Old\r\n"
            "* LIST (\\HasChildren) \"/\" Old/Years\r\n"
            "* LIST (\\HasNoChildren) \"/\" Old/Years/Work\r\n"
            "g OK LIST completed\r\n");
  EXPECT_EQ(c.send("h RENAME Old Old/Inner\r\n"), "h NO [CANNOT] mailbox: not allowed\r\n");
}

// RFC 9051 §6.3.5: a mailbox with children is refused (Dovecot's choice), so no level is
// left without a mailbox; once the children are gone it can go.
TEST(imap_session_hierarchy, DeleteOfMailboxWithChildrenIsRefused) {
  fixture f;
  client c(f);
  c.login();
  c.send("a CREATE A/B/C\r\n");
  EXPECT_EQ(c.send("b DELETE A\r\n"),
            "b NO [HASCHILDREN] Mailbox has children, delete them first\r\n");
  EXPECT_EQ(c.send("c DELETE A/B\r\n"),
            "c NO [HASCHILDREN] Mailbox has children, delete them first\r\n");
  EXPECT_NE(f.store.folder(std::string(alice), "A"), nullptr);
  EXPECT_EQ(c.send("d DELETE A/B/C\r\n"), "d OK DELETE completed\r\n");
  EXPECT_EQ(c.send("e DELETE A/B\r\n"), "e OK DELETE completed\r\n");
  EXPECT_EQ(c.send("f DELETE A\r\n"), "f OK DELETE completed\r\n");
  EXPECT_EQ(c.send("g LIST \"\" A*\r\n"), "g OK LIST completed\r\n");
  // A level that is no mailbox (left by another program) is not there to delete.
  c.send("h CREATE X/Y\r\n");
  ASSERT_TRUE(f.store.remove_folder(std::string(alice), "X"));
  EXPECT_EQ(c.send("i DELETE X\r\n"), "i NO [NONEXISTENT] mailbox does not exist\r\n");
}

// RFC 3501 §6.3.8, RFC 9051 §6.3.9: '%' at the end of a pattern returns the levels it
// matches; one with no mailbox (another program made ".A.B" only) is \Noselect for a plain
// rev1 LIST and \NonExistent for extended LIST and IMAP4rev2, with \HasChildren.
TEST(imap_session_hierarchy, ListPercentReturnsLevelsWithNoMailbox) {
  fixture f;
  client c(f);
  c.login();
  c.send("a CREATE A/B/C\r\n");
  ASSERT_TRUE(f.store.remove_folder(std::string(alice), "A"));
  ASSERT_TRUE(f.store.remove_folder(std::string(alice), "A/B"));
  EXPECT_EQ(c.send("b LIST \"\" %\r\n"),
            "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
            "* LIST (\\Noselect \\HasChildren) \"/\" A\r\n"
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n"
            "* LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n"
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
            "* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
            "b OK LIST completed\r\n");
  EXPECT_EQ(c.send("c LIST \"\" A/%\r\n"),
            "* LIST (\\Noselect \\HasChildren) \"/\" A/B\r\nc OK LIST completed\r\n");
  EXPECT_EQ(c.send("d LIST A/ %\r\n"),
            "* LIST (\\Noselect \\HasChildren) \"/\" A/B\r\nd OK LIST completed\r\n");
  // '*' matches the mailbox itself, so the levels above it are not made up.
  EXPECT_EQ(c.send("e LIST \"\" A*\r\n"),
            "* LIST (\\HasNoChildren) \"/\" A/B/C\r\ne OK LIST completed\r\n");
  EXPECT_EQ(c.send("f LIST \"\" A\r\n"), "f OK LIST completed\r\n");
  EXPECT_EQ(c.send("g LIST \"\" (A%) RETURN (CHILDREN STATUS (MESSAGES))\r\n"),
            "* LIST (\\NonExistent \\HasChildren) \"/\" A\r\ng OK LIST completed\r\n");
  // The SUBSCRIBED selection shows subscribed names only.
  EXPECT_EQ(c.send("h LIST (SUBSCRIBED) \"\" A%\r\n"), "h OK LIST completed\r\n");
  EXPECT_EQ(c.send("i SELECT A\r\n"), "i NO [NONEXISTENT] mailbox does not exist\r\n");
  c.send("j ENABLE IMAP4rev2\r\n");
  EXPECT_EQ(c.send("k LIST \"\" A%\r\n"),
            "* LIST (\\NonExistent \\HasChildren) \"/\" A\r\nk OK LIST completed\r\n");
}

// RFC 3501 §6.3.9: for LSUB '%', a level whose children are subscribed but which is not
// subscribed itself is returned \Noselect, even when it is a mailbox.
TEST(imap_session_hierarchy, LsubPercentReturnsUnsubscribedParentsNoselect) {
  fixture f;
  client c(f);
  c.login();
  c.send("a CREATE Lists/Daily\r\n");
  c.send("b SUBSCRIBE Lists/Daily\r\n");
  c.send("c SUBSCRIBE Gone/Child\r\n");
  EXPECT_EQ(c.send("d LSUB \"\" %\r\n"),
            "* LSUB () \"/\" INBOX\r\n"
            "* LSUB () \"/\" Drafts\r\n"
            "* LSUB (\\Noselect) \"/\" Gone\r\n"
            "* LSUB () \"/\" Junk\r\n"
            "* LSUB (\\Noselect) \"/\" Lists\r\n"
            "* LSUB () \"/\" Sent\r\n"
            "* LSUB () \"/\" Trash\r\n"
            "d OK LSUB completed\r\n");
  EXPECT_EQ(c.send("e LSUB \"\" L*\r\n"), "* LSUB () \"/\" Lists/Daily\r\ne OK LSUB completed\r\n");
  EXPECT_EQ(c.send("f SUBSCRIBE Lists\r\n"), "f OK SUBSCRIBE completed\r\n");
  EXPECT_EQ(c.send("g LSUB \"\" L%\r\n"), "* LSUB () \"/\" Lists\r\ng OK LSUB completed\r\n");
  // LIST sees mailboxes: Lists exists, Gone does not and has no mailbox below it.
  EXPECT_EQ(c.send("h LIST \"\" (G% L%)\r\n"),
            "* LIST (\\HasChildren) \"/\" Lists\r\nh OK LIST completed\r\n");
}

// RFC 9051 §6.3.6: RENAME INBOX moves every message into a new mailbox with a UIDVALIDITY
// of its own; INBOX stays, empty, keeping its UIDVALIDITY and UIDNEXT.
TEST(imap_session_hierarchy, RenameInboxMovesItsMessages) {
  fixture f;
  client c(f);
  c.login();
  EXPECT_EQ(c.send("b RENAME INBOX Archive/Old\r\n"), "b OK RENAME completed\r\n");
  EXPECT_EQ(c.send("c STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)\r\n"),
            "* STATUS INBOX (MESSAGES 0 UIDNEXT 3 UIDVALIDITY 1000)\r\nc OK STATUS completed\r\n");
  const memory_folder* old = f.store.folder(std::string(alice), "Archive/Old");
  ASSERT_NE(old, nullptr);
  EXPECT_NE(old->uid_validity, 1000U);
  EXPECT_NE(f.store.folder(std::string(alice), "Archive"), nullptr);
  c.send("d SELECT Archive/Old\r\n");
  EXPECT_EQ(c.send("e FETCH 1:* (UID FLAGS RFC822.SIZE)\r\n"),
            "* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 124)\r\n"
            "* 2 FETCH (UID 2 FLAGS () RFC822.SIZE 346)\r\n"
            "e OK FETCH completed\r\n");
  EXPECT_EQ(c.send("f RENAME INBOX Archive/Old\r\n"),
            "f NO [ALREADYEXISTS] mailbox already exists\r\n");
  EXPECT_EQ(c.send("g RENAME inbox Empty\r\n"), "g OK RENAME completed\r\n");
  EXPECT_TRUE(f.store.folder(std::string(alice), "Empty")->entries.empty());
}

// A selected INBOX stays selected through RENAME INBOX: its messages are reported expunged
// before the tagged OK, and new mail still arrives there. A selected mailbox below INBOX is
// not touched.
TEST(imap_session_hierarchy, RenameOfSelectedInboxExpungesItsMessages) {
  fixture f;
  client c(f);
  c.login();
  c.send("a SELECT INBOX\r\n");
  EXPECT_EQ(c.send("b RENAME INBOX Saved\r\n"),
            "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\nb OK RENAME completed\r\n");
  f.store.deliver(std::string(alice), "INBOX", plain_message());
  EXPECT_EQ(c.send("c NOOP\r\n"), "* 1 EXISTS\r\nc OK NOOP completed\r\n");
  EXPECT_EQ(c.send("d FETCH 1 UID\r\n"), "* 1 FETCH (UID 3)\r\nd OK FETCH completed\r\n");
  c.send("e CREATE INBOX/Sub\r\n");
  f.store.deliver(std::string(alice), "INBOX/Sub", plain_message());
  c.send("f SELECT INBOX/Sub\r\n");
  EXPECT_EQ(c.send("g RENAME INBOX Saved2\r\n"), "g OK RENAME completed\r\n");
  EXPECT_EQ(c.send("h FETCH 1 UID\r\n"), "* 1 FETCH (UID 1)\r\nh OK FETCH completed\r\n");
  EXPECT_EQ(f.store.folder(std::string(alice), "Saved2")->entries.size(), 1U);
}

// New names are bounded (1024 bytes, 32 levels): LSUB lists every superior level of a
// subscribed name, and a name may come as a literal of many megabytes.
TEST(imap_session_hierarchy, LongAndDeepNamesAreRefused) {
  fixture f;
  client c(f);
  c.login();
  const std::string refusal =
      " NO [LIMIT] mailbox name too long or too deep (1024 bytes, 32 levels)\r\n";
  EXPECT_EQ(c.send("a CREATE " + std::string(1025, 'x') + "\r\n"), "a" + refusal);
  std::string deep = "d";
  for (int i = 0; i < 32; ++i) deep += "/d";
  EXPECT_EQ(c.send("b SUBSCRIBE " + deep + "\r\n"), "b" + refusal);
  EXPECT_EQ(c.send("c RENAME Sent " + deep + "\r\n"), "c" + refusal);
  EXPECT_EQ(c.send("e CREATE " + std::string(1024, 'x') + "\r\n"), "e OK CREATE completed\r\n");
}

}  // namespace
}  // namespace mailsim::imap::test
