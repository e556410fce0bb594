// Internal to mailsim::pop3: the state behind pop3::session and its command handlers, one
// file per group of commands (cmd_<group>.cpp). Handlers check the state and the arguments,
// answer errors themselves and write their answer into the session's output. The dispatch
// table lives in session.cpp. Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/line_reader.hpp"
#include "reference-server/core/output_hold.hpp"
#include "reference-server/pop3/session.hpp"
#include "reference-server/sasl/mechanism.hpp"

namespace mailsim::pop3 {

// The words of a command line: the command name and its arguments, split at single spaces.
struct command_line {
  std::string name;  // upper-cased
  std::vector<std::string_view> args;
  std::string_view rest;    // everything after "NAME " (PASS takes it whole)
  bool well_formed = true;  // false: an empty word (two spaces, a trailing space)
};

command_line split_command(std::string_view text);

// A decimal number made of digits only (no sign, no space); saturates instead of
// overflowing, so "99999999999999999999999" is just a very large number. nullopt when the
// text is empty or holds anything but digits.
std::optional<std::uint64_t> parse_decimal(std::string_view text);

// Appends a multi-line body: every line ends in CRLF (a bare LF becomes CRLF, a last line
// without one gets it), lines starting with '.' get another '.' (RFC 1939 §3).
void append_stuffed(std::string& out, std::string_view text);

// The part of a message TOP sends: the header, the blank line, then body_lines lines of
// the body (RFC 1939 §7). A message without a blank line is all header; the blank line is
// still sent so that the client always sees the same shape.
std::string top_of(std::string_view message, std::uint64_t body_lines);

struct session::impl {
  enum class state {
    authorization,  // USER/PASS, AUTH, STLS, CAPA
    sasl,           // an AUTH exchange waits for the client's next line
    tls_wait,       // STLS answered; waiting for tls_started()
    transaction,    // the maildrop is open
    closed,
  };

  // A SASL step handed to the driver (an auth event), and its result once run_auth() ran.
  struct auth_job {
    bool start = false;  // mechanism start() rather than step()
    std::optional<std::string> input;
    std::optional<sasl::step_result> result;
  };

  using handler_fn = void (*)(impl&, const command_line&);

  impl(session& owner, options opts, limits lim, deps d);

  // The loop behind next_event(): lines until more input is needed or an event is due.
  event_kind run();
  void process_line();
  void dispatch(const command_line& cmd);
  void touch();

  // Output.
  void ok(std::string_view text);
  void err(std::string_view text);
  // A client mistake: "-ERR text", counted toward errors_max (then close).
  void client_error(std::string_view text);
  void close_with(std::string_view text);
  // Closes: the maildrop (and its lock) is released at once, not when the session dies.
  void finish();
  bool in_state(state wanted);  // answers the wrong-state error when not

  // Commands (cmd_*.cpp).
  static void cmd_user(impl& s, const command_line& cmd);
  static void cmd_pass(impl& s, const command_line& cmd);
  static void cmd_auth(impl& s, const command_line& cmd);
  static void cmd_capa(impl& s, const command_line& cmd);
  static void cmd_stls(impl& s, const command_line& cmd);
  static void cmd_stat(impl& s, const command_line& cmd);
  static void cmd_list(impl& s, const command_line& cmd);
  static void cmd_uidl(impl& s, const command_line& cmd);
  static void cmd_retr(impl& s, const command_line& cmd);
  static void cmd_top(impl& s, const command_line& cmd);
  static void cmd_dele(impl& s, const command_line& cmd);
  static void cmd_rset(impl& s, const command_line& cmd);
  static void cmd_noop(impl& s, const command_line& cmd);
  static void cmd_quit(impl& s, const command_line& cmd);
  // LIST and UIDL: one line per message, `field` giving what follows its number.
  using field_fn = std::string (*)(const drop_message&);
  static void listing(impl& s, const command_line& cmd, field_fn field);

  // AUTH and USER/PASS (cmd_auth.cpp).
  bool plaintext_allowed() const { return tls || opts.allow_plaintext_auth; }
  // The mechanisms offered now (CAPA SASL, bare AUTH): configured, implemented, and PLAIN
  // or LOGIN only when plaintext authentication is allowed.
  std::vector<std::string> offered_mechanisms() const;
  void begin_auth(std::string_view mechanism, std::optional<std::string> initial, bool via_pass);
  void auth_response(std::string_view line);
  void auth_step(const sasl::step_result& r);
  void auth_succeeded(const std::string& user);
  void auth_failed();
  void end_auth();

  // TRANSACTION helpers (cmd_transaction.cpp): the index of a live message named by `arg`,
  // or nullopt after answering the error.
  std::optional<std::size_t> message_index(std::string_view arg);
  // RETR n and DELE n: TRANSACTION state, exactly one argument naming a live message; the
  // index, or nullopt after answering the error.
  std::optional<std::size_t> single_message_arg(const command_line& cmd);
  std::size_t live_count() const;
  std::uint64_t live_bytes() const;
  // The message at `index`, or nullopt after answering "-ERR [SYS/TEMP]".
  std::optional<std::string> read_message(std::size_t index);

  session& self;
  options opts;
  limits lim;
  deps dep;
  core::line_reader reader;
  state st = state::authorization;
  bool started = false;
  bool tls = false;
  bool eof = false;
  bool stls_due = false;  // STLS was answered: the next event is stls

  std::optional<std::string> user_name;  // from USER, waiting for PASS
  std::unique_ptr<sasl::server_mechanism> mechanism;
  std::unique_ptr<auth_job> job;
  std::optional<std::string> final_user;  // success sent as "+ data", awaiting the empty ack
  bool auth_via_pass = false;

  std::unique_ptr<maildrop> drop;
  std::vector<bool> deleted;  // by index, marks of DELE until QUIT

  core::time_point last_activity{};
  core::output_hold hold;  // the answer to a failed login, until its time
};

// Response texts used by several handlers.
inline constexpr std::string_view wrong_state_text = "command not valid in this state";
inline constexpr std::string_view syntax_text = "syntax error";

}  // namespace mailsim::pop3
