// mailsim-server spf check: the SPF verdict (RFC 7208) for one client, sender and HELO name,
// on reference-server/auth/spf.hpp — what a postmaster runs when mail bounces with an SPF
// reason.
//
//   mailsim-server spf check --ip IP --mail-from ADDR --helo NAME [--receiver NAME]
//                            [--helo-only] [--zone FILE] [--dns IP@PORT] [--config FILE]
//
// --mail-from takes the reverse-path with or without <>; "" or "<>" is the null reverse-path,
// for which the HELO name is checked as postmaster@NAME (§2.4). --helo-only checks the HELO
// identity alone (§2.3). DNS: net::unbound_resolver as cli_support.hpp describes.
//
// Output: the result word on the first line (pass, fail, softfail, neutral, none,
// temperror, permerror), then "key: value" lines — identity and domain checked, the
// matching mechanism, the lookups used against their limits, the explanation (fail), the
// reason (permerror, temperror, none) — then the Received-SPF field (§9.1) and the RFC 8601
// resinfo. Exit codes: 0 pass, 1 any other result, 2 usage or DNS setup errors.
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "reference-server/auth/spf.hpp"
#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/server/cli_support.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server {
namespace {

constexpr const char* usage =
    "usage: mailsim-server spf check --ip IP --mail-from ADDR --helo NAME [--receiver NAME]\n"
    "                                [--helo-only] [--zone FILE] [--dns IP@PORT] "
    "[--config FILE]\n"
    "  --mail-from ''  or '<>' is the null reverse-path: postmaster@NAME is checked\n"
    "  --helo-only     check the HELO identity alone (RFC 7208 §2.3)\n"
    "  exit code: 0 pass, 1 any other result, 2 usage error\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server spf: %s\n%s", message.c_str(), usage);
  return 2;
}

int input_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server spf: %s\n", message.c_str());
  return 2;
}

// "<a@b>" → "a@b"; "<>" → "".
std::string reverse_path(const std::string& text) {
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
    return text.substr(1, text.size() - 2);
  return text;
}

// The request from the options; an error text for a bad one.
std::string request_from(const cli::options& o, auth::spf_request& request) {
  const std::string* ip = o.get("--ip");
  const std::string* helo = o.get("--helo");
  const std::string* mail_from = o.get("--mail-from");
  if (!ip || !helo) return "check needs --ip and --helo";
  if (!mail_from && o.flags.count("--helo-only") == 0)
    return "check needs --mail-from (or --helo-only)";
  std::optional<core::ip_address> address = core::parse_ip(*ip);
  if (!address) return "--ip must be an IPv4 or IPv6 address";
  request.ip = *address;
  request.helo = *helo;
  if (mail_from) request.mail_from = reverse_path(*mail_from);
  if (const std::string* receiver = o.get("--receiver")) request.receiver = *receiver;
  request.now = net::system_clock().now();
  return {};
}

void print_outcome(const auth::spf_outcome& out, const auth::spf_request& request,
                   const auth::spf_options& limits) {
  std::printf("%s\n", auth::to_string(out.result));
  std::printf("identity: %s\n", out.identity.c_str());
  std::printf("sender: %s\n", out.sender.c_str());
  std::printf("domain: %s\n", out.domain.c_str());
  std::printf("client-ip: %s\n", core::to_string(request.ip).c_str());
  std::printf("helo: %s\n", request.helo.c_str());
  if (!out.mechanism.empty()) {
    std::printf("mechanism: %s\n", out.mechanism.c_str());
  } else if (out.result == auth::spf_result::neutral) {
    std::printf("mechanism: (none matched: the default result)\n");
  }
  std::printf("dns-lookups: %u of %u\n", out.dns_lookups, limits.dns_mechanisms_max);
  std::printf("void-lookups: %u of %u\n", out.void_lookups, limits.void_lookups_max);
  if (!out.explanation.empty()) std::printf("explanation: %s\n", out.explanation.c_str());
  if (!out.problem.empty()) std::printf("problem: %s\n", out.problem.c_str());
  std::printf("%s\n", auth::received_spf(out, request).c_str());
  std::printf("authres: %s\n", auth::authres_text(out).c_str());
}

int check(const args& a) {
  std::set<std::string> names = cli::dns_option_names();
  names.insert({"--ip", "--mail-from", "--helo", "--receiver"});
  cli::options o = cli::parse_options(a, names, {"--helo-only"});
  if (!o.error.empty()) return usage_error(o.error);
  auth::spf_request request;
  if (std::string e = request_from(o, request); !e.empty()) return usage_error(e);
  std::string dns_error;
  std::optional<net::unbound_options> dns_options = cli::dns_options_from(o, dns_error);
  if (!dns_options) return input_error(dns_error);
  boost::asio::io_context io;
  std::unique_ptr<net::unbound_resolver> dns =
      net::unbound_resolver::create(io, *dns_options, dns_error);
  if (!dns) return input_error(dns_error);

  const auth::spf_options limits;
  auth::spf_checker checker(*dns, limits);
  std::optional<auth::spf_outcome> out;
  auto done = [&out](auth::spf_outcome r) { out = std::move(r); };
  const bool helo_only = o.flags.count("--helo-only") != 0;
  out = helo_only ? checker.check_helo(request, done) : checker.check_mail_from(request, done);
  if (!out) io.run();  // returns once every lookup has been answered (or has timed out)
  if (!out) return input_error("the DNS lookups did not finish");
  print_outcome(*out, request, limits);
  return out->result == auth::spf_result::pass ? 0 : 1;
}

}  // namespace

int cmd_spf(const args& a) {
  if (a.empty()) return usage_error("check?");
  if (a[0] == "--help" || a[0] == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  if (a[0] != "check") return usage_error("unknown spf command '" + a[0] + "'");
  return check(args(a.begin() + 1, a.end()));
}

}  // namespace mailsim::server
