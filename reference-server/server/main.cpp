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
    "       mailsim-server dkim verify [--zone FILE] [--dns IP@PORT] [--config FILE] < message\n"
    "       mailsim-server spf check --ip IP --mail-from ADDR|--helo-only --helo NAME"
    " [--receiver NAME] [DNS options]\n"
    "       mailsim-server dmarc check MESSAGE_FILE --ip IP --mail-from ADDR --helo NAME"
    " [DNS options]\n"
    "       mailsim-server dnsbl check IP --zone ZONE [DNS options]\n"
    "       mailsim-server arc verify|seal [options] < message\n"
    "       mailsim-server --version | --help\n"
    "DNS options: --dns IP@PORT, --config FILE (its dns: section)\n";

struct subcommand {
  const char* name;
  int (*run)(const mailsim::server::args&);
};

constexpr subcommand subcommands[] = {
    {"hash-password", mailsim::server::cmd_hash_password},
    {"dkim", mailsim::server::cmd_dkim},
    {"spf", mailsim::server::cmd_spf},
    {"dmarc", mailsim::server::cmd_dmarc},
    {"dnsbl", mailsim::server::cmd_dnsbl},
    {"arc", mailsim::server::cmd_arc},
};

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
  for (const subcommand& c : subcommands) {
    if (!a.empty() && a[0] == c.name) return c.run({a.begin() + 1, a.end()});
  }
  if (a.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  return mailsim::server::cmd_serve(a);
}
