#include "reference-server/message/address.hpp"

#include "reference-server/message/lexer.hpp"

namespace mailsim::message {
namespace {

using detail::lexer;

// RFC 5322 §3.2.3 atext plus "." (obs-phrase, dot-atom); octets ≥ 0x80 are accepted as
// deployed mail has them.
bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u == 0x7F) return false;
  return std::string_view("()<>[]:;@\\,\"").find(c) == std::string_view::npos;
}

std::string read_atom(lexer& lx) {
  std::string out;
  while (!lx.done() && is_atom_char(lx.peek())) {
    out += lx.peek();
    lx.advance();
  }
  return out;
}

// A phrase or a local part: atoms and quoted strings up to the next special.
std::vector<std::string> read_words(lexer& lx) {
  std::vector<std::string> words;
  while (true) {
    lx.skip_cfws();
    if (lx.peek() == '"' && !lx.done()) {
      words.push_back(lx.quoted());
    } else if (std::string atom = read_atom(lx); !atom.empty()) {
      words.push_back(std::move(atom));
    } else {
      return words;
    }
  }
}

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += sep;
    out += words[i];
  }
  return out;
}

std::string read_domain(lexer& lx) {
  lx.skip_cfws();
  std::string out;
  if (lx.peek() == '[' && !lx.done()) {  // domain-literal, kept with its brackets
    while (!lx.done() && lx.peek() != ']') {
      if (lx.peek() != ' ' && lx.peek() != '\t') out += lx.peek();
      lx.advance();
    }
    if (lx.eat(']')) out += ']';
    return out;
  }
  // Atoms of a dot-atom may have CFWS between them (§4.4 obs-domain), but only around a
  // dot: "x . test" is one domain, "x.test junk" is a domain followed by junk.
  while (true) {
    const std::size_t before = lx.pos();
    lx.skip_cfws();
    std::string atom = read_atom(lx);
    const bool joins = out.empty() || out.back() == '.' || (!atom.empty() && atom.front() == '.');
    if (atom.empty() || !joins) {
      lx.seek(before);
      return out;
    }
    out += atom;
  }
}

// Obsolete source route (RFC 5322 §4.4 obs-route) "@a,@b:" before the addr-spec.
std::optional<std::string> read_route(lexer& lx) {
  lx.skip_cfws();
  const std::string_view rest = lx.rest();
  const std::size_t colon = rest.find(':');
  if (lx.peek() != '@' || colon == std::string_view::npos || colon > rest.find('>')) {
    return std::nullopt;  // "<@x>" is a mailbox without local part, not a route
  }
  std::string route;
  while (!lx.done() && lx.peek() != ':' && lx.peek() != '>') {
    if (lx.peek() != ' ' && lx.peek() != '\t') route += lx.peek();
    lx.advance();
  }
  lx.eat(':');
  return route;
}

void push_mailbox(std::vector<address>& out, address a, const std::string& local,
                  const std::string& domain) {
  if (local.empty() && domain.empty()) return;
  a.mailbox = local.empty() ? "MISSING_MAILBOX" : local;
  a.host = domain.empty() ? "MISSING_DOMAIN" : domain;
  out.push_back(std::move(a));
}

// The rest of a mailbox whose leading words have been read.
void read_mailbox_rest(lexer& lx, const std::vector<std::string>& words,
                       std::vector<address>& out) {
  address a;
  lx.skip_cfws();
  if (lx.eat('<')) {  // name-addr
    if (!words.empty()) a.name = join(words, " ");
    a.route = read_route(lx);
    const std::string local = join(read_words(lx), "");
    lx.skip_cfws();
    const std::string domain = lx.eat('@') ? read_domain(lx) : std::string();
    lx.skip_cfws();
    if (!lx.eat('>')) lx.skip_past('>');
    push_mailbox(out, std::move(a), local, domain);
    return;
  }
  const std::string local = join(words, "");
  std::string domain;
  if (lx.eat('@')) {
    domain = read_domain(lx);
    lx.skip_cfws();
    if (!lx.last_comment().empty()) a.name = lx.last_comment();  // "a@b (Name)"
  }
  push_mailbox(out, std::move(a), local, domain);
}

bool at_member_end(const lexer& lx) {
  return lx.done() || lx.peek() == ',' || lx.peek() == ';';
}

// After a member: skip anything unparsable up to the next separator.
void skip_junk(lexer& lx) {
  lx.skip_cfws();
  while (!at_member_end(lx)) {
    if (lx.peek() == '"') {
      (void)lx.quoted();
    } else {
      lx.advance();
    }
    lx.skip_cfws();
  }
}

void read_group(lexer& lx, std::string name, std::vector<address>& out) {
  address start;
  start.mailbox = std::move(name);
  out.push_back(std::move(start));
  while (true) {
    lx.skip_cfws();
    if (lx.done() || lx.eat(';')) break;
    if (lx.eat(',')) continue;
    lx.clear_comment();
    read_mailbox_rest(lx, read_words(lx), out);
    skip_junk(lx);
  }
  out.push_back(address{});
}

void read_address(lexer& lx, std::vector<address>& out) {
  lx.clear_comment();
  std::vector<std::string> words = read_words(lx);
  lx.skip_cfws();
  if (lx.eat(':')) {
    read_group(lx, join(words, " "), out);
  } else {
    read_mailbox_rest(lx, words, out);
  }
  skip_junk(lx);
}

}  // namespace

std::vector<address> parse_address_list(std::string_view value) {
  lexer lx(value);
  std::vector<address> out;
  while (true) {
    lx.skip_cfws();
    if (lx.done()) break;
    if (lx.eat(',') || lx.eat(';')) continue;  // obs-addr-list empty members
    const std::size_t before = lx.pos();
    read_address(lx, out);
    if (lx.pos() == before) lx.advance();  // guarantees progress on any input
  }
  return out;
}

}  // namespace mailsim::message
