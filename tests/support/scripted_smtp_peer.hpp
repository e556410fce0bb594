// Test double: an SMTP receiver with canned replies, as a memory_peer.
//
// Contract: line-based (CRLF) and forgiving: it answers the greeting, EHLO/HELO, STARTTLS,
// MAIL, RCPT, DATA (reading the message to CRLF.CRLF and undoing the dot-stuffing, RFC 5321
// §4.5.2), RSET, NOOP and QUIT with plausible defaults, and any step with the reply a test
// scripted. It does not validate syntax beyond what it needs to record the envelope, and
// offers no CHUNKING (no BDAT). Pipelined commands (RFC 2920) are answered one by one.
// Scripted actions, most specific first: per recipient address (RCPT), per transaction
// number, per connection number, per step, then the default. A transaction is numbered
// 1, 2, … across all connections each time a MAIL command arrives; a connection 1, 2, … as
// they open. An action is a reply, a drop (close without replying), or silence (no reply and
// nothing more read on that connection, so the client's timeout decides). A 421 reply closes
// the connection after it is sent (RFC 5321 §3.8); so does the reply to QUIT.
// It records every command line and every message whose data was completed, with the
// envelope, the client's address and TLS state, and the reply given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/memory_transport.hpp"

namespace mailsim::test {

enum class smtp_step { greeting, ehlo, helo, starttls, mail, rcpt, data, data_end, rset, noop, quit };

struct smtp_action {
  enum class kind { reply, drop, silent };
  kind what = kind::reply;
  std::string text;  // kind::reply: the reply, lines separated by CRLF (a final CRLF is added)

  static smtp_action reply(std::string text) { return {kind::reply, std::move(text)}; }
  static smtp_action drop() { return {kind::drop, {}}; }
  static smtp_action silent() { return {kind::silent, {}}; }
};

struct smtp_received_message {
  std::uint64_t connection = 0;       // memory_connection::id()
  std::size_t transaction = 0;        // 1-based, across connections
  std::string client_address;         // the source address the receiver saw
  std::string helo;                   // the EHLO/HELO argument
  bool tls = false;                   // received under STARTTLS
  std::string mail_from;              // the reverse-path, without <>
  std::string mail_parameters;        // after the reverse-path (SIZE=…, BODY=…)
  std::vector<std::string> recipients;  // the forward-paths answered 2xx, without <>
  std::string content;                // the message, unstuffed, CRLF lines, without "."
  std::string reply;                  // the reply to the final "."

  bool accepted() const { return !reply.empty() && reply[0] == '2'; }
};

class scripted_smtp_peer final : public memory_peer {
 public:
  explicit scripted_smtp_peer(std::string host_name = "mx.test");

  void on(smtp_step step, smtp_action action);
  void on_connection(std::size_t n, smtp_step step, smtp_action action);
  void on_transaction(std::size_t n, smtp_step step, smtp_action action);
  void on_recipient(const std::string& address, smtp_action action);  // case-insensitive
  // The EHLO keywords after the greeting line. Default: PIPELINING, 8BITMIME,
  // ENHANCEDSTATUSCODES, SIZE 10485760, STARTTLS (left out once TLS is active).
  void set_extensions(std::vector<std::string> keywords) { extensions_ = std::move(keywords); }

  // Every completed message, accepted or not, in order.
  const std::vector<smtp_received_message>& messages() const { return messages_; }
  std::vector<smtp_received_message> accepted_messages() const;
  // Every command line received (not message data), all connections, in order.
  const std::vector<std::string>& commands() const { return commands_; }
  std::size_t connections_opened() const { return connections_; }
  std::size_t transactions_started() const { return transactions_; }
  // Connections the client closed (or dropped) while this peer still held them open (a
  // connection this peer closed, after QUIT, a 421 or a drop, does not count).
  std::size_t client_closes() const { return client_closes_; }
  std::size_t quits() const { return quits_; }  // QUIT commands received

  void on_open(memory_connection& conn) override;
  void on_bytes(memory_connection& conn, std::string_view bytes) override;
  void on_tls(memory_connection& conn) override;
  void on_close(memory_connection& conn) override;

 private:
  enum class phase { command, data, tls_wait, stalled, closed };
  struct session {
    std::size_t number = 0;  // connection number
    phase state = phase::command;
    std::string buffer;
    std::string helo;
    bool refused = false;  // the greeting was not 220: only QUIT is answered
    bool in_transaction = false;
    smtp_received_message tx;
  };

  void on_line(memory_connection& conn, session& s, std::string_view line);
  void on_command(memory_connection& conn, session& s, std::string_view line);
  void on_data_line(memory_connection& conn, session& s, std::string_view line);
  // Applies the scripted (or default) action; returns the reply sent, empty if none.
  std::string act(memory_connection& conn, session& s, smtp_step step,
                  const std::string& default_reply, const std::string* recipient = nullptr);
  const smtp_action* scripted(const session& s, smtp_step step,
                              const std::string* recipient) const;
  std::string ehlo_reply(const session& s, memory_connection& conn) const;

  std::string host_;
  std::vector<std::string> extensions_;
  std::map<smtp_step, smtp_action> by_step_;
  std::map<std::pair<std::size_t, smtp_step>, smtp_action> by_connection_;
  std::map<std::pair<std::size_t, smtp_step>, smtp_action> by_transaction_;
  std::map<std::string, smtp_action> by_recipient_;
  std::map<std::uint64_t, session> sessions_;  // by memory_connection::id()
  std::vector<smtp_received_message> messages_;
  std::vector<std::string> commands_;
  std::size_t connections_ = 0;
  std::size_t transactions_ = 0;
  std::size_t client_closes_ = 0;
  std::size_t quits_ = 0;
};

}  // namespace mailsim::test
