// The message file's layout: the embedded state after the message, found from the file's
// last line, and never found in a file cut short or of the older layout.
#include "reference-server/queue/message_file.hpp"

#include <gtest/gtest.h>

#include "reference-server/queue/state_file.hpp"

namespace mailsim::queue {
namespace {

queued_message sample(std::string_view message) {
  queued_message m;
  m.id = "018bcfe568000000db018fed";
  m.size_bytes = message.size();
  m.message_sum = message_checksum(message, {});
  m.envelope.reverse_path.box.local_part = "alice";
  m.envelope.reverse_path.box.domain = "example.com";
  queued_recipient r;
  r.rcpt.address.box.local_part = "bob";
  r.rcpt.address.box.domain = "example.org";
  m.recipients.push_back(r);
  return m;
}

constexpr std::string_view message = "Subject: hi\r\n\r\nHello.\r\n";

TEST(MessageFile, TheEmbeddedStateIsFoundAndDecodesToWhatWasWritten) {
  const queued_message m = sample(message);
  const std::string file = std::string(message) + embedded_state_tail(m);
  const auto found = find_embedded_state(file);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->message_bytes, message.size());
  EXPECT_EQ(found->state, encode_state(m));
  const auto decoded = decode_state(found->state);
  ASSERT_TRUE(decoded.value) << decoded.error;
  EXPECT_EQ(decoded.value->id, m.id);
  EXPECT_EQ(decoded.value->message_sum, m.message_sum);
}

TEST(MessageFile, AnEmptyMessageStillHasItsState) {
  const queued_message m = sample("");
  const auto found = find_embedded_state(embedded_state_tail(m));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->message_bytes, 0u);
}

TEST(MessageFile, NoPrefixOfAFileAnnouncesAState) {
  const std::string file = std::string(message) + embedded_state_tail(sample(message));
  for (std::size_t cut = 0; cut < file.size(); ++cut) {
    EXPECT_FALSE(find_embedded_state(std::string_view(file).substr(0, cut))) << "cut at " << cut;
  }
}

TEST(MessageFile, MalformedLastLinesAnnounceNothing) {
  const std::string state = encode_state(sample(message));
  const std::string before = std::string(message) + state;
  const auto with_line = [&](std::string_view line) { return before + std::string(line); };
  EXPECT_TRUE(find_embedded_state(with_line("mailsim-embedded-state " +
                                            std::to_string(state.size()) + "\n")));
  for (const std::string_view bad :
       {"mailsim-embedded-state \n", "mailsim-embedded-state 0356\n",
        "mailsim-embedded-state 35x\n", "mailsim-embedded-state -1\n",
        "mailsim-embedded-state 99999999999999999999\n",
        "mailsim-embedded-state 999999\n",  // more bytes than the file holds
        "Mailsim-embedded-state 356\n", "mailsim-embedded-state 356"}) {
    EXPECT_FALSE(find_embedded_state(with_line(bad))) << bad;
  }
  // A message of the older layout with no state after it, and one with no LF at all.
  EXPECT_FALSE(find_embedded_state(message));
  EXPECT_FALSE(find_embedded_state(std::string(100'000, 'x')));
  // The line must follow an LF: never a file that is that line alone.
  EXPECT_FALSE(find_embedded_state("mailsim-embedded-state 0\n"));
}

}  // namespace
}  // namespace mailsim::queue
