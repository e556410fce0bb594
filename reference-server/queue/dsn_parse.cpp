// parse_dsn(): reads an RFC 3464 report out of an RFC 6522 multipart/report message.
#include <cstdint>

#include "reference-server/core/base64.hpp"
#include "reference-server/queue/dsn.hpp"
#include "reference-server/queue/dsn_text.hpp"
#include "reference-server/smtp/status.hpp"

namespace mailsim::queue {
namespace {

using dsn_text::field;
using dsn_text::iequals;
using dsn_text::trim;

// A failure on its way out: the code and what was wrong.
struct failure {
  dsn_errc code;
  std::string detail;
};

dsn_parse_result fail(const failure& f) {
  return {std::nullopt, f.code, f.detail};
}

std::optional<failure> fields_failure(dsn_text::fields_status status, std::string_view where) {
  switch (status) {
    case dsn_text::fields_status::ok:
      return std::nullopt;
    case dsn_text::fields_status::malformed:
      return failure{dsn_errc::malformed, std::string(where) + ": a line is not a header field"};
    case dsn_text::fields_status::too_many:
      return failure{dsn_errc::too_large, std::string(where) + ": too many fields"};
    case dsn_text::fields_status::too_long:
      return failure{dsn_errc::too_large, std::string(where) + ": a field is too long"};
  }
  return failure{dsn_errc::malformed, std::string(where)};
}

// ---- MIME ----

struct content_type {
  std::string type;           // "type/subtype", lower case
  std::vector<field> params;  // names lower case, values unquoted
};

// Reads "; name=value" parameters (RFC 2045 §5.1: token or quoted-string).
void parse_params(std::string_view text, std::vector<field>& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t eq = text.find('=', i);
    if (eq == std::string_view::npos) return;
    std::string name = dsn_text::lower(trim(text.substr(i, eq - i)));
    i = eq + 1;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
      i = text.find(';', i);
    } else {
      const std::size_t end = text.find(';', i);
      value = std::string(trim(text.substr(i, end - i)));
      i = end;
    }
    out.push_back({std::move(name), std::move(value)});
    if (i == std::string_view::npos) return;
    ++i;
  }
}

content_type parse_content_type(std::string_view value) {
  const std::size_t semi = value.find(';');
  content_type out{dsn_text::lower(trim(value.substr(0, semi))), {}};
  if (semi != std::string_view::npos) parse_params(value.substr(semi + 1), out.params);
  return out;
}

std::string param(const content_type& type, std::string_view name) {
  const std::string* value = dsn_text::find_field(type.params, name);
  return value == nullptr ? std::string() : *value;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 2045 §6.7, leniently: a '=' that starts no escape stays as it is.
std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
    } else if (text.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else if (text.substr(i + 1, 1) == "\n") {
      i += 1;
    } else if (i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += '=';
    }
  }
  return out;
}

// A part's body with its Content-Transfer-Encoding removed; nullopt for an encoding this
// parser does not know or a base64 body that does not decode.
std::optional<std::string> decode_body(std::string_view body, std::string_view encoding) {
  const std::string name = dsn_text::lower(trim(encoding));
  if (name.empty() || name == "7bit" || name == "8bit" || name == "binary") {
    return std::string(body);
  }
  if (name == "quoted-printable") return decode_quoted_printable(body);
  if (name != "base64") return std::nullopt;
  std::string compact;  // RFC 2045 §6.8: line breaks and other white space are not data
  for (const char c : body) {
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') compact += c;
  }
  return core::base64_decode(compact);
}

// RFC 2046 §5.1.1: a delimiter line is "--" boundary, a close delimiter "--" boundary "--",
// either followed by white space only. Returns 0 for a content line, 1 for a delimiter and
// 2 for the close delimiter.
int delimiter_kind(std::string_view line, std::string_view boundary) {
  if (line.size() < boundary.size() + 2 || line.substr(0, 2) != "--") return 0;
  if (line.substr(2, boundary.size()) != boundary) return 0;
  std::string_view rest = line.substr(boundary.size() + 2);
  const bool close = rest.substr(0, 2) == "--";
  if (close) rest.remove_prefix(2);
  if (!trim(rest).empty()) return 0;
  return close ? 2 : 1;
}

// The body parts of a multipart body. The line end before each delimiter belongs to the
// delimiter, not to the part.
std::optional<failure> split_parts(std::string_view body, std::string_view boundary,
                                   std::size_t parts_max, std::vector<std::string_view>& parts) {
  std::size_t pos = 0;
  std::size_t part_start = std::string_view::npos;  // npos while in the preamble
  std::string_view line;
  for (std::size_t line_start = 0; dsn_text::next_line(body, pos, line); line_start = pos) {
    const int kind = delimiter_kind(line, boundary);
    if (kind == 0) continue;
    if (part_start != std::string_view::npos) {
      std::size_t end = line_start;
      if (end > part_start && body[end - 1] == '\n') --end;
      if (end > part_start && body[end - 1] == '\r') --end;
      if (parts.size() >= parts_max) return failure{dsn_errc::too_large, "too many body parts"};
      parts.push_back(body.substr(part_start, end - part_start));
    }
    if (kind == 2) return std::nullopt;
    part_start = pos;
  }
  return failure{dsn_errc::malformed, "the multipart body has no close delimiter"};
}

// ---- Delivery-status fields ----

void append_utf8(std::string& out, std::uint32_t cp) {
  const auto byte = [](std::uint32_t v) { return static_cast<char>(v); };
  if (cp < 0x80) {
    out += byte(cp);
  } else if (cp < 0x800) {
    out += byte(0xC0 | (cp >> 6));
    out += byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += byte(0xE0 | (cp >> 12));
    out += byte(0x80 | ((cp >> 6) & 0x3F));
    out += byte(0x80 | (cp & 0x3F));
  } else {
    out += byte(0xF0 | (cp >> 18));
    out += byte(0x80 | ((cp >> 12) & 0x3F));
    out += byte(0x80 | ((cp >> 6) & 0x3F));
    out += byte(0x80 | (cp & 0x3F));
  }
}

// The code point of "\x{HEX}" at the start of `text` (1 to 6 hex digits, a Unicode scalar
// value), and the escape's length; nullopt when `text` does not start with one.
std::optional<std::pair<std::uint32_t, std::size_t>> escape_at(std::string_view text) {
  if (!text.starts_with("\\x{")) return std::nullopt;
  std::uint32_t cp = 0;
  std::size_t i = 3;
  for (; i < text.size() && i < 9 && hex_value(text[i]) >= 0; ++i) {
    cp = cp * 16 + static_cast<std::uint32_t>(hex_value(text[i]));
  }
  if (i == 3 || i >= text.size() || text[i] != '}') return std::nullopt;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return std::pair{cp, i + 1};
}

// RFC 6533 §3: "\x{HEX}" stands for one Unicode scalar value in a utf-8 address.
std::string decode_utf8_address(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (const auto escape = escape_at(text.substr(i))) {
      append_utf8(out, escape->first);
      i += escape->second;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// RFC 3464 §2.1.2: "type ; value".
std::optional<typed_value> parse_typed(std::string_view text) {
  const std::size_t semi = text.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  typed_value out{std::string(trim(text.substr(0, semi))),
                  std::string(trim(text.substr(semi + 1)))};
  if (out.type.empty()) return std::nullopt;
  if (iequals(out.type, "utf-8")) out.value = decode_utf8_address(out.value);
  return out;
}

// The first word of a value: "5.1.1 (comment)" → "5.1.1".
std::string_view first_word(std::string_view text) {
  text = trim(text);
  return text.substr(0, text.find_first_of(" \t("));
}

std::optional<failure> read_typed(const field& f, std::optional<typed_value>& out) {
  if (out) return std::nullopt;  // the first of a repeated field counts
  out = parse_typed(f.value);
  if (out) return std::nullopt;
  return failure{dsn_errc::malformed, f.name + " is not \"type; value\""};
}

std::optional<failure> read_date(const field& f, std::optional<core::time_point>& out) {
  if (out) return std::nullopt;
  out = dsn_text::parse_date(f.value);
  if (out) return std::nullopt;
  return failure{dsn_errc::malformed, f.name + " is not a date: " + f.value.substr(0, 80)};
}

std::optional<failure> read_per_message(const std::vector<field>& fields, reported_dsn& out) {
  std::optional<typed_value> reporting_mta;
  for (const field& f : fields) {
    std::optional<failure> problem;
    if (iequals(f.name, "Reporting-MTA")) {
      problem = read_typed(f, reporting_mta);
    } else if (iequals(f.name, "Original-Envelope-Id")) {
      if (!out.original_envelope_id) out.original_envelope_id = f.value;
    } else if (iequals(f.name, "Arrival-Date")) {
      problem = read_date(f, out.arrival);
    } else {
      out.other_fields.emplace_back(f.name, f.value);
    }
    if (problem) return problem;
  }
  if (!reporting_mta) return failure{dsn_errc::missing_field, "no Reporting-MTA field"};
  out.reporting_mta = std::move(*reporting_mta);
  return std::nullopt;
}

std::optional<failure> read_action(const field& f, std::optional<dsn_action>& out) {
  if (out) return std::nullopt;
  out = parse_action(first_word(f.value));
  if (out) return std::nullopt;
  return failure{dsn_errc::malformed, "unknown Action: " + f.value.substr(0, 80)};
}

std::optional<failure> read_status(const field& f, std::string& out) {
  if (!out.empty()) return std::nullopt;
  out = std::string(first_word(f.value));
  if (smtp::is_valid_enhanced(out)) return std::nullopt;
  return failure{dsn_errc::malformed, "Status is not an RFC 3463 code: " + f.value.substr(0, 80)};
}

// The known fields of one recipient group.
std::optional<failure> read_recipient_field(const field& f, reported_recipient& r,
                                            std::optional<typed_value>& final_recipient,
                                            std::optional<dsn_action>& action) {
  if (iequals(f.name, "Final-Recipient")) return read_typed(f, final_recipient);
  if (iequals(f.name, "Original-Recipient")) return read_typed(f, r.original_recipient);
  if (iequals(f.name, "Action")) return read_action(f, action);
  if (iequals(f.name, "Status")) return read_status(f, r.status);
  if (iequals(f.name, "Remote-MTA")) return read_typed(f, r.remote_mta);
  if (iequals(f.name, "Diagnostic-Code")) return read_typed(f, r.diagnostic);
  if (iequals(f.name, "Last-Attempt-Date")) return read_date(f, r.last_attempt);
  if (iequals(f.name, "Will-Retry-Until")) return read_date(f, r.will_retry_until);
  r.other_fields.emplace_back(f.name, f.value);
  return std::nullopt;
}

std::optional<failure> read_recipient(const std::vector<field>& fields, reported_recipient& r) {
  std::optional<typed_value> final_recipient;
  std::optional<dsn_action> action;
  for (const field& f : fields) {
    if (auto problem = read_recipient_field(f, r, final_recipient, action)) return problem;
  }
  // RFC 3464 §2.3: Final-Recipient, Action and Status are required.
  if (!final_recipient) {
    return failure{dsn_errc::missing_field, "a recipient has no Final-Recipient"};
  }
  if (!action) return failure{dsn_errc::missing_field, "a recipient has no Action"};
  if (r.status.empty()) return failure{dsn_errc::missing_field, "a recipient has no Status"};
  r.final_recipient = std::move(*final_recipient);
  r.action = *action;
  return std::nullopt;
}

// RFC 3464 §2.1: groups of fields separated by blank lines; the first is per-message.
std::vector<std::string_view> field_groups(std::string_view text) {
  std::vector<std::string_view> groups;
  std::size_t pos = 0;
  std::size_t group_start = 0;
  std::string_view line;
  for (std::size_t line_start = 0; dsn_text::next_line(text, pos, line); line_start = pos) {
    if (!trim(line).empty()) continue;
    if (line_start > group_start) {
      groups.push_back(text.substr(group_start, line_start - group_start));
    }
    group_start = pos;
  }
  if (group_start < text.size()) groups.push_back(text.substr(group_start));
  return groups;
}

std::optional<failure> read_status_part(std::string_view text, const dsn_parse_limits& limits,
                                        reported_dsn& out) {
  const std::vector<std::string_view> groups = field_groups(text);
  if (groups.empty()) return failure{dsn_errc::missing_field, "the delivery-status part is empty"};
  if (groups.size() - 1 > limits.recipients_max) {
    return failure{dsn_errc::too_large, "too many recipients"};
  }
  const dsn_text::field_limits field_limits{limits.fields_max, limits.field_bytes_max};
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::vector<field> fields;
    const auto status = dsn_text::parse_fields(groups[i], field_limits, true, fields);
    if (auto problem = fields_failure(status, "delivery-status part")) return problem;
    std::optional<failure> problem;
    if (i == 0) {
      problem = read_per_message(fields, out);
    } else {
      problem = read_recipient(fields, out.recipients.emplace_back());
    }
    if (problem) return problem;
  }
  if (out.recipients.empty()) return failure{dsn_errc::missing_field, "no per-recipient fields"};
  return std::nullopt;
}

// ---- The parts of the report ----

bool is_status_type(std::string_view type) {
  return type == "message/delivery-status" || type == "message/global-delivery-status";
}

dsn_returned returned_kind(std::string_view type) {
  if (type == "message/rfc822" || type == "message/global") return dsn_returned::full;
  if (type == "text/rfc822-headers" || type == "message/global-headers") {
    return dsn_returned::headers;
  }
  return dsn_returned::nothing;
}

// One body part: its type and decoded content; the status part is read into `out`.
std::optional<failure> read_part(std::string_view part, const dsn_parse_limits& limits,
                                 bool& status_seen, reported_dsn& out) {
  const dsn_text::message_parts pieces = dsn_text::split_message(part);
  std::vector<field> fields;
  const dsn_text::field_limits field_limits{limits.fields_max, limits.field_bytes_max};
  const auto status = dsn_text::parse_fields(pieces.header, field_limits, false, fields);
  if (auto problem = fields_failure(status, "body part header")) return problem;
  const std::string* type_field = dsn_text::find_field(fields, "Content-Type");
  // RFC 2045 §5.2: a part without Content-Type is text/plain.
  const std::string type = type_field ? parse_content_type(*type_field).type : "text/plain";
  const std::string* encoding = dsn_text::find_field(fields, "Content-Transfer-Encoding");
  std::optional<std::string> body = decode_body(pieces.body, encoding ? *encoding : "");
  if (is_status_type(type)) {
    if (status_seen) return failure{dsn_errc::malformed, "two delivery-status parts"};
    if (!body) return failure{dsn_errc::malformed, "the delivery-status part does not decode"};
    status_seen = true;
    out.global = type == "message/global-delivery-status";
    return read_status_part(*body, limits, out);
  }
  if (!body) return std::nullopt;  // a part this parser cannot read does not matter
  if (!status_seen && out.explanation.empty() && type.starts_with("text/")) {
    out.explanation = std::move(*body);
  } else if (status_seen && out.returned == dsn_returned::nothing) {
    out.returned = returned_kind(type);
    if (out.returned != dsn_returned::nothing) out.returned_content = std::move(*body);
  }
  return std::nullopt;
}

void read_top_fields(const std::vector<field>& fields, reported_dsn& out) {
  const auto value = [&fields](std::string_view name) {
    const std::string* v = dsn_text::find_field(fields, name);
    return v == nullptr ? std::string() : *v;
  };
  out.from = value("From");
  out.to = value("To");
  out.subject = value("Subject");
  out.message_id = value("Message-ID");
  out.auto_submitted = value("Auto-Submitted");
}

std::optional<failure> parse_report(std::string_view message, const dsn_parse_limits& limits,
                                    reported_dsn& out) {
  if (message.size() > limits.message_bytes_max) {
    return failure{dsn_errc::too_large, "message too large"};
  }
  const dsn_text::message_parts pieces = dsn_text::split_message(message);
  std::vector<field> fields;
  const dsn_text::field_limits field_limits{limits.fields_max, limits.field_bytes_max};
  const auto status = dsn_text::parse_fields(pieces.header, field_limits, false, fields);
  if (auto problem = fields_failure(status, "message header")) return problem;
  read_top_fields(fields, out);
  const std::string* type_field = dsn_text::find_field(fields, "Content-Type");
  const content_type type = parse_content_type(type_field ? *type_field : "text/plain");
  // RFC 6522 §3: report-type is the subtype of the second part.
  const std::string report_type = dsn_text::lower(param(type, "report-type"));
  if (type.type != "multipart/report" ||
      (report_type != "delivery-status" && report_type != "global-delivery-status")) {
    return failure{dsn_errc::not_a_report, "Content-Type is not a delivery-status report"};
  }
  const std::string boundary = param(type, "boundary");
  if (boundary.empty()) return failure{dsn_errc::malformed, "the multipart has no boundary"};
  std::vector<std::string_view> parts;
  if (auto problem = split_parts(pieces.body, boundary, limits.parts_max, parts)) return problem;
  bool status_seen = false;
  for (const std::string_view part : parts) {
    if (auto problem = read_part(part, limits, status_seen, out)) return problem;
  }
  if (!status_seen) return failure{dsn_errc::not_a_report, "no delivery-status part"};
  return std::nullopt;
}

}  // namespace

dsn_parse_result parse_dsn(std::string_view message, const dsn_parse_limits& limits) {
  reported_dsn report;
  if (auto problem = parse_report(message, limits, report)) return fail(*problem);
  return {std::move(report), {}, {}};
}

}  // namespace mailsim::queue
