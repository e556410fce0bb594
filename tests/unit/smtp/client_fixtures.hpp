// Fixtures shared by the client session tests (client_session_test.cpp drives the client
// against the real server session; client_script_test.cpp feeds it hand-written server
// transcripts and a manual clock): envelopes from address text, and a queued job.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "reference-server/smtp/client_session.hpp"

namespace mailsim::smtp::client_test {

inline path address(std::string_view text) {
  path_parse p = parse_path(text, {true, true, false, false});
  EXPECT_TRUE(p.value.has_value()) << text;
  return p.value.value_or(path{});
}

inline envelope make_envelope(std::string_view from, const std::vector<std::string_view>& to) {
  envelope env;
  env.reverse_path = address(from);
  for (auto t : to) env.recipients.push_back({address(t), {}, std::nullopt});
  return env;
}

// A transaction the test starts when the client is ready for one.
struct job {
  envelope env;
  std::string message;
};

}  // namespace mailsim::smtp::client_test
