#include "reference-server/queue/state_file.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace mailsim::queue {
namespace {

// FNV-1a 64 as the format documents it, written again here so that the test checks the
// documented format rather than the code's own helper.
std::string seal(const std::string& body) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : body) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return body + "end " + hex + "\n";
}

smtp::mailbox box(std::string local, std::string domain) {
  smtp::mailbox out;
  out.local_part = std::move(local);
  out.domain = std::move(domain);
  return out;
}

queued_message simple_entry() {
  queued_message m;
  m.id = "018bcfe568000000deadbeef";
  m.queued_at = core::from_epoch_ms(1'700'000'000'000);
  m.size_bytes = 1234;
  m.envelope.reverse_path.box = box("alice", "example.com");
  m.envelope.esmtp = true;
  smtp::recipient r;
  r.address.box = box("bob", "example.org");
  queued_recipient q{r, {}};
  q.status.next_attempt_at = m.queued_at;
  m.recipients.push_back(q);
  return m;
}

// Every field set, with values that need escaping.
queued_message full_entry() {
  queued_message m = simple_entry();
  smtp::envelope& e = m.envelope;
  e.helo_name = "client.example";
  e.tls = true;
  e.body = smtp::body_type::binary_mime;
  e.smtputf8 = true;
  e.ret = smtp::dsn_ret::headers;
  e.envid = "QQ+2B314";
  e.declared_size = 99'999;
  e.auth_user = "alice 100%";
  m.received_from = "dns; client.example (192.0.2.7)";
  m.message_class = "Bulk.News_2-x";
  m.message_sum = 0x00f0e1d2c3b4a596ULL;  // leading zeros are kept
  smtp::recipient odd;
  odd.address.box = box("we@ird \"x\"", "[192.0.2.1]");
  odd.notify = {true, false, true, true, true};
  odd.orcpt = "rfc822;we@ird";
  queued_recipient q{odd, {}};
  q.status.state = recipient_state::failed;
  q.status.attempts = 7;
  q.status.next_attempt_at = core::from_epoch_ms(1'700'000'900'000);
  q.status.last_attempt_at = core::from_epoch_ms(1'700'000'600'000);
  q.status.status = "5.1.1";
  q.status.reply = smtp::reply{550, "5.1.1", {"No such user", "line\twith\rcontrol\nchars %41"}};
  q.status.remote_mta = "mx.example.org";
  q.status.remote_address = "2001:db8::25";
  q.status.diagnostic = "";
  q.status.delay_warning_sent = true;
  q.status.dsn_sent = true;
  m.recipients.push_back(q);
  smtp::recipient never;
  never.address.box = box("ünï", "exämple.org");
  never.address.box.utf8 = true;  // as smtp::parse_path sets it
  never.notify = {true, true, false, false, false};
  queued_recipient n{never, {}};
  n.status.state = recipient_state::relayed;
  n.status.diagnostic = "connection refused";
  n.status.reply = smtp::reply{250, "", {}};
  m.recipients.push_back(n);
  e.reverse_path = smtp::path{};
  e.reverse_path.null = true;
  return m;
}

void expect_same(const queued_message& a, const queued_message& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.queued_at, b.queued_at);
  EXPECT_EQ(a.size_bytes, b.size_bytes);
  EXPECT_EQ(a.received_from, b.received_from);
  EXPECT_EQ(a.message_class, b.message_class);
  EXPECT_EQ(a.message_sum, b.message_sum);
  const smtp::envelope& x = a.envelope;
  const smtp::envelope& y = b.envelope;
  EXPECT_EQ(x.reverse_path.null, y.reverse_path.null);
  EXPECT_EQ(x.reverse_path.box.local_part, y.reverse_path.box.local_part);
  EXPECT_EQ(x.reverse_path.box.domain, y.reverse_path.box.domain);
  EXPECT_EQ(x.helo_name, y.helo_name);
  EXPECT_EQ(x.esmtp, y.esmtp);
  EXPECT_EQ(x.tls, y.tls);
  EXPECT_EQ(x.body, y.body);
  EXPECT_EQ(x.smtputf8, y.smtputf8);
  EXPECT_EQ(x.ret, y.ret);
  EXPECT_EQ(x.envid, y.envid);
  EXPECT_EQ(x.declared_size, y.declared_size);
  EXPECT_EQ(x.auth_user, y.auth_user);
  ASSERT_EQ(a.recipients.size(), b.recipients.size());
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    const auto& r = a.recipients[i];
    const auto& s = b.recipients[i];
    EXPECT_EQ(r.rcpt.address.box.local_part, s.rcpt.address.box.local_part) << i;
    EXPECT_EQ(r.rcpt.address.box.domain, s.rcpt.address.box.domain) << i;
    EXPECT_EQ(r.rcpt.address.box.utf8, s.rcpt.address.box.utf8) << i;
    EXPECT_EQ(r.rcpt.notify.specified, s.rcpt.notify.specified) << i;
    EXPECT_EQ(r.rcpt.notify.never, s.rcpt.notify.never) << i;
    EXPECT_EQ(r.rcpt.notify.success, s.rcpt.notify.success) << i;
    EXPECT_EQ(r.rcpt.notify.failure, s.rcpt.notify.failure) << i;
    EXPECT_EQ(r.rcpt.notify.delay, s.rcpt.notify.delay) << i;
    EXPECT_EQ(r.rcpt.orcpt, s.rcpt.orcpt) << i;
    EXPECT_EQ(r.status, s.status) << i;
  }
}

TEST(state_file, simple_entry_reads_as_documented) {
  const std::string expected = seal(
      "mailsim-queue-state 1\n"
      "id 018bcfe568000000deadbeef\n"
      "queued-at 1700000000000\n"
      "size 1234\n"
      "from alice@example.com\n"
      "esmtp 1\n"
      "tls 0\n"
      "body 7bit\n"
      "smtputf8 0\n"
      "ret unspecified\n"
      "rcpt bob@example.org\n"
      "state pending\n"
      "attempts 0\n"
      "next-attempt 1700000000000\n");
  EXPECT_EQ(encode_state(simple_entry()), expected);
}

TEST(state_file, every_field_survives_a_round_trip) {
  const queued_message entry = full_entry();
  const std::string text = encode_state(entry);
  // One field per line, whatever the values hold.
  EXPECT_NE(text.find("rcpt we%40ird \"x\"@[192.0.2.1]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("reply-line line%09with%0Dcontrol%0Achars %2541\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("from <>\n"), std::string::npos);
  EXPECT_NE(text.find("notify success,failure,delay\n"), std::string::npos);
  EXPECT_NE(text.find("notify never\n"), std::string::npos);
  const auto decoded = decode_state(text);
  ASSERT_TRUE(decoded.value) << decoded.error;
  expect_same(*decoded.value, entry);
  EXPECT_TRUE(decoded.value->recipients[2].rcpt.address.box.utf8);
  EXPECT_FALSE(decoded.value->recipients[1].rcpt.address.box.utf8);
  EXPECT_TRUE(decoded.value->envelope.reverse_path.null);
}

// The message class is one optional line: written as it is when set, absent otherwise, and
// a file without it (every file written before classes existed) reads as "no class".
TEST(state_file, message_class_is_kept_and_optional) {
  queued_message entry = simple_entry();
  const std::string without = encode_state(entry);
  EXPECT_EQ(without.find("\nclass "), std::string::npos) << without;
  const auto plain = decode_state(without);
  ASSERT_TRUE(plain.value) << plain.error;
  EXPECT_EQ(plain.value->message_class, "");

  entry.message_class = "Bulk.News_2-x";
  const std::string with = encode_state(entry);
  EXPECT_NE(with.find("\nclass Bulk.News_2-x\n"), std::string::npos) << with;
  const auto decoded = decode_state(with);
  ASSERT_TRUE(decoded.value) << decoded.error;
  EXPECT_EQ(decoded.value->message_class, "Bulk.News_2-x");  // case kept
  expect_same(*decoded.value, entry);

  // Hand-written, after the other message fields, 64 characters: the longest name.
  const std::string longest(64, 'z');
  const auto edited = decode_state(seal(
      "mailsim-queue-state 1\nid 018bcfe568000000deadbeef\nqueued-at 1\nsize 2\nfrom a@b\n"
      "esmtp 1\ntls 0\nbody 7bit\nsmtputf8 0\nret unspecified\nclass " + longest + "\n"
      "rcpt c@d\nstate pending\nattempts 0\nnext-attempt 1\n"));
  ASSERT_TRUE(edited.value) << edited.error;
  EXPECT_EQ(edited.value->message_class, longest);

  // Not a class name: left out rather than written as a line that would not read back.
  entry.message_class = "not a name";
  const auto skipped = decode_state(encode_state(entry));
  ASSERT_TRUE(skipped.value) << skipped.error;
  EXPECT_EQ(skipped.value->message_class, "");
}

TEST(state_file, message_checksum_covers_the_trace_and_the_message_as_one) {
  EXPECT_EQ(message_checksum("Received: x\r\n", "body\r\n"),
            message_checksum("Received: x\r\nbody\r\n", {}));
  EXPECT_NE(message_checksum("a", "b"), message_checksum("b", "a"));
  EXPECT_EQ(message_checksum({}, {}), 0xcbf29ce484222325ULL);  // FNV-1a's offset basis
  const queued_message plain = simple_entry();
  EXPECT_EQ(encode_state(plain).find("message-sum"), std::string::npos) << "optional";
  EXPECT_FALSE(decode_state(encode_state(plain)).value->message_sum);
}

TEST(state_file, every_truncation_is_refused) {
  const std::string text = encode_state(full_entry());
  for (std::size_t n = 0; n < text.size(); ++n) {
    const auto decoded = decode_state(std::string_view(text).substr(0, n));
    EXPECT_FALSE(decoded.value) << "cut at " << n;
    EXPECT_FALSE(decoded.error.empty());
  }
}

TEST(state_file, every_flipped_bit_is_refused) {
  const std::string text = encode_state(full_entry());
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = text;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      EXPECT_FALSE(decode_state(damaged).value) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(state_file, well_sealed_but_wrong_content_is_refused_with_the_line) {
  const std::string head =
      "mailsim-queue-state 1\nid 018bcfe568000000deadbeef\nqueued-at 1\nsize 2\nfrom a@b\n"
      "esmtp 1\ntls 0\nbody 7bit\nsmtputf8 0\nret unspecified\n";
  const std::string rcpt = "rcpt c@d\nstate pending\nattempts 0\nnext-attempt 1\n";
  ASSERT_TRUE(decode_state(seal(head + rcpt)).value) << decode_state(seal(head + rcpt)).error;
  const std::pair<std::string, std::string> cases[] = {
      {"mailsim-queue-state 2\n", "unsupported state file version \"2\""},
      {"something else\n", "not a mailsim queue state file"},
      {head, "no recipient"},
      {head + "colour blue\n" + rcpt, "line 11: unknown field \"colour\""},
      {head + rcpt + "colour blue\n", "line 15: unknown recipient field \"colour\""},
      {head + "size 3\n" + rcpt, "line 11: \"size\" given twice"},
      {head + rcpt + "state failed\n", "line 15: \"state\" given twice"},
      {head + "rcpt c@d\nattempts 0\nnext-attempt 1\n", "recipient 1 lacks \"state\""},
      {head + "rcpt c@d\nstate gone\n", "line 12: bad value for \"state\""},
      {head + "rcpt c-at-d\n", "line 11: bad value for \"rcpt\""},
      {head + "envid a%4\n" + rcpt, "line 11: bad value for \"envid\""},
      {head + "declared-size -1\n" + rcpt, "bad value for \"declared-size\""},
      {head + "declared-size 99999999999999999999\n" + rcpt, "bad value for \"declared-size\""},
      {head + rcpt + "reply-line hi\n", "\"reply-line\" before \"reply-code\""},
      {head + rcpt + "reply-code 42\n", "bad value for \"reply-code\""},
      {head + rcpt + "notify success,success\n", "bad value for \"notify\""},
      {head + rcpt + "notify delay,\n", "bad value for \"notify\""},
      {head + rcpt + "dsn-sent yes\n", "bad value for \"dsn-sent\""},
      {"mailsim-queue-state 1\nid x\n" + rcpt, "missing field \"queued-at\""},
      {head + "class bulk\nclass bulk\n" + rcpt, "line 12: \"class\" given twice"},
      {head + "class two words\n" + rcpt, "line 11: bad value for \"class\""},
      {head + "class \n" + rcpt, "line 11: bad value for \"class\""},
      {head + "class b%41d\n" + rcpt, "line 11: bad value for \"class\""},
      {head + "class " + std::string(65, 'a') + "\n" + rcpt, "line 11: bad value for \"class\""},
      {head + rcpt + "class bulk\n", "line 15: unknown recipient field \"class\""},
      {head + "message-sum 00f0e1d2c3b4a59\n" + rcpt, "line 11: bad value for \"message-sum\""},
      {head + "message-sum 00F0E1D2C3B4A596\n" + rcpt, "line 11: bad value for \"message-sum\""},
      {head + "message-sum 00f0e1d2c3b4a59g\n" + rcpt, "line 11: bad value for \"message-sum\""},
      {head + "message-sum 0000000000000000\nmessage-sum 0000000000000000\n" + rcpt,
       "line 12: \"message-sum\" given twice"},
  };
  for (const auto& [body, expected] : cases) {
    const auto decoded = decode_state(seal(body));
    EXPECT_FALSE(decoded.value) << body;
    EXPECT_NE(decoded.error.find(expected), std::string::npos) << body << "→ " << decoded.error;
  }
}

TEST(state_file, a_hand_edited_file_with_fields_in_another_order_reads) {
  const std::string body =
      "mailsim-queue-state 1\nret full\nsmtputf8 0\nbody 8bitmime\ntls 1\nesmtp 0\n"
      "from <>\nsize 10\nqueued-at 5\nid 018bcfe568000000deadbeef\n"
      "rcpt c@d\nnext-attempt 9\nattempts 2\nstate pending\nreply-code 451\n"
      "reply-line try later\nreply-enhanced 4.7.1\n";
  const auto decoded = decode_state(seal(body));
  ASSERT_TRUE(decoded.value) << decoded.error;
  EXPECT_EQ(decoded.value->envelope.ret, smtp::dsn_ret::full);
  EXPECT_EQ(decoded.value->recipients.at(0).status.attempts, 2u);
  EXPECT_EQ(decoded.value->recipients.at(0).status.reply->enhanced, "4.7.1");
}

}  // namespace
}  // namespace mailsim::queue
