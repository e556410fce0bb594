// Fuzz target: DKIM-Signature parsing and canonicalization (reference-server/auth
// tag_list.hpp, dkim_signature.hpp, canonicalization.hpp). Byte 0 modulo 4 chooses what
// the rest (up to 64 KiB) is, so seeds start with a digit:
//   '0' a tag list            parse_tag_list, remove_fws, split_list
//   '1' one header field      parse_signature, without_b_value
//   '2' a message             split_message, canonicalize_header, canonicalize_body
//   '3' a signed message      each DKIM-Signature field parsed, then header_digest and
//                             body_digest as a verifier computes them
// Checked beyond the sanitizers: tag views and regions lie inside the text, names are
// unique; an accepted signature has what RFC 6376 §6.1.1 requires; the fields and body of
// split_message() tile the message; canonical bodies end as §3.4.3/§3.4.4 say and
// canonicalizing twice changes nothing; digests are 32 octets; body_digest() refuses only
// an l= longer than the canonical body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/auth/tag_list.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 64u << 10;
constexpr std::size_t signatures_max = 8;  // per message, as a verifier would cap them

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "dkim_signature property violated: %s\n", what);
  std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void tag_list_mode(std::string_view text) {
  const auth::tag_list tags = auth::parse_tag_list(text);
  if (!tags.ok()) {
    require(tags.tags.empty(), "a refused tag list keeps tags");
    return;
  }
  std::set<std::string_view> names;
  for (const auth::tag& t : tags.tags) {
    require(!t.name.empty() && inside(t.name, text), "tag name outside the text");
    require(names.insert(t.name).second, "a tag named twice was accepted");
    require(t.region_begin <= t.region_end && t.region_end <= text.size(), "bad tag region");
    if (!t.value.empty()) {
      const auto offset = static_cast<std::size_t>(t.value.data() - text.data());
      require(inside(t.value, text) && offset >= t.region_begin &&
                  offset + t.value.size() <= t.region_end,
              "tag value outside its region");
    }
    require(tags.find(t.name) == &t, "find() does not give the tag");
    const std::string compact = auth::remove_fws(t.value);
    require(compact.find_first_of(" \t\r\n") == std::string::npos, "remove_fws left FWS");
    std::size_t colons = 0;
    for (const char c : t.value) colons += c == ':' ? 1 : 0;
    require(auth::split_list(t.value, ':').size() == colons + 1, "split_list lost an item");
  }
}

void signature_mode(std::string_view raw) {
  const auth::signature_parse_result r = auth::parse_signature(raw);
  const auth::dkim_signature& sig = r.signature;
  require(sig.b_region_begin <= sig.b_region_end && sig.b_region_end <= raw.size(),
          "b= region outside the field");
  const std::string unsigned_field = auth::without_b_value(raw, sig);
  require(unsigned_field.size() == raw.size() - (sig.b_region_end - sig.b_region_begin),
          "without_b_value removed the wrong amount");
  if (!r.ok()) return;
  require(auth::is_valid_domain(sig.domain) && auth::is_valid_domain(sig.selector),
          "accepted an invalid d= or s=");
  bool from = false;
  for (const std::string& h : sig.headers) from = from || h == "from";
  require(from, "accepted a signature that does not sign From");
  require(sig.body_hash.size() == 32 && !sig.signature.empty(), "bad bh= or b= accepted");
  require(auth::identity_within(sig.identity, sig.domain), "i= not within d= accepted");
  require(!sig.timestamp || !sig.expiration || *sig.expiration >= *sig.timestamp,
          "x= before t= accepted");
}

void check_body(auth::canon c, std::string_view body) {
  const std::string once = auth::canonicalize_body(c, body);
  require(auth::canonicalize_body(c, once) == once, "body canonicalization is not idempotent");
  if (c == auth::canon::simple) {
    require(once.ends_with("\r\n"), "simple body without a final CRLF");
    require(once == "\r\n" || !once.ends_with("\r\n\r\n"), "simple body keeps empty lines");
  } else {
    require(once.empty() || once.ends_with("\r\n"), "relaxed body without a final CRLF");
    require(!once.ends_with("\r\n\r\n") && once != "\r\n", "relaxed body keeps empty lines");
    require(once.find('\t') == std::string::npos, "relaxed body keeps a TAB");
    require(once.find(" \r\n") == std::string::npos, "relaxed body keeps trailing WSP");
  }
}

auth::message_parts check_split(std::string_view message) {
  const auth::message_parts parts = auth::split_message(message);
  std::size_t covered = 0;
  for (const auth::header_field& f : parts.fields) {
    require(f.raw.data() == message.data() + covered && !f.raw.empty(), "fields do not tile");
    require(f.raw.substr(0, f.name.size()) == f.name, "field name is not the field's start");
    covered += f.raw.size();
  }
  require(covered == message.size() || covered + 2 + parts.body.size() == message.size(),
          "fields and body do not make up the message");
  return parts;
}

void message_mode(std::string_view message) {
  const auth::message_parts parts = check_split(message);
  for (const auth::header_field& f : parts.fields) {
    std::string simple, relaxed;
    auth::canonicalize_header(auth::canon::simple, f.raw, simple);
    auth::canonicalize_header(auth::canon::relaxed, f.raw, relaxed);
    require(simple == f.raw, "simple header canonicalization changed the field");
    require(relaxed.ends_with("\r\n") && relaxed.find(':') != std::string::npos,
            "relaxed header is not name:value CRLF");
  }
  check_body(auth::canon::simple, parts.body);
  check_body(auth::canon::relaxed, parts.body);
}

// What a verifier computes for each signature before it needs a key.
void signed_message_mode(std::string_view message) {
  const auth::message_parts parts = check_split(message);
  std::size_t seen = 0;
  for (const auth::header_field& f : parts.fields) {
    if (!auth::iequals(f.name, auth::dkim_signature_name)) continue;
    if (++seen > signatures_max) break;
    const auth::signature_parse_result r = auth::parse_signature(f.raw);
    const std::string unsigned_field = auth::without_b_value(f.raw, r.signature);
    for (const auth::canon c : {auth::canon::simple, auth::canon::relaxed}) {
      require(auth::header_digest(parts, r.signature.headers, c, unsigned_field, &f).size() == 32,
              "header digest is not 32 octets");
    }
    if (!r.ok()) continue;
    const std::string body = auth::canonicalize_body(r.signature.body_canon, parts.body);
    const std::optional<std::string> digest = auth::body_digest(body, r.signature.body_length);
    const bool too_long = r.signature.body_length && *r.signature.body_length > body.size();
    require(digest.has_value() != too_long, "body_digest refused the wrong l=");
    require(!digest || digest->size() == 32, "body digest is not 32 octets");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max + 1) return 0;
  fuzz::input in(data, size);
  const std::uint8_t mode = in.byte();
  const std::string_view text = in.rest();
  switch (mode % 4) {
    case 0:
      tag_list_mode(text);
      break;
    case 1:
      signature_mode(text);
      break;
    case 2:
      message_mode(text);
      break;
    default:
      signed_message_mode(text);
      break;
  }
  return 0;
}
