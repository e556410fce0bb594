#include "reference-server/imap/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/imap/describe.hpp"

namespace mailsim::imap {
namespace {

struct valid_case {
  std::string wire;  // without the final CRLF; "{N}\r\n" inside becomes a literal
  std::string expected;
};

std::string parse_to_text(std::string_view wire, const parse_options& options = {}) {
  const parse_result r = parse_command(test::frame(wire), options);
  if (!r.value) return "ERROR " + r.error.text;
  return test::describe(*r.value);
}

void expect_all(const std::vector<valid_case>& cases, const parse_options& options = {}) {
  for (const valid_case& c : cases) {
    EXPECT_EQ(parse_to_text(c.wire, options), c.expected) << c.wire;
  }
}

TEST(imap_parser, simple_commands) {
  expect_all({
      {"a1 CAPABILITY", "a1 CAPABILITY"},
      {"a1 capability", "a1 CAPABILITY"},
      {"A.b] noop", "A.b] NOOP"},
      {"a LOGOUT", "a LOGOUT"},
      {"a StartTLS", "a STARTTLS"},
      {"a NAMESPACE", "a NAMESPACE"},
      {"a IDLE", "a IDLE"},
      {"a CLOSE", "a CLOSE"},
      {"a UNSELECT", "a UNSELECT"},
      {"a EXPUNGE", "a EXPUNGE"},
      {"a UID EXPUNGE 1:3,7", "a UID EXPUNGE 1:3,7"},
      {"a uid expunge $", "a UID EXPUNGE $"},
      {"a CHECK", "a CHECK"},
      {"a check", "a CHECK"},
  });
}

TEST(imap_parser, authentication_commands) {
  expect_all({
      {"a AUTHENTICATE plain", "a AUTHENTICATE mech=PLAIN"},
      {"a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==", "a AUTHENTICATE mech=PLAIN ir=AGFsaWNlAHNlY3JldA=="},
      {"a AUTHENTICATE PLAIN =", "a AUTHENTICATE mech=PLAIN ir=="},
      {"a AUTHENTICATE SCRAM-SHA-256", "a AUTHENTICATE mech=SCRAM-SHA-256"},
      {"a LOGIN alice secret", "a LOGIN user=alice pass=secret"},
      {"a LOGIN \"alice smith\" \"p\\\"w\\\\d\"", "a LOGIN user=alice smith pass=p\"w\\d"},
      {"a LOGIN {5}\r\nalice {3+}\r\np w", "a LOGIN user=alice pass=p w"},
      {"a LOGIN alice p]ss", "a LOGIN user=alice pass=p]ss"},
      {"a ENABLE CONDSTORE utf8=accept", "a ENABLE (CONDSTORE UTF8=ACCEPT)"},
      {"a ID NIL", "a ID NIL"},
      {"a ID ()", "a ID "},
      {"a ID (\"name\" \"mutt\" \"version\" NIL)", "a ID name=mutt;version=NIL;"},
  });
}

TEST(imap_parser, mailbox_commands) {
  expect_all({
      {"a SELECT inbox", "a SELECT box=INBOX"},
      {"a EXAMINE \"INBOX\"", "a EXAMINE box=INBOX"},
      {"a SELECT Inbox/Sub", "a SELECT box=Inbox/Sub"},  // only INBOX itself is folded
      {"a SELECT x (CONDSTORE)", "a SELECT box=x condstore"},
      {"a SELECT x (QRESYNC (67890007 20050715194045000))", "a SELECT box=x qresync=67890007/20050715194045000"},
      {"a SELECT x (QRESYNC (67890007 90060115194045000 41,43:211,214:541))",
       "a SELECT box=x qresync=67890007/90060115194045000 known=41,43:211,214:541"},
      {"a SELECT x (QRESYNC (1 2 1:100 (1,5,9 10,50,90)))",
       "a SELECT box=x qresync=1/2 known=1:100 match=1,5,9/10,50,90"},
      {"a SELECT x (QRESYNC (1 2 (1 10)))", "a SELECT box=x qresync=1/2 match=1/10"},
      {"a CREATE Drafts", "a CREATE box=Drafts"},
      {"a CREATE MyDrafts (USE (\\Drafts))", "a CREATE box=MyDrafts use=(\\Drafts)"},
      {"a CREATE x (USE (\\Sent \\Archive))", "a CREATE box=x use=(\\Sent \\Archive)"},
      {"a DELETE x", "a DELETE box=x"},
      {"a RENAME a b", "a RENAME a -> b"},
      {"a RENAME \"old box\" INBOX.x", "a RENAME old box -> INBOX.x"},
      {"a SUBSCRIBE x", "a SUBSCRIBE box=x"},
      {"a UNSUBSCRIBE x", "a UNSUBSCRIBE box=x"},
      {"a STATUS x (MESSAGES UIDNEXT uidvalidity UNSEEN DELETED SIZE HIGHESTMODSEQ RECENT)",
       "a STATUS box=x (messages uidnext uidvalidity unseen deleted size highestmodseq recent)"},
      {"a SELECT &ZeVnLIqe-", "a SELECT box=\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"},
      {"a SELECT Lost&-Found", "a SELECT box=Lost&Found"},
  });
}

TEST(imap_parser, list_basic_and_extended) {
  expect_all({
      {"a LIST \"\" *", "a LIST ref= pat=(*)"},
      {"a LIST \"\" \"\"", "a LIST ref= pat=()"},
      {"a LIST ~/Mail/ %", "a LIST ref=~/Mail/ pat=(%)"},
      {"a LIST \"\" INBOX/%/x*", "a LIST ref= pat=(INBOX/%/x*)"},
      {"a LSUB \"\" *", "a LSUB ref= pat=(*)"},
      {"a LIST (SUBSCRIBED) \"\" *", "a LIST ext sel:subscribed ref= pat=(*)"},
      {"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %",
       "a LIST ext sel:subscribed sel:recursivematch ref= pat=(%)"},
      {"a LIST (REMOTE SPECIAL-USE) \"\" *", "a LIST ext sel:remote sel:special-use ref= pat=(*)"},
      {"a LIST () \"\" (INBOX Sent*)", "a LIST ext ref= pat=(INBOX Sent*)"},
      {"a LIST \"\" % RETURN (CHILDREN SUBSCRIBED SPECIAL-USE)",
       "a LIST ext ref= pat=(%) ret:subscribed ret:children ret:special-use"},
      {"a LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))",
       "a LIST ext ref= pat=(%) ret:status(messages unseen)"},
      {"a LIST \"\" % RETURN ()", "a LIST ext ref= pat=(%)"},
  });
}

TEST(imap_parser, append) {
  expect_all({
      {"a APPEND INBOX {5}\r\nHello", "a APPEND box=INBOX msg=Hello"},
      {"a APPEND INBOX (\\Seen $Junk) {2+}\r\nHi", "a APPEND box=INBOX flags=(\\Seen $Junk) msg=Hi"},
      {"a APPEND INBOX () \" 7-Feb-1994 21:52:25 -0800\" {2}\r\nHi",
       "a APPEND box=INBOX date=1994-2-7T21:52:25z-480 msg=Hi"},
      {"a APPEND INBOX \"29-Feb-2024 00:00:60 +0130\" {2}\r\nHi",
       "a APPEND box=INBOX date=2024-2-29T0:0:60z90 msg=Hi"},
      {"a APPEND x ~{2}\r\nHi", "a APPEND box=x binary msg=Hi"},
  });
  const parse_result r = parse_command(test::frame(std::string("a APPEND x ~{3}\r\na\0b", 20)));
  ASSERT_TRUE(r.value);
  EXPECT_EQ(std::get<append_args>(r.value->args).message, std::string("a\0b", 3));
}

TEST(imap_parser, search) {
  expect_all({
      {"a SEARCH ALL", "a SEARCH all"},
      {"a UID SEARCH UNSEEN", "a UID SEARCH unseen"},
      {"a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
       "a SEARCH flagged since=1994-2-1 not(from=Smith)"},
      {"a SEARCH OR (FROM a TO b) SUBJECT {3}\r\nfoo", "a SEARCH or(and(from=a to=b) subject=foo)"},
      {"a SEARCH CHARSET UTF-8 TEXT {4+}\r\n\xE2\x82\xAC!", "a SEARCH charset=UTF-8 text=\xE2\x82\xAC!"},
      {"a SEARCH RETURN (MIN MAX COUNT) 1:* DELETED", "a SEARCH return=(MIN MAX COUNT) seq=1:* deleted"},
      {"a SEARCH RETURN () ALL", "a SEARCH return=() all"},
      {"a SEARCH RETURN (SAVE) UID $", "a SEARCH return=(SAVE) uid=$"},
      {"a SEARCH HEADER Message-ID \"<x@y>\"", "a SEARCH header=Message-ID:<x@y>"},
      {"a SEARCH LARGER 1000 SMALLER 9223372036854775807", "a SEARCH larger=1000 smaller=9223372036854775807"},
      {"a SEARCH KEYWORD $Junk UNKEYWORD foo", "a SEARCH keyword=$Junk unkeyword=foo"},
      {"a SEARCH BEFORE \"02-Jan-2020\" ON 3-mar-2021 SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000 SENTSINCE 1-Jan-2000",
       "a SEARCH before=2020-1-2 on=2021-3-3 sentbefore=2000-1-1 senton=2000-1-1 sentsince=2000-1-1"},
      {"a SEARCH MODSEQ 620162338", "a SEARCH modseq=620162338"},
      {"a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338",
       "a SEARCH modseq[/flags/\\draft ALL]=620162338"},
      {"a SEARCH ANSWERED BCC x BODY y CC z DELETED DRAFT NEW OLD RECENT SEEN UNANSWERED "
       "UNDELETED UNDRAFT UNFLAGGED",
       "a SEARCH answered bcc=x body=y cc=z deleted draft new old recent seen unanswered "
       "undeleted undraft unflagged"},
      {"a SEARCH NOT NOT (OR 1 2:4 (3))", "a SEARCH not(not(and(or(seq=1 seq=2:4) and(seq=3))))"},
  });
}

TEST(imap_parser, fetch) {
  expect_all({
      {"a FETCH 1 ALL", "a FETCH 1 flags internaldate rfc822.size envelope"},
      {"a FETCH 1 FAST", "a FETCH 1 flags internaldate rfc822.size"},
      {"a FETCH 1 full", "a FETCH 1 flags internaldate rfc822.size envelope body"},
      {"a FETCH 2:4 (FLAGS UID RFC822.SIZE)", "a FETCH 2:4 flags uid rfc822.size"},
      {"a UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From Subject)] BODYSTRUCTURE)",
       "a UID FETCH 1:* body.peek[FIELDS(From Subject)] bodystructure"},
      {"a FETCH 1 BODY[]", "a FETCH 1 body[]"},
      {"a FETCH 1 BODY[]<0.2048>", "a FETCH 1 body[]<0.2048>"},
      {"a FETCH 1 (BODY[1.2.MIME] BODY[3.TEXT] BODY[4.HEADER] BODY[2] BODY[TEXT])",
       "a FETCH 1 body[1.2.MIME] body[3.TEXT] body[4.HEADER] body[2] body[TEXT]"},
      {"a FETCH 1 BODY[HEADER.FIELDS.NOT (Received)]", "a FETCH 1 body[FIELDS.NOT(Received)]"},
      {"a FETCH 1 (BINARY[1] BINARY.PEEK[1.2]<5.10> BINARY.SIZE[2] BINARY[])",
       "a FETCH 1 binary[1] binary.peek[1.2]<5.10> binary.size[2] binary[]"},
      {"a FETCH 1 (ENVELOPE INTERNALDATE RFC822 RFC822.HEADER RFC822.TEXT BODY MODSEQ)",
       "a FETCH 1 envelope internaldate rfc822 rfc822.header rfc822.text body modseq"},
      {"a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
       "a UID FETCH 1:* flags changedsince=12345 vanished"},
      {"a FETCH $ FLAGS", "a FETCH $ flags"},
      {"a FETCH 4294967295 UID", "a FETCH 4294967295 uid"},
  });
}

TEST(imap_parser, store_copy_move) {
  expect_all({
      {"a STORE 2:4 +FLAGS (\\Deleted)", "a STORE 2:4 +(\\Deleted)"},
      {"a STORE 1 -FLAGS.SILENT \\Seen $Junk", "a STORE 1 -silent(\\Seen $Junk)"},
      {"a STORE 1 FLAGS ()", "a STORE 1 =()"},
      {"a UID STORE 1:* (UNCHANGEDSINCE 0) flags.silent (\\Seen)",
       "a UID STORE 1:* unchangedsince=0 =silent(\\Seen)"},
      {"a COPY 2:4 MEETING", "a COPY 2:4 box=MEETING"},
      {"a UID MOVE 42 \"Junk mail\"", "a UID MOVE 42 box=Junk mail"},
      {"a MOVE *:5 inbox", "a MOVE *:5 box=INBOX"},
  });
}

struct invalid_case {
  std::string wire;
  std::string expected;  // error text
  std::optional<std::string> tag;
};

TEST(imap_parser, errors_name_what_was_expected_and_where) {
  const std::vector<invalid_case> cases = {
      {"", "expected tag at offset 0", std::nullopt},
      {"*", "expected tag at offset 0", std::nullopt},
      {"+ NOOP", "expected tag at offset 0", std::nullopt},
      {"a+ NOOP", "expected SP at offset 1", std::nullopt},
      {"a", "expected SP at offset 1", std::nullopt},
      {"a FROB", "expected known command name at offset 6", "a"},
      {"a  NOOP", "expected command name at offset 2", "a"},
      {"a NOOP x", "expected end of command at offset 6", "a"},
      {"a NOOP ", "expected end of command at offset 6", "a"},
      {"a CHECK now", "expected end of command at offset 7", "a"},
      {"a UID NOOP", "expected COPY, MOVE, FETCH, SEARCH, STORE or EXPUNGE after UID at offset 10", "a"},
      {"a LOGIN alice", "expected SP at offset 13", "a"},
      {"a LOGIN \"alice", "expected closing '\"' at offset 14", "a"},
      {"a LOGIN \"a\\lice\" x", "expected '\"' or '\\' after '\\' at offset 11", "a"},
      {"a LOGIN a\rb c", "expected SP at offset 9", "a"},
      {"a LOGIN (a) b", "expected user name at offset 8", "a"},
      {"a SELECT", "expected SP at offset 8", "a"},
      {"a SELECT x (FOO)", "expected CONDSTORE or QRESYNC at offset 12", "a"},
      {"a SELECT x (QRESYNC (0 1))", "expected non-zero number at offset 22", "a"},
      {"a SELECT x (QRESYNC (1 2 1:*))", "expected UID set without * or $ at offset 28", "a"},
      {"a SELECT x (QRESYNC (1 2 1:5 (1)))", "expected SP at offset 31", "a"},
      {"a FETCH 0 FLAGS", "expected sequence set at offset 9", "a"},
      {"a FETCH 4294967296 FLAGS", "expected sequence set at offset 18", "a"},
      {"a FETCH 1: FLAGS", "expected sequence set at offset 10", "a"},
      {"a FETCH 1 (FLAGS", "expected ')' at offset 16", "a"},
      {"a FETCH 1 BODY[MIME]", "expected part number, HEADER, HEADER.FIELDS or TEXT at offset 19", "a"},
      {"a FETCH 1 BINARY[TEXT]", "expected part number at offset 17", "a"},
      {"a FETCH 1 BODY[]<0.0>", "expected non-zero number at offset 20", "a"},
      {"a FETCH 1 BODY.PEEK", "expected '[' at offset 19", "a"},
      {"a FETCH 1 FLAGS (VANISHED)", "expected CHANGEDSINCE with VANISHED at offset 26", "a"},
      {"a FETCH 1 ()", "expected fetch attribute at offset 11", "a"},
      {"a STORE 1 FLAG (\\Seen)", "expected FLAGS, +FLAGS or -FLAGS at offset 10", "a"},
      {"a SEARCH", "expected SP at offset 8", "a"},
      {"a SEARCH FOO", "expected search key at offset 12", "a"},
      {"a SEARCH SINCE 31-Feb-2020", "expected date d-Mon-yyyy at offset 26", "a"},
      {"a SEARCH SINCE 1-Foo-2020", "expected date d-Mon-yyyy at offset 25", "a"},
      {"a SEARCH OR ALL", "expected SP at offset 15", "a"},
      {"a SEARCH RETURN (BOGUS) ALL", "expected MIN, MAX, ALL, COUNT or SAVE at offset 17", "a"},
      {"a SEARCH LARGER 9223372036854775808", "expected number within 63 bits at offset 35", "a"},
      {"a LIST (RECURSIVEMATCH) \"\" *", "expected a selection option besides RECURSIVEMATCH at offset 23", "a"},
      {"a LIST (BOGUS) \"\" *", "expected list selection option at offset 8", "a"},
      {"a LIST \"\" * RETURN (BOGUS)", "expected list return option at offset 20", "a"},
      {"a STATUS x (BOGUS)", "expected status item at offset 17", "a"},
      {"a STATUS x ()", "expected status item at offset 12", "a"},
      {"a APPEND x \"1-Jan-2000\" {1}\r\nx", "expected date-time \"dd-Mon-yyyy hh:mm:ss +zzzz\" at offset 23", "a"},
      {"a APPEND x (\\Seen)", "expected SP at offset 18", "a"},
      {"a APPEND x \"hello\"", "expected date-time \"dd-Mon-yyyy hh:mm:ss +zzzz\" at offset 18", "a"},
      {"a APPEND x (\\Seen) ", "expected message literal at offset 19", "a"},
      {"a LOGIN ~{1}\r\nx y", "expected literal (not literal8) at offset 8", "a"},
      {"a CREATE x (USE (Drafts))", "expected special-use attribute at offset 17", "a"},
      {"a ENABLE", "expected SP at offset 8", "a"},
      {"a AUTHENTICATE PLAIN !", "expected base64 initial response or '=' at offset 21", "a"},
  };
  for (const invalid_case& c : cases) {
    const parse_result r = parse_command(test::frame(c.wire));
    ASSERT_FALSE(r.value) << c.wire << " parsed as " << test::describe(*r.value);
    EXPECT_EQ(r.error.text, c.expected) << c.wire;
    EXPECT_EQ(r.error.tag, c.tag) << c.wire;
  }
}

TEST(imap_parser, id_takes_at_most_thirty_pairs) {
  std::string id = "a ID (";
  for (int i = 0; i < 30; ++i) id += (i ? " \"k" : "\"k") + std::to_string(i) + "\" NIL";
  EXPECT_TRUE(parse_command(test::frame(id + ")")).value.has_value());
  const parse_result over = parse_command(test::frame(id + " \"k30\" NIL)"));
  ASSERT_FALSE(over.value);
  EXPECT_EQ(over.error.text.substr(0, 28), "expected at most 30 ID pairs");
}

TEST(imap_parser, nul_in_a_plain_literal_is_refused) {
  const parse_result r = parse_command(test::frame(std::string("a LOGIN {3}\r\na\0b c", 18)));
  ASSERT_FALSE(r.value);
  EXPECT_EQ(r.error.text, "expected literal without NUL at offset 8");
}

TEST(imap_parser, mailbox_names_decode_modified_utf7_unless_utf8_accept) {
  const parse_result bad = parse_command(test::frame("a SELECT &Jjo"));
  ASSERT_FALSE(bad.value);
  EXPECT_EQ(bad.error.code, errc::bad_mailbox_name);
  EXPECT_EQ(bad.error.tag, "a");

  parse_options utf8;
  utf8.utf8_accept = true;
  EXPECT_EQ(parse_to_text("a SELECT \"&Jjo\"", utf8), "a SELECT box=&Jjo");
  EXPECT_EQ(parse_to_text("a SELECT \"\xE6\x97\xA5\"", utf8), "a SELECT box=\xE6\x97\xA5");
  EXPECT_EQ(parse_to_text("a SELECT {1}\r\n\xff", utf8).substr(0, 5), "ERROR");
  EXPECT_EQ(parse_to_text("a SELECT \"\xE6\x97\xA5\""), "ERROR expected modified UTF-7 mailbox name at offset 9");
}

TEST(imap_parser, nesting_is_bounded) {
  parse_options options;
  options.nesting_depth_max = 3;  // each search key or parenthesised list is one level
  EXPECT_EQ(parse_to_text("a SEARCH ((ALL))", options), "a SEARCH and(and(all))");
  const parse_result deep = parse_command(test::frame("a SEARCH (((ALL)))"), options);
  ASSERT_FALSE(deep.value);
  EXPECT_EQ(deep.error.code, errc::nesting_too_deep);
  EXPECT_EQ(parse_command(test::frame("a SEARCH NOT NOT NOT NOT ALL"), options).error.code,
            errc::nesting_too_deep);

  // The default survives hostile depth without exhausting the stack.
  std::string hostile = "a SEARCH ";
  for (int i = 0; i < 10000; ++i) hostile += "NOT ";  // within line_bytes_max
  hostile += "ALL";
  EXPECT_EQ(parse_command(test::frame(hostile)).error.code, errc::nesting_too_deep);
  std::string parens = "a SEARCH " + std::string(60000, '(');
  EXPECT_EQ(parse_command(test::frame(parens)).error.code, errc::nesting_too_deep);
  EXPECT_EQ(parse_command(test::frame("a ID " + std::string(1000, '('))).error.code,
            errc::syntax);  // ID takes strings, not nested lists
}

}  // namespace
}  // namespace mailsim::imap
