// mailsim-server: the reference SMTP server. See README.md and docs/configuration.md.
#include <cstdio>
#include <cstring>

#include "reference-server/server/commands.hpp"

namespace {

constexpr const char* usage =
    "usage: mailsim-server --config FILE [--check-config]\n"
    "       mailsim-server hash-password [--scheme pbkdf2-sha256|scrypt] < password\n"
    "       mailsim-server dkim keygen --domain D --selector S [--algorithm A] [--bits N]"
    " --out FILE\n"
    "       mailsim-server dkim sign --key FILE --domain D --selector S [options] < message\n"
    "       mailsim-server dkim verify [--zone FILE] [--dns IP@PORT] < message\n"
    "       mailsim-server --version | --help\n";

}  // namespace

int main(int argc, char** argv) {
  mailsim::server::args a(argv + 1, argv + argc);
  if (!a.empty() && (a[0] == "--help" || a[0] == "-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!a.empty() && a[0] == "--version") {
    std::puts("mailsim-server 0.1.0");
    return 0;
  }
  if (!a.empty() && a[0] == "dkim") {
    return mailsim::server::cmd_dkim({a.begin() + 1, a.end()});
  }
  if (!a.empty() && a[0] == "hash-password") {
    return mailsim::server::cmd_hash_password({a.begin() + 1, a.end()});
  }
  if (a.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  return mailsim::server::cmd_serve(a);
}
