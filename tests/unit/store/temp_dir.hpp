// Test helper: a fresh directory under /tmp for one test, removed with everything in it
// when the test ends; and small readers for what the store wrote.
#pragma once

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mailsim::store::test {

class temp_dir {
 public:
  explicit temp_dir(const std::string& base = "/tmp") {
    std::string pattern = base + "/mailsim-store-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// The names in a directory, sorted; empty when it does not exist.
inline std::vector<std::string> names_in(const std::string& path) {
  std::vector<std::string> out;
  std::error_code error;
  for (const auto& item : std::filesystem::directory_iterator(path, error)) {
    out.push_back(item.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mailsim::store::test
