// mailsim-server hash-password: reads a password from standard input (one line) and prints
// the hash to put in the config's users[].password_hash. Plaintext never goes in a config.
#include <cstdio>
#include <iostream>
#include <string>

#include "reference-server/net/system_world.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server {

int cmd_hash_password(const args& a) {
  sasl::hash_scheme scheme = sasl::hash_scheme::pbkdf2_sha256;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == "--scheme" && i + 1 < a.size() && a[i + 1] == "scrypt") {
      scheme = sasl::hash_scheme::scrypt;
      ++i;
    } else if (a[i] == "--scheme" && i + 1 < a.size() && a[i + 1] == "pbkdf2-sha256") {
      ++i;
    } else {
      std::fprintf(stderr, "mailsim-server hash-password: unknown argument '%s'\n", a[i].c_str());
      return 2;
    }
  }
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    std::fputs("mailsim-server hash-password: give the password on standard input\n", stderr);
    return 2;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  net::system_random random;
  std::printf("%s\n", sasl::hash_password(password, scheme, random).c_str());
  return 0;
}

}  // namespace mailsim::server
