// mailsim::store trace headers — the Return-Path and Received lines of final delivery.
//
// Contract: trace_headers() formats the two header fields a delivering server prepends
// (RFC 5321 §4.4): "Return-Path: <reverse-path>" and a Received time stamp line,
//
//   Received: from <helo> (<peer name or "unknown"> [<peer ip>])
//   	by <hostname> (mailsim) with <protocol> id <id>
//   	for <recipient>; <date-time>
//
// folded with CRLF TAB. The "for" clause appears only for a message with one recipient:
// naming one recipient in a copy that others receive would disclose it (RFC 5321 §7.2, what
// Postfix does); without it the date moves to the third line. The date is the given time in
// UTC, "+0000" (RFC 5322 §3.3). Formatting only: no clock, no DNS, no I/O. The inputs come
// from the network, so bytes that would break the header syntax or start a new header line
// (controls, CR, LF, spaces, parentheses in comments) are replaced by '?': a peer must not be
// able to forge trace lines through its HELO name.
#pragma once

#include <optional>
#include <string>

#include "reference-server/core/clock.hpp"
#include "reference-server/smtp/envelope.hpp"

namespace mailsim::store {

struct protocol_flags {
  bool esmtp = false;          // EHLO rather than HELO
  bool tls = false;            // STARTTLS or implicit TLS
  bool authenticated = false;  // a successful AUTH
  bool utf8 = false;           // SMTPUTF8 used for this transaction
};

// "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA" (RFC 3848), "UTF8SMTP", "UTF8SMTPS",
// "UTF8SMTPA", "UTF8SMTPSA" (RFC 6531 §4.3).
std::string protocol_word(const protocol_flags& flags);

protocol_flags protocol_flags_of(const smtp::envelope& envelope);

struct trace_info {
  std::string reverse_path;              // MAIL FROM address without brackets; "" for <>
  std::string helo;                      // the HELO/EHLO argument, as given
  std::string peer_ip;                   // "192.0.2.1" or "2001:db8::1"
  std::optional<std::string> peer_name;  // the verified reverse DNS name, if any
  std::string hostname;                  // this server's name
  std::string protocol;                  // protocol_word()
  std::string id;                        // the transaction's id (queue id); omitted if empty
  std::optional<std::string> recipient;  // only when the message has a single recipient
  core::time_point time;                 // when the message was received
};

std::string trace_headers(const trace_info& info);
// The Received line alone: what a relaying server prepends (RFC 5321 §4.4) before it queues
// the message onward; Return-Path is added only at final delivery.
std::string received_header(const trace_info& info);

// RFC 5322 §3.3 date-time in UTC: "Tue, 14 Nov 2023 22:13:20 +0000".
std::string format_date_time(core::time_point time);

}  // namespace mailsim::store
