// mailsim-server subcommands' shared plumbing: option parsing, input files, and the DNS a
// diagnostic command asks (dkim verify, spf check, dmarc check, dnsbl check).
//
// Contract: plain helpers, no global state. dns_options_from() turns the common DNS options
// into net::unbound_options:
//   --zone FILE    a zone file's records as local data ("name [TTL] [IN] TYPE rdata",
//                  parentheses, comments, $ORIGIN, $TTL); names they cover answer from it alone
//   --dns IP@PORT  forward every other query there
//   --config FILE  take the `dns:` section of a mailsim-server config (forwarders, local
//                  zones and data, timeout); --zone and --dns add to it
// With none of them the system's resolv.conf servers answer.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "reference-server/net/unbound_resolver.hpp"
#include "reference-server/server/commands.hpp"

namespace mailsim::server::cli {

// "--name value" options and "--name" flags, each at most once; positional arguments (words
// not starting with "--") in order when the command allows them.
struct options {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  std::vector<std::string> positional;
  std::string error;  // the first problem, for a usage message

  const std::string* get(const std::string& name) const;
};

options parse_options(const args& a, const std::set<std::string>& with_value,
                      const std::set<std::string>& flags, std::size_t positional_max = 0);

// The DNS option names dns_options_from() reads, to merge into a command's own set.
const std::set<std::string>& dns_option_names();

std::optional<std::string> read_file(const std::string& path);
std::string read_stdin();

// Bare LF line ends become CRLF; `had_bare_lf` says whether there were any.
std::string to_crlf(const std::string& text, bool& had_bare_lf);
std::string to_lf(const std::string& text);

// The records of a zone file as libunbound local-data lines ("name TTL IN TYPE rdata"); on
// failure false with `error` naming the line.
bool zone_to_local_data(const std::string& text, std::vector<std::string>& out,
                        std::string& error);

// The resolver settings from --zone, --dns and --config; nullopt with `error` (naming the
// file, and for a config its line and column) when a file cannot be read or parsed.
std::optional<net::unbound_options> dns_options_from(const options& o, std::string& error);

}  // namespace mailsim::server::cli
