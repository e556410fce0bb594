// mailsim-server arc verify | seal: ARC chain validation and sealing (RFC 8617) from the
// command line, on reference-server/auth/arc.hpp.
//
// verify prints the chain validation status first ("none", "pass" or "fail"), then for a
// fail "reason: ...", then one line per ARC set, newest first, with the instance, cv= and each
// signature's result with its d=, s= and a=, then "authres: " and the arc= result as an
// Authentication-Results field would carry it. Exit 0 on pass, 1 otherwise, 2 on usage or
// unreadable input.
//
// seal writes the message with the next ARC set (ARC-Seal, ARC-Message-Signature,
// ARC-Authentication-Results) prepended. cv= comes from --cv, or else from validating the
// chain first (DNS as for verify). --authres gives the results to record after the
// authserv-id; the arc= result of the chain is added unless they hold one. A chain that is
// closed (newest cv=fail) or already 50 sets long is not sealed: exit 1.
//
// Messages are read from standard input; bare LF line ends are read as CRLF and `seal` writes
// back the line ends it was given (as `dkim sign` does). Keys are the files `dkim keygen`
// writes. DNS is net::unbound_resolver, set by --zone, --dns and --config as cli_support.hpp
// describes.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/error.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/server/cli_support.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server {
namespace {

using cli::options;

constexpr const char* usage =
    "usage: mailsim-server arc verify [--remote-ip IP] [--zone FILE] [--dns IP@PORT]\n"
    "                                 [--config FILE] < message\n"
    "       mailsim-server arc seal --key FILE --domain D --selector S --authserv-id ID\n"
    "                               [--authres TEXT] [--cv none|pass|fail] [--timestamp UNIX]\n"
    "                               [--headers a:b:c] [--remote-ip IP]\n"
    "                               [--zone FILE] [--dns IP@PORT] [--config FILE] < message\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server arc: %s\n%s", message.c_str(), usage);
  return 2;
}

int input_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server arc: %s\n", message.c_str());
  return 2;
}

std::set<std::string> with_dns(std::set<std::string> names) {
  names.insert(cli::dns_option_names().begin(), cli::dns_option_names().end());
  return names;
}

// Validates the chain of `message` over the DNS the options name; nullopt with `error` when
// the resolver cannot be set up or the lookups never finish.
std::optional<auth::arc_outcome> validate(const options& o, const std::string& message,
                                          std::string& error) {
  std::optional<net::unbound_options> dns_options = cli::dns_options_from(o, error);
  if (!dns_options) return std::nullopt;
  boost::asio::io_context io;
  std::unique_ptr<net::unbound_resolver> dns =
      net::unbound_resolver::create(io, *dns_options, error);
  if (!dns) return std::nullopt;
  net::system_clock clock;
  auth::arc_verifier verifier(*dns, clock);
  std::optional<auth::arc_outcome> outcome =
      verifier.verify(message, [&outcome](auth::arc_outcome r) { outcome = std::move(r); });
  io.run();  // returns once every key lookup has been answered (or has timed out)
  if (!outcome) error = "the key lookups did not finish";
  return outcome;
}

std::string signature_text(const char* what, const auth::dkim_result& r) {
  std::string out = std::string(what) + "=";
  out += r.status == auth::dkim_status::none ? "unchecked" : auth::to_string(r.status);
  if (!r.reason.empty()) out += " (" + r.reason + ")";
  if (!r.domain.empty()) out += " d=" + r.domain;
  if (!r.selector.empty()) out += " s=" + r.selector;
  if (!r.algorithm.empty()) out += " a=" + r.algorithm;
  return out;
}

void print(const auth::arc_outcome& o, const std::string* remote_ip) {
  std::printf("%s\n", auth::to_string(o.status));
  if (!o.reason.empty()) std::printf("reason: %s\n", o.reason.c_str());
  for (auto s = o.sets.rbegin(); s != o.sets.rend(); ++s) {
    std::printf("i=%u cv=%s %s; %s\n", s->instance, s->cv.empty() ? "-" : s->cv.c_str(),
                signature_text("as", s->seal).c_str(), signature_text("ams", s->ams).c_str());
  }
  std::printf("authres: %s\n",
              auth::authres_text(o, remote_ip != nullptr ? *remote_ip : "").c_str());
}

int verify(const args& a) {
  options o = cli::parse_options(a, with_dns({"--remote-ip"}), {});
  if (!o.error.empty()) return usage_error(o.error);
  bool had_bare_lf = false;
  std::string message = cli::to_crlf(cli::read_stdin(), had_bare_lf);
  std::string error;
  std::optional<auth::arc_outcome> outcome = validate(o, message, error);
  if (!outcome) return input_error(error);
  print(*outcome, o.get("--remote-ip"));
  return outcome->status == auth::arc_status::pass ? 0 : 1;
}

std::optional<auth::arc_status> status_word(const std::string& word) {
  for (auth::arc_status s :
       {auth::arc_status::none, auth::arc_status::pass, auth::arc_status::fail})
    if (word == auth::to_string(s)) return s;
  return std::nullopt;
}

std::optional<long long> seconds_arg(const std::string& text) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(text);
}

int seal(const args& a) {
  options o =
      cli::parse_options(a,
                         with_dns({"--key", "--domain", "--selector", "--authserv-id", "--authres",
                                   "--cv", "--timestamp", "--headers", "--remote-ip"}),
                         {});
  if (!o.error.empty()) return usage_error(o.error);
  if (!o.get("--key") || !o.get("--domain") || !o.get("--selector") || !o.get("--authserv-id"))
    return usage_error("seal needs --key, --domain, --selector and --authserv-id");
  auth::arc_seal_options so;
  so.domain = *o.get("--domain");
  so.selector = *o.get("--selector");
  so.authserv_id = *o.get("--authserv-id");
  if (const std::string* ip = o.get("--remote-ip")) so.remote_ip = *ip;
  if (const std::string* h = o.get("--headers")) {
    so.headers.clear();
    for (std::string_view name : auth::split_list(*h, ':')) so.headers.emplace_back(name);
  }
  std::optional<auth::arc_status> cv;
  if (const std::string* c = o.get("--cv"); c && !(cv = status_word(*c)))
    return usage_error("--cv must be none, pass or fail");
  core::time_point now = net::system_clock().now();
  if (const std::string* t = o.get("--timestamp")) {
    std::optional<long long> s = seconds_arg(*t);
    if (!s) return usage_error("--timestamp must be seconds since 1970");
    now = core::from_epoch_ms(*s * 1000);
  }
  std::optional<std::string> key_text = cli::read_file(*o.get("--key"));
  if (!key_text) return input_error(*o.get("--key") + ": " + std::strerror(errno));
  auth::private_key_result key = auth::private_key::load(*key_text);
  if (!key.ok()) return input_error(*o.get("--key") + ": " + key.error.message());

  bool had_bare_lf = false;
  std::string message = cli::to_crlf(cli::read_stdin(), had_bare_lf);
  auth::arc_outcome chain;
  if (cv) {
    chain.status = *cv;
  } else {
    std::string error;
    std::optional<auth::arc_outcome> outcome = validate(o, message, error);
    if (!outcome) return input_error(error);
    chain = std::move(*outcome);
  }
  std::string payload = o.get("--authres") ? *o.get("--authres") : "";
  auth::arc_seal_result r = auth::arc_seal(message, *key.key, so, chain, payload, now);
  if (!r.ok()) {
    std::fprintf(stderr, "mailsim-server arc: cannot seal: %s\n", r.error.message().c_str());
    return r.error == auth::errc::invalid_option ? 2 : 1;
  }
  std::string out = r.fields + message;
  if (had_bare_lf) out = cli::to_lf(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int cmd_arc(const args& a) {
  if (a.empty()) return usage_error("verify or seal?");
  args rest(a.begin() + 1, a.end());
  if (a[0] == "verify") return verify(rest);
  if (a[0] == "seal") return seal(rest);
  if (a[0] == "--help" || a[0] == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  return usage_error("unknown arc command '" + a[0] + "'");
}

}  // namespace mailsim::server
