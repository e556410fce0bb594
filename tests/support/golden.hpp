// Test support: golden transcripts (tests/golden/<protocol>/*.ref) shared by the POP3 and
// IMAP session tests. A transcript holds "C: " lines from the client, "S: " lines from the
// server and "#" comment/option lines; a test replays the client side and compares the
// whole regenerated transcript with the file. MAILSIM_REGENERATE=1 rewrites the files from
// what the server says now; MAILSIM_REGENERATE_ONLY=<text> limits that to files whose name
// holds the text.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/byte_split.hpp"

namespace mailsim::test::golden {

inline std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    std::size_t lf = text.find('\n');
    out.emplace_back(text.substr(0, lf));
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
  }
  return out;
}

// The server's bytes as "S: " lines, one per CRLF-terminated line.
inline void append_server_lines(std::string& transcript, std::string_view output) {
  while (!output.empty()) {
    std::size_t end = output.find("\r\n");
    std::size_t take = end == std::string_view::npos ? output.size() : end + 2;
    transcript += "S: " + printable(output.substr(0, end)) + "\n";
    output.remove_prefix(take);
  }
}

// The number after " name=" on an options line, if the line has one.
inline std::optional<std::size_t> option_value(const std::string& line, std::string_view name) {
  const std::string key = " " + std::string(name) + "=";
  std::size_t at = line.find(key);
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(line.substr(at + key.size())));
}

inline bool should_regenerate(const std::filesystem::path& path) {
  const char* regenerate = std::getenv("MAILSIM_REGENERATE");
  if (regenerate == nullptr || std::string(regenerate) != "1") return false;
  const char* only = std::getenv("MAILSIM_REGENERATE_ONLY");
  return only == nullptr || path.filename().string().find(only) != std::string::npos;
}

// Replays every .ref file of `dir` (in name order) with `replay` (the file's lines in, the
// regenerated transcript out) and expects each to come back unchanged.
inline void check_transcripts(
    const std::filesystem::path& dir,
    const std::function<std::string(const std::vector<std::string>&)>& replay) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".ref") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no transcripts in " << dir;
  for (const std::filesystem::path& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string expected = text.str();
    const std::string actual = replay(split_lines(expected));
    if (should_regenerate(path)) {
      std::ofstream(path, std::ios::binary) << actual;
      continue;
    }
    EXPECT_EQ(actual, expected) << path << " differs (MAILSIM_REGENERATE=1 rewrites it)";
  }
}

}  // namespace mailsim::test::golden
