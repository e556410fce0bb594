// mailsim-server dkim keygen | sign | verify: DKIM keys, signing and verification from the
// command line, on reference-server/auth (RFC 6376, RFC 8463, RFC 8301).
//
// Messages are read from standard input. Mail files often have LF line ends; a line ending in
// a bare LF is read as ending in CRLF (what SMTP carries and what signatures cover), and
// `sign` writes its output with the line ends the input had. Exit codes: 0 success (verify:
// at least one signature passed), 1 failure (verify: none passed; sign: the message cannot be
// signed), 2 usage or unreadable input.
//
// DNS for `verify` is net::unbound_resolver, set by --zone, --dns and --config as
// cli_support.hpp describes.
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/auth/dkim_verifier.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/net/asio.hpp"
#include "reference-server/net/system_world.hpp"
#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/server/cli_support.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server {
namespace {

using cli::options;
using cli::parse_options;
using cli::read_file;
using cli::read_stdin;
using cli::to_crlf;
using cli::to_lf;

constexpr const char* usage =
    "usage: mailsim-server dkim keygen --domain D --selector S [--algorithm rsa-sha256|"
    "ed25519-sha256]\n"
    "                                  [--bits 2048] --out FILE\n"
    "       mailsim-server dkim sign --key FILE --domain D --selector S [--algorithm A]\n"
    "                                [--canonicalization relaxed/relaxed] [--headers a:b:c]\n"
    "                                [--oversign a:b] [--identity I] [--expire SECONDS]\n"
    "                                [--body-length] [--timestamp UNIX] < message\n"
    "       mailsim-server dkim verify [--zone FILE] [--dns IP@PORT] [--config FILE] < message\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server dkim: %s\n%s", message.c_str(), usage);
  return 2;
}

int input_error(const std::string& message) {
  std::fprintf(stderr, "mailsim-server dkim: %s\n", message.c_str());
  return 2;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<auth::key_type> key_type_for(const std::string& algorithm) {
  if (algorithm == "rsa-sha256") return auth::key_type::rsa;
  if (algorithm == "ed25519-sha256") return auth::key_type::ed25519;
  return std::nullopt;
}

std::optional<long long> number_arg(const std::string& text) {
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoll(text);
}

std::vector<std::string> colon_list(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view item : auth::split_list(text, ':')) out.emplace_back(item);
  return out;
}

// The record as a zone line: `S._domainkey.D. IN TXT ( "v=DKIM1; k=rsa; " "p=..." )`, with
// each character-string at most 255 octets (RFC 1035 §3.3).
std::string zone_line(const std::string& selector, const std::string& domain,
                      const std::string& record) {
  std::size_t p = record.find("p=");
  std::vector<std::string> strings{record.substr(0, p)};
  for (std::size_t at = p; at < record.size(); at += 255) strings.push_back(record.substr(at, 255));
  std::string out = selector + "._domainkey." + domain + ". IN TXT (";
  for (const std::string& s : strings) out += " \"" + s + "\"";
  return out + " )";
}

// ---- keygen ----

int keygen(const args& a) {
  options o = parse_options(a, {"--domain", "--selector", "--algorithm", "--bits", "--out"}, {});
  if (!o.error.empty()) return usage_error(o.error);
  const std::string* domain = o.get("--domain");
  const std::string* selector = o.get("--selector");
  const std::string* out = o.get("--out");
  if (!domain || !selector || !out)
    return usage_error("keygen needs --domain, --selector and --out");
  if (!auth::is_valid_domain(*domain) || !auth::is_valid_domain(*selector))
    return usage_error("--domain and --selector must be domain names");
  std::optional<auth::key_type> type =
      key_type_for(o.get("--algorithm") ? *o.get("--algorithm") : "rsa-sha256");
  if (!type) return usage_error("--algorithm must be rsa-sha256 or ed25519-sha256");
  std::optional<long long> bits = number_arg(o.get("--bits") ? *o.get("--bits") : "2048");
  if (!bits || *bits < auth::rsa_bits_min || *bits > auth::rsa_bits_max || *bits % 16 != 0)
    return usage_error("--bits must be a multiple of 16 from 1024 to 4096");
  if (*type == auth::key_type::ed25519 && o.get("--bits"))
    return usage_error("--bits applies to rsa-sha256 keys only");

  net::system_random random;
  auth::private_key_result key = auth::generate_key(*type, static_cast<unsigned>(*bits), random);
  if (!key.ok()) {
    std::fprintf(stderr, "mailsim-server dkim: key generation failed: %s\n",
                 key.error.message().c_str());
    return 1;
  }
  // 0600 from the start, and never over an existing key.
  int fd = ::open(out->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return input_error(*out + ": " + std::strerror(errno));
  std::string pem = key.key->pem();
  bool ok = write_all(fd, pem) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(out->c_str());
    return input_error(*out + ": write failed: " + std::strerror(errno));
  }
  std::printf("%s\n", zone_line(*selector, *domain, key.key->dns_record()).c_str());
  return 0;
}

// ---- sign ----

bool read_canonicalization(const std::string& text, auth::sign_options& so) {
  auto word = [](std::string_view w, auth::canon& c) {
    if (w == "simple" || w == "relaxed") {
      c = w == "simple" ? auth::canon::simple : auth::canon::relaxed;
      return true;
    }
    return false;
  };
  std::size_t slash = text.find('/');
  if (slash == std::string::npos) {
    so.body_canon = auth::canon::simple;  // RFC 6376 §3.5 c=: the body defaults to simple
    return word(text, so.header_canon);
  }
  return word(std::string_view(text).substr(0, slash), so.header_canon) &&
         word(std::string_view(text).substr(slash + 1), so.body_canon);
}

// Fills `so` from the options; an error text for a bad one.
std::string sign_options_from(const options& o, auth::sign_options& so) {
  so.domain = *o.get("--domain");
  so.selector = *o.get("--selector");
  if (const std::string* c = o.get("--canonicalization"); c && !read_canonicalization(*c, so))
    return "--canonicalization must be simple or relaxed, or header/body of those";
  if (const std::string* h = o.get("--headers")) so.headers = colon_list(*h);
  if (const std::string* h = o.get("--oversign")) so.oversign = colon_list(*h);
  if (const std::string* i = o.get("--identity")) so.identity = *i;
  if (const std::string* x = o.get("--expire")) {
    std::optional<long long> s = number_arg(*x);
    if (!s || *s == 0) return "--expire must be a positive number of seconds";
    so.expire_after = std::chrono::seconds(*s);
  }
  so.body_length = o.flags.count("--body-length") != 0;
  return {};
}

int sign(const args& a) {
  options o = parse_options(a,
                            {"--key", "--domain", "--selector", "--algorithm", "--canonicalization",
                             "--headers", "--oversign", "--identity", "--expire", "--timestamp"},
                            {"--body-length"});
  if (!o.error.empty()) return usage_error(o.error);
  if (!o.get("--key") || !o.get("--domain") || !o.get("--selector"))
    return usage_error("sign needs --key, --domain and --selector");
  auth::sign_options so;
  if (std::string e = sign_options_from(o, so); !e.empty()) return usage_error(e);
  core::time_point now = net::system_clock().now();
  if (const std::string* t = o.get("--timestamp")) {
    std::optional<long long> s = number_arg(*t);
    if (!s) return usage_error("--timestamp must be seconds since 1970");
    now = core::from_epoch_ms(*s * 1000);
  }

  std::optional<std::string> key_text = read_file(*o.get("--key"));
  if (!key_text) return input_error(*o.get("--key") + ": " + std::strerror(errno));
  auth::private_key_result key = auth::private_key::load(*key_text);
  if (!key.ok()) return input_error(*o.get("--key") + ": " + key.error.message());
  if (const std::string* alg = o.get("--algorithm")) {
    std::optional<auth::key_type> wanted = key_type_for(*alg);
    if (!wanted) return usage_error("--algorithm must be rsa-sha256 or ed25519-sha256");
    if (*wanted != key.key->type())
      return input_error(*o.get("--key") + " is not a key for " + *alg);
  }
  auth::dkim_signer signer(*key.key, so);
  if (signer.check_options())
    return usage_error("bad --domain, --selector, --identity or header name");

  bool had_bare_lf = false;
  std::string message = to_crlf(read_stdin(), had_bare_lf);
  auth::sign_result r = signer.sign(message, now);
  if (!r.ok()) {
    std::fprintf(stderr, "mailsim-server dkim: cannot sign: %s\n", r.error.message().c_str());
    return 1;
  }
  std::string out = r.field + message;
  if (had_bare_lf) out = to_lf(out);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// ---- verify ----

int verify(const args& a) {
  options o = parse_options(a, cli::dns_option_names(), {});
  if (!o.error.empty()) return usage_error(o.error);
  std::string dns_error;
  std::optional<net::unbound_options> dns_options = cli::dns_options_from(o, dns_error);
  if (!dns_options) return input_error(dns_error);
  boost::asio::io_context io;
  std::string error;
  std::unique_ptr<net::unbound_resolver> dns =
      net::unbound_resolver::create(io, *dns_options, error);
  if (!dns) return input_error(error);

  bool had_bare_lf = false;
  std::string message = to_crlf(read_stdin(), had_bare_lf);
  net::system_clock clock;
  auth::dkim_verifier verifier(*dns, clock);
  std::optional<std::vector<auth::dkim_result>> results = verifier.verify(
      message, [&results](std::vector<auth::dkim_result> r) { results = std::move(r); });
  io.run();  // returns once every key lookup has been answered (or has timed out)
  if (!results) return input_error("the key lookups did not finish");
  bool passed = false;
  for (const auth::dkim_result& r : *results) {
    std::printf("%s\n", auth::authres_text(r).c_str());
    passed = passed || r.status == auth::dkim_status::pass;
  }
  if (results->empty()) std::puts("dkim=none");
  return passed ? 0 : 1;
}

}  // namespace

int cmd_dkim(const args& a) {
  if (a.empty()) return usage_error("keygen, sign or verify?");
  args rest(a.begin() + 1, a.end());
  if (a[0] == "keygen") return keygen(rest);
  if (a[0] == "sign") return sign(rest);
  if (a[0] == "verify") return verify(rest);
  if (a[0] == "--help" || a[0] == "-h") {
    std::fputs(usage, stdout);
    return 0;
  }
  return usage_error("unknown dkim command '" + a[0] + "'");
}

}  // namespace mailsim::server
