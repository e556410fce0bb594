// ARC fields and chain structure (RFC 8617 §4.1, §4.2, §5.2 steps 1 to 3).
#include <algorithm>
#include <charconv>

#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/digest.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

enum class arc_kind { aar, ams, seal };

std::optional<arc_kind> kind_of(std::string_view name) {
  if (iequals(name, arc_authentication_results_name)) return arc_kind::aar;
  if (iequals(name, arc_message_signature_name)) return arc_kind::ams;
  if (iequals(name, arc_seal_name)) return arc_kind::seal;
  return std::nullopt;
}

const char* name_of(arc_kind k) {
  switch (k) {
    case arc_kind::aar:
      return "ARC-Authentication-Results";
    case arc_kind::ams:
      return "ARC-Message-Signature";
    case arc_kind::seal:
      return "ARC-Seal";
  }
  return "";
}

template <typename T>
std::optional<T> decimal(std::string_view s, std::size_t digits_max) {
  if (s.empty() || s.size() > digits_max || s.front() < '0' || s.front() > '9') return std::nullopt;
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// An instance number: 1 to 999 (three digits keep garbage like i=4294967297 from wrapping;
// the chain check applies the RFC's 50).
std::optional<unsigned> instance_number(std::string_view s) {
  std::optional<unsigned> n = decimal<unsigned>(s, 3);
  if (!n || *n == 0) return std::nullopt;
  return n;
}

// The value after the colon, without the final CRLF; `offset` is where it starts in `raw`.
std::string_view field_value(std::string_view raw, std::size_t& offset) {
  std::size_t colon = raw.find(':');
  if (colon == std::string_view::npos) return {};
  offset = colon + 1;
  std::string_view value = raw.substr(offset);
  if (value.ends_with("\r\n")) value.remove_suffix(2);
  return value;
}

// The raw field with the value region of `b` (offsets into the value at `offset`) deleted.
std::string without_region(std::string_view raw, std::size_t offset, const tag& b) {
  std::string out(raw.substr(0, offset + b.region_begin));
  out.append(raw.substr(offset + b.region_end));
  return out;
}

bool is_fws_char(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 8617 §4.1.1: the AAR value starts with "i=N;" before the RFC 8601 payload.
std::optional<unsigned> aar_instance(std::string_view value) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < value.size() && is_fws_char(value[i])) ++i;
  };
  skip();
  if (i >= value.size() || value[i] != 'i') return std::nullopt;
  ++i;
  skip();
  if (i >= value.size() || value[i] != '=') return std::nullopt;
  ++i;
  skip();
  std::size_t begin = i;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') ++i;
  std::string_view digits = value.substr(begin, i - begin);
  skip();
  if (i >= value.size() || value[i] != ';') return std::nullopt;
  return instance_number(digits);
}

std::string cv_of(const header_field& seal) {
  std::size_t offset = 0;
  tag_list tags = parse_tag_list(field_value(seal.raw, offset));
  const tag* cv = tags.find("cv");
  return cv != nullptr ? to_lower(cv->value) : std::string();
}

struct found_field {
  unsigned instance;
  arc_kind kind;
  const header_field* field;
};

// Step 1 and the size bounds: collects the readable fields; sets `error` on the first problem.
std::vector<found_field> collect(const message_parts& parts, const arc_limits& limits,
                                 arc_chain& out) {
  std::vector<found_field> found;
  std::size_t bytes = 0;
  std::string unreadable;
  for (const header_field& f : parts.fields) {
    std::optional<arc_kind> kind = kind_of(f.name);
    if (!kind) continue;
    ++out.fields;
    bytes += f.raw.size();
    if (out.error.empty() && f.raw.size() > limits.field_bytes_max)
      out.error = std::string(name_of(*kind)) + " field over the size limit";
    if (out.error.empty() && bytes > limits.chain_bytes_max)
      out.error = "ARC fields over the size limit";
    // Three fields per set: more than that for 50 sets means too many sets or duplicates.
    if (out.fields > 3 * arc_instances_max) {
      if (out.error.empty()) out.error = "more than 50 ARC sets";
      continue;
    }
    std::optional<unsigned> i = arc_instance_of(f);
    if (!i) {
      if (unreadable.empty()) unreadable = std::string(name_of(*kind)) + " without a valid i= tag";
      continue;
    }
    out.highest_instance = std::max(out.highest_instance, *i);
    found.push_back({*i, *kind, &f});
  }
  if (out.error.empty() && out.highest_instance > arc_instances_max)
    out.error = "more than 50 ARC sets";  // §5.2 step 1
  if (out.error.empty()) out.error = unreadable;
  return found;
}

// Groups the fields by instance; notes the first duplicate.
std::string group(std::vector<found_field>& found, arc_chain& out) {
  std::stable_sort(found.begin(), found.end(), [](const found_field& a, const found_field& b) {
    return a.instance < b.instance;
  });
  std::string duplicate;
  for (const found_field& f : found) {
    if (out.sets.empty() || out.sets.back().instance != f.instance)
      out.sets.push_back(arc_set_fields{f.instance});
    arc_set_fields& s = out.sets.back();
    const header_field*& slot =
        f.kind == arc_kind::aar ? s.aar : (f.kind == arc_kind::ams ? s.ams : s.seal);
    if (slot != nullptr && duplicate.empty())
      duplicate = "i=" + std::to_string(f.instance) + ": two " + name_of(f.kind) + " fields";
    if (slot == nullptr) slot = f.field;
  }
  return duplicate;
}

// §4.2 / §5.2 step 3: complete sets 1..N, no repetition, cv=none on 1 and pass above.
std::string check_sets(const arc_chain& chain) {
  for (std::size_t k = 0; k < chain.sets.size(); ++k) {
    const arc_set_fields& s = chain.sets[k];
    std::string at = "i=" + std::to_string(k + 1) + ": ";
    if (s.instance != k + 1) return at + "no ARC set (instances must run 1..N)";
    if (s.aar == nullptr) return at + "no ARC-Authentication-Results";
    if (s.ams == nullptr) return at + "no ARC-Message-Signature";
    if (s.seal == nullptr) return at + "no ARC-Seal";
    std::string cv = cv_of(*s.seal);
    const char* wanted = k == 0 ? "none" : "pass";
    if (cv != wanted)
      return at + "cv=" + (cv.empty() ? "(missing)" : cv) + " (must be " + wanted + ")";
  }
  return {};
}

}  // namespace

std::optional<unsigned> arc_instance_of(const header_field& field) {
  std::optional<arc_kind> kind = kind_of(field.name);
  if (!kind) return std::nullopt;
  std::size_t offset = 0;
  std::string_view value = field_value(field.raw, offset);
  if (*kind == arc_kind::aar) return aar_instance(value);
  tag_list tags = parse_tag_list(value);
  const tag* i = tags.find("i");
  return i != nullptr ? instance_number(i->value) : std::nullopt;
}

arc_chain parse_arc_chain(const message_parts& parts, const arc_limits& limits) {
  arc_chain out;
  std::vector<found_field> found = collect(parts, limits, out);
  std::string duplicate = group(found, out);
  if (!out.sets.empty() && out.sets.back().instance == out.highest_instance &&
      out.sets.back().seal != nullptr)
    out.newest_cv = cv_of(*out.sets.back().seal);
  if (out.fields == 0 || !out.error.empty()) return out;
  // §5.2 step 2 comes before the structure check of step 3.
  if (out.newest_cv == "fail") {
    out.error = "i=" + std::to_string(out.highest_instance) + ": ARC-Seal has cv=fail";
  } else if (!duplicate.empty()) {
    out.error = duplicate;
  } else {
    out.error = check_sets(out);
  }
  return out;
}

arc_seal_tags parse_arc_seal(std::string_view raw_field) {
  arc_seal_tags out;
  std::size_t offset = 0;
  tag_list tags = parse_tag_list(field_value(raw_field, offset));
  if (offset == 0 || !tags.ok()) {
    out.error = "signature syntax error";
    return out;
  }
  if (const tag* a = tags.find("a")) out.algorithm_text = std::string(a->value);
  if (const tag* d = tags.find("d")) out.domain = to_lower(d->value);
  if (const tag* s = tags.find("s")) out.selector = std::string(s->value);
  if (const tag* b = tags.find("b")) out.signature_text = remove_fws(b->value);
  if (const tag* cv = tags.find("cv")) out.cv = to_lower(cv->value);
  for (const char* name : {"i", "cv", "a", "b", "d", "s"}) {
    if (tags.find(name) == nullptr) {
      out.error = std::string("missing tag ") + name + "=";
      return out;
    }
  }
  out.without_b = without_region(raw_field, offset, *tags.find("b"));
  std::optional<unsigned> i = instance_number(tags.find("i")->value);
  out.instance = i.value_or(0);
  std::optional<std::string> b = core::base64_decode(out.signature_text);
  const tag* t = tags.find("t");
  if (t != nullptr) out.timestamp = decimal<std::int64_t>(t->value, 12);
  // RFC 8617 §4.1.3: the AS signs a fixed set of fields, so h= has no place in it.
  if (tags.find("h") != nullptr) {
    out.error = "h= not allowed in ARC-Seal";
  } else if (!i) {
    out.error = "bad i= value";
  } else if (out.cv != "none" && out.cv != "pass" && out.cv != "fail") {
    out.error = "bad cv= value";
  } else if (out.algorithm_text == to_string(dkim_algorithm::rsa_sha256)) {
    out.algorithm = dkim_algorithm::rsa_sha256;
  } else if (out.algorithm_text == to_string(dkim_algorithm::ed25519_sha256)) {
    out.algorithm = dkim_algorithm::ed25519_sha256;
  } else {
    out.error = out.algorithm_text == "rsa-sha1" ? "rsa-sha1 not accepted (RFC 8301)"
                                                 : "unsupported algorithm";
  }
  if (!out.error.empty()) return out;
  if (!is_valid_domain(out.domain)) {
    out.error = "bad d= value";
  } else if (!is_valid_domain(out.selector)) {
    out.error = "bad s= value";
  } else if (!b || b->empty()) {
    out.error = "bad b= value";
  } else if (t != nullptr && !out.timestamp) {
    out.error = "bad t= value";
  } else {
    out.signature = std::move(*b);
  }
  return out;
}

arc_ams_tags parse_arc_message_signature(std::string_view raw_field) {
  arc_ams_tags out;
  std::size_t offset = 0;
  tag_list tags = parse_tag_list(field_value(raw_field, offset));
  if (offset == 0 || !tags.ok()) {
    out.parsed.error = "signature syntax error";
    return out;
  }
  // The AMS is a DKIM-Signature but for i= and v= (RFC 8617 §4.1.2): rewritten as one, it
  // goes through the DKIM parser and gets the same checks and reasons.
  std::string as_dkim = std::string(dkim_signature_name) + ": v=1";
  for (const tag& t : tags.tags) {
    if (t.name == "i" || t.name == "v") continue;
    as_dkim.append("; ").append(t.name).append("=").append(t.value);
  }
  out.parsed = parse_signature(as_dkim);
  out.parsed.signature.identity.clear();
  out.parsed.signature.b_region_begin = out.parsed.signature.b_region_end = 0;
  if (const tag* b = tags.find("b")) out.without_b = without_region(raw_field, offset, *b);
  const tag* i = tags.find("i");
  std::optional<unsigned> n = i != nullptr ? instance_number(i->value) : std::nullopt;
  out.instance = n.value_or(0);
  if (!out.parsed.ok()) return out;
  const std::vector<std::string>& h = out.parsed.signature.headers;
  if (i == nullptr) {
    out.parsed.error = "missing tag i=";
  } else if (!n) {
    out.parsed.error = "bad i= value";
  } else if (std::find(h.begin(), h.end(), "arc-seal") != h.end()) {
    out.parsed.error = "h= lists ARC-Seal";  // RFC 8617 §4.1.2
  }
  return out;
}

std::string arc_seal_digest(const std::vector<std::string_view>& covered,
                            std::string_view unsigned_seal) {
  std::string data;
  for (std::string_view f : covered) canonicalize_header(canon::relaxed, f, data);
  return arc_seal_digest_after(data, unsigned_seal);
}

std::string arc_seal_digest_after(std::string_view canonical_covered,
                                  std::string_view unsigned_seal) {
  std::string data(canonical_covered);
  canonicalize_header(canon::relaxed, unsigned_seal, data);
  if (data.ends_with("\r\n")) data.resize(data.size() - 2);
  return detail::sha256(data);
}

}  // namespace mailsim::auth
