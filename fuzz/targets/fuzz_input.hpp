// Shared by the fuzz targets: the input as a cursor that hands out header bytes (options,
// split points) and then the rest as the stream. Header bytes past the end read as 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mailsim::fuzz {

class input {
 public:
  input(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// Splits a stream into pieces whose lengths (1..max_piece) follow a small LCG seeded by
// `seed`, so one header byte chooses many split points. With `lines`, every piece is one
// line instead (up to and including LF): a peer that waits for each answer.
class splitter {
 public:
  splitter(std::string_view stream, std::uint8_t seed, bool lines = false)
      : stream_(stream), state_(seed), max_piece_(seed % 2 == 0 ? 7u : 61u), lines_(lines) {}

  bool done() const { return stream_.empty(); }
  std::string_view next() {
    state_ = state_ * 1103515245u + 12345u;
    std::size_t n = 1 + (state_ >> 16) % max_piece_;
    if (lines_) n = stream_.find('\n') == std::string_view::npos ? stream_.size()
                                                                 : stream_.find('\n') + 1;
    if (n > stream_.size()) n = stream_.size();
    const std::string_view piece = stream_.substr(0, n);
    stream_.remove_prefix(n);
    return piece;
  }

 private:
  std::string_view stream_;
  std::uint32_t state_;
  std::uint32_t max_piece_;
  bool lines_;
};

}  // namespace mailsim::fuzz
