#include <initializer_list>
#include <string>

#include "reference-server/message/address.hpp"
#include "reference-server/message/codec.hpp"
#include "reference-server/message/imap_view.hpp"

namespace mailsim::message {
namespace {

std::optional<std::string> field_value(const part& p, std::string_view name) {
  const header_field* f = p.field(name);
  if (f == nullptr) return std::nullopt;
  return f->value;
}

// RFC 9051 §7.5.2 address list: NIL when empty, else "(" addresses ")" without spaces.
std::string address_list(const std::vector<address>& list) {
  if (list.empty()) return "NIL";
  std::string out = "(";
  for (const address& a : list) {
    out += '(';
    out += imap_nstring(a.name);
    out += ' ';
    out += imap_nstring(a.route);
    out += ' ';
    out += imap_nstring(a.mailbox);
    out += ' ';
    out += imap_nstring(a.host);
    out += ')';
  }
  out += ')';
  return out;
}

std::vector<address> addresses(const part& p, std::string_view name) {
  const header_field* f = p.field(name);
  return f == nullptr ? std::vector<address>{} : parse_address_list(f->value);
}

}  // namespace

std::string envelope(const parsed_message& /*m*/, const part& root) {
  const std::vector<address> from = addresses(root, "From");
  std::vector<address> sender = addresses(root, "Sender");
  std::vector<address> reply_to = addresses(root, "Reply-To");
  if (sender.empty()) sender = from;      // RFC 9051 §7.5.2: sender and reply-to
  if (reply_to.empty()) reply_to = from;  // default to from
  std::string out = "(";
  out += imap_nstring(field_value(root, "Date"));
  out += ' ';
  out += imap_nstring(field_value(root, "Subject"));
  for (const std::vector<address>* list :
       std::initializer_list<const std::vector<address>*>{&from, &sender, &reply_to}) {
    out += ' ';
    out += address_list(*list);
  }
  for (std::string_view name : std::initializer_list<std::string_view>{"To", "Cc", "Bcc"}) {
    out += ' ';
    out += address_list(addresses(root, name));
  }
  out += ' ';
  out += imap_nstring(field_value(root, "In-Reply-To"));
  out += ' ';
  out += imap_nstring(field_value(root, "Message-ID"));
  out += ')';
  return out;
}

std::vector<std::string> header_values(const part& p, std::string_view name) {
  std::vector<std::string> out;
  for (const header_field& f : p.fields) {
    if (iequals(f.name, name)) out.push_back(f.value);
  }
  return out;
}

std::vector<std::string> header_values_decoded(const part& p, std::string_view name) {
  std::vector<std::string> out = header_values(p, name);
  for (std::string& v : out) v = decode_encoded_words(v);
  return out;
}

}  // namespace mailsim::message
