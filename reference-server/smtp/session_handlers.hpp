// Internal to mailsim::smtp: the server session's command handlers, one file per command
// (cmd_<verb>.cpp). Each handler checks the command's order and arguments, answers errors
// itself, and either replies at once or holds an event for the policy (hold()). The table
// in server_session.cpp maps verbs to handlers. Not a public header.
#pragma once

#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/smtp/server_session.hpp"

namespace mailsim::smtp {

// A SASL step handed to the driver (an auth event), and its result once run_auth() ran.
struct server_session::auth_job {
  bool start = false;                 // mechanism start() rather than step()
  std::optional<std::string> input;   // the client's decoded message
  std::optional<sasl::step_result> result;
};

struct server_session::handler {
  static server_event dispatch(server_session& s, command& cmd);
  static server_event helo(server_session& s, command& cmd);
  static server_event mail(server_session& s, command& cmd);
  static server_event rcpt(server_session& s, command& cmd);
  static server_event data(server_session& s, command& cmd);
  static server_event bdat(server_session& s, command& cmd);
  static server_event rset(server_session& s, command& cmd);
  static server_event noop(server_session& s, command& cmd);
  static server_event quit(server_session& s, command& cmd);
  static server_event vrfy(server_session& s, command& cmd);
  static server_event expn(server_session& s, command& cmd);
  static server_event help(server_session& s, command& cmd);
  static server_event starttls(server_session& s, command& cmd);
  static server_event auth(server_session& s, command& cmd);
  // A line read while an AUTH exchange waits for the client.
  static server_event auth_response(server_session& s, std::string_view line);
  // Sends the EHLO reply: its lines come from the options and the TLS state.
  static void send_ehlo_reply(server_session& s);
  // The answers to policy decisions that need more than a fixed reply.
  static void accepted_helo(server_session& s);
  static void accepted_message(server_session& s, const decision& d);
};

// Replies used by several handlers.
inline constexpr std::string_view need_mail_text = "Error: need MAIL command";
inline constexpr std::string_view no_argument_text = "Syntax error: no arguments allowed";

}  // namespace mailsim::smtp
