#include "reference-server/auth/dmarc_record.hpp"

#include <algorithm>
#include <cctype>

#include "reference-server/auth/canonicalization.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/ascii.hpp"

namespace mailsim::auth {
namespace {

using core::is_wsp;
using core::is_digit;
using core::is_alpha;
using core::trim;

class dmarc_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.dmarc"; }
  std::string message(int code) const override {
    switch (static_cast<dmarc_errc>(code)) {
      case dmarc_errc::not_dmarc:
        return "not a DMARC record (no leading v=DMARC1)";
      case dmarc_errc::tag_syntax:
        return "DMARC record is not a valid tag list";
      case dmarc_errc::no_valid_policy:
        return "DMARC record has no valid p= (or sp=) and no valid rua=";
      case dmarc_errc::bad_value:
        return "DMARC record has a tag with an invalid value";
      case dmarc_errc::too_long:
        return "DMARC record is too long";
    }
    return "unknown DMARC error";
  }
};

std::optional<dmarc_policy> policy_of(std::string_view v) {
  if (iequals(v, "none")) return dmarc_policy::none;
  if (iequals(v, "quarantine")) return dmarc_policy::quarantine;
  if (iequals(v, "reject")) return dmarc_policy::reject;
  return std::nullopt;
}

std::optional<dmarc_alignment> alignment_of(std::string_view v) {
  if (iequals(v, "r")) return dmarc_alignment::relaxed;
  if (iequals(v, "s")) return dmarc_alignment::strict;
  return std::nullopt;
}

// 1*DIGIT not above `max` (leading zeros allowed, as the grammar does).
std::optional<std::uint64_t> number_of(std::string_view v, std::uint64_t max) {
  if (v.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (n > max) return std::nullopt;
  }
  return n;
}

// A colon-separated list of lower-cased items, each accepted by `valid`.
template <typename Valid>
std::optional<std::vector<std::string>> keyword_list(std::string_view v, Valid valid) {
  std::vector<std::string> out;
  for (std::string_view item : split_list(v, ':')) {
    if (item.empty() || !valid(item)) return std::nullopt;
    out.push_back(to_lower(item));
  }
  return out;
}

bool is_fo_item(std::string_view s) {
  return s.size() == 1 && std::string_view("01dsDS").find(s[0]) != std::string_view::npos;
}

bool is_keyword(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '-'; });
}

// RFC 3986 characters a dmarc-uri may hold as written; "!" and "," must be percent-encoded
// inside a DMARC URI (RFC 7489 §6.4), ";" ends the tag and white space is not allowed.
bool is_uri_char(char c) {
  return is_alpha(c) || is_digit(c) ||
         std::string_view("-._~:/?#[]@$&'()*+=%").find(c) != std::string_view::npos;
}

bool is_uri(std::string_view u) {
  std::size_t colon = u.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == u.size() || !is_alpha(u[0]))
    return false;
  for (std::size_t i = 0; i < colon; ++i) {
    if (!is_alpha(u[i]) && !is_digit(u[i]) && u[i] != '+' && u[i] != '-' && u[i] != '.')
      return false;
  }
  for (std::size_t i = colon + 1; i < u.size(); ++i) {
    if (!is_uri_char(u[i])) return false;
    if (u[i] == '%' && (i + 2 >= u.size() || !std::isxdigit(static_cast<unsigned char>(u[i + 1])) ||
                        !std::isxdigit(static_cast<unsigned char>(u[i + 2]))))
      return false;
  }
  return true;
}

// "URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]"; the units are powers of 1024.
std::optional<dmarc_uri> uri_of(std::string_view item) {
  dmarc_uri out;
  std::size_t bang = item.find('!');
  if (bang != std::string_view::npos) {
    std::string_view size = item.substr(bang + 1);
    unsigned shift = 0;
    if (!size.empty() && !is_digit(size.back())) {
      std::size_t unit = std::string_view("kmgt").find(static_cast<char>(size.back() | 0x20));
      if (unit == std::string_view::npos) return std::nullopt;
      shift = 10 * static_cast<unsigned>(unit + 1);
      size.remove_suffix(1);
    }
    std::optional<std::uint64_t> n = number_of(size, UINT64_MAX >> shift);
    if (!n) return std::nullopt;
    out.size_limit_bytes = *n << shift;
    item = item.substr(0, bang);
  }
  if (!is_uri(item)) return std::nullopt;
  out.uri = std::string(item);
  return out;
}

std::vector<dmarc_uri> uri_list(std::string_view v, std::size_t uris_max) {
  std::vector<dmarc_uri> out;
  for (std::string_view item : split_list(v, ',')) {
    std::optional<dmarc_uri> u = uri_of(trim(item));
    if (u && out.size() < uris_max) out.push_back(std::move(*u));
  }
  return out;
}

// The state of one parse: the record so far and what step 6 of §6.6.3 needs to know.
struct reader {
  dmarc_record record;
  bool policy_seen = false;
  bool policy_invalid = false;
  std::string bad;  // the first tag with a bad value
};

void read_policy_tags(reader& r, std::string_view name, std::string_view value) {
  if (name == "p") {
    r.policy_seen = true;
    std::optional<dmarc_policy> p = policy_of(value);
    if (p)
      r.record.policy = *p;
    else
      r.policy_invalid = true;
  } else if (name == "sp") {
    r.record.subdomain_policy = policy_of(value);
    if (!r.record.subdomain_policy) r.policy_invalid = true;
  }
}

// Tags other than v, p and sp; unknown ones are ignored (§6.3).
void read_tag(reader& r, std::string_view name, std::string_view value,
              const dmarc_record_limits& limits) {
  dmarc_record& rec = r.record;
  bool ok = true;
  if (name == "adkim" || name == "aspf") {
    std::optional<dmarc_alignment> a = alignment_of(value);
    ok = a.has_value();
    if (ok) (name == "adkim" ? rec.dkim_alignment : rec.spf_alignment) = *a;
  } else if (name == "pct") {
    std::optional<std::uint64_t> n = number_of(value, 100);
    ok = n.has_value();
    if (ok) rec.percent = static_cast<unsigned>(*n);
  } else if (name == "ri") {
    std::optional<std::uint64_t> n = number_of(value, UINT32_MAX);
    ok = n.has_value();
    if (ok) rec.report_interval_s = static_cast<std::uint32_t>(*n);
  } else if (name == "fo" || name == "rf") {
    auto list = name == "fo" ? keyword_list(value, is_fo_item) : keyword_list(value, is_keyword);
    ok = list.has_value();
    if (ok) (name == "fo" ? rec.failure_options : rec.report_formats) = std::move(*list);
  } else if (name == "rua" || name == "ruf") {
    (name == "rua" ? rec.aggregate_uris : rec.failure_uris) = uri_list(value, limits.uris_max);
  }
  if (!ok && r.bad.empty()) r.bad = std::string(name) + "=" + std::string(value) + " is not valid";
}

dmarc_record_result failed(dmarc_errc e, std::string detail = {}) {
  dmarc_record_result out;
  out.error = e;
  out.record.detail = std::move(detail);
  return out;
}

}  // namespace

const std::error_category& dmarc_category() noexcept {
  static const dmarc_error_category category;
  return category;
}

const char* to_string(dmarc_policy p) {
  switch (p) {
    case dmarc_policy::none:
      return "none";
    case dmarc_policy::quarantine:
      return "quarantine";
    case dmarc_policy::reject:
      return "reject";
  }
  return "none";
}

const char* to_string(dmarc_alignment a) {
  return a == dmarc_alignment::strict ? "s" : "r";
}

bool is_dmarc_record(std::string_view txt) {
  std::size_t i = 0;
  auto skip_wsp = [&] {
    while (i < txt.size() && is_wsp(txt[i])) ++i;
  };
  skip_wsp();
  if (i == txt.size() || (txt[i] != 'v' && txt[i] != 'V')) return false;
  ++i;
  skip_wsp();
  if (i == txt.size() || txt[i] != '=') return false;
  ++i;
  skip_wsp();
  if (txt.substr(i, 6) != "DMARC1") return false;
  i += 6;
  return i == txt.size() || is_wsp(txt[i]) || txt[i] == ';';
}

dmarc_record_result parse_dmarc_record(std::string_view txt, const dmarc_record_limits& limits) {
  if (txt.size() > limits.record_bytes_max) return failed(dmarc_errc::too_long);
  if (!is_dmarc_record(txt)) return failed(dmarc_errc::not_dmarc);
  const tag_list tags = parse_tag_list(txt);
  if (!tags.ok()) return failed(dmarc_errc::tag_syntax, tags.error.message());
  reader r;
  std::vector<std::string> seen;
  for (const tag& t : tags.tags) {
    std::string name = to_lower(t.name);
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      return failed(dmarc_errc::tag_syntax, "tag " + name + " appears twice");
    seen.push_back(name);
    if (name == "p" || name == "sp")
      read_policy_tags(r, name, t.value);
    else if (name != "v")
      read_tag(r, name, t.value, limits);
  }
  if (!r.policy_seen || r.policy_invalid) {
    // §6.6.3 step 6: act as p=none when rua names somewhere to report to.
    if (r.record.aggregate_uris.empty())
      return failed(dmarc_errc::no_valid_policy,
                    r.policy_seen ? "p= or sp= is not valid" : "p= is missing");
    r.record.policy = dmarc_policy::none;
    r.record.subdomain_policy.reset();
    r.record.policy_defaulted = true;
  }
  if (!r.bad.empty()) return failed(dmarc_errc::bad_value, r.bad);
  dmarc_record_result out;
  out.record = std::move(r.record);
  return out;
}

std::string to_text(const dmarc_record& r) {
  std::string out = std::string("v=DMARC1; p=") + to_string(r.policy);
  if (r.subdomain_policy) out += std::string("; sp=") + to_string(*r.subdomain_policy);
  out += std::string("; adkim=") + to_string(r.dkim_alignment);
  out += std::string("; aspf=") + to_string(r.spf_alignment);
  out += "; pct=" + std::to_string(r.percent);
  auto uris = [&out](const char* tag, const std::vector<dmarc_uri>& list) {
    if (list.empty()) return;
    out += std::string("; ") + tag + "=";
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0) out += ",";
      out += list[i].uri;
      if (list[i].size_limit_bytes != 0) out += "!" + std::to_string(list[i].size_limit_bytes);
    }
  };
  uris("rua", r.aggregate_uris);
  uris("ruf", r.failure_uris);
  return out;
}

}  // namespace mailsim::auth
