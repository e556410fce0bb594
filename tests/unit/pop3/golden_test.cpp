// Golden transcripts: tests/golden/pop3/*.ref hold a conversation, "C: " lines from the
// client and "S: " lines from the server. The test replays the client lines one at a time
// against alice's sample maildrop and compares the whole regenerated transcript with the
// file. "# options: ..." lines choose session options (tls_available, no_plaintext) and
// limits given as name=value (line_bytes_max, errors_max, auth_failures_max).
// MAILSIM_REGENERATE=1 rewrites the files from what the server says now;
// MAILSIM_REGENERATE_ONLY=<text> limits that to files whose name holds it.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/golden.hpp"
#include "tests/unit/pop3/session_harness.hpp"

namespace mailsim::pop3::test {
namespace {

using mailsim::test::golden::append_server_lines;
using mailsim::test::golden::option_value;
using mailsim::test::golden::split_lines;

void apply_options(const std::string& line, harness_config& config) {
  if (line.rfind("# options:", 0) != 0) return;
  if (line.find("tls_available") != std::string::npos) config.opts.tls_available = true;
  if (line.find("no_plaintext") != std::string::npos) config.opts.allow_plaintext_auth = false;
  if (auto v = option_value(line, "line_bytes_max")) config.lim.line_bytes_max = *v;
  if (auto v = option_value(line, "errors_max")) config.lim.errors_max = *v;
  if (auto v = option_value(line, "auth_failures_max")) config.lim.auth_failures_max = *v;
}

std::string replay(const std::vector<std::string>& file_lines) {
  harness_config config;
  std::string transcript;
  std::vector<std::string> client;
  for (const std::string& line : file_lines) {
    if (line.rfind("#", 0) == 0) {
      transcript += line + "\n";
      apply_options(line, config);
    } else if (line.rfind("C: ", 0) == 0) {
      client.push_back(line.substr(3));
    }
  }
  fixture f;
  session s(config.opts, config.lim, f.make_deps());
  session_run run;
  s.start();
  drain(s, run);
  append_server_lines(transcript, std::exchange(run.output, {}));
  for (const std::string& line : client) {
    transcript += "C: " + line + "\n";
    if (run.closed) continue;  // shown, but the server is gone
    s.feed(line + "\r\n");
    drain(s, run);
    append_server_lines(transcript, std::exchange(run.output, {}));
  }
  return transcript;
}

TEST(pop3_golden, TranscriptsMatch) {
  mailsim::test::golden::check_transcripts(MAILSIM_POP3_GOLDEN_DIR, replay);
}

}  // namespace
}  // namespace mailsim::pop3::test
