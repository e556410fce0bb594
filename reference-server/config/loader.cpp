// The YAML side of mailsim::config: walks the yaml-cpp node tree once, checking every key
// against the keys its section allows, and fills a server_config.
//
// Errors are raised as a file-local exception (`failure`) and turned into config_error at
// the two API entry points, together with yaml-cpp's own exceptions; nothing escapes. This
// module belongs to the server layer (L4), where exceptions are allowed; they keep each
// check a single line instead of threading a result through forty readers.
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "reference-server/config/config.hpp"
#include "reference-server/config/loader_values.hpp"
#include "reference-server/core/ip_address.hpp"
#include "reference-server/config/units.hpp"

namespace mailsim::config {
namespace {

namespace fs = std::filesystem;
using namespace detail;  // the value readers (loader_values.hpp)

// ---------------------------------------------------------------------------------------
// The file, section by section. Sections are read in dependency order (tls and domains
// before the listeners and users that refer to them), not in file order.

constexpr std::string_view hash_prefixes[] = {"$pbkdf2-sha256$", "$scrypt$"};

class loader {
 public:
  explicit loader(fs::path base_dir) : base_dir_(std::move(base_dir)) {}

  server_config run(const YAML::Node& root) {
    const value top{root, "top level", {1, 1}, {1, 1}};
    if (!root.IsMap()) {
      fail({1, 1}, "expected a mapping with 'server' and 'listeners' at the top level, got " +
                       describe(root));
    }
    const section s(top, "",
                    {"server", "listeners", "tls", "domains", "users", "aliases", "catch_all",
                     "limits", "smtp", "pop3", "imap", "delivery", "queue", "dns", "dkim", "inbound"});
    read_server(s.require("server"));
    if (auto v = s.get_unless_empty("tls")) read_tls(*v);
    if (auto v = s.get_unless_empty("domains")) read_domains(*v);
    if (auto v = s.get_unless_empty("smtp")) read_smtp(*v);
    if (auto v = s.get_unless_empty("pop3")) read_pop3(*v, config_.pop3);
    if (auto v = s.get_unless_empty("imap")) read_imap(*v, config_.imap);
    if (auto v = s.get_unless_empty("limits")) read_limits(*v);
    if (auto v = s.get_unless_empty("delivery")) read_delivery(*v);
    read_listeners(s.require("listeners"));
    if (auto v = s.get_unless_empty("users")) read_users(*v);
    if (auto v = s.get_unless_empty("aliases")) read_aliases(*v);
    if (auto v = s.get_unless_empty("catch_all")) read_catch_all(*v);
    if (auto v = s.get_unless_empty("queue")) {
      read_queue(*v, [this](const value& p) { return read_path(p); }, config_.outbound);
    }
    if (auto v = s.get_unless_empty("dns")) read_dns(*v, config_.dns);
    if (auto v = s.get_unless_empty("dkim")) {
      read_dkim(*v, [this](const value& p) { return read_path(p); }, config_.outbound);
    }
    if (auto v = s.get("inbound")) {
      read_inbound(*v, [this](const value& p) { return read_path(p); }, config_.inbound);
    }
    return std::move(config_);
  }

 private:
  std::string read_path(const value& v) {
    const std::string& text = read_text(v, "a path");
    if (text.find('\0') != std::string::npos) expected(v, "a path");
    // Lexical clean-up only: "config/../../var" -> "var". The base folder is already
    // canonical, so ".." in the config's own paths means what the author sees.
    return (base_dir_ / fs::path(text)).lexically_normal().string();
  }

  void read_server(const value& v) {
    const section s(v, "server", {"hostname", "state_dir", "maildir_root", "log"});
    auto& out = config_.server;
    if (auto h = s.get("hostname")) {
      const std::string& name = read_text(*h, "a host name like mail.example.test");
      if (!is_domain(name)) expected(*h, "a host name like mail.example.test");
      out.hostname = to_lower(name);
    }
    if (auto p = s.get("state_dir")) out.state_dir = read_path(*p);
    out.maildir_root = read_path(s.require("maildir_root"));
    if (auto l = s.get_unless_empty("log")) {
      const section log(*l, "server.log", {"file", "level"});
      if (auto f = log.get("file")) {
        const std::string& text = read_text(*f, "a path or '-'");
        out.log.file = text == "-" ? text : read_path(*f);
      }
      if (auto level = log.get("level")) {
        out.log.level = read_choice<log_level>(
            *level, {{"info", log_level::info}, {"debug", log_level::debug}});
      }
    }
  }

  void read_tls(const value& v) {
    const section s(v, "tls", {"certificate", "private_key", "min_version"});
    tls_config tls;
    tls.certificate = read_path(s.require("certificate"));
    tls.private_key = read_path(s.require("private_key"));
    if (auto m = s.get("min_version")) {
      tls.min_version =
          read_choice<tls_version>(*m, {{"1.2", tls_version::v1_2}, {"1.3", tls_version::v1_3}});
    }
    config_.tls = std::move(tls);
  }

  void read_domains(const value& v) {
    for (const auto& item : read_list(v, "a list of domains")) {
      const std::string& text = read_text(item, "a domain like example.test");
      if (!is_domain(text)) expected(item, "a domain like example.test");
      std::string domain = to_lower(text);
      if (is_local(domain)) fail(item.where, "duplicate domain " + quote(domain));
      config_.domains.push_back(std::move(domain));
    }
  }

  bool is_local(const std::string& domain) const {
    return std::find(config_.domains.begin(), config_.domains.end(), domain) !=
           config_.domains.end();
  }

  void must_be_local(const value& v, std::string_view what, const std::string& address) {
    const std::string domain = domain_of(address);
    if (is_local(domain)) return;
    fail(v.where, std::string(what) + " " + quote(address) + " is not in a local domain; " +
                      quote(domain) + " is not listed in 'domains'");
  }

  std::string read_address(const value& v) {
    constexpr std::string_view what = "an address like user@example.test";
    auto address = normalize_address(read_text(v, what));
    if (!address) expected(v, what);
    return *address;
  }

  void read_smtp(const value& v) {
    const section s(v, "smtp", {"vrfy", "bare_newlines", "auth_mechanisms", "greeting"});
    auto& out = config_.smtp;
    if (auto b = s.get("vrfy")) out.vrfy = read_bool(*b);
    if (auto b = s.get("bare_newlines")) {
      out.bare_newlines = read_choice<smtp::bare_newline_policy>(
          *b, {{"reject", smtp::bare_newline_policy::reject},
               {"normalize", smtp::bare_newline_policy::normalize}});
    }
    if (auto list = s.get("auth_mechanisms")) out.auth_mechanisms = read_mechanisms(*list);
    if (auto g = s.get("greeting")) {
      const std::string& text = read_text(*g, "the text of the 220 greeting");
      for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          fail(g->where, "'greeting' must be one line of text without control characters");
        }
      }
      out.greeting = text;
    }
    greeting_where_ = s.get("greeting") ? s.get("greeting")->where : position{};
  }

  void read_limits(const value& v) {
    const section s(
        v, "limits",
        {"command_line_max", "recipients_max", "message_size_max", "auth_line_max", "errors_max",
         "auth_failures_max", "auth_failure_delay", "command_timeout", "data_timeout",
         "transactions_max", "connections_max", "connections_per_ip_max", "shutdown_grace"});
    auto& out = config_.limits;
    auto& smtp_limits = out.smtp;
    if (auto f = s.get("command_line_max")) {
      // RFC 5321 §4.5.3.1.4: a command line of 512 octets must be accepted.
      smtp_limits.command_line_bytes_max =
          fits<std::size_t>(*f, size_at_least(*f, read_size(*f), 512, " (RFC 5321 §4.5.3.1.4)"));
    }
    if (auto f = s.get("recipients_max")) {
      // RFC 5321 §4.5.3.1.8: at least 100 recipients must be buffered.
      smtp_limits.recipients_max =
          fits<std::size_t>(*f, at_least(*f, read_count(*f), 100, " (RFC 5321 §4.5.3.1.8)"));
    }
    if (auto f = s.get("message_size_max")) {
      // RFC 5321 §4.5.3.1.7: message content of at least 64K octets must be accepted.
      smtp_limits.message_bytes_max =
          size_at_least(*f, read_size(*f), std::uint64_t{64} * 1024, " (RFC 5321 §4.5.3.1.7)");
    }
    if (auto f = s.get("auth_line_max")) {
      // An AUTH line is a command line first (RFC 4954 §4 only ever raises the limit).
      smtp_limits.auth_line_bytes_max =
          fits<std::size_t>(*f, size_at_least(*f, read_size(*f), 512, " (RFC 5321 §4.5.3.1.4)"));
    }
    if (auto f = s.get("errors_max")) {
      smtp_limits.errors_max = fits<unsigned>(*f, at_least(*f, read_count(*f), 1, ""));
    }
    if (auto f = s.get("auth_failures_max")) {
      smtp_limits.auth_failures_max = fits<unsigned>(*f, at_least(*f, read_count(*f), 1, ""));
    }
    if (auto f = s.get("auth_failure_delay")) smtp_limits.auth_failure_delay = read_duration(*f);
    if (auto f = s.get("command_timeout")) {
      smtp_limits.command_timeout = positive(*f, read_duration(*f));
    }
    if (auto f = s.get("data_timeout")) smtp_limits.data_timeout = positive(*f, read_duration(*f));
    if (auto f = s.get("transactions_max")) {
      smtp_limits.transactions_max = fits<std::size_t>(*f, read_count(*f));
    }
    if (auto f = s.get("connections_max")) {
      out.connections_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
    }
    if (auto f = s.get("connections_per_ip_max")) {
      out.connections_per_ip_max = fits<std::size_t>(*f, at_least(*f, read_count(*f), 1, ""));
      if (out.connections_per_ip_max > out.connections_max) {
        fail(f->where, "'connections_per_ip_max' (" + std::to_string(out.connections_per_ip_max) +
                           ") must not exceed 'connections_max' (" +
                           std::to_string(out.connections_max) + ")");
      }
    } else {
      // The per-address default never exceeds a smaller total.
      out.connections_per_ip_max = std::min(out.connections_per_ip_max, out.connections_max);
    }
    if (auto f = s.get("shutdown_grace")) out.shutdown_grace = read_duration(*f);
  }

  void read_delivery(const value& v) {
    const section s(v, "delivery", {"durability", "journal_size"});
    if (auto d = s.get("durability")) {
      config_.delivery.durability =
          read_choice<durability_mode>(*d, {{"journal", durability_mode::journal},
                                            {"syncfs", durability_mode::syncfs},
                                            {"fsync_each", durability_mode::fsync_each}});
    }
    if (auto f = s.get("journal_size")) {
      // At least a few records of a large message; at most what is sensible to zero-fill.
      const std::uint64_t bytes = size_at_least(*f, read_size(*f), 256 * 1024, "");
      if (bytes > std::uint64_t{1} << 30) {
        fail(f->where, "'journal_size' must be at most 1GiB");
      }
      config_.delivery.journal_size = bytes;
    }
  }

  void read_listeners(const value& v) {
    struct seen {
      position where;       // the listener item
      position port_where;  // its port, or the item when the port is the role's default
    };
    std::vector<seen> marks;
    const auto items = read_list(v, "a list of listeners");
    if (items.empty()) fail(v.where, "expected at least one listener in 'listeners'");
    for (const auto& item : items) {
      const section s(
          item, "listeners",
          {"name", "role", "address", "port", "require_tls", "require_auth", "auth_without_tls"});
      listener l;
      l.role = read_choice<listener_role>(s.require("role"),
                                          {{"smtp", listener_role::smtp},
                                           {"submission", listener_role::submission},
                                           {"submissions", listener_role::submissions},
                                           {"pop3", listener_role::pop3},
                                           {"pop3s", listener_role::pop3s},
                                           {"imap", listener_role::imap},
                                           {"imaps", listener_role::imaps}});
      // Role defaults: relay on port 25 (RFC 5321 §4.5.4.2), where TLS and AUTH must not be
      // required (RFC 3207 §4); submission on 587 (RFC 6409 §3.1) with AUTH required (RFC 6409
      // §4.3) and TLS required (RFC 8314 §4.1); submissions on 465 with implicit TLS (RFC
      // 8314 §3.3, §7.3).
      switch (l.role) {
        case listener_role::smtp:
          l.port = 25;
          break;
        case listener_role::submission:
          l.port = 587;
          l.require_tls = true;
          l.require_auth = true;
          break;
        case listener_role::submissions:
          l.port = 465;
          l.implicit_tls = true;
          l.require_auth = true;
          break;
        case listener_role::pop3:  // RFC 1939 §4; STLS offered with a certificate (RFC 2595)
          l.port = 110;
          break;
        case listener_role::pop3s:  // RFC 8314 §3.3, §7.3
          l.port = 995;
          l.implicit_tls = true;
          break;
        case listener_role::imap:  // RFC 9051 §2.1; STARTTLS offered with a certificate
          l.port = 143;
          break;
        case listener_role::imaps:  // RFC 8314 §3.3, §7.3
          l.port = 993;
          l.implicit_tls = true;
          break;
      }
      l.name = std::string(to_string(l.role));
      position name_where = item.where;
      if (auto n = s.get("name")) {
        l.name = read_text(*n, "a listener name");
        name_where = n->where;
      }
      if (auto a = s.get("address")) {
        constexpr std::string_view what = "an IPv4 or IPv6 address like 127.0.0.1 or ::1";
        auto ip = normalize_ip(read_text(*a, what));
        if (!ip) expected(*a, what);
        l.address = *ip;
      }
      position port_where = item.where;
      if (auto p = s.get("port")) {
        l.port = read_port(*p);
        port_where = p->where;
      }
      for (const char* key : {"require_tls", "require_auth"}) {
        if (!is_smtp(l.role) && s.get(key)) {
          fail(s.get(key)->key_where, std::string("'") + key +
                                          "' applies to SMTP listeners only: POP3 and IMAP "
                                          "always require a login, over TLS unless "
                                          "auth_without_tls is true");
        }
      }
      if (auto b = s.get("require_tls")) l.require_tls = read_bool(*b);
      if (auto b = s.get("require_auth")) l.require_auth = read_bool(*b);
      if (auto b = s.get("auth_without_tls")) l.auth_without_tls = read_bool(*b);

      const std::string who = "listener " + quote(l.name);
      for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
        const auto& other = config_.listeners[i];
        if (other.name == l.name) {
          fail(name_where, "duplicate listener name " + quote(l.name) + " (first on line " +
                               std::to_string(marks[i].where.line) + ")");
        }
        if (other.port == l.port && addresses_overlap(other.address, l.address)) {
          fail(port_where, who + ": port " + std::to_string(l.port) +
                               " is already used by listener " + quote(other.name) + " (line " +
                               std::to_string(marks[i].where.line) + ")");
        }
      }
      if (!config_.tls) {
        if (l.implicit_tls) {
          fail(item.where, who + " has role " + quote(std::string(to_string(l.role))) +
                               " (implicit TLS, RFC 8314) but there is no 'tls' section");
        }
        if (l.require_tls) fail(item.where, who + " requires TLS but there is no 'tls' section");
        if (!is_smtp(l.role) && !l.auth_without_tls) {
          const bool pop3 = l.role == listener_role::pop3 || l.role == listener_role::pop3s;
          fail(item.where, who + " serves " + (pop3 ? "POP3" : "IMAP") +
                               ", whose passwords are taken only under TLS, but there is no "
                               "'tls' section (auth_without_tls: true allows it in a lab)");
        }
        if (l.require_auth && !l.auth_without_tls) {
          fail(item.where, who +
                               " requires AUTH, which is offered only under TLS, but there "
                               "is no 'tls' section (auth_without_tls: true allows it in a lab)");
        }
      }
      if (l.require_auth && config_.smtp.auth_mechanisms.empty()) {
        fail(item.where, who + " requires AUTH but 'smtp.auth_mechanisms' is empty");
      }
      marks.push_back({item.where, port_where});
      config_.listeners.push_back(std::move(l));
    }
    // The 220 line is "220 " hostname " " greeting CRLF, at most 512 octets in all
    // (RFC 5321 §4.5.3.1.5).
    if (config_.server.hostname.size() + config_.smtp.greeting.size() + 7 > 512) {
      fail(greeting_where_.line > 0 ? greeting_where_ : v.key_where,
           "'greeting' is too long: with the host name the 220 line passes 512 octets "
           "(RFC 5321 §4.5.3.1.5)");
    }
  }

  void read_users(const value& v) {
    for (const auto& item : read_list(v, "a list of users")) {
      const section s(item, "users", {"address", "password_hash", "quota"});
      user u;
      const value address = s.require("address");
      u.address = read_address(address);
      must_be_local(address, "user", u.address);
      for (const auto& other : config_.users) {
        if (other.address == u.address) fail(address.where, "duplicate user " + quote(u.address));
      }
      const value hash = s.require("password_hash");
      // The value is never echoed: when it is not a hash, it may be the password itself.
      const bool is_hash =
          hash.node.IsScalar() &&
          std::any_of(std::begin(hash_prefixes), std::end(hash_prefixes), [&](auto prefix) {
            const std::string& text = hash.node.Scalar();
            return text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
          });
      if (!is_hash) {
        fail(hash.where, "'password_hash' of user " + quote(u.address) +
                             " is not a password hash ($pbkdf2-sha256$... or $scrypt$...); "
                             "plaintext passwords are refused, make a hash with "
                             "`mailsim-server hash-password`");
      }
      u.password_hash = hash.node.Scalar();
      if (auto q = s.get("quota")) {
        const std::uint64_t bytes = read_size(*q);
        if (bytes == 0) fail(q->where, "'quota' must be more than 0B; leave it out for no quota");
        u.quota_bytes = bytes;
      }
      config_.users.push_back(std::move(u));
    }
  }

  void read_aliases(const value& v) {
    if (!v.node.IsMap()) expected(v, "a mapping of alias address to address(es)");
    for (const auto& entry : v.node) {
      const value key = make_value(entry.first, entry.first, "aliases");
      const std::string alias = read_address(key);
      must_be_local(key, "alias", alias);
      if (config_.aliases.count(alias) != 0) {
        fail(key.where, "duplicate alias " + quote(alias));
      }
      const value target = make_value(entry.first, entry.second, alias);
      std::vector<std::string> targets;
      if (target.node.IsSequence()) {
        for (const auto& item : read_list(target, "")) targets.push_back(read_address(item));
        if (targets.empty()) expected(target, "an address or a list of addresses");
      } else if (target.node.IsScalar()) {
        targets.push_back(read_address(target));
      } else {
        expected(target, "an address or a list of addresses");
      }
      config_.aliases.emplace(alias, std::move(targets));
    }
  }

  void read_catch_all(const value& v) {
    if (!v.node.IsMap()) expected(v, "a mapping of domain to address");
    for (const auto& entry : v.node) {
      const value key = make_value(entry.first, entry.first, "catch_all");
      const std::string& text = read_text(key, "a domain like example.test");
      if (!is_domain(text)) expected(key, "a domain like example.test");
      const std::string domain = to_lower(text);
      if (!is_local(domain)) {
        fail(key.where, "catch_all domain " + quote(domain) + " is not listed in 'domains'");
      }
      if (config_.catch_all.count(domain) != 0) {
        fail(key.where, "duplicate catch_all domain " + quote(domain));
      }
      config_.catch_all.emplace(domain,
                                read_address(make_value(entry.first, entry.second, domain)));
    }
  }

  fs::path base_dir_;
  server_config config_;
  position greeting_where_;
};

config_error to_error(const std::string& file, position where, std::string message) {
  return config_error{file, where.line, where.column, std::move(message)};
}

// The first tab in the leading whitespace of a line, up to the line of a parse error.
std::optional<position> tab_in_indentation(std::string_view yaml, const YAML::Mark& error) {
  int line = 1;
  for (std::size_t i = 0; i < yaml.size(); ++line) {
    if (!error.is_null() && line > error.line + 1) break;
    for (std::size_t j = i; j < yaml.size() && (yaml[j] == ' ' || yaml[j] == '\t'); ++j) {
      if (yaml[j] == '\t') return position{line, static_cast<int>(j - i) + 1};
    }
    const auto end = yaml.find('\n', i);
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return std::nullopt;
}

// Records where each document starts, building nothing.
class document_starts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Refuses a second document. yaml-cpp 0.7's LoadAll() cannot be used for this: when its
// parser stops consuming input (a stray ',' at the start of a document, yaml-cpp issue
// #1040, fixed upstream in 2024) it adds empty documents forever, allocating until the
// process dies. Here at most two documents are looked at, and two starting at the same place
// mean the parser is stuck there.
void check_single_document(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  document_starts starts;
  for (int i = 0; i < 2 && parser.HandleNextDocument(starts); ++i) {
  }
  if (starts.marks.size() < 2) return;
  const YAML::Mark& first = starts.marks[0];
  const YAML::Mark& second = starts.marks[1];
  if (second.pos != first.pos) {
    fail(at(second), "expected one YAML document, found a second one");
  }
  const auto pos = static_cast<std::size_t>(first.pos);
  const char c = pos < text.size() ? text[pos] : '\0';
  fail(at(first), c > ' ' && c < 0x7f ? "YAML syntax error: unexpected " + quote({&c, 1})
                                      : std::string("YAML syntax error: unexpected character"));
}

load_result load(std::string_view yaml, const std::string& name, const fs::path& base_dir) {
  try {
    const std::string text(yaml);
    check_single_document(text);
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) {
      return to_error(name, {1, 1},
                      "the file is empty; expected a mapping with 'server' and 'listeners'");
    }
    loader l(base_dir);
    return l.run(root);
  } catch (const failure& f) {
    return to_error(name, f.where, f.message);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp's message for a tab in the indentation ("illegal map value", "end of map not
    // found") does not say why; YAML 1.2 §6.1 allows only spaces there.
    if (auto tab = tab_in_indentation(yaml, e.mark)) {
      return to_error(name, *tab,
                      "YAML syntax error: a tab in the indentation (YAML indents "
                      "with spaces only)");
    }
    return to_error(name, at(e.mark), "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    return to_error(name, at(e.mark), "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return to_error(name, {}, std::string("cannot load the configuration: ") + e.what());
  }
}

constexpr std::uintmax_t file_bytes_max = 16u << 20;  // a config is kilobytes; refuse a disk

}  // namespace

load_result load_string(std::string_view yaml, const std::string& name_for_errors) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) {
    return to_error(name_for_errors, {},
                    "cannot resolve relative paths: no current directory: " + ec.message());
  }
  return load(yaml, name_for_errors, cwd);
}

load_result load_file(const std::string& path) {
  try {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return to_error(path, {}, "cannot read: is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) return to_error(path, {}, "cannot read: " + std::generic_category().message(errno));
    std::string text;
    std::array<char, std::size_t{64} * 1024> chunk{};
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
      text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
      if (text.size() > file_bytes_max) {
        return to_error(path, {}, "cannot read: larger than " + format_size(file_bytes_max));
      }
    }
    if (in.bad()) {
      return to_error(path, {}, "cannot read: " + std::generic_category().message(errno));
    }
    // Relative paths in the file mean relative to the file's folder, wherever the server was
    // started from; the folder is made canonical so that "../" follows the real tree.
    fs::path base = fs::absolute(fs::path(path), ec).parent_path();
    if (!ec) base = fs::canonical(base, ec);
    if (ec) return to_error(path, {}, "cannot resolve the config folder: " + ec.message());
    return load(text, path, base);
  } catch (const std::exception& e) {
    return to_error(path, {}, std::string("cannot read: ") + e.what());
  }
}

}  // namespace mailsim::config
