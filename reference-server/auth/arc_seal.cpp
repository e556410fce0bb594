// ARC sealing (RFC 8617 §5.1): the AAR, AMS and AS of the next instance.
#include <algorithm>

#include "reference-server/auth/arc.hpp"
#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/auth/error.hpp"
#include "reference-server/core/ascii.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

using core::is_wsp;

class arc_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mailsim.auth.arc"; }
  std::string message(int code) const override {
    switch (static_cast<arc_errc>(code)) {
      case arc_errc::chain_closed:
        return "the newest ARC-Seal says cv=fail: the chain is closed";
      case arc_errc::chain_too_long:
        return "the message already has 50 ARC sets";
      case arc_errc::chain_mismatch:
        return "the chain validation status does not fit the message's ARC sets";
      case arc_errc::bad_authres:
        return "authserv-id or results cannot be written into ARC-Authentication-Results";
    }
    return "unknown ARC error";
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

// A name the AMS may list: ARC fields of the new set do not exist yet when the AMS is made,
// and the AS must never be in h= (RFC 8617 §4.1.2).
bool is_header_name(std::string_view name) {
  return is_signable_header_name(name) && !to_lower(name).starts_with("arc-");
}

// An authserv-id authentication_results_field() can write (quoted when not a token).
bool is_authserv_id(std::string_view id) {
  return !id.empty() && id.size() <= 255 && std::all_of(id.begin(), id.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;
  });
}

// The results with folds removed; nullopt when they hold a line break that is not a fold or
// another control character, which would end or corrupt the field.
std::optional<std::string> unfolded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (s[i] == '\r' && i + 2 < s.size() && s[i + 1] == '\n' && is_wsp(s[i + 2])) {
      ++i;
      continue;
    }
    if ((u < 32 && s[i] != '\t') || u == 127) return std::nullopt;
    out.push_back(s[i]);
  }
  return out;
}

// RFC 8601 resinfo items: the payload split at ";" outside quoted strings and comments.
std::vector<std::string_view> split_results(std::string_view s) {
  std::vector<std::string_view> items;
  auto push = [&](std::string_view item) {
    item = trim(item);
    if (!item.empty()) items.push_back(item);
  };
  std::size_t begin = 0;
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if ((quoted || depth > 0) && c == '\\') {
      ++i;  // a quoted-pair
    } else if (quoted) {
      quoted = c != '"';
    } else if (c == '"' && depth == 0) {
      quoted = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (c == ';' && depth == 0) {
      push(s.substr(begin, i - begin));
      begin = i + 1;
    }
  }
  push(s.substr(std::min(begin, s.size())));
  return items;
}

bool is_arc_result(std::string_view item) {
  std::string lower = to_lower(item.substr(0, 3));
  if (lower != "arc") return false;
  std::string_view rest = trim(item.substr(3));
  return !rest.empty() && rest.front() == '=';
}

// Signs `digest` and completes the field, whose text ends in "b="; empty on failure.
std::string complete(const private_key& key, const std::string& digest, field_folder& f) {
  return append_signature(key, digest, f) ? f.take() : std::string();
}

// RFC 8617 §4.1.1: "i=N;" before what an Authentication-Results field of this authserv-id
// would hold, composed (and folded) by authentication_results_field().
std::string make_aar(unsigned i, const arc_seal_options& o, const arc_outcome& chain,
                     const std::string& payload) {
  std::vector<std::string> items;
  for (std::string_view item : split_results(payload)) items.emplace_back(item);
  if (o.record_arc_result && std::none_of(items.begin(), items.end(), is_arc_result))
    items.push_back(authres_text(chain, o.remote_ip));
  std::string ar = authentication_results_field(o.authserv_id, items);
  std::string_view rest = std::string_view(ar).substr(authentication_results_name.size() + 1);
  return std::string(arc_authentication_results_name) + ": i=" + std::to_string(i) + ";" +
         std::string(rest);
}

std::string make_ams(unsigned i, const private_key& key, const arc_seal_options& o,
                     const message_parts& parts, std::int64_t t) {
  std::vector<std::string> headers = signed_header_list(parts, o.headers, o.oversign);
  std::optional<std::string> bh =
      body_digest(canonicalize_body(canon::relaxed, parts.body), std::nullopt);
  field_folder f(std::string(arc_message_signature_name) + ":");
  f.word("i=" + std::to_string(i) + ";");
  f.word(std::string("a=") + to_string(signing_algorithm(key)) + ";");
  f.word("c=relaxed/relaxed;");
  f.word("d=" + o.domain + ";");
  f.word("s=" + o.selector + ";");
  if (o.timestamp) f.word("t=" + std::to_string(t) + ";");
  f.header_list(headers);
  f.word("bh=" + core::base64_encode(*bh) + ";");
  f.word("b=");
  return complete(key, header_digest(parts, headers, canon::relaxed, f.text()), f);
}

std::string make_seal(unsigned i, const private_key& key, const arc_seal_options& o, arc_status cv,
                      std::int64_t t, const std::vector<std::string_view>& covered) {
  field_folder f(std::string(arc_seal_name) + ":");
  f.word("i=" + std::to_string(i) + ";");
  f.word(std::string("a=") + to_string(signing_algorithm(key)) + ";");
  if (o.timestamp) f.word("t=" + std::to_string(t) + ";");
  f.word(std::string("cv=") + to_string(cv) + ";");
  f.word("d=" + o.domain + ";");
  f.word("s=" + o.selector + ";");
  f.word("b=");
  return complete(key, arc_seal_digest(covered, f.text()), f);
}

// §5.1 and §5.1.2: which instance comes next, or why none may.
std::error_code check_chain(const arc_chain& c, const arc_outcome& chain) {
  if (c.newest_cv == "fail") return arc_errc::chain_closed;
  if (c.highest_instance >= arc_instances_max) return arc_errc::chain_too_long;
  bool exists = c.highest_instance > 0;
  if (exists == (chain.status == arc_status::none)) return arc_errc::chain_mismatch;
  if (chain.status == arc_status::pass && !c.well_formed()) return arc_errc::chain_mismatch;
  return {};
}

}  // namespace

const std::error_category& arc_category() noexcept {
  static const arc_error_category category;
  return category;
}

std::vector<std::string> default_arc_signed_headers() {
  std::vector<std::string> h = default_signed_headers();
  h.emplace_back("dkim-signature");
  return h;
}

arc_seal_result arc_seal(std::string_view message, const private_key& key,
                         const arc_seal_options& o, const arc_outcome& chain,
                         std::string_view authres_payload, core::time_point now) {
  arc_seal_result out;
  bool options_ok = is_valid_domain(o.domain) && is_valid_domain(o.selector) &&
                    std::all_of(o.headers.begin(), o.headers.end(), is_header_name) &&
                    std::all_of(o.oversign.begin(), o.oversign.end(), is_header_name);
  if (!options_ok) {
    out.error = errc::invalid_option;
    return out;
  }
  std::optional<std::string> payload = unfolded(authres_payload);
  if (!is_authserv_id(o.authserv_id) || !payload || payload->size() > o.authres_bytes_max) {
    out.error = arc_errc::bad_authres;
    return out;
  }
  message_parts parts = split_message(message);
  if (std::none_of(parts.fields.begin(), parts.fields.end(),
                   [](const header_field& f) { return iequals(f.name, "from"); })) {
    out.error = errc::no_from_field;
    return out;
  }
  arc_chain c = parse_arc_chain(parts, o.limits);
  if ((out.error = check_chain(c, chain))) return out;
  out.instance = c.highest_instance + 1;
  out.cv = chain.status;
  std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string aar = make_aar(out.instance, o, chain, *payload);
  std::string ams = make_ams(out.instance, key, o, parts, t);
  if (ams.empty()) {
    out.error = errc::crypto_failure;
    return out;
  }
  // §5.1.1: every set in order; §5.1.2: on a failed chain, only the new one.
  std::vector<std::string_view> covered;
  if (out.cv == arc_status::pass) {
    for (const arc_set_fields& s : c.sets)
      covered.insert(covered.end(), {s.aar->raw, s.ams->raw, s.seal->raw});
  }
  covered.insert(covered.end(), {aar, ams});
  std::string seal = make_seal(out.instance, key, o, out.cv, t, covered);
  if (seal.empty()) {
    out.error = errc::crypto_failure;
    return out;
  }
  out.fields = seal + ams + aar;
  return out;
}

}  // namespace mailsim::auth
