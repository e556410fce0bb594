// build_dsn(): the RFC 3464 report as an RFC 5322 message (RFC 6522 multipart/report).
#include <algorithm>
#include <cstdio>
#include <set>

#include "reference-server/queue/dsn.hpp"
#include "reference-server/queue/dsn_text.hpp"
#include "reference-server/store/trace.hpp"
#include "reference-server/smtp/status.hpp"
#include "reference-server/smtp/xtext.hpp"

namespace mailsim::queue {
namespace {

using dsn_text::append_field;
using dsn_text::clean;
using store::format_date_time;
using dsn_text::is_ascii;
using dsn_text::wrap;

constexpr std::size_t text_width = 76;  // the explanation, for 80-column readers
constexpr std::string_view indent = "    ";

// ---- Checking the request ----

bool valid_token(std::string_view token) {
  if (token.empty() || token.size() > 40) return false;
  return std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// RFC 3464 §2.3.4 and RFC 3463 §3: the class says what happened. A failure may carry a
// transient code: the queue gives up on a 4.x.x condition that lasted too long (4.4.7).
bool status_fits(dsn_action action, std::string_view status) {
  if (!smtp::is_valid_enhanced(status)) return false;
  switch (action) {
    case dsn_action::failed:
      return status[0] == '5' || status[0] == '4';
    case dsn_action::delayed:
      return status[0] == '4';
    case dsn_action::delivered:
    case dsn_action::relayed:
    case dsn_action::expanded:
      return status[0] == '2';
  }
  return false;
}

// What is wrong with the request; empty when nothing is.
std::string check_request(const dsn_request& request) {
  if (!smtp::is_valid_domain(request.reporting_mta, false)) {
    return "reporting_mta is not a domain name";
  }
  if (!valid_token(request.token)) return "token must be 1 to 40 of [A-Za-z0-9._-]";
  const smtp::path& sender = request.original.reverse_path;
  if (sender.null) return "no report goes to the null reverse path (RFC 5321 §4.5.5)";
  if (sender.box.domain.empty()) return "the reverse path has no domain";
  if (request.recipients.empty()) return "a report needs at least one recipient";
  for (const dsn_recipient& r : request.recipients) {
    if (r.final_recipient.empty()) return "a recipient has no final_recipient";
    if (!status_fits(r.action, r.status)) {
      return "status \"" + r.status + "\" does not fit action " +
             std::string(action_name(r.action));
    }
  }
  return {};
}

bool has_action(const std::vector<dsn_recipient>& recipients, dsn_action action) {
  return std::any_of(recipients.begin(), recipients.end(),
                     [action](const dsn_recipient& r) { return r.action == action; });
}

// RFC 6533 is needed when an address cannot be written in US-ASCII, and is what an
// SMTPUTF8 sender expects back.
bool needs_global(const dsn_request& request, std::string_view sender) {
  if (request.original.smtputf8 || !is_ascii(sender)) return true;
  return std::any_of(request.recipients.begin(), request.recipients.end(),
                     [](const dsn_recipient& r) { return !is_ascii(r.final_recipient); });
}

// ---- Field values ----

// Printable text: no control characters; 8-bit only as well-formed UTF-8 where allowed.
bool printable(std::string_view text, bool utf8) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || (byte >= 0x80 && !utf8)) return false;
  }
  return smtp::is_valid_utf8(text);
}

std::string capped(std::string text) {
  if (text.size() > dsn_text::value_bytes_max) {
    text.resize(dsn_text::value_bytes_max - 3);
    text += "...";
  }
  return text;
}

// The reply as it came over the wire, its lines joined by spaces: RFC 3464 §2.3.6 wants
// the reply itself for the "smtp" diagnostic type.
std::string reply_text(const smtp::reply& reply) {
  const std::string wire = smtp::format(reply);
  std::string out;
  std::size_t pos = 0;
  std::string_view line;
  while (dsn_text::next_line(wire, pos, line) && out.size() <= dsn_text::value_bytes_max) {
    if (!out.empty()) out += ' ';
    out.append(line);
  }
  return capped(std::move(out));
}

// RFC 3464 §2.2.1: the envelope id is text, so the ENVID's xtext (RFC 3461 §4.4) is
// decoded, unless the decoded form could not be written as a field.
std::string envelope_id(std::string_view xtext) {
  const std::optional<std::string> decoded = smtp::xtext_decode(xtext);
  if (decoded && printable(*decoded, false)) return *decoded;
  return clean(xtext, false);
}

// RFC 3464 §2.3.1 "addr-type; address" from RFC 3461 §4.2 ORCPT "addr-type;xtext".
std::optional<std::string> original_recipient(std::string_view orcpt, bool global) {
  const std::size_t semi = orcpt.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string type = clean(dsn_text::trim(orcpt.substr(0, semi)), false);
  if (type.empty() || type.find_first_of(" ;") != std::string::npos) return std::nullopt;
  const std::string_view raw = dsn_text::trim(orcpt.substr(semi + 1));
  const std::optional<std::string> decoded = smtp::xtext_decode(raw);
  if (!decoded || !printable(*decoded, global)) return type + "; " + clean(raw, false);
  // RFC 6533 §3: an address that is not ASCII is of type "utf-8".
  if (!is_ascii(*decoded) && dsn_text::iequals(type, "rfc822")) type = "utf-8";
  return type + "; " + *decoded;
}

// RFC 3464 §2.3.2, RFC 6533 §3: a global report may carry a UTF-8 address as it is.
std::string typed_address(std::string_view address, bool global) {
  return (is_ascii(address) ? "rfc822; " : "utf-8; ") + clean(address, global);
}

std::optional<std::string> diagnostic_code(const dsn_recipient& r, bool global) {
  if (r.remote_reply) return "smtp; " + clean(reply_text(*r.remote_reply), global);
  if (!r.diagnostic.empty()) return "X-mailsim; " + clean(capped(r.diagnostic), global);
  return std::nullopt;
}

// ---- The three parts ----

// RFC 3464 §2.3, in the order of its grammar.
void append_recipient_fields(std::string& out, const dsn_recipient& r, bool global) {
  if (r.orcpt) {
    if (const auto original = original_recipient(*r.orcpt, global)) {
      append_field(out, "Original-Recipient", *original);
    }
  }
  append_field(out, "Final-Recipient", typed_address(r.final_recipient, global));
  append_field(out, "Action", action_name(r.action));
  append_field(out, "Status", r.status);
  if (!r.remote_mta.empty()) append_field(out, "Remote-MTA", "dns; " + clean(r.remote_mta, global));
  if (const auto diagnostic = diagnostic_code(r, global)) {
    append_field(out, "Diagnostic-Code", *diagnostic);
  }
  if (r.last_attempt) append_field(out, "Last-Attempt-Date", format_date_time(*r.last_attempt));
  // RFC 3464 §2.3.9: only a delayed recipient will be retried.
  if (r.action == dsn_action::delayed && r.will_retry_until) {
    append_field(out, "Will-Retry-Until", format_date_time(*r.will_retry_until));
  }
}

// RFC 3464 §2.2 per-message fields, then a blank line and the fields of each recipient.
std::string status_part(const dsn_request& request, bool global) {
  std::string out;
  const dsn_original& original = request.original;
  if (original.envid) append_field(out, "Original-Envelope-Id", envelope_id(*original.envid));
  append_field(out, "Reporting-MTA", "dns; " + request.reporting_mta);
  append_field(out, "Arrival-Date", format_date_time(original.arrival));
  for (const dsn_recipient& r : request.recipients) {
    out += "\r\n";
    append_recipient_fields(out, r, global);
  }
  return out;
}

std::string_view summary(dsn_action action) {
  switch (action) {
    case dsn_action::failed:
      return "Your message could not be delivered to the recipients marked \"failed\" below. "
             "The mail system has given up on them.";
    case dsn_action::delayed:
      return "Your message has not yet been delivered to the recipients marked \"delayed\" "
             "below. The mail system will keep trying; you do not need to send it again.";
    case dsn_action::delivered:
      return "Your message was delivered to the recipients marked \"delivered\" below.";
    case dsn_action::relayed:
      return "Your message was passed on for the recipients marked \"relayed\" below to a mail "
             "system that does not send delivery reports: no further report will come for "
             "them.";
    case dsn_action::expanded:
      return "Your message was delivered to the recipients marked \"expanded\" below, and "
             "forwarded from there to further addresses.";
  }
  return {};
}

std::string recipient_text(const dsn_recipient& r, bool global) {
  std::string head = "<" + clean(r.final_recipient, global) +
                     ">: " + std::string(action_name(r.action)) + ", " + r.status;
  const std::string_view meaning = smtp::describe_enhanced(r.status);
  if (!meaning.empty()) head += " (" + std::string(meaning) + ")";
  std::string out = wrap(head, text_width, "");
  if (r.remote_reply) {
    const std::string who =
        r.remote_mta.empty() ? "The remote server" : clean(r.remote_mta, global);
    out += wrap(who + " said: " + clean(reply_text(*r.remote_reply), global), text_width, indent);
  } else if (!r.diagnostic.empty()) {
    out += wrap(clean(capped(r.diagnostic), global), text_width, indent);
  }
  if (r.action == dsn_action::delayed && r.will_retry_until) {
    out += wrap("The mail system will keep trying until " + format_date_time(*r.will_retry_until) + ".",
                text_width, indent);
  }
  return out;
}

std::string explanation(const dsn_request& request, bool global, dsn_returned returned) {
  std::string out =
      wrap("This is the mail delivery system at " + request.reporting_mta + ".", text_width, "");
  for (const dsn_action action : {dsn_action::failed, dsn_action::delayed, dsn_action::delivered,
                                  dsn_action::relayed, dsn_action::expanded}) {
    if (has_action(request.recipients, action)) {
      out += "\r\n" + wrap(summary(action), text_width, "");
    }
  }
  for (const dsn_recipient& r : request.recipients) out += "\r\n" + recipient_text(r, global);
  if (returned != dsn_returned::nothing) {
    const std::string_view note = returned == dsn_returned::full
                                      ? "Your message is attached."
                                      : "The header of your message is attached.";
    out += "\r\n" + wrap(note, text_width, "");
  }
  return out;
}

struct returned_part {
  dsn_returned kind = dsn_returned::nothing;
  std::string body;
};

// What an 8bit part may carry (RFC 2045 §2.8, RFC 5322 §2.1.1): no NUL, no line over 998
// octets. `text` has CRLF line ends already.
bool travels_as_8bit(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return false;
  std::size_t pos = 0;
  std::string_view line;
  while (dsn_text::next_line(text, pos, line)) {
    if (line.size() > dsn_text::line_bytes_max) return false;
  }
  return true;
}

// The header section cut after the last whole field that fits in `max` octets.
std::string_view whole_fields(std::string_view header, std::size_t max) {
  if (header.size() <= max) return header;
  std::size_t pos = 0;
  std::size_t cut = 0;
  std::string_view line;
  while (dsn_text::next_line(header, pos, line) && pos <= max) {
    const bool field_ends = pos >= header.size() || (header[pos] != ' ' && header[pos] != '\t');
    if (field_ends) cut = pos;
  }
  return header.substr(0, cut);
}

// RFC 3461 §4.3 RET, and dsn_options for what RET leaves to the server.
returned_part returned_content(const dsn_request& request) {
  const dsn_original& original = request.original;
  const dsn_options& options = request.options;
  const bool failed = has_action(request.recipients, dsn_action::failed);
  const bool full_wanted =
      original.ret != smtp::dsn_ret::headers &&
      (failed || (options.return_full_for_non_failures && original.ret == smtp::dsn_ret::full));
  if (full_wanted && original.message.size() <= options.return_bytes_max) {
    std::string full = dsn_text::to_crlf(original.message);
    if (travels_as_8bit(full)) return {dsn_returned::full, std::move(full)};
  }
  // Cut before and after the line ends are normalized: the first cut keeps a huge header
  // section from being copied, the second counts the CRs that were added.
  const std::string_view raw = dsn_text::split_message(original.message).header;
  const std::string header = dsn_text::to_crlf(whole_fields(raw, options.return_bytes_max));
  const std::string_view kept = whole_fields(header, options.return_bytes_max);
  if (kept.empty() || !travels_as_8bit(kept)) return {};
  return {dsn_returned::headers, std::string(kept)};
}

// ---- Assembling the message ----

// RFC 2046 §5.1.1: the boundary must not occur in any part. The candidates differ only in
// a fixed-width suffix, so every candidate found in the parts follows its own occurrence of
// the common prefix: the first suffix that no occurrence is followed by is free.
std::string choose_boundary(std::string_view token, std::initializer_list<std::string_view> parts) {
  const std::string prefix = "=_dsn_" + std::string(token) + "_";
  std::set<std::string, std::less<>> taken;
  for (const std::string_view part : parts) {
    for (std::size_t at = part.find(prefix); at != std::string_view::npos;
         at = part.find(prefix, at + 1)) {
      taken.emplace(part.substr(at + prefix.size(), 8));
    }
  }
  for (unsigned long n = 0;; ++n) {
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, "%08lx", n);
    if (!taken.contains(std::string_view(suffix))) return prefix + suffix;
  }
}

// The original's Message-ID when it is a plain msg-id, so that mail readers thread the
// report with the message (RFC 5322 §3.6.4 References).
std::optional<std::string> original_message_id(std::string_view message) {
  constexpr std::size_t header_bytes_read = 64u << 10;  // where a Message-ID can be looked for
  const std::string_view header = dsn_text::split_message(message).header;
  std::vector<dsn_text::field> fields;
  dsn_text::parse_fields(whole_fields(header, header_bytes_read), {}, false, fields);
  const std::string* id = dsn_text::find_field(fields, "Message-ID");
  if (id == nullptr || id->size() < 3 || id->size() > 250) return std::nullopt;
  if (id->front() != '<' || id->back() != '>') return std::nullopt;
  const bool plain = std::all_of(id->begin(), id->end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7F;
  });
  return plain ? std::optional<std::string>(*id) : std::nullopt;
}

void append_part(std::string& out, std::string_view boundary, std::string_view description,
                 std::string_view type, std::string_view body) {
  out.append("\r\n--").append(boundary).append("\r\n");
  append_field(out, "Content-Description", description);
  append_field(out, "Content-Type", type);
  // RFC 2045 §6.1: 7bit is the default; 8-bit octets must be declared.
  if (!is_ascii(body)) append_field(out, "Content-Transfer-Encoding", "8bit");
  out += "\r\n";
  out.append(body);
}

// RFC 6522 §3 and RFC 3464 §2.1 (RFC 6533 §6 for the global types), then the close
// delimiter.
void append_parts(std::string& out, std::string_view boundary, bool global, std::string_view text,
                  std::string_view status, const returned_part& returned) {
  append_part(out, boundary, "Notification",
              is_ascii(text) ? "text/plain; charset=us-ascii" : "text/plain; charset=utf-8", text);
  append_part(out, boundary, "Delivery report",
              global ? "message/global-delivery-status" : "message/delivery-status", status);
  if (returned.kind == dsn_returned::full) {
    append_part(out, boundary, "Returned message", global ? "message/global" : "message/rfc822",
                returned.body);
  } else if (returned.kind == dsn_returned::headers) {
    append_part(out, boundary, "Returned message header",
                global ? "message/global-headers" : "text/rfc822-headers", returned.body);
  }
  out.append("\r\n--").append(boundary).append("--\r\n");
}

struct top_fields {
  std::string_view subject;
  std::string message_id;
  std::optional<std::string> references;
  std::string report_type;
  std::string boundary;
  bool eight_bit = false;
};

std::string top_header(const dsn_request& request, std::string_view sender, bool global,
                       const top_fields& top) {
  std::string out;
  append_field(out, "From",
               "\"Mail Delivery System\" <MAILER-DAEMON@" + request.reporting_mta + ">");
  append_field(out, "To", "<" + clean(sender, global) + ">");
  append_field(out, "Subject", top.subject);
  append_field(out, "Date", format_date_time(request.now));
  append_field(out, "Message-ID", top.message_id);
  if (top.references) append_field(out, "References", *top.references);
  // RFC 3834 §5: made by software in reply to a message; auto-responders leave it alone.
  append_field(out, "Auto-Submitted", "auto-replied");
  append_field(out, "MIME-Version", "1.0");
  // RFC 6522 §3: report-type names the subtype of the second part.
  append_field(
      out, "Content-Type",
      "multipart/report; report-type=" + top.report_type + "; boundary=\"" + top.boundary + "\"");
  // RFC 2045 §6.4: a multipart is labelled with the widest encoding of its parts.
  if (top.eight_bit) append_field(out, "Content-Transfer-Encoding", "8bit");
  return out;
}

// The gravest action names the report.
std::string_view subject_of(const std::vector<dsn_recipient>& recipients) {
  if (has_action(recipients, dsn_action::failed)) return "Undelivered Mail Returned to Sender";
  if (has_action(recipients, dsn_action::delayed)) return "Delayed Mail (still being retried)";
  if (has_action(recipients, dsn_action::delivered) ||
      has_action(recipients, dsn_action::expanded)) {
    return "Successful Mail Delivery Report";
  }
  return "Relayed mail";
}

}  // namespace

dsn_build_result build_dsn(const dsn_request& request) {
  if (std::string problem = check_request(request); !problem.empty()) {
    return {std::nullopt, dsn_errc::invalid_request, std::move(problem)};
  }
  const smtp::mailbox& sender = request.original.reverse_path.box;
  const std::string sender_address = sender.to_string();
  const bool global = needs_global(request, sender_address);

  const returned_part returned = returned_content(request);
  const std::string text = explanation(request, global, returned.kind);
  const std::string status = status_part(request, global);

  top_fields top;
  top.subject = subject_of(request.recipients);
  top.message_id = "<dsn." + request.token + "@" + request.reporting_mta + ">";
  top.references = original_message_id(request.original.message);
  top.report_type = global ? "global-delivery-status" : "delivery-status";
  top.boundary = choose_boundary(request.token, {text, status, returned.body});
  top.eight_bit = !is_ascii(text) || !is_ascii(status) || !is_ascii(returned.body);
  const std::string header = top_header(request, sender_address, global, top);

  dsn_message message;
  message.bytes = header + "\r\nThis is a delivery status notification in MIME format.\r\n";
  append_parts(message.bytes, top.boundary, global, text, status, returned);
  message.recipient = sender;
  message.message_id = top.message_id;
  message.body = top.eight_bit ? smtp::body_type::eight_bit_mime : smtp::body_type::seven_bit;
  // RFC 6531: SMTPUTF8 is needed for a UTF-8 envelope address or header field.
  message.smtputf8 = !is_ascii(header);
  message.global = global;
  message.returned = returned.kind;
  return {std::move(message), {}, {}};
}

}  // namespace mailsim::queue
