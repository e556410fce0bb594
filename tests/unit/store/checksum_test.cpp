#include "reference-server/store/checksum.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace mailsim::store {
namespace {

std::string sample(std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; ++i) out += static_cast<char>('!' + (i * 7 + i / 13) % 90);
  return out;
}

// File names of existing spools carry these values: they must never change.
TEST(content_checksum, is_fixed_across_builds) {
  EXPECT_EQ(content_checksum(""), content_checksum("", ""));
  const std::uint64_t empty = content_checksum("");
  const std::uint64_t hello = content_checksum("Subject: hi\r\n\r\nHello.\r\n");
  EXPECT_EQ(empty, 0x9090306c6e91ed59ULL) << std::hex << empty;
  EXPECT_EQ(hello, 0x97b7f9d986d51929ULL) << std::hex << hello;
  const std::uint64_t blocks = content_checksum(sample(1000));  // 31 blocks and a tail
  EXPECT_EQ(blocks, 0x9df5c288feb45a92ULL) << std::hex << blocks;
}

// The two parts are one stream, wherever the trace ends and the message begins, across
// every position of the 32-byte blocks and their tails.
TEST(content_checksum, depends_on_the_bytes_not_on_where_they_are_split) {
  const std::string text = sample(200);
  const std::uint64_t whole = content_checksum(text);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(content_checksum(text.substr(0, cut), text.substr(cut)), whole) << cut;
  }
}

// What a crash leaves: a file cut short, blocks of zeros, one byte changed. Each length up
// to a few blocks and each single-byte change gives a value of its own.
TEST(content_checksum, tells_damaged_copies_apart) {
  const std::string text = sample(1024);
  std::set<std::uint64_t> seen;
  for (std::size_t size = 0; size <= 160; ++size)
    seen.insert(content_checksum(text.substr(0, size)));
  EXPECT_EQ(seen.size(), 161u);
  seen.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string changed = text;
    changed[i] ^= 0x01;
    seen.insert(content_checksum(changed));
  }
  EXPECT_EQ(seen.size(), text.size());
  EXPECT_EQ(seen.count(content_checksum(text)), 0u);
  std::string zeroed = text;
  zeroed.replace(512, 512, 512, '\0');
  EXPECT_NE(content_checksum(zeroed), content_checksum(text));
  EXPECT_NE(content_checksum(std::string(1024, '\0')), content_checksum(std::string(1023, '\0')));
}

}  // namespace
}  // namespace mailsim::store
