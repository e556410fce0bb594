#include "reference-server/auth/dkim_signer.hpp"

#include <algorithm>

#include "reference-server/auth/error.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

constexpr std::size_t columns_max = 78;  // RFC 5322 §2.1.1 SHOULD

// Builds a folded field: tokens go on the current line while they fit, else on a new one.
class folder {
 public:
  explicit folder(std::string_view head) : out_(head), column_(head.size()) {}

  // A token after white space (a new tag).
  void word(std::string_view t) {
    if (column_ + 1 + t.size() > columns_max && column_ > 1) {
      fold();
    } else {
      out_.push_back(' ');
      ++column_;
    }
    append(t);
  }
  // A token with no white space before it unless folded (the next name of h=).
  void glued(std::string_view t) {
    if (column_ + t.size() > columns_max) fold();
    append(t);
  }
  std::string take() { return std::move(out_); }

 private:
  void fold() {
    out_.append("\r\n ");
    column_ = 1;
  }
  void append(std::string_view t) {
    out_.append(t);
    column_ += t.size();
  }

  std::string out_;
  std::size_t column_;
};

bool is_header_name(std::string_view name) {
  // RFC 5322 §3.6.8 ftext (printable ASCII except ":"), without the ";" that would end
  // the h= tag (RFC 6376 §3.2 VALCHAR).
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c >= 33 && c <= 126 && c != ':' && c != ';';
  });
}

bool contains(const std::vector<std::string>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s == name; });
}

std::vector<std::string> lower_unique(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const std::string& n : names) {
    std::string l = to_lower(n);
    if (!contains(out, l)) out.push_back(std::move(l));
  }
  return out;
}

std::size_t instances(const message_parts& parts, std::string_view name) {
  return static_cast<std::size_t>(
      std::count_if(parts.fields.begin(), parts.fields.end(),
                    [&](const header_field& f) { return iequals(f.name, name); }));
}

// The h= list for this message (RFC 6376 §5.4.2 for repeated names, §8.15 over-signing).
std::vector<std::string> header_list(const message_parts& parts, const sign_options& o) {
  std::vector<std::string> names = lower_unique(o.headers);
  if (!contains(names, "from")) names.insert(names.begin(), "from");
  std::vector<std::string> oversign = lower_unique(o.oversign);
  if (!contains(oversign, "from")) oversign.push_back("from");
  std::vector<std::string> list;
  for (const std::string& n : names) list.insert(list.end(), instances(parts, n), n);
  for (const std::string& n : names) {
    if (contains(oversign, n)) list.push_back(n);
  }
  return list;
}

// The column at which the next character of `field` would go (after its last fold).
std::size_t last_column(std::string_view field) {
  std::size_t eol = field.rfind("\r\n");
  return eol == std::string_view::npos ? field.size() : field.size() - eol - 2;
}

// Signs `unsigned_field` (ending in "b=") over the selected headers; appends the folded b=.
sign_result complete_field(const private_key& key, const message_parts& parts,
                           const std::vector<std::string>& headers, canon header_canon,
                           std::string unsigned_field) {
  std::string digest = header_digest(parts, headers, header_canon, unsigned_field);
  std::string signature = digest.empty() ? std::string() : key.sign_digest(digest);
  if (signature.empty()) return {{}, errc::crypto_failure};
  std::string b = core::base64_encode(signature);
  std::string& out = unsigned_field;
  std::size_t column = last_column(out);
  for (std::size_t pos = 0; pos < b.size();) {
    if (column >= columns_max) {
      out.append("\r\n ");
      column = 1;
    }
    std::size_t n = std::min(columns_max - column, b.size() - pos);
    out.append(b, pos, n);
    pos += n;
    column += n;
  }
  out.append("\r\n");
  return {std::move(out), {}};
}

}  // namespace

std::vector<std::string> default_signed_headers() {
  return {"from",
          "sender",
          "reply-to",
          "subject",
          "date",
          "message-id",
          "to",
          "cc",
          "mime-version",
          "content-type",
          "content-transfer-encoding",
          "resent-date",
          "resent-from",
          "resent-sender",
          "resent-to",
          "resent-cc",
          "in-reply-to",
          "references",
          "list-id",
          "list-help",
          "list-unsubscribe",
          "list-unsubscribe-post",
          "list-subscribe",
          "list-post",
          "list-owner",
          "list-archive"};
}

dkim_signer::dkim_signer(private_key key, sign_options options)
    : key_(std::move(key)), options_(std::move(options)) {}

dkim_algorithm dkim_signer::algorithm() const {
  return key_.type() == key_type::rsa ? dkim_algorithm::rsa_sha256 : dkim_algorithm::ed25519_sha256;
}

std::error_code dkim_signer::check_options() const {
  const sign_options& o = options_;
  bool ok = is_valid_domain(o.domain) && is_valid_domain(o.selector) &&
            (o.identity.empty() || identity_within(o.identity, to_lower(o.domain))) &&
            std::all_of(o.headers.begin(), o.headers.end(), is_header_name) &&
            std::all_of(o.oversign.begin(), o.oversign.end(), is_header_name) &&
            (!o.expire_after || o.expire_after->count() > 0);
  // i= is a tag value: no ";" and no white space (RFC 6376 §3.5, dkim-quoted-printable).
  ok = ok && o.identity.find_first_of("; \t\r\n") == std::string::npos;
  return ok ? std::error_code() : make_error_code(errc::invalid_option);
}

sign_result dkim_signer::sign(std::string_view message, core::time_point now) const {
  if (std::error_code ec = check_options()) return {{}, ec};
  const sign_options& o = options_;
  message_parts parts = split_message(message);
  if (instances(parts, "from") == 0) return {{}, errc::no_from_field};
  std::string body = canonicalize_body(o.body_canon, parts.body);
  std::optional<std::string> bh = body_digest(body, std::nullopt);
  std::vector<std::string> headers = header_list(parts, o);
  std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  folder f(std::string(dkim_signature_name) + ":");
  f.word("v=1;");
  f.word(std::string("a=") + to_string(algorithm()) + ";");
  f.word(std::string("c=") + (o.header_canon == canon::simple ? "simple" : "relaxed") + "/" +
         (o.body_canon == canon::simple ? "simple" : "relaxed") + ";");
  f.word("d=" + o.domain + ";");
  f.word("s=" + o.selector + ";");
  if (!o.identity.empty()) f.word("i=" + o.identity + ";");
  if (o.timestamp) f.word("t=" + std::to_string(t) + ";");
  if (o.expire_after) f.word("x=" + std::to_string(t + o.expire_after->count()) + ";");
  if (o.body_length) f.word("l=" + std::to_string(body.size()) + ";");
  for (std::size_t i = 0; i < headers.size(); ++i) {
    std::string piece = (i == 0 ? "h=" : "") + headers[i] + (i + 1 < headers.size() ? ":" : ";");
    if (i == 0) {
      f.word(piece);
    } else {
      f.glued(piece);
    }
  }
  f.word("bh=" + core::base64_encode(*bh) + ";");
  f.word("b=");
  return complete_field(key_, parts, headers, o.header_canon, f.take());
}

sign_result sign_field(const private_key& key, std::string_view message,
                       std::string_view unsigned_field) {
  std::size_t colon = unsigned_field.find(':');
  if (colon == std::string_view::npos) return {{}, errc::invalid_option};
  tag_list tags = parse_tag_list(unsigned_field.substr(colon + 1));
  if (!tags.ok()) return {{}, tags.error};
  const tag* a = tags.find("a");
  const tag* h = tags.find("h");
  bool b_last_and_empty = !tags.tags.empty() && tags.tags.back().name == "b" &&
                          tags.tags.back().value.empty() && unsigned_field.ends_with("b=");
  dkim_algorithm algorithm =
      key.type() == key_type::rsa ? dkim_algorithm::rsa_sha256 : dkim_algorithm::ed25519_sha256;
  if (a == nullptr || a->value != to_string(algorithm) || h == nullptr || !b_last_and_empty)
    return {{}, errc::invalid_option};
  canon header_canon = canon::simple;
  if (const tag* c = tags.find("c")) {
    std::string_view hc = c->value.substr(0, c->value.find('/'));
    if (hc != "simple" && hc != "relaxed") return {{}, errc::invalid_option};
    header_canon = hc == "simple" ? canon::simple : canon::relaxed;
  }
  std::vector<std::string> headers;
  for (std::string_view name : split_list(h->value, ':')) headers.push_back(to_lower(name));
  return complete_field(key, split_message(message), headers, header_canon,
                        std::string(unsigned_field));
}

}  // namespace mailsim::auth
