// Golden transcripts: tests/golden/imap/*.ref hold a conversation, "C: " lines from the
// client and "S: " lines from the server. The test replays the client lines one at a time
// (each with CRLF) against the sample store and compares the whole regenerated transcript
// with the file. "# options: ..." lines choose session options (no_plaintext, no_tls) and
// limits given as name=value (literal_bytes_max, nonsync_literal_bytes_max, line_bytes_max,
// errors_max, auth_failures_max). MAILSIM_REGENERATE=1 rewrites the files from what the
// server says now; MAILSIM_REGENERATE_ONLY=<text> limits that to files whose name holds it.
// "#> " lines between client lines (deliver, expunge, wait) are described at run_directive().
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/golden.hpp"
#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
namespace {

using mailsim::test::golden::append_server_lines;
using mailsim::test::golden::option_value;
using mailsim::test::golden::split_lines;

void apply_options(const std::string& line, harness_config& config) {
  if (line.rfind("# options:", 0) != 0) return;
  if (line.find("no_plaintext") != std::string::npos) config.opts.allow_plaintext_auth = false;
  if (line.find("no_tls") != std::string::npos) config.opts.tls_available = false;
  reader_limits& reader = config.lim.reader;
  if (auto v = option_value(line, "literal_bytes_max")) reader.literal_bytes_max = *v;
  if (auto v = option_value(line, "nonsync_literal_bytes_max")) {
    reader.nonsync_literal_bytes_max = *v;
  }
  if (auto v = option_value(line, "line_bytes_max")) reader.line_bytes_max = *v;
  if (auto v = option_value(line, "errors_max")) config.lim.errors_max = *v;
  if (auto v = option_value(line, "auth_failures_max")) config.lim.auth_failures_max = *v;
}

// "#> " lines between client lines are things that happen outside the session, in place:
//   #> deliver <mailbox>     another program delivers the plain sample message to alice
//   #> expunge <mailbox> <uid>  another program removes one of alice's messages
//   #> wait <ms>             the clock moves on and the driver calls on_timeout()
// so that IDLE and NOOP can be shown reporting changes they did not cause.
void run_directive(const std::string& line, fixture& f, client& c, std::string& transcript) {
  std::istringstream words(line.substr(3));
  std::string verb;
  std::string mailbox;
  words >> verb;
  if (verb == "deliver" && words >> mailbox) {
    f.store.deliver(std::string(alice), mailbox, plain_message());
    return;
  }
  std::uint32_t uid = 0;
  if (verb == "expunge" && words >> mailbox >> uid) {
    EXPECT_TRUE(expunge_outside(f, mailbox, uid)) << line;
    return;
  }
  std::int64_t wait_ms = 0;
  if (verb == "wait" && words >> wait_ms) {
    f.clock.advance(core::duration_ms(wait_ms));
    if (c.closed()) return;
    c.raw().on_timeout(f.clock.now());
    append_server_lines(transcript, c.pump());
    return;
  }
  ADD_FAILURE() << "unknown directive: " << line;
}

std::string replay(const std::vector<std::string>& file_lines) {
  harness_config config;
  std::string transcript;
  std::vector<std::string> steps;  // client lines ("C: ...") and directives ("#> ...")
  for (const std::string& line : file_lines) {
    if (line.rfind("#> ", 0) == 0 || line.rfind("C: ", 0) == 0) {
      steps.push_back(line);
    } else if (line.rfind("#", 0) == 0) {
      transcript += line + "\n";
      apply_options(line, config);
    }
  }
  fixture f;
  client c(f, config);
  append_server_lines(transcript, c.greeting());
  for (const std::string& step : steps) {
    transcript += step + "\n";
    if (step.rfind("#> ", 0) == 0) {
      run_directive(step, f, c, transcript);
    } else if (!c.closed()) {  // a line after the close is shown, but the server is gone
      append_server_lines(transcript, c.send(step.substr(3) + "\r\n"));
    }
  }
  return transcript;
}

TEST(imap_session_golden, TranscriptsMatch) {
  mailsim::test::golden::check_transcripts(MAILSIM_IMAP_GOLDEN_DIR, replay);
}

}  // namespace
}  // namespace mailsim::imap::test
