#include "reference-server/auth/public_suffix.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace mailsim::auth {
namespace {

// Kinds of rule stored under one name ("*.ck" is stored as a wildcard under "ck").
constexpr std::uint8_t rule_normal = 1;
constexpr std::uint8_t rule_wildcard = 2;  // "*.<name>": one more label is a public suffix
constexpr std::uint8_t rule_exception = 4;

constexpr std::size_t label_octets_max = 63;    // RFC 1035 §2.3.4
constexpr std::size_t domain_octets_max = 253;  // 255 on the wire, less the root and a length

// ---- RFC 3492 punycode (§5 parameters, §6.1 bias adaptation, §6.3 encoding) ----

constexpr std::uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
constexpr std::uint32_t initial_bias = 72, initial_n = 128;

char digit_of(std::uint32_t d) {
  return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26));
}

std::uint32_t adapt(std::uint32_t delta, std::uint32_t points, bool first) {
  delta = first ? delta / damp : delta / 2;
  delta += delta / points;
  std::uint32_t k = 0;
  while (delta > ((base - tmin) * tmax) / 2) {
    delta /= base - tmin;
    k += base;
  }
  return k + (base - tmin + 1) * delta / (delta + skew);
}

// Appends the variable-length integer for `q` (§3.3) with the current bias.
void emit_delta(std::uint32_t q, std::uint32_t bias, std::string& out) {
  for (std::uint32_t k = base;; k += base) {
    std::uint32_t t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias);
    if (q < t) break;
    out += digit_of(t + (q - t) % (base - t));
    q = (q - t) / (base - t);
  }
  out += digit_of(q);
}

// ---- UTF-8 and labels ----

// Strict UTF-8 (RFC 3629 §4): no overlong forms, no surrogates, nothing above U+10FFFF.
bool decode_utf8(std::string_view s, std::u32string& out) {
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    char32_t c = n == 1 ? b : b & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont & 0xc0) != 0x80) return false;
      c = (c << 6) | (cont & 0x3f);
    }
    static constexpr char32_t floor[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < floor[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    out.push_back(c);
    i += n;
  }
  return true;
}

bool ascii_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// One label in A-label form appended to `out`; false when it cannot be one.
bool append_label(std::string_view label, std::string& out) {
  if (label.empty()) return false;
  bool ascii = true;
  for (char c : label) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  std::size_t start = out.size();
  if (ascii) {
    for (char c : label) {
      if (!ascii_label_char(lower(c))) return false;
      out += lower(c);
    }
  } else {
    // Every code point costs at least one output octet after "xn--": longer labels cannot
    // fit, and refusing them first keeps the quadratic encoder away from long input.
    constexpr std::size_t points_max = label_octets_max - 4;
    std::u32string points;
    if (label.size() > 4 * points_max || !decode_utf8(label, points) || points.size() > points_max)
      return false;
    for (char32_t& c : points) {
      if (c < 0x80 && !ascii_label_char(lower(static_cast<char>(c)))) return false;
      if (c < 0x80) c = static_cast<char32_t>(lower(static_cast<char>(c)));
    }
    std::optional<std::string> encoded = punycode_encode(points);
    if (!encoded) return false;
    out += "xn--" + *encoded;
  }
  return out.size() - start <= label_octets_max;
}

// Where each label of an A-label name starts: at most 127 labels in 253 octets.
struct label_offsets {
  std::array<std::size_t, domain_octets_max / 2 + 1> at{};
  std::size_t count = 0;
};

label_offsets offsets_of(std::string_view ascii) {
  label_offsets o;
  o.at[o.count++] = 0;
  for (std::size_t i = 0; i < ascii.size() && o.count < o.at.size(); ++i) {
    if (ascii[i] == '.') o.at[o.count++] = i + 1;
  }
  return o;
}

std::string_view first_word(std::string_view line) {
  std::size_t begin = line.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  std::size_t end = line.find_first_of(" \t\r", begin);
  return line.substr(begin, end == std::string_view::npos ? end : end - begin);
}

}  // namespace

std::optional<std::string> punycode_encode(std::u32string_view input) {
  std::string out;
  for (char32_t c : input) {
    if (c < 0x80) out += static_cast<char>(c);
  }
  const auto basic = static_cast<std::uint32_t>(out.size());
  if (basic > 0) out += '-';
  std::uint32_t n = initial_n, delta = 0, bias = initial_bias, handled = basic;
  while (handled < input.size()) {
    char32_t m = 0x10ffff + 1;
    for (char32_t c : input) {
      if (c >= n && c < m) m = c;
    }
    // §6.4 overflow handling: delta must stay below 2^32.
    if ((m - n) > (UINT32_MAX - delta) / (handled + 1)) return std::nullopt;
    delta += (m - n) * (handled + 1);
    n = m;
    for (char32_t c : input) {
      if (c < n && ++delta == 0) return std::nullopt;
      if (c != n) continue;
      emit_delta(delta, bias, out);
      bias = adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return out;
}

std::optional<std::string> domain_to_ascii(std::string_view domain, std::size_t labels_max) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  // A U-label takes at most 4 octets per code point, so no usable name is longer than this.
  if (domain.size() > 4 * domain_octets_max) return std::nullopt;
  std::string out;
  out.reserve(domain.size());
  std::size_t labels = 0;
  for (std::size_t begin = 0;;) {
    std::size_t dot = domain.find('.', begin);
    std::string_view label =
        domain.substr(begin, dot == std::string_view::npos ? dot : dot - begin);
    if (++labels > labels_max || !append_label(label, out)) return std::nullopt;
    if (dot == std::string_view::npos) break;
    out += '.';
    begin = dot + 1;
  }
  if (out.size() > domain_octets_max) return std::nullopt;
  return out;
}

void public_suffix_list::add_rule(std::string_view rule, bool in_private) {
  std::uint8_t kind = rule_normal;
  if (rule.starts_with("!")) {
    kind = rule_exception;
    rule.remove_prefix(1);
  } else if (rule.starts_with("*.")) {
    kind = rule_wildcard;
    rule.remove_prefix(2);
  }
  // domain_to_ascii() refuses "*" anywhere else: interior wildcards are not supported.
  std::optional<std::string> name = domain_to_ascii(rule, options_.labels_max);
  // An exception names at least two labels: it removes one from a wildcard's match.
  if (!name || rule.ends_with(".") ||
      (kind == rule_exception && name->find('.') == std::string::npos)) {
    ++stats_.invalid;
    return;
  }
  if (in_private && !options_.include_private) {
    ++stats_.private_skipped;
    return;
  }
  auto it = rules_.find(*name);
  if (it == rules_.end()) {
    if (rules_.size() >= options_.rules_max) {
      ++stats_.over_limit;
      return;
    }
    it = rules_.emplace(std::move(*name), 0).first;
  }
  it->second |= kind;
  ++stats_.rules;
}

public_suffix_list public_suffix_list::from_text(std::string_view text,
                                                 const psl_options& options) {
  public_suffix_list list;
  list.options_ = options;
  bool in_private = false;
  for (std::size_t begin = 0; begin < text.size();) {
    std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    std::string_view word = first_word(line);
    begin = end + 1;
    if (word.starts_with("//")) {
      if (line.find("===BEGIN PRIVATE DOMAINS===") != std::string_view::npos) in_private = true;
      if (line.find("===BEGIN ICANN DOMAINS===") != std::string_view::npos) in_private = false;
      continue;
    }
    if (!word.empty()) list.add_rule(word, in_private);
  }
  return list;
}

std::optional<public_suffix_list> public_suffix_list::load_file(const std::string& path,
                                                                std::string& error,
                                                                const psl_options& options) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    error = path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[65536];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get())) {
    if (text.size() + n > options.file_bytes_max) {
      error = path + ": larger than " + std::to_string(options.file_bytes_max) + " bytes";
      return std::nullopt;
    }
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) {
    error = path + ": read error";
    return std::nullopt;
  }
  public_suffix_list list = from_text(text, options);
  if (list.size() == 0) {
    error = path + ": no public suffix rule in it";
    return std::nullopt;
  }
  return list;
}

std::size_t public_suffix_list::suffix_labels(std::string_view ascii) const {
  const label_offsets o = offsets_of(ascii);
  std::size_t best = 1;  // the implicit "*" rule
  std::size_t exception = 0;
  std::uint8_t parent = 0;  // kinds at the suffix one label shorter
  for (std::size_t k = 1; k <= o.count; ++k) {
    auto it = rules_.find(ascii.substr(o.at[o.count - k]));
    std::uint8_t kinds = it == rules_.end() ? 0 : it->second;
    if (kinds & rule_exception) exception = k;
    if ((kinds & rule_normal) || (parent & rule_wildcard)) best = k;
    parent = kinds;
  }
  // An exception rule prevails over every other match and names one label more than the
  // public suffix.
  return exception != 0 ? exception - 1 : best;
}

std::optional<std::string> public_suffix_list::public_suffix(std::string_view domain) const {
  std::optional<std::string> ascii = domain_to_ascii(domain, options_.labels_max);
  if (!ascii) return std::nullopt;
  const label_offsets o = offsets_of(*ascii);
  ascii->erase(0, o.at[o.count - suffix_labels(*ascii)]);
  return ascii;
}

std::optional<std::string> public_suffix_list::organizational_domain(
    std::string_view domain) const {
  std::optional<std::string> ascii = domain_to_ascii(domain, options_.labels_max);
  if (!ascii) return std::nullopt;
  const label_offsets o = offsets_of(*ascii);
  // A public suffix itself has no label to add: it is its own organizational domain.
  const std::size_t labels = std::min(suffix_labels(*ascii) + 1, o.count);
  ascii->erase(0, o.at[o.count - labels]);
  return ascii;
}

}  // namespace mailsim::auth
