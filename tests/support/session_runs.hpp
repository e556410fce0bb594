// Test helper: runs a sans-IO server session (IMAP, POP3) over input pieces the way a driver
// would, and checks that every way the input can arrive gives the same output.
//
// A session has start(), feed(bytes), feed_eof() and take_output(); a run record has
// `std::string output` and `bool closed`. The caller's drain(session, run) answers the
// session's events until it needs input, adding what it wrote to run.output.
#pragma once

#include <gtest/gtest.h>

#include <string_view>
#include <utility>

#include "tests/support/byte_split.hpp"

namespace mailsim::test {

// Starts `s`, feeds each piece until the run is closed, then end of input when asked.
template <typename Session, typename Run, typename Drain>
void run_pieces(Session& s, Run& run, const pieces& input, bool eof_at_end, Drain drain) {
  s.start();
  drain(s, run);
  for (auto piece : input) {
    if (run.closed) break;
    s.feed(piece);
    drain(s, run);
  }
  if (eof_at_end && !run.closed) {
    s.feed_eof();
    drain(s, run);
  }
  run.output += s.take_output();
}

// Calls run_one(pieces) for every split of `input` (for_each_split) and checks that each
// run wrote the same bytes as the first; returns the first run.
template <typename RunOne>
auto same_output_every_split(std::string_view input, RunOne run_one) {
  using run_type = decltype(run_one(pieces{}));
  run_type first;
  bool have_first = false;
  for_each_split(input, [&](const pieces& p) {
    run_type r = run_one(p);
    if (!have_first) {
      first = std::move(r);
      have_first = true;
      return;
    }
    EXPECT_EQ(printable(r.output), printable(first.output))
        << "split into " << p.size() << " pieces";
  });
  return first;
}

}  // namespace mailsim::test
