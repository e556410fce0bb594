#include "reference-server/store/trace.hpp"

#include <chrono>
#include <cstdio>
#include <string_view>

namespace mailsim::store {
namespace {

// Keeps visible ASCII, minus the bytes listed in `forbidden` (a space only when listed in
// `allowed`); every other byte becomes '?'. UTF-8 is kept only in an SMTPUTF8 transaction,
// whose header may carry it (RFC 6532 §3).
std::string clean(std::string_view text, std::string_view forbidden, bool utf8,
                  std::string_view allowed = "") {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool visible = byte > 0x20 && byte < 0x7F && forbidden.find(c) == std::string_view::npos;
    const bool kept = visible || allowed.find(c) != std::string_view::npos;
    out += (kept || (utf8 && byte >= 0x80)) ? c : '?';
  }
  return out;
}

// A name inside the header text and its comments (RFC 5322 §3.2.2: '(' ')' '\' end or escape
// a comment; ';' ends the stamp's clauses).
std::string clean_name(std::string_view text, bool utf8) {
  return text.empty() ? "unknown" : clean(text, "()\\;<>\"", utf8);
}

// An address between angle brackets; callers may pass it with or without them.
std::string clean_address(std::string_view text, bool utf8) {
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>') {
    text = text.substr(1, text.size() - 2);
  }
  // A quoted local part may hold spaces ("a b"@example.com); CR and LF never pass.
  return clean(text, "<>", utf8, " ");
}

// RFC 5321 §4.1.3 address-literal: "[192.0.2.1]" or "[IPv6:2001:db8::1]".
std::string address_literal(std::string_view ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  const std::string body = clean(ip, "()\\;<>\"[]", false);
  const bool v6 = ip.find(':') != std::string_view::npos && !ip.starts_with("IPv6:");
  return "[" + std::string(v6 ? "IPv6:" : "") + body + "]";
}

}  // namespace

std::string protocol_word(const protocol_flags& flags) {
  // SMTPUTF8, STARTTLS and AUTH are all extensions: without EHLO there is only "SMTP".
  if (!flags.esmtp && !flags.utf8) return "SMTP";
  std::string word = flags.utf8 ? "UTF8SMTP" : "ESMTP";  // RFC 6531 §4.3
  if (flags.tls) word += 'S';                            // RFC 3848 §2
  if (flags.authenticated) word += 'A';                  // RFC 3848 §2
  return word;
}

protocol_flags protocol_flags_of(const smtp::envelope& envelope) {
  return {envelope.esmtp, envelope.tls, envelope.auth_user.has_value(), envelope.smtputf8};
}

std::string format_date_time(core::time_point time) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss clock{std::chrono::floor<std::chrono::seconds>(time - day)};
  const std::chrono::weekday weekday{day};
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                days[weekday.c_encoding()], static_cast<unsigned>(date.day()),
                months[static_cast<unsigned>(date.month()) - 1], static_cast<int>(date.year()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

std::string trace_headers(const trace_info& info) {
  const bool utf8 = info.protocol.starts_with("UTF8");
  // RFC 5321 §4.4: final delivery records the reverse-path; RFC 5322 §3.6.7 syntax.
  return "Return-Path: <" + clean_address(info.reverse_path, utf8) + ">\r\n" +
         received_header(info);
}

std::string received_header(const trace_info& info) {
  const bool utf8 = info.protocol.starts_with("UTF8");
  // RFC 5321 §4.4 Stamp: From-domain with TCP-info, By-domain, then the Opt-info clauses.
  std::string out = "Received: from " + clean_name(info.helo, utf8) + " (" +
         clean_name(info.peer_name.value_or(""), utf8) + " " + address_literal(info.peer_ip) +
         ")\r\n";
  out += "\tby " + clean_name(info.hostname, utf8) + " (mailsim) with " +
         clean_name(info.protocol, false);
  if (!info.id.empty()) out += " id " + clean_name(info.id, false);
  if (info.recipient) {
    out += "\r\n\tfor <" + clean_address(*info.recipient, utf8) + ">; ";
  } else {
    out += ";\r\n\t";
  }
  out += format_date_time(info.time) + "\r\n";
  return out;
}

}  // namespace mailsim::store
