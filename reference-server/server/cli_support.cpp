#include "reference-server/server/cli_support.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "reference-server/config/config.hpp"
#include "reference-server/server/outbound.hpp"

namespace mailsim::server::cli {

const std::string* options::get(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

options parse_options(const args& a, const std::set<std::string>& with_value,
                      const std::set<std::string>& flags, std::size_t positional_max) {
  options out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string& name = a[i];
    if (flags.count(name) != 0) {
      out.flags.insert(name);
    } else if (name.rfind("--", 0) != 0 && out.positional.size() < positional_max) {
      out.positional.push_back(name);
    } else if (with_value.count(name) == 0) {
      out.error = "unknown argument '" + name + "'";
    } else if (i + 1 >= a.size()) {
      out.error = name + " needs a value";
    } else if (!out.values.emplace(name, a[++i]).second) {
      out.error = name + " given twice";
    }
    if (!out.error.empty()) break;
  }
  return out;
}

const std::set<std::string>& dns_option_names() {
  static const std::set<std::string> names{"--zone", "--dns", "--config"};
  return names;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return out.str();
}

std::string read_stdin() {
  std::string out;
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) out.append(buf, n);
  return out;
}

// Bare LF line ends become CRLF; `had_bare_lf` says whether there were any.
std::string to_crlf(const std::string& text, bool& had_bare_lf) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  had_bare_lf = false;
  for (char c : text) {
    if (c == '\n' && (out.empty() || out.back() != '\r')) {
      out.push_back('\r');
      had_bare_lf = true;
    }
    out.push_back(c);
  }
  return out;
}

std::string to_lf(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out.push_back(text[i]);
  }
  return out;
}

namespace {

// Splits zone text into entries (RFC 1035 §5.1): ";" comments, "( )" joining lines, quoted
// character-strings with \" and \DDD escapes.
struct zone_entry {
  std::vector<std::string> words;
  std::vector<bool> quoted;
};

bool zone_error(std::string& error, std::size_t line, const char* what) {
  error = "line " + std::to_string(line) + ": " + what;
  return false;
}

bool tokenize_zone(const std::string& text, std::vector<zone_entry>& out, std::string& error) {
  zone_entry cur;
  int depth = 0;
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      if (depth == 0 && !cur.words.empty()) out.push_back(std::exchange(cur, {}));
    } else if (c == ';') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '(' || c == ')') {
      depth += c == '(' ? 1 : -1;
      ++i;
      if (depth < 0) return zone_error(error, line, "unbalanced )");
    } else if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
    } else if (c == '"') {
      std::string s;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        bool digit = i + 3 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]));
        if (text[i] == '\\' && digit) {
          s.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 3))));
          i += 3;
        } else if (text[i] == '\\' && i + 1 < text.size()) {
          s.push_back(text[++i]);
        } else {
          s.push_back(text[i]);
        }
      }
      if (i >= text.size()) return zone_error(error, line, "unterminated string");
      ++i;
      cur.words.push_back(std::move(s));
      cur.quoted.push_back(true);
    } else {
      std::size_t end = text.find_first_of(" \t\r\n;()\"", i);
      if (end == std::string::npos) end = text.size();
      cur.words.push_back(text.substr(i, end - i));
      cur.quoted.push_back(false);
      i = end;
    }
  }
  if (depth != 0) return zone_error(error, line, "unbalanced (");
  if (!cur.words.empty()) out.push_back(std::move(cur));
  return true;
}

bool is_ttl(const std::string& w) {
  return !w.empty() && w.size() <= 10 && w.find_first_not_of("0123456789") == std::string::npos;
}

// A character-string as a quoted zone-file word (RFC 1035 §5.1 escapes).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The records of a zone file as libunbound local-data lines, "name TTL IN TYPE rdata" (one
// line each; the file may use parentheses, comments, $ORIGIN and $TTL).
}  // namespace

bool zone_to_local_data(const std::string& text, std::vector<std::string>& out,
                        std::string& error) {
  std::vector<zone_entry> entries;
  if (!tokenize_zone(text, entries, error)) return false;
  std::string origin;
  std::string default_ttl = "300";
  for (const zone_entry& e : entries) {
    if (e.words[0] == "$ORIGIN" && e.words.size() >= 2) {
      origin = e.words[1];
      continue;
    }
    if (e.words[0] == "$TTL" && e.words.size() >= 2) {
      default_ttl = e.words[1];
      continue;
    }
    if (e.quoted[0] || e.words[0][0] == '$') continue;
    std::string name = e.words[0] == "@" ? origin : e.words[0];
    if (!name.empty() && name.back() != '.') name += origin.empty() ? "." : "." + origin;
    if (!name.empty() && name.back() != '.') name += '.';
    std::string ttl = default_ttl;
    std::size_t i = 1;
    for (; i < e.words.size() && !e.quoted[i]; ++i) {
      if (is_ttl(e.words[i])) {
        ttl = e.words[i];
      } else if (e.words[i] != "IN" && e.words[i] != "in") {
        break;
      }
    }
    if (i + 1 >= e.words.size()) {
      error = "'" + e.words[0] + "': a record needs a type and data";
      return false;
    }
    std::string line = name + " " + ttl + " IN " + e.words[i];
    for (std::size_t k = i + 1; k < e.words.size(); ++k) {
      line += " " + (e.quoted[k] ? quoted(e.words[k]) : e.words[k]);
    }
    out.push_back(std::move(line));
  }
  return true;
}


std::optional<net::unbound_options> dns_options_from(const options& o, std::string& error) {
  net::unbound_options dns;
  if (const std::string* path = o.get("--config")) {
    config::load_result loaded = config::load_file(*path);
    if (!loaded) {
      error = loaded.error().to_string();
      return std::nullopt;
    }
    dns = unbound_options_of(loaded.config().dns);
  }
  if (const std::string* path = o.get("--zone")) {
    std::optional<std::string> zone = read_file(*path);
    if (!zone) {
      error = *path + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (!zone_to_local_data(*zone, dns.local_data, error)) {
      error = *path + ": " + error;
      return std::nullopt;
    }
  }
  if (const std::string* server = o.get("--dns")) dns.forwarders.push_back(*server);
  return dns;
}

}  // namespace mailsim::server::cli
