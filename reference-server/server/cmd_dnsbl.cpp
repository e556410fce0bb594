// mailsim-server dnsbl check: looks an IP address or a domain up on DNS block and allow
// lists (RFC 5782) through reference-server/policy/dnsbl.hpp, and explains the answers.
//
//   mailsim-server dnsbl check IP|DOMAIN --zone ZONE[,ZONE...] [--profile NAME[=ZONE],...]
//                  [--dns IP@PORT] [--config FILE] [--zone-file FILE]
//
// --zone and --profile may be repeated and take comma-separated lists; the lists are asked
// in the order given. A --zone list has no code table: any 127.0.0.0/8 answer lists except
// the error range 127.255.255.0/24; its kind (IP or domain list) follows the subject. A
// --profile list is a built-in profile ("spamhaus-zen", "dnswl", ...; NAME=ZONE serves the
// profile's codes from another zone, as a test world does); asking a domain list about an
// address, or the reverse, is a usage error. Every list fetches the TXT reason when listed.
// Here --zone names a DNSBL zone, not a zone file as in `dkim verify`: local DNS data comes
// from --zone-file FILE, with --dns and --config as cli_support.hpp describes.
//
// Output: the first line is the verdict word — `listed` (some list lists the subject),
// `error` (none does and some lookup failed or answered an error code), or `not-listed` —
// then one line per list: "<zone>: <status> query=<name> answers=<a,b> meanings="..."
// txt="..." error="..."" (empty parts left out; allow lists say "(allow list)" after the
// zone). Exit codes: 0 not listed, 1 listed, 3 error, 2 usage or unreadable input.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/net/asio.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/policy/dnsbl.hpp"
#include "reference-server/server/cli_support.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server {
namespace {

constexpr const char* usage =
    "usage: mailsim-server dnsbl check IP|DOMAIN --zone ZONE[,ZONE...] "
    "[--profile NAME[=ZONE],...]\n"
    "                                 [--dns IP@PORT] [--config FILE] [--zone-file FILE]\n"
    "profiles: spamhaus-zen spamhaus-dbl spamcop barracuda uribl surbl dnswl\n"
    "exit: 0 not listed, 1 listed, 3 error, 2 usage\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server dnsbl: %s\n%s", message.c_str(), usage);
  return 2;
}

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

struct request {
  std::string subject;
  bool subject_is_ip = false;
  std::vector<policy::dnsbl_list> lists;
  cli::options dns;  // --dns, --config, and --zone-file passed on as cli's "--zone"
};

// "NAME" or "NAME=ZONE" as a list; nullopt with `error` set.
std::optional<policy::dnsbl_list> profile_list(const std::string& spec, std::string& error) {
  std::size_t eq = spec.find('=');
  std::optional<policy::dnsbl_list> list = policy::dnsbl_profile(spec.substr(0, eq));
  if (!list) {
    error = "unknown profile '" + spec.substr(0, eq) + "'";
    return std::nullopt;
  }
  if (eq != std::string::npos) list->zone = spec.substr(eq + 1);
  return list;
}

bool add_lists(request& r, const std::string& name, const std::string& value, std::string& error) {
  for (const std::string& item : comma_list(value)) {
    std::optional<policy::dnsbl_list> list;
    if (name == "--zone") {
      list.emplace();
      list->zone = item;
      list->kind = r.subject_is_ip ? policy::dnsbl_kind::ip : policy::dnsbl_kind::domain;
    } else if (!(list = profile_list(item, error))) {
      return false;
    }
    if ((list->kind == policy::dnsbl_kind::ip) != r.subject_is_ip) {
      error = "profile " + item + " lists " +
              (r.subject_is_ip ? "domains, not addresses" : "addresses, not domains");
      return false;
    }
    list->query_txt = true;
    r.lists.push_back(std::move(*list));
  }
  return true;
}

// Repeatable --zone/--profile, single --dns/--config/--zone-file, one subject.
std::optional<request> parse_request(const args& a, std::string& error) {
  request r;
  if (a.empty() || a[0].rfind("--", 0) == 0) {
    error = "check needs an IP address or a domain";
    return std::nullopt;
  }
  r.subject = a[0];
  r.subject_is_ip = core::parse_ip(r.subject).has_value();
  if (!r.subject_is_ip && !policy::dnsbl_query_name(r.subject, "x")) {
    error = "'" + r.subject + "' is neither an IP address nor a domain";
    return std::nullopt;
  }
  for (std::size_t i = 1; i < a.size(); i += 2) {
    const std::string& name = a[i];
    bool single = name == "--dns" || name == "--config" || name == "--zone-file";
    if (!single && name != "--zone" && name != "--profile") {
      error = "unknown argument '" + name + "'";
    } else if (i + 1 >= a.size()) {
      error = name + " needs a value";
    } else if (single &&
               !r.dns.values.emplace(name == "--zone-file" ? "--zone" : name, a[i + 1]).second) {
      error = name + " given twice";
    } else if (!single) {
      add_lists(r, name, a[i + 1], error);
    }
    if (!error.empty()) return std::nullopt;
  }
  if (r.lists.empty()) error = "give at least one --zone or --profile";
  return error.empty() ? std::optional<request>(std::move(r)) : std::nullopt;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

void print_hit(const policy::dnsbl_hit& h) {
  std::string line =
      h.zone + (h.allow_list ? " (allow list)" : "") + ": " + policy::to_string(h.status);
  if (!h.query.empty()) line += " query=" + h.query;
  if (!h.answers.empty()) line += " answers=" + joined(h.answers, ",");
  if (!h.meanings.empty()) line += " meanings=" + quoted(joined(h.meanings, "; "));
  if (!h.txt.empty()) line += " txt=" + quoted(h.txt);
  if (!h.error.empty()) line += " error=" + quoted(h.error);
  std::printf("%s\n", line.c_str());
}

int check(const args& a) {
  std::string error;
  std::optional<request> r = parse_request(a, error);
  if (!r) return usage_error(error);
  std::optional<net::unbound_options> dns_options = cli::dns_options_from(r->dns, error);
  if (!dns_options) {
    std::fprintf(stderr, "mailsim-server dnsbl: %s\n", error.c_str());
    return 2;
  }
  boost::asio::io_context io;
  std::unique_ptr<net::unbound_resolver> dns =
      net::unbound_resolver::create(io, *dns_options, error);
  if (!dns) {
    std::fprintf(stderr, "mailsim-server dnsbl: %s\n", error.c_str());
    return 2;
  }
  policy::dnsbl_checker checker(*dns, r->lists);
  std::optional<policy::dnsbl_outcome> outcome =
      checker.check(r->subject, [&outcome](policy::dnsbl_outcome o) { outcome = std::move(o); });
  io.run();  // returns once every lookup has been answered or has timed out
  if (!outcome) {
    std::fputs("error\nthe lookups did not finish\n", stdout);
    return 3;
  }
  policy::dnsbl_status verdict = outcome->summary();
  std::printf("%s\n", policy::to_string(verdict));
  for (const policy::dnsbl_hit& h : outcome->lists) print_hit(h);
  if (verdict == policy::dnsbl_status::listed) return 1;
  return verdict == policy::dnsbl_status::error ? 3 : 0;
}

}  // namespace

int cmd_dnsbl(const args& a) {
  if (a.empty()) return usage_error("check?");
  if (a[0] == "--help" || a[0] == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  if (a[0] != "check") return usage_error("unknown dnsbl command '" + a[0] + "'");
  return check(args(a.begin() + 1, a.end()));
}

}  // namespace mailsim::server
