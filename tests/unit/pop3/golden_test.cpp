// Golden transcripts: tests/golden/pop3/*.ref hold a conversation, "C: " lines from the
// client and "S: " lines from the server. The test replays the client lines one at a time
// against alice's sample maildrop and compares the whole regenerated transcript with the
// file. "# options: ..." lines choose session options (tls_available, no_plaintext) and
// limits given as name=value (line_bytes_max, errors_max, auth_failures_max).
// MAILSIM_REGENERATE=1 rewrites the files from what the server says now;
// MAILSIM_REGENERATE_ONLY=<text> limits that to files whose name holds it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/pop3/session_harness.hpp"

namespace mailsim::pop3::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    std::size_t lf = text.find('\n');
    out.emplace_back(text.substr(0, lf));
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
  }
  return out;
}

// The server's bytes as "S: " lines, one per CRLF-terminated line.
void append_server_lines(std::string& transcript, std::string_view output) {
  while (!output.empty()) {
    std::size_t end = output.find("\r\n");
    std::size_t take = end == std::string_view::npos ? output.size() : end + 2;
    std::string_view line = output.substr(0, end);
    transcript += "S: " + mailsim::test::printable(line) + "\n";
    output.remove_prefix(take);
  }
}

// The number after "name=" on an options line, if the line has one.
std::optional<std::size_t> option_value(const std::string& line, std::string_view name) {
  const std::string key = " " + std::string(name) + "=";
  std::size_t at = line.find(key);
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(line.substr(at + key.size())));
}

void apply_options(const std::string& line, harness_config& config) {
  if (line.rfind("# options:", 0) != 0) return;
  if (line.find("tls_available") != std::string::npos) config.opts.tls_available = true;
  if (line.find("no_plaintext") != std::string::npos) config.opts.allow_plaintext_auth = false;
  if (auto v = option_value(line, "line_bytes_max")) config.lim.line_bytes_max = *v;
  if (auto v = option_value(line, "errors_max")) config.lim.errors_max = *v;
  if (auto v = option_value(line, "auth_failures_max")) config.lim.auth_failures_max = *v;
}

bool should_regenerate(const fs::path& path) {
  const char* regenerate = std::getenv("MAILSIM_REGENERATE");
  if (regenerate == nullptr || std::string(regenerate) != "1") return false;
  const char* only = std::getenv("MAILSIM_REGENERATE_ONLY");
  return only == nullptr || path.filename().string().find(only) != std::string::npos;
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
  const fs::path dir = MAILSIM_POP3_GOLDEN_DIR;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".ref") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no transcripts in " << dir;
  for (const fs::path& path : files) {
    std::string expected = read_file(path);
    std::string actual = replay(split_lines(expected));
    if (should_regenerate(path)) {
      std::ofstream(path, std::ios::binary) << actual;
      continue;
    }
    EXPECT_EQ(actual, expected) << path << " differs (MAILSIM_REGENERATE=1 rewrites it)";
  }
}

}  // namespace
}  // namespace mailsim::pop3::test
