// mailsim::smtp client session — the sending side of RFC 5321, sans-IO.
//
// Shape (../shared/DESIGN.md "The session shape"):
//   feed(bytes) / feed_eof()   hand over what the server sent, or that it closed
//   next_event()               what happened, or what the caller must do next
//   start_transaction(...)     send one message (after ready_for_transaction)
//   quit()                     end the session politely
//   take_output()              bytes to write to the server
//   next_deadline()            when on_timeout() must be called
//   on_timeout(now)            a deadline passed
// The outbound queue's Asio driver (reference-server/server) and the simulator's senders
// drive the same object. A reply is read only after take_output() has handed over every
// byte written before it (it cannot answer a command that was never sent); message data
// comes out in blocks, one per take_output() call, and each take counts as progress for
// the data block timeout.
//
// What it does: waits for the 220 greeting (RFC 5321 §3.1); EHLO, falling back to HELO
// when EHLO gets a 5xx (§3.2, §4.1.4); reads the EHLO keywords into server_capabilities;
// STARTTLS per tls_policy (RFC 3207), greeting again after TLS (§4.2); AUTH when credentials
// are configured (RFC 4954 over reference-server/sasl client mechanisms); then one or more
// transactions: MAIL, RCPT, DATA (dot-stuffed, §4.5.2) or BDAT (RFC 3030), pipelined when
// offered (RFC 2920), with SIZE (RFC 1870), BODY=8BITMIME (RFC 6152), BODY=BINARYMIME
// (RFC 3030), SMTPUTF8 (RFC 6531) and the DSN parameters (RFC 3461) as the server allows;
// QUIT. Client timeouts follow RFC 5321 §4.5.3.2.
//
// What it must not do: I/O, reading the OS clock, converting a message (an 8-bit message to
// a server without 8BITMIME fails locally with 554 5.6.3, a UTF-8 envelope to a server
// without SMTPUTF8 with 553 5.6.7), sending message data before a 354 (§3.3), or trusting
// bytes that arrived in clear text before a TLS handshake (they are discarded).
//
// What results mean:
// - transaction_result gives the reply that decided each recipient: its RCPT refusal, or
//   the final reply to the message for the recipients the server accepted. 2xx: delivered
//   (the server took responsibility); 4xx: retry later; 5xx: bounce. `local` marks replies
//   this session made up (a check before sending, a timeout, a lost connection): those are
//   not a server's word. After the final "." a lost reply is reported as a 4xx, so a retry
//   may duplicate the message, never lose it (at-least-once, DESIGN.md "Data at rest").
// - closed ends the session; `reason` says why, `answer` holds the server's reply when one
//   caused it. A 421 at any point closes the session and fails the transaction in flight as
//   transient (§3.8). A reply that cannot be parsed, or that comes out of sequence, closes
//   the session with close_reason::protocol_error: the stream can no longer be trusted.
// - error means a call was refused (start_transaction at the wrong time or with an unusable
//   envelope); the session is unchanged.
// DSN parameters are passed on only to servers that offer DSN; when one does not, the caller
// owes the "relayed" notifications of RFC 3461 §5.2.2 (capabilities().dsn tells it).
// Never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/clock.hpp"
#include "reference-server/core/fifo.hpp"
#include "reference-server/core/random.hpp"
#include "reference-server/smtp/envelope.hpp"
#include "reference-server/smtp/reply.hpp"

namespace mailsim::sasl {
class client_mechanism;
}  // namespace mailsim::sasl

namespace mailsim::smtp {

// When to use STARTTLS (RFC 3207). `required` closes the session (close_reason::tls_required)
// when the server does not offer it or refuses it, before any mail is sent in clear text.
enum class tls_policy { none, opportunistic, required };

struct client_credentials {
  std::string user;
  std::string password;
};

struct client_options {
  // EHLO/HELO argument: a domain or an address literal (RFC 5321 §4.1.4); anything else is
  // replaced by "localhost" so that it can never carry a line break into the stream.
  std::string helo_name = "localhost";
  tls_policy starttls = tls_policy::opportunistic;
  bool tls_active = false;  // implicit TLS (RFC 8314): already encrypted, no STARTTLS
  // AUTH when set; when no offered mechanism can be used the session closes with
  // close_reason::auth_unavailable rather than send mail unauthenticated.
  std::optional<client_credentials> credentials;
  // Mechanisms this client may use, strongest first; the first one the server offers wins.
  std::vector<std::string> auth_mechanisms = {"SCRAM-SHA-256", "PLAIN", "LOGIN"};
  // PLAIN and LOGIN send the password itself: only under TLS unless this is set.
  bool cleartext_auth_without_tls = false;
  bool use_pipelining = true;  // when the server offers PIPELINING
  bool prefer_bdat = false;    // BDAT for every message when the server offers CHUNKING
};

struct client_limits {
  reply_limits replies;              // line length and lines per reply
  std::size_t recipients_max = 100;  // per transaction; the caller splits larger lists
  // Message data is handed out by take_output() in blocks of at most this size, so that the
  // data block timeout measures the progress of each block (RFC 5321 §4.5.3.2.5).
  std::size_t data_block_bytes = std::size_t{64} * 1024;
  // RFC 5321 §4.5.3.2.1 to §4.5.3.2.6.
  core::duration_ms greeting_timeout{5 * 60 * 1000};
  core::duration_ms mail_timeout{5 * 60 * 1000};
  core::duration_ms rcpt_timeout{5 * 60 * 1000};
  core::duration_ms data_init_timeout{2 * 60 * 1000};
  core::duration_ms data_block_timeout{3 * 60 * 1000};
  core::duration_ms data_term_timeout{10 * 60 * 1000};
  // EHLO, HELO, STARTTLS, AUTH, RSET and QUIT: §4.5.3.2 names no value; the MAIL one is used.
  core::duration_ms command_timeout{5 * 60 * 1000};
};

struct client_deps {
  const core::clock* clock = nullptr;     // required
  core::random_source* random = nullptr;  // required for SCRAM nonces
};

// What the server's EHLO reply announced (all false after HELO).
struct server_capabilities {
  bool esmtp = false;                        // EHLO was answered with 250
  bool pipelining = false;                   // RFC 2920
  bool size = false;                         // RFC 1870
  std::uint64_t size_max = 0;                // SIZE's value; 0 when none or no fixed limit
  bool eight_bit_mime = false;               // RFC 6152
  bool smtputf8 = false;                     // RFC 6531
  bool chunking = false;                     // RFC 3030 BDAT
  bool binary_mime = false;                  // RFC 3030 BODY=BINARYMIME
  bool dsn = false;                          // RFC 3461
  bool starttls = false;                     // RFC 3207
  bool enhanced_status_codes = false;        // RFC 2034
  std::vector<std::string> auth_mechanisms;  // RFC 4954, upper-case
};

// Reads the keywords of a 250 EHLO reply (RFC 5321 §4.1.1.1: the first line is the
// greeting; each further line is a keyword with optional parameters, case-insensitive).
server_capabilities parse_ehlo_reply(const reply& r);

// The DATA form of a message (RFC 5321 §4.5.2): every line that starts with "." gets
// another; a bare CR or LF becomes CRLF (§2.3.8), so the receiver sees exactly the lines
// that were stuffed; a missing final CRLF is added; ".CRLF" ends it.
struct data_encoding {
  std::string wire;                 // the bytes to send after the 354
  std::uint64_t message_bytes = 0;  // the size RFC 1870 §5 defines (no stuffing, no ".")
};
data_encoding encode_data(std::string_view message);

enum class client_event_kind {
  need_more,              // write take_output() (while has_output()), then feed the reply
  waiting,                // nothing to do until the caller acts (start a transaction, quit,
                          // or finish the TLS handshake); keep reading for a 421 or EOF
  ready_for_transaction,  // greeted, EHLO done, TLS and AUTH done as configured
  starttls,               // write take_output(), do the TLS handshake, call tls_started()
  recipient_result,       // one RCPT reply
  transaction_result,     // the transaction ended; per-recipient outcomes
  closed,                 // the session is over; close the connection
  error,                  // a call was refused; the session is unchanged
};

enum class close_reason {
  none,
  quit,                 // QUIT was sent and answered (or the server closed after it)
  peer_closed,          // the server closed the connection without QUIT
  service_unavailable,  // the server sent 421 (RFC 5321 §3.8)
  greeting_refused,     // the greeting was not 220 (RFC 5321 §3.1)
  helo_refused,         // EHLO and HELO were refused
  tls_required,         // tls_policy::required, but STARTTLS was not offered or was refused
  auth_unavailable,     // credentials are set but no usable AUTH mechanism is offered
  auth_failed,          // AUTH refused, or the server did not prove itself (SCRAM)
  timeout,              // RFC 5321 §4.5.3.2
  protocol_error,       // an unparseable, over-long or out-of-sequence reply
};

std::string_view close_reason_name(close_reason r);

struct recipient_outcome {
  reply answer;        // RCPT refusal, MAIL refusal, final reply, or a local reply
  bool local = false;  // made up by this session, not said by the server

  bool delivered() const { return answer.code >= 200 && answer.code < 300; }
};

struct transaction_result {
  // The reply that ended the transaction: the final reply to the message, the MAIL
  // refusal, the first RCPT refusal when none was accepted, the DATA refusal, or local.
  reply answer;
  bool local = false;
  std::vector<recipient_outcome> recipients;  // one per envelope recipient, same order

  std::size_t delivered_count() const;
};

struct client_event {
  client_event() = default;
  explicit client_event(client_event_kind k) : kind(k) {}

  client_event_kind kind = client_event_kind::need_more;
  std::size_t recipient = 0;  // recipient_result: index in the envelope's recipients
  reply answer;               // recipient_result: the RCPT reply; closed: the cause, if any
  transaction_result result;  // transaction_result
  close_reason reason = close_reason::none;  // closed
  std::string detail;                        // closed and error: what happened, for logs
};

class client_session {
 public:
  client_session(client_options options, client_limits limits, client_deps deps);
  ~client_session();
  client_session(const client_session&) = delete;
  client_session& operator=(const client_session&) = delete;

  void feed(std::string_view bytes);
  // The server closed its side: no more bytes will come.
  void feed_eof();

  client_event next_event();

  // Sends one message: `message` is the content, unstuffed, in CRLF lines; it is copied.
  // Allowed after ready_for_transaction; false (and an error event) otherwise, or when the
  // envelope has no recipient, more than recipients_max, or a field that cannot be sent.
  // A message the server cannot take (SIZE, 8BITMIME, SMTPUTF8, BINARYMIME) is answered by
  // a local transaction_result without sending anything.
  bool start_transaction(const envelope& env, std::string_view message);

  // Sends QUIT as soon as no command is in flight (at once when ready; after the
  // transaction or the setup step under way otherwise) and closes after the reply, the
  // server's EOF or the timeout. False when already closed.
  bool quit();

  // The TLS handshake that followed a starttls event succeeded. (When it fails the caller
  // simply closes the connection.)
  void tls_started();

  std::string take_output();
  bool has_output() const;

  std::optional<core::time_point> next_deadline() const;
  void on_timeout(core::time_point now);

  const server_capabilities& capabilities() const { return caps_; }
  bool ready() const { return phase_ == phase::ready; }
  bool closed() const { return phase_ == phase::closed; }
  bool tls_active() const { return tls_; }
  bool authenticated() const { return authenticated_; }

 private:
  enum class phase { setup, tls_wait, ready, transaction, quitting, closed };
  // What a reply in flight answers; replies are matched to commands in order (RFC 2920 §3.1).
  enum class expect {
    greeting,
    ehlo,
    helo,
    starttls,
    auth,
    mail,
    rcpt,
    data,
    data_end,
    bdat,
    rset,
    quit
  };
  struct awaited {
    expect kind = expect::greeting;
    std::size_t index = 0;  // rcpt: which recipient
  };
  // One transaction from MAIL to its final reply.
  struct transaction {
    std::string mail_line;
    std::vector<std::string> rcpt_lines;
    std::string content;  // DATA wire form (stuffed, ".CRLF" at the end) or BDAT bytes
    bool bdat = false;
    bool pipelined = false;
    std::optional<reply> mail_refusal;
    std::vector<std::optional<reply>> rcpt_replies;
    std::size_t accepted = 0;
    std::optional<reply> first_refusal;  // the first RCPT refusal
    std::optional<reply> data_refusal;   // DATA refused although recipients were accepted
    std::optional<reply> final_reply;    // the reply after the message data
    bool discarding = false;  // a 354 came though nothing can be delivered: data ended at once
    bool needs_rset = false;  // the server may still hold the transaction
  };
  using reply_handler = void (client_session::*)(const reply&, std::size_t);

  // client_session.cpp: the reply loop, output, deadlines and closing.
  void on_reply(const reply& r);
  void dispatch(const awaited& a, const reply& r);
  void on_eof();
  void send_line(std::string_view line);
  void await(expect kind, std::size_t index = 0);
  core::duration_ms timeout_for(expect kind) const;
  void restart_deadline();
  void close(close_reason reason, std::string detail, const reply& answer, bool local);
  void push_event(client_event ev);
  void drop_ready_events();
  // client_setup.cpp: greeting, EHLO/HELO, STARTTLS, AUTH, QUIT.
  void on_greeting(const reply& r, std::size_t);
  void on_ehlo(const reply& r, std::size_t);
  void on_helo(const reply& r, std::size_t);
  void on_starttls(const reply& r, std::size_t);
  void on_auth(const reply& r, std::size_t);
  void on_quit(const reply& r, std::size_t);
  void continue_setup();
  bool wants_starttls() const;
  void start_auth();
  std::unique_ptr<sasl::client_mechanism> pick_mechanism(std::string& name) const;
  void auth_challenge(const reply& r);
  void auth_cancel(std::string reason);
  void send_quit(close_reason reason, std::string detail, const reply& answer);
  void become_ready();
  // client_transaction.cpp: MAIL, RCPT, DATA, BDAT, RSET and the result.
  void on_mail(const reply& r, std::size_t);
  void on_rcpt(const reply& r, std::size_t index);
  void on_data(const reply& r, std::size_t);
  void on_data_end(const reply& r, std::size_t);
  void on_bdat(const reply& r, std::size_t);
  void on_rset(const reply& r, std::size_t);
  std::string check_request(const envelope& env) const;
  bool refuse_request(std::string why);
  std::optional<reply> prepare(const envelope& env, std::string_view message,
                               transaction& tx) const;
  std::string mail_line(const envelope& env, std::uint64_t size, bool eight_bit) const;
  std::string rcpt_line(const recipient& r) const;
  void send_group();
  void after_last_rcpt();
  void send_content_command();
  void start_streaming();
  void finish_transaction();
  transaction_result take_result();
  void fail_local(std::size_t recipients, const reply& answer);
  transaction_result result_on_close(const reply& answer, bool local) const;

  client_options options_;
  client_limits limits_;
  client_deps deps_;
  reply_parser parser_;
  phase phase_ = phase::setup;
  std::string output_;
  bool eof_ = false;
  bool quit_requested_ = false;

  core::fifo<awaited> awaited_;
  core::time_point deadline_{};  // for awaited_.front()

  core::fifo<client_event> events_;
  client_event closed_event_;

  // Set while QUIT is in flight: how the session will be reported closed.
  close_reason quit_reason_ = close_reason::quit;
  std::string quit_detail_;
  reply quit_answer_;

  // Session facts (capabilities are forgotten after STARTTLS, RFC 3207 §4.2).
  server_capabilities caps_;
  bool greeted_ = false;  // EHLO or HELO answered 250 since the connection or TLS started
  bool tls_ = false;
  bool tls_tried_ = false;
  bool authenticated_ = false;
  std::unique_ptr<sasl::client_mechanism> mechanism_;
  bool auth_cancelled_ = false;
  bool auth_done_ = false;  // the mechanism has nothing more to send
  std::string auth_error_;

  // The transaction in flight, and the streaming of its message data.
  std::unique_ptr<transaction> tx_;
  std::size_t content_sent_ = 0;
  bool streaming_ = false;
  core::time_point block_taken_{};
};

}  // namespace mailsim::smtp
