#include "reference-server/auth/dkim_signer.hpp"

#include <algorithm>

#include "reference-server/auth/error.hpp"
#include "reference-server/auth/tag_list.hpp"
#include "reference-server/core/base64.hpp"

namespace mailsim::auth {
namespace {

constexpr std::size_t columns_max = 78;  // RFC 5322 §2.1.1 SHOULD

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

// Signs the field `f` holds (ending in "b=") over the selected headers and completes it.
sign_result complete_field(const private_key& key, const message_parts& parts,
                           const std::vector<std::string>& headers, canon header_canon,
                           field_folder& f) {
  std::string digest = header_digest(parts, headers, header_canon, f.text());
  if (!append_signature(key, digest, f)) return {{}, errc::crypto_failure};
  return {f.take(), {}};
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

dkim_algorithm signing_algorithm(const private_key& key) {
  return key.type() == key_type::rsa ? dkim_algorithm::rsa_sha256 : dkim_algorithm::ed25519_sha256;
}

bool is_signable_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return c >= 33 && c <= 126 && c != ':' && c != ';';
  });
}

std::vector<std::string> signed_header_list(const message_parts& parts,
                                            const std::vector<std::string>& headers,
                                            const std::vector<std::string>& oversign) {
  std::vector<std::string> names = lower_unique(headers);
  if (!contains(names, "from")) names.insert(names.begin(), "from");
  std::vector<std::string> again = lower_unique(oversign);
  if (!contains(again, "from")) again.push_back("from");
  std::vector<std::string> list;
  for (const std::string& n : names) list.insert(list.end(), instances(parts, n), n);
  for (const std::string& n : names) {
    if (contains(again, n)) list.push_back(n);
  }
  return list;
}

field_folder::field_folder(std::string head) : out_(std::move(head)) {
  std::size_t eol = out_.rfind("\r\n");
  column_ = eol == std::string::npos ? out_.size() : out_.size() - eol - 2;
}

void field_folder::word(std::string_view token) {
  if (column_ + 1 + token.size() > columns_max && column_ > 1) {
    fold();
  } else {
    out_.push_back(' ');
    ++column_;
  }
  append(token);
}

void field_folder::glued(std::string_view token) {
  if (column_ + token.size() > columns_max) fold();
  append(token);
}

void field_folder::header_list(const std::vector<std::string>& names) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string piece = (i == 0 ? "h=" : "") + names[i] + (i + 1 < names.size() ? ":" : ";");
    if (i == 0) {
      word(piece);
    } else {
      glued(piece);
    }
  }
}

void field_folder::base64(std::string_view value) {
  for (std::size_t pos = 0; pos < value.size();) {
    if (column_ >= columns_max) fold();
    std::size_t n = std::min(columns_max - column_, value.size() - pos);
    append(value.substr(pos, n));
    pos += n;
  }
}

std::string field_folder::take() {
  std::string out;
  out.swap(out_);
  column_ = 0;
  return out.append("\r\n");
}

void field_folder::fold() {
  out_.append("\r\n ");
  column_ = 1;
}

void field_folder::append(std::string_view t) {
  out_.append(t);
  column_ += t.size();
}

bool append_signature(const private_key& key, std::string_view digest, field_folder& field) {
  std::string signature = digest.empty() ? std::string() : key.sign_digest(digest);
  if (signature.empty()) return false;
  field.base64(core::base64_encode(signature));
  return true;
}

dkim_signer::dkim_signer(private_key key, sign_options options)
    : key_(std::move(key)), options_(std::move(options)) {}

dkim_algorithm dkim_signer::algorithm() const {
  return signing_algorithm(key_);
}

std::error_code dkim_signer::check_options() const {
  const sign_options& o = options_;
  bool ok = is_valid_domain(o.domain) && is_valid_domain(o.selector) &&
            (o.identity.empty() || identity_within(o.identity, to_lower(o.domain))) &&
            std::all_of(o.headers.begin(), o.headers.end(), is_signable_header_name) &&
            std::all_of(o.oversign.begin(), o.oversign.end(), is_signable_header_name) &&
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
  std::vector<std::string> headers = signed_header_list(parts, o.headers, o.oversign);
  std::int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();

  field_folder f(std::string(dkim_signature_name) + ":");
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
  f.header_list(headers);
  f.word("bh=" + core::base64_encode(*bh) + ";");
  f.word("b=");
  return complete_field(key_, parts, headers, o.header_canon, f);
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
  if (a == nullptr || a->value != to_string(signing_algorithm(key)) || h == nullptr ||
      !b_last_and_empty)
    return {{}, errc::invalid_option};
  canon header_canon = canon::simple;
  if (const tag* c = tags.find("c")) {
    std::string_view hc = c->value.substr(0, c->value.find('/'));
    if (hc != "simple" && hc != "relaxed") return {{}, errc::invalid_option};
    header_canon = hc == "simple" ? canon::simple : canon::relaxed;
  }
  std::vector<std::string> headers;
  for (std::string_view name : split_list(h->value, ':')) headers.push_back(to_lower(name));
  field_folder f{std::string(unsigned_field)};
  return complete_field(key, split_message(message), headers, header_canon, f);
}

}  // namespace mailsim::auth
