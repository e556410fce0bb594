#include "reference-server/smtp/command.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace mailsim::smtp {
namespace {

char to_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = to_upper(c);
  return out;
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The next word of `text` at or after `at`, which moves past it; "" when none is left. Words
// are separated by runs of spaces: clients often send two spaces where one is meant.
std::string_view next_word(std::string_view text, std::size_t& at) {
  while (at < text.size() && text[at] == ' ') ++at;
  const std::size_t begin = at;
  at = std::min(text.find(' ', at), text.size());
  return text.substr(begin, at - begin);
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  for (std::string_view word = next_word(text, at); !word.empty(); word = next_word(text, at)) {
    words.push_back(word);
  }
  return words;
}

command_parse failed(command_error error, std::string detail) {
  command_parse result;
  result.error = error;
  result.detail = std::move(detail);
  return result;
}

command_parse syntax(std::string detail) {
  return failed(command_error::syntax, std::move(detail));
}

command_parse done(command&& cmd) {
  command_parse result;
  result.value = std::move(cmd);
  return result;
}

// Every handler gets the command with kind and argument set, and whether the line had an
// argument at all.
struct line_args {
  std::string_view text;  // after the verb and one space, trailing blanks removed
  bool present = false;
};
using handler = command_parse (*)(command&&, line_args, const command_options&);

// RFC 5321 §4.1.1.1: HELO takes a domain, but many clients send anything (a bare name, an
// IP without brackets, several words). Like Postfix, take any text; policy may judge it.
command_parse parse_helo(command&& cmd, line_args args, const command_options&) {
  const std::string_view name = trim_spaces(args.text);
  if (name.empty()) return syntax("Syntax: HELO hostname");
  cmd.helo_name = std::string(name);
  return done(std::move(cmd));
}

// RFC 5321 §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ). EHLO clients are
// newer and are held to the grammar (as Exim does); the name is kept as written.
command_parse parse_ehlo(command&& cmd, line_args args, const command_options& options) {
  const std::string_view name = trim_spaces(args.text);
  if (name.empty()) return syntax("Syntax: EHLO hostname");
  if (!is_valid_domain(name, options.allow_utf8)) {
    return syntax("Syntax: EHLO hostname (a domain or address literal)");
  }
  cmd.helo_name = std::string(name);
  return done(std::move(cmd));
}

// RFC 5321 §4.1.2 esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 §3.3 adds UTF-8.
bool is_valid_param_value(std::string_view value, bool allow_utf8) {
  if (value.empty()) return false;
  bool non_ascii = false;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      non_ascii = true;
    } else if (u < 33 || u > 126 || c == '=') {
      return false;
    }
  }
  return !non_ascii || (allow_utf8 && is_valid_utf8(value));
}

// RFC 5321 §4.1.2 esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
bool is_valid_param_keyword(std::string_view keyword) {
  if (keyword.empty() || !is_alnum(keyword.front())) return false;
  for (char c : keyword) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

// RFC 5321 §4.1.2 Mail-parameters = esmtp-param *(SP esmtp-param), esmtp-param =
// esmtp-keyword ["=" esmtp-value]. A keyword given twice is refused: its meaning is unclear.
std::string parse_params(std::string_view text, const command_options& options,
                         std::vector<esmtp_param>& out) {
  std::size_t at = 0;
  for (std::string_view word = next_word(text, at); !word.empty(); word = next_word(text, at)) {
    const std::size_t eq = word.find('=');
    const std::string_view keyword = word.substr(0, eq);
    if (!is_valid_param_keyword(keyword)) return "Syntax: parameter keyword[=value]";
    esmtp_param param{upper(keyword), std::nullopt};
    if (eq != std::string_view::npos) {
      const std::string_view value = word.substr(eq + 1);
      if (!is_valid_param_value(value, options.allow_utf8)) {
        return "Syntax: parameter " + param.keyword + "=value";
      }
      param.value = std::string(value);
    }
    for (const esmtp_param& seen : out) {
      if (seen.keyword == param.keyword) return "Duplicate parameter " + param.keyword;
    }
    out.push_back(std::move(param));
  }
  return {};
}

// MAIL FROM:<reverse-path> [SP Mail-parameters] and RCPT TO:<forward-path> [SP
// Rcpt-parameters], RFC 5321 §4.1.1.2 and §4.1.1.3. §3.3 forbids a space after the colon,
// but many clients send one, and every common MTA accepts it.
command_parse parse_path_command(command&& cmd, std::string_view text, std::string_view prefix,
                                 const address_options& address, const command_options& options) {
  // Made only for a refusal: every MAIL and RCPT of a session passes here.
  const auto usage = [&cmd, prefix] {
    return "Syntax: " + std::string(verb_name(cmd.kind)) + " " + std::string(prefix) + "<address>";
  };
  if (!istarts_with(text, prefix)) return syntax(usage());
  text.remove_prefix(prefix.size());
  path_parse parsed = parse_path(text, address);
  if (!parsed.value) return syntax(usage() + " (" + parsed.error + ")");
  // RFC 6531 §3.4: a non-ASCII address is only allowed when SMTPUTF8 was offered.
  if (parsed.value->box.utf8 && !options.allow_utf8) {
    return failed(command_error::utf8_not_allowed, "Non-ASCII address needs SMTPUTF8");
  }
  cmd.address = std::move(*parsed.value);
  const std::string_view rest = text.substr(parsed.consumed);
  if (!rest.empty() && rest.front() != ' ') return syntax(usage());
  std::string error = parse_params(rest, options, cmd.params);
  if (!error.empty()) return syntax(std::move(error));
  return done(std::move(cmd));
}

command_parse parse_mail(command&& cmd, line_args args, const command_options& options) {
  address_options address;
  address.allow_null = true;  // RFC 5321 §4.5.5: bounces use the null reverse-path
  return parse_path_command(std::move(cmd), args.text, "FROM:", address, options);
}

command_parse parse_rcpt(command&& cmd, line_args args, const command_options& options) {
  address_options address;
  address.allow_postmaster_bare = true;  // RFC 5321 §4.1.1.3
  return parse_path_command(std::move(cmd), args.text, "TO:", address, options);
}

// DATA, RSET, QUIT and STARTTLS take no argument (RFC 5321 §4.1.1.4, §4.1.1.5, §4.1.1.10;
// RFC 3207 §4).
command_parse parse_no_argument(command&& cmd, line_args args, const command_options&) {
  if (args.present) return syntax("Syntax: " + std::string(verb_name(cmd.kind)));
  return done(std::move(cmd));
}

// NOOP and HELP take an optional string (RFC 5321 §4.1.1.8, §4.1.1.9); it is kept in
// argument and otherwise ignored.
command_parse parse_optional_argument(command&& cmd, line_args, const command_options&) {
  return done(std::move(cmd));
}

// VRFY and EXPN need a string (RFC 5321 §4.1.1.6, §4.1.1.7). Any text is kept: what it
// names is the policy's business.
command_parse parse_required_argument(command&& cmd, line_args args, const command_options&) {
  if (trim_spaces(args.text).empty()) {
    return syntax(cmd.kind == verb::vrfy ? "Syntax: VRFY address" : "Syntax: EXPN mailing-list");
  }
  return done(std::move(cmd));
}

// RFC 3030 §2: bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ], chunk-size = 1*DIGIT,
// end-marker = "LAST".
command_parse parse_bdat(command&& cmd, line_args args, const command_options&) {
  constexpr std::string_view usage = "Syntax: BDAT size [LAST]";
  const std::vector<std::string_view> words = split_words(args.text);
  if (words.empty() || words.size() > 2) return syntax(std::string(usage));
  std::uint64_t size = 0;
  constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  for (char c : words[0]) {
    if (!is_digit(c)) return syntax(std::string(usage));
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (size > (max - digit) / 10) return syntax("BDAT size too large");
    size = size * 10 + digit;
  }
  if (words.size() == 2 && !iequals(words[1], "LAST")) return syntax(std::string(usage));
  cmd.bdat_size = size;
  cmd.bdat_last = words.size() == 2;
  return done(std::move(cmd));
}

// RFC 4954 §8: sasl-mech = 1*20mech-char, mech-char = UPPER-ALPHA / DIGIT / "-" / "_".
// Lower-case is accepted and upper-cased, as verbs are.
bool is_valid_mechanism(std::string_view mechanism) {
  if (mechanism.empty() || mechanism.size() > 20) return false;
  for (char c : mechanism) {
    if (!is_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

// RFC 4954 §4: initial-response = base64 / "="; base64 = base64-terminal /
// ( 1*(4base64-char) [base64-terminal] ), so whole quads with padding only at the end.
bool is_valid_initial_response(std::string_view text) {
  if (text == "=") return true;
  if (text.empty() || text.size() % 4 != 0) return false;
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    const char c = text[i];
    if (!is_alnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

// RFC 4954 §4: AUTH mechanism [initial-response].
command_parse parse_auth(command&& cmd, line_args args, const command_options&) {
  constexpr std::string_view usage = "Syntax: AUTH mechanism [initial-response]";
  const std::vector<std::string_view> words = split_words(args.text);
  if (words.empty() || words.size() > 2) return syntax(std::string(usage));
  if (!is_valid_mechanism(words[0])) return syntax(std::string(usage));
  cmd.auth_mechanism = upper(words[0]);
  if (words.size() == 2) {
    if (!is_valid_initial_response(words[1]))
      return syntax("Syntax: initial response is base64 or =");
    cmd.auth_initial_response = std::string(words[1]);
  }
  return done(std::move(cmd));
}

struct verb_entry {
  std::string_view name;
  verb kind;
  handler parse;
};

// The one dispatch table of the command parser: name, verb, argument grammar.
constexpr std::array<verb_entry, 14> verb_table = {{
    {"HELO", verb::helo, parse_helo},
    {"EHLO", verb::ehlo, parse_ehlo},
    {"MAIL", verb::mail, parse_mail},
    {"RCPT", verb::rcpt, parse_rcpt},
    {"DATA", verb::data, parse_no_argument},
    {"BDAT", verb::bdat, parse_bdat},
    {"RSET", verb::rset, parse_no_argument},
    {"NOOP", verb::noop, parse_optional_argument},
    {"QUIT", verb::quit, parse_no_argument},
    {"VRFY", verb::vrfy, parse_required_argument},
    {"EXPN", verb::expn, parse_required_argument},
    {"HELP", verb::help, parse_optional_argument},
    {"STARTTLS", verb::starttls, parse_no_argument},
    {"AUTH", verb::auth, parse_auth},
}};

// Commands are text: a control character (NUL, a bare CR, ESC...) means the client is
// confused or probing, and nothing after it can be trusted. HTAB is tolerated as a blank.
bool has_control_character(std::string_view line) {
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string_view verb_name(verb v) {
  for (const verb_entry& entry : verb_table) {
    if (entry.kind == v) return entry.name;
  }
  return "UNKNOWN";
}

const esmtp_param* command::param(std::string_view keyword) const {
  for (const esmtp_param& p : params) {
    if (iequals(p.keyword, keyword)) return &p;
  }
  return nullptr;
}

command_parse parse_command(std::string_view line, const command_options& options) {
  if (has_control_character(line)) return syntax("Syntax: control character in command");
  // Trailing blanks are dropped: some clients add them, and no argument ends in one.
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.empty()) return syntax("Syntax: empty command");
  const std::size_t space = line.find(' ');
  const std::string_view name = line.substr(0, space);
  line_args args;
  if (space != std::string_view::npos) args = {line.substr(space + 1), true};
  for (const verb_entry& entry : verb_table) {
    if (!iequals(entry.name, name)) continue;  // RFC 5321 §2.4: verbs are case-insensitive
    command cmd;
    cmd.kind = entry.kind;
    // MAIL and RCPT, most of a session's commands, keep their parts in address and params.
    if (entry.kind != verb::mail && entry.kind != verb::rcpt) cmd.argument = args.text;
    return entry.parse(std::move(cmd), args, options);
  }
  return failed(command_error::unknown_command, "Error: command not recognized");
}

}  // namespace mailsim::smtp
