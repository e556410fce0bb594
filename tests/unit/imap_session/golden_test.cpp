// Golden transcripts: tests/golden/imap/*.ref hold a conversation, "C: " lines from the
// client and "S: " lines from the server. The test replays the client lines one at a time
// (each with CRLF) against the sample store and compares the whole regenerated transcript
// with the file. "# options: ..." lines choose session options (no_plaintext, no_tls).
// MAILSIM_REGENERATE=1 rewrites the files from what the server says now.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/imap_session/session_harness.hpp"

namespace mailsim::imap::test {
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
    transcript += "S: " + mailsim::test::printable(output.substr(0, end)) + "\n";
    output.remove_prefix(take);
  }
}

std::string replay(const std::vector<std::string>& file_lines) {
  harness_config config;
  std::string transcript;
  std::vector<std::string> client_lines;
  for (const std::string& line : file_lines) {
    if (line.rfind("#", 0) == 0) {
      transcript += line + "\n";
      if (line.find("no_plaintext") != std::string::npos) config.opts.allow_plaintext_auth = false;
      if (line.find("no_tls") != std::string::npos) config.opts.tls_available = false;
    } else if (line.rfind("C: ", 0) == 0) {
      client_lines.push_back(line.substr(3));
    }
  }
  fixture f;
  client c(f, config);
  append_server_lines(transcript, c.greeting());
  for (const std::string& line : client_lines) {
    transcript += "C: " + line + "\n";
    if (c.closed()) continue;  // shown, but the server is gone
    append_server_lines(transcript, c.send(line + "\r\n"));
  }
  return transcript;
}

TEST(imap_session_golden, TranscriptsMatch) {
  const fs::path dir = MAILSIM_IMAP_GOLDEN_DIR;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".ref") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no transcripts in " << dir;
  const char* regenerate = std::getenv("MAILSIM_REGENERATE");
  for (const fs::path& path : files) {
    std::string expected = read_file(path);
    std::string actual = replay(split_lines(expected));
    if (regenerate != nullptr && std::string(regenerate) == "1") {
      std::ofstream(path, std::ios::binary) << actual;
      continue;
    }
    EXPECT_EQ(actual, expected) << path << " differs (MAILSIM_REGENERATE=1 rewrites it)";
  }
}

}  // namespace
}  // namespace mailsim::imap::test
