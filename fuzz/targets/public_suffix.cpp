// Fuzz target: the Public Suffix List reader and lookups (reference-server/auth/
// public_suffix.hpp), with the RFC 3492 punycode encoder behind domain_to_ascii(). The input
// (up to 64 KiB): one header byte, then
//   - header bit 0 clear: names, one per line, looked up in a fixed list with wildcards,
//     exceptions, a PRIVATE section and an IDN rule;
//   - header bit 0 set: a list text, an empty line ("\n\n"), then names one per line, looked
//     up in that list (bit 1 set: PRIVATE rules left out).
// Checked beyond the sanitizers, for every name accepted: domain_to_ascii() gives lower-case
// LDH (and "_") labels and is idempotent; the public suffix is a label-aligned tail of the
// name and the organizational domain that suffix plus at most one label; the organizational
// domain is its own organizational domain and has the same public suffix; a name refused
// by one lookup is refused by the other.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/auth/public_suffix.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 64u << 10;
constexpr std::size_t names_max = 64;

constexpr std::string_view fixed_rules =
    "// ===BEGIN ICANN DOMAINS===\ncom\nuk\nco.uk\njp\n*.kawasaki.jp\n!city.kawasaki.jp\n*.ck\n"
    "!www.ck\ncn\n\xe5\x85\xac\xe5\x8f\xb8.cn\n// ===BEGIN PRIVATE DOMAINS===\nblogspot.com\n";

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "public_suffix property violated: %s\n", what);
  std::abort();
}

std::size_t labels_in(std::string_view s) {
  std::size_t n = 1;
  for (char c : s) n += c == '.' ? 1 : 0;
  return n;
}

// `tail` is `name` or ends `name` right after a dot.
bool is_label_tail(std::string_view name, std::string_view tail) {
  if (!name.ends_with(tail)) return false;
  return tail.size() == name.size() || name[name.size() - tail.size() - 1] == '.';
}

void check_name(const auth::public_suffix_list& list, std::string_view name) {
  const std::optional<std::string> ascii = auth::domain_to_ascii(name);
  const std::optional<std::string> suffix = list.public_suffix(name);
  const std::optional<std::string> org = list.organizational_domain(name);
  require(suffix.has_value() == org.has_value(), "lookups disagree on a name's validity");
  if (ascii) {
    for (char c : *ascii) {
      require((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.',
              "domain_to_ascii gave a character outside LDH");
    }
    require(auth::domain_to_ascii(*ascii) == ascii, "domain_to_ascii is not idempotent");
  }
  if (!org) return;
  require(ascii.has_value(), "a lookup accepted what domain_to_ascii refuses");
  require(is_label_tail(*ascii, *suffix), "suffix is not a tail of the name");
  require(is_label_tail(*org, *suffix), "organizational domain does not end in the suffix");
  require(is_label_tail(*ascii, *org), "organizational domain is not a tail of the name");
  require(labels_in(*org) <= labels_in(*suffix) + 1, "organizational domain too long");
  require(list.organizational_domain(*org) == org, "organizational domain not stable");
  require(list.public_suffix(*org) == suffix || *org == *suffix, "suffix of the org differs");
}

void check_names(const auth::public_suffix_list& list, std::string_view names) {
  std::size_t count = 0;
  while (!names.empty() && count++ < names_max) {
    const std::size_t end = names.find('\n');
    check_name(list, names.substr(0, end));
    names = end == std::string_view::npos ? std::string_view() : names.substr(end + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  fuzz::input in(data, size);
  const std::uint8_t header = in.byte();
  const std::string_view rest = in.rest();
  if ((header & 1) == 0) {
    static const auth::public_suffix_list fixed = auth::public_suffix_list::from_text(fixed_rules);
    check_names(fixed, rest);
    return 0;
  }
  const std::size_t split = rest.find("\n\n");
  auth::psl_options options;
  options.include_private = (header & 2) == 0;
  options.rules_max = 1000;
  const auth::public_suffix_list list =
      auth::public_suffix_list::from_text(rest.substr(0, split), options);
  require(list.size() <= options.rules_max, "rules_max exceeded");
  require(list.stats().rules >= list.size(), "fewer rules counted than kept");
  if (split != std::string_view::npos) check_names(list, rest.substr(split + 2));
  return 0;
}
