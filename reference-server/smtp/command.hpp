// mailsim::smtp commands — the RFC 5321 §4.1 command parser, with ESMTP parameters.
//
// Contract: parse_command() takes one command line without its CRLF and returns either a
// command or a typed error naming what was expected. It checks syntax only: whether a
// command is allowed now, and whether parameters are acceptable, is the session's business.
// Verbs are case-insensitive (§2.4). ESMTP parameters (§4.1.2 esmtp-param) are split into
// keyword and optional value; keywords are upper-cased. Never throws; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/smtp/address.hpp"

namespace mailsim::smtp {

enum class verb {
  helo, ehlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help, starttls, auth,
  unknown,
};

std::string_view verb_name(verb v);

struct esmtp_param {
  std::string keyword;  // upper-case
  std::optional<std::string> value;
};

struct command {
  verb kind = verb::unknown;
  // The raw text after the verb and one space, for HELO/VRFY/HELP/...; empty for MAIL and
  // RCPT, whose parts are in address and params.
  std::string argument;
  std::string helo_name;                // HELO / EHLO
  path address;                         // MAIL / RCPT
  std::vector<esmtp_param> params;      // MAIL / RCPT
  std::uint64_t bdat_size = 0;          // BDAT
  bool bdat_last = false;               // BDAT ... LAST
  std::string auth_mechanism;           // AUTH, upper-case
  std::optional<std::string> auth_initial_response;  // AUTH, base64 text or "="

  // The parameter with this (upper-case) keyword, if present.
  const esmtp_param* param(std::string_view keyword) const;
};

enum class command_error {
  unknown_command,  // 500 5.5.1
  syntax,           // 501 5.5.4 (arguments) or 500 5.5.2 (line)
  utf8_not_allowed, // 553 5.6.7 / 501: an address needs SMTPUTF8
};

struct command_parse {
  std::optional<command> value;
  command_error error = command_error::syntax;
  std::string detail;  // what was expected, for the reply text
};

struct command_options {
  bool allow_utf8 = true;  // EHLO advertised SMTPUTF8
};

command_parse parse_command(std::string_view line, const command_options& options = {});

}  // namespace mailsim::smtp
