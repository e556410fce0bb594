// mailsim-server dmarc check: the DMARC verdict (RFC 7489) for one message as a receiver
// would reach it — SPF for the MAIL FROM identity (RFC 7208), every DKIM signature (RFC
// 6376), then policy discovery, alignment and the disposition — on reference-server/auth.
//
//   mailsim-server dmarc check MESSAGE_FILE --ip IP --mail-from ADDR --helo NAME
//                              [--authserv-id NAME] [--psl FILE] [--icann-only]
//                              [--zone FILE] [--dns IP@PORT] [--config FILE]
//
// The message file may have LF line ends; they are read as CRLF (what SMTP carries and what
// DKIM signatures cover). --mail-from takes the reverse-path with or without <>; "" or "<>"
// is the null reverse-path, for which SPF checks the HELO name (RFC 7208 §2.4) and DMARC
// aligns that name. --psl names the Public Suffix List (default: Debian's
// /usr/share/publicsuffix/public_suffix_list.dat; when that is missing, only the implicit
// "*" rule applies and a warning says so); --icann-only leaves its PRIVATE section out.
// --authserv-id defaults to the host name. DNS: net::unbound_resolver as cli_support.hpp
// describes.
//
// Output: the DMARC result word on the first line (pass, fail, none, temperror, permerror),
// then "key: value" lines — header.from, the organizational and policy domains, the record,
// the policy that applies (p= or sp=, with pct), the disposition, the reason (none and
// errors), the SPF result with its domain and whether it aligns, each DKIM result with d=
// and whether it aligns — and last the Authentication-Results field (RFC 8601) a receiver
// would add. Exit codes: 0 pass, 1 any other result, 2 usage or setup errors.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/author.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/auth/dmarc.hpp"
#include "reference-server/auth/public_suffix.hpp"
#include "reference-server/auth/spf.hpp"
#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/server/cli_support.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server {
namespace {

constexpr const char* default_psl = "/usr/share/publicsuffix/public_suffix_list.dat";

constexpr const char* usage =
    "usage: mailsim-server dmarc check MESSAGE_FILE --ip IP --mail-from ADDR --helo NAME\n"
    "                                  [--authserv-id NAME] [--psl FILE] [--icann-only]\n"
    "                                  [--zone FILE] [--dns IP@PORT] [--config FILE]\n"
    "  --mail-from ''  or '<>' is the null reverse-path: SPF checks the HELO name\n"
    "  --psl FILE      the Public Suffix List (default /usr/share/publicsuffix/...)\n"
    "  --icann-only    leave the list's PRIVATE section out\n"
    "  exit code: 0 pass, 1 any other result, 2 usage error\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server dmarc: %s\n%s", message.c_str(), usage);
  return 2;
}

int input_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server dmarc: %s\n", message.c_str());
  return 2;
}

std::string reverse_path(const std::string& text) {
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
    return text.substr(1, text.size() - 2);
  return text;
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// The SPF request from the options; an error text for a bad one.
std::string request_from(const cli::options& o, auth::spf_request& request) {
  const std::string* ip = o.get("--ip");
  const std::string* helo = o.get("--helo");
  const std::string* mail_from = o.get("--mail-from");
  if (o.positional.size() != 1) return "check needs MESSAGE_FILE";
  if (!ip || !helo || !mail_from) return "check needs --ip, --mail-from and --helo";
  std::optional<core::ip_address> address = core::parse_ip(*ip);
  if (!address) return "--ip must be an IPv4 or IPv6 address";
  request.ip = *address;
  request.helo = *helo;
  request.mail_from = reverse_path(*mail_from);
  request.now = net::system_clock().now();
  return {};
}

std::optional<auth::public_suffix_list> load_psl(const cli::options& o, std::string& error) {
  auth::psl_options options;
  options.include_private = o.flags.count("--icann-only") == 0;
  const std::string* path = o.get("--psl");
  std::optional<auth::public_suffix_list> list =
      auth::public_suffix_list::load_file(path ? *path : default_psl, error, options);
  if (list || path) return list;
  std::fprintf(stderr,
               "mailsim-server dmarc: warning: %s; only the implicit \"*\" rule "
               "applies\n",
               error.c_str());
  return auth::public_suffix_list();
}

// What SPF and DKIM found, gathered by running both at once on one event loop.
struct evidence {
  std::optional<auth::spf_outcome> spf;
  std::optional<std::vector<auth::dkim_result>> dkim;
};

evidence gather(boost::asio::io_context& io, core::resolver& dns, const auth::spf_request& request,
                const std::string& message) {
  evidence e;
  auth::spf_checker spf(dns);
  e.spf = spf.check_mail_from(request, [&e](auth::spf_outcome out) { e.spf = std::move(out); });
  net::system_clock clock;
  auth::dkim_verifier verifier(dns, clock);
  e.dkim =
      verifier.verify(message, [&e](std::vector<auth::dkim_result> r) { e.dkim = std::move(r); });
  io.run();  // returns once every lookup has been answered (or has timed out)
  return e;
}

// DMARC over what SPF and DKIM found, on the same event loop (run again).
std::optional<auth::dmarc_outcome> evaluate(boost::asio::io_context& io, core::resolver& dns,
                                            const auth::public_suffix_list& psl,
                                            const std::string& message, const evidence& e) {
  auth::dmarc_identifiers ids{auth::author_domain(message).value_or(""), e.spf->domain,
                              auth::to_string(e.spf->result), *e.dkim};
  net::system_random random;
  auth::dmarc_checker checker(dns, psl, random);
  std::optional<auth::dmarc_outcome> out =
      checker.check(std::move(ids), [&out](auth::dmarc_outcome r) { out = std::move(r); });
  io.restart();
  if (!out) io.run();
  return out;
}

std::string aligned_word(bool aligned, auth::dmarc_alignment mode, const char* tag) {
  return std::string(aligned ? "aligned" : "not aligned") + " (" + tag + "=" +
         auth::to_string(mode) + ")";
}

void print_policy(const auth::dmarc_outcome& o) {
  const auth::dmarc_record& r = *o.record;
  std::printf("record: %s\n", o.record_text.c_str());
  std::string applied = o.subdomain_policy
                            ? std::string("sp=") + auth::to_string(*r.subdomain_policy) +
                                  " (a subdomain of the policy domain)"
                            : std::string("p=") + auth::to_string(r.policy);
  if (r.policy_defaulted) applied += " (no valid p=, but rua=: read as p=none)";
  std::printf("policy: %s, pct=%u\n", applied.c_str(), r.percent);
  std::string disposition = auth::to_string(o.disposition);
  if (o.sampled_out)
    disposition += std::string(" (left out by pct=") + std::to_string(r.percent) + ": " +
                   auth::to_string(o.requested) + " weakened)";
  std::printf("disposition: %s\n", disposition.c_str());
}

void print_outcome(const auth::dmarc_outcome& o) {
  std::printf("%s\n", auth::to_string(o.status));
  std::printf("header.from: %s\n", o.header_from.empty() ? "(none)" : o.header_from.c_str());
  if (!o.organizational_domain.empty())
    std::printf("organizational-domain: %s\n", o.organizational_domain.c_str());
  if (!o.policy_domain.empty())
    std::printf("policy-domain: %s (_dmarc.%s)\n", o.policy_domain.c_str(),
                o.policy_domain.c_str());
  if (o.record)
    print_policy(o);
  else if (!o.record_text.empty())
    std::printf("record: %s\n", o.record_text.c_str());
  if (!o.record) std::printf("disposition: none\n");
  if (!o.reason.empty()) std::printf("reason: %s\n", o.reason.c_str());
  const auth::dmarc_alignment aspf =
      o.record ? o.record->spf_alignment : auth::dmarc_alignment::relaxed;
  const auth::dmarc_alignment adkim =
      o.record ? o.record->dkim_alignment : auth::dmarc_alignment::relaxed;
  std::printf("spf: %s domain=%s %s\n", o.spf_result.c_str(),
              o.spf_domain.empty() ? "(none)" : o.spf_domain.c_str(),
              aligned_word(o.spf_domain_aligned, aspf, "aspf").c_str());
  for (const auth::dmarc_dkim_check& d : o.dkim) {
    std::printf("dkim: %s d=%s s=%s %s%s\n", auth::to_string(d.status), d.domain.c_str(),
                d.selector.c_str(), aligned_word(d.aligned, adkim, "adkim").c_str(),
                d.testing ? " (t=y key: not counted)" : "");
  }
  if (o.dkim.empty()) std::printf("dkim: none (no signature)\n");
}

std::string authentication_results(const std::string& authserv_id, const evidence& e,
                                   const auth::dmarc_outcome& o) {
  std::vector<std::string> resinfos{auth::authres_text(*e.spf)};
  for (const auth::dkim_result& r : *e.dkim) resinfos.push_back(auth::authres_text(r));
  if (e.dkim->empty()) resinfos.emplace_back("dkim=none");
  resinfos.push_back(auth::authres_text(o));
  return auth::authentication_results_field(authserv_id, resinfos);
}

int check(const args& a) {
  std::set<std::string> names = cli::dns_option_names();
  names.insert({"--ip", "--mail-from", "--helo", "--authserv-id", "--psl"});
  cli::options o = cli::parse_options(a, names, {"--icann-only"}, 1);
  if (!o.error.empty()) return usage_error(o.error);
  auth::spf_request request;
  if (std::string e = request_from(o, request); !e.empty()) return usage_error(e);
  std::optional<std::string> text = cli::read_file(o.positional[0]);
  if (!text) return input_error(o.positional[0] + ": cannot read it");
  bool had_bare_lf = false;
  const std::string message = cli::to_crlf(*text, had_bare_lf);
  std::string error;
  std::optional<auth::public_suffix_list> psl = load_psl(o, error);
  if (!psl) return input_error(error);
  std::optional<net::unbound_options> dns_options = cli::dns_options_from(o, error);
  if (!dns_options) return input_error(error);
  boost::asio::io_context io;
  std::unique_ptr<net::unbound_resolver> dns =
      net::unbound_resolver::create(io, *dns_options, error);
  if (!dns) return input_error(error);

  evidence e = gather(io, *dns, request, message);
  if (!e.spf || !e.dkim) return input_error("the SPF or DKIM lookups did not finish");
  std::optional<auth::dmarc_outcome> out = evaluate(io, *dns, *psl, message, e);
  if (!out) return input_error("the DMARC lookups did not finish");
  print_outcome(*out);
  const std::string* id = o.get("--authserv-id");
  // The field is CRLF-folded as it would go into the message; printed with LF like the rest.
  std::fputs(cli::to_lf(authentication_results(id ? *id : host_name(), e, *out)).c_str(), stdout);
  return out->status == auth::dmarc_status::pass ? 0 : 1;
}

}  // namespace

int cmd_dmarc(const args& a) {
  if (a.empty()) return usage_error("check?");
  if (a[0] == "--help" || a[0] == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  if (a[0] != "check") return usage_error("unknown dmarc command '" + a[0] + "'");
  return check(args(a.begin() + 1, a.end()));
}

}  // namespace mailsim::server
