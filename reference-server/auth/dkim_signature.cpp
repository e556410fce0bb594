#include "reference-server/auth/dkim_signature.hpp"

#include <charconv>
#include <unordered_map>

#include "reference-server/auth/digest.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {

// UTF-8 octets are allowed for internationalized names (RFC 8616 §4).
bool is_valid_domain(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos)
    return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
              c == '-' || c == '_' || c == '.' || u >= 0x80;
    if (!ok) return false;
  }
  return true;
}

bool identity_within(std::string_view identity, std::string_view domain) {
  std::size_t at = identity.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string host = to_lower(identity.substr(at + 1));
  if (host == domain) return true;
  return host.size() > domain.size() + 1 &&
         host.compare(host.size() - domain.size(), domain.size(), domain) == 0 &&
         host[host.size() - domain.size() - 1] == '.';
}

namespace {

template <typename T>
std::optional<T> number(std::string_view s, std::size_t digits_max) {
  if (s.empty() || s.size() > digits_max) return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.front() == '+' || s.front() == '-')
    return std::nullopt;
  return value;
}

bool parse_canon(std::string_view word, canon& out) {
  if (word == "simple") {
    out = canon::simple;
  } else if (word == "relaxed") {
    out = canon::relaxed;
  } else {
    return false;
  }
  return true;
}

// §3.5 c=: "header/body", or "header" alone with the body simple.
bool parse_canonicalization(std::string_view value, dkim_signature& sig) {
  std::size_t slash = value.find('/');
  if (slash == std::string_view::npos) {
    sig.body_canon = canon::simple;
    return parse_canon(value, sig.header_canon);
  }
  return parse_canon(value.substr(0, slash), sig.header_canon) &&
         parse_canon(value.substr(slash + 1), sig.body_canon);
}

// Reads the tags that name the signature (a=, d=, s=, b=), so that even a refused signature
// can be reported with them.
void read_names(const tag_list& tags, dkim_signature& sig) {
  if (const tag* a = tags.find("a")) sig.algorithm_text = std::string(a->value);
  if (const tag* d = tags.find("d")) sig.domain = to_lower(d->value);
  if (const tag* s = tags.find("s")) sig.selector = std::string(s->value);
  if (const tag* b = tags.find("b")) sig.signature_text = remove_fws(b->value);
}

std::string check_required(const tag_list& tags) {
  for (const char* name : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (tags.find(name) == nullptr) return std::string("missing tag ") + name + "=";
  }
  return {};
}

std::string read_algorithm(const tag_list& tags, dkim_signature& sig) {
  if (tags.find("v")->value != "1") return "unsupported version";
  std::string_view a = tags.find("a")->value;
  if (a == "rsa-sha256") {
    sig.algorithm = dkim_algorithm::rsa_sha256;
  } else if (a == "ed25519-sha256") {
    sig.algorithm = dkim_algorithm::ed25519_sha256;
  } else if (a == "rsa-sha1") {
    return "rsa-sha1 not accepted (RFC 8301)";
  } else {
    return "unsupported algorithm";
  }
  if (const tag* c = tags.find("c"); c != nullptr && !parse_canonicalization(c->value, sig))
    return "unsupported canonicalization";
  return {};
}

std::string read_names_and_hashes(const tag_list& tags, dkim_signature& sig) {
  if (!is_valid_domain(sig.domain)) return "bad d= value";
  if (!is_valid_domain(sig.selector)) return "bad s= value";
  bool from_signed = false;
  for (std::string_view name : split_list(tags.find("h")->value, ':')) {
    if (name.empty()) return "bad h= value";
    sig.headers.push_back(to_lower(name));
    from_signed = from_signed || sig.headers.back() == "from";
  }
  if (!from_signed) return "From not signed";  // §5.4: From MUST be signed
  std::optional<std::string> bh = core::base64_decode(remove_fws(tags.find("bh")->value));
  if (!bh || bh->size() != detail::sha256_bytes) return "bad bh= value";
  sig.body_hash = std::move(*bh);
  std::optional<std::string> b = core::base64_decode(sig.signature_text);
  if (!b || b->empty()) return "bad b= value";
  sig.signature = std::move(*b);
  return {};
}

std::string read_options(const tag_list& tags, dkim_signature& sig) {
  sig.identity = "@" + sig.domain;
  if (const tag* i = tags.find("i")) {
    if (!identity_within(i->value, sig.domain)) return "i= not within d=";
    sig.identity = std::string(i->value);
  }
  if (const tag* l = tags.find("l")) {
    sig.body_length = number<std::uint64_t>(l->value, 76);
    if (!sig.body_length) return "bad l= value";
  }
  if (const tag* q = tags.find("q")) {
    bool dns_txt = false;
    for (std::string_view method : split_list(q->value, ':'))
      dns_txt = dns_txt || method == "dns/txt";
    if (!dns_txt) return "unsupported query method";
  }
  if (const tag* t = tags.find("t")) {
    sig.timestamp = number<std::int64_t>(t->value, 12);
    if (!sig.timestamp) return "bad t= value";
  }
  if (const tag* x = tags.find("x")) {
    sig.expiration = number<std::int64_t>(x->value, 12);
    if (!sig.expiration) return "bad x= value";
    // §3.5 x=: it MUST be greater than t= when both are present.
    if (sig.timestamp && *sig.expiration < *sig.timestamp) return "x= before t=";
  }
  return {};
}

}  // namespace

const char* to_string(dkim_algorithm a) {
  return a == dkim_algorithm::rsa_sha256 ? "rsa-sha256" : "ed25519-sha256";
}

key_type key_type_of(dkim_algorithm a) {
  return a == dkim_algorithm::rsa_sha256 ? key_type::rsa : key_type::ed25519;
}

signature_parse_result parse_signature(std::string_view raw_field) {
  signature_parse_result out;
  std::size_t colon = raw_field.find(':');
  if (colon == std::string_view::npos) {
    out.error = "signature syntax error";
    return out;
  }
  std::string_view value = raw_field.substr(colon + 1);
  if (value.size() >= 2 && value.substr(value.size() - 2) == "\r\n") value.remove_suffix(2);
  tag_list tags = parse_tag_list(value);
  if (!tags.ok()) {
    out.error = "signature syntax error";
    return out;
  }
  dkim_signature& sig = out.signature;
  read_names(tags, sig);
  if (const tag* b = tags.find("b")) {
    sig.b_region_begin = colon + 1 + b->region_begin;
    sig.b_region_end = colon + 1 + b->region_end;
  }
  out.error = check_required(tags);
  if (out.error.empty()) out.error = read_algorithm(tags, sig);
  if (out.error.empty()) out.error = read_names_and_hashes(tags, sig);
  if (out.error.empty()) out.error = read_options(tags, sig);
  return out;
}

std::string without_b_value(std::string_view raw_field, const dkim_signature& sig) {
  std::string out(raw_field.substr(0, sig.b_region_begin));
  out.append(raw_field.substr(sig.b_region_end));
  return out;
}

std::string header_digest(const message_parts& parts,
                          const std::vector<std::string>& signed_headers, canon c,
                          std::string_view unsigned_field, const header_field* self) {
  // Instances of each name, top to bottom, with how many are used (taken from the bottom).
  // Built once so that a long h= over many fields costs one pass, not their product.
  struct instances {
    std::vector<const header_field*> fields;
    std::size_t used = 0;
  };
  std::unordered_map<std::string, instances> by_name;
  for (const std::string& name : signed_headers) by_name.try_emplace(name);
  for (const header_field& f : parts.fields) {
    if (&f == self) continue;
    auto it = by_name.find(to_lower(f.name));
    if (it != by_name.end()) it->second.fields.push_back(&f);
  }
  std::string data;
  for (const std::string& name : signed_headers) {
    instances& i = by_name[name];
    if (i.used < i.fields.size()) {
      canonicalize_header(c, i.fields[i.fields.size() - 1 - i.used]->raw, data);
    }
    ++i.used;
  }
  std::string field;
  canonicalize_header(c, unsigned_field, field);
  if (field.ends_with("\r\n")) field.resize(field.size() - 2);
  data.append(field);
  return detail::sha256(data);
}

std::optional<std::string> body_digest(std::string_view canonical_body,
                                       std::optional<std::uint64_t> length) {
  if (length) {
    if (*length > canonical_body.size()) return std::nullopt;
    canonical_body = canonical_body.substr(0, static_cast<std::size_t>(*length));
  }
  return detail::sha256(canonical_body);
}

}  // namespace mailsim::auth
