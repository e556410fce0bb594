// Internal to mailsim::policy: the state of one inbound_session, shared with the callbacks of
// its pending lookups. A callback holds a weak_ptr and does nothing once the session is gone
// (inbound_chain.hpp: no call after destruction). Stages: inbound_chain.cpp (connect, MAIL,
// RCPT) and inbound_message.cpp (end of DATA). Not a public header.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reference-server/policy/inbound_chain.hpp"

namespace mailsim::policy {

struct inbound_session::impl : std::enable_shared_from_this<impl> {
  impl(inbound_state& s, core::ip_address ip) : state(s), client(ip), client_text(to_string(ip)) {}

  const inbound_settings& settings() const { return state.settings_; }
  core::time_point now() const { return state.clock_.now(); }

  // connect / MAIL / RCPT (inbound_chain.cpp)
  void start_dnsbl();
  void dnsbl_done(dnsbl_outcome outcome);
  stage_verdict mail_verdict() const;
  stage_verdict rcpt_verdict(const std::string& recipient);
  const dnsbl_rule* blocking_rule() const;
  void spf_done(auth::spf_outcome outcome);

  // end of DATA (inbound_message.cpp)
  std::optional<message_verdict> start_message(std::string_view message, message_fn done);
  void authentication_done();
  std::optional<message_verdict> after_authentication();
  void deliver(message_verdict verdict);
  message_verdict finish();
  std::vector<std::string> resinfos() const;
  std::optional<smtp::reply> dmarc_refusal() const;
  bool junk_by_authentication() const;

  inbound_state& state;
  core::ip_address client;
  std::string client_text;
  std::string helo;

  std::optional<dnsbl_outcome> dnsbl;  // once the lookups of on_connect() finished
  bool dnsbl_running = false;
  std::string waiting_recipient;  // RCPT waiting for the DNSBL answers
  stage_fn waiting_rcpt;

  std::string sender;
  std::optional<auth::spf_outcome> spf_mail;  // MAIL FROM identity (HELO for <>)
  std::optional<auth::spf_outcome> spf_helo;  // HELO identity, when checked separately
  int mail_pending = 0;
  stage_fn waiting_mail;

  struct message_run;
  std::unique_ptr<message_run> message;  // the end-of-DATA checks under way
};

struct inbound_session::impl::message_run {
  std::string_view text;  // the connection keeps it unchanged until the verdict
  message_fn done;
  int pending = 0;
  std::vector<auth::dkim_result> dkim;
  std::optional<auth::arc_outcome> arc;
  std::optional<auth::dmarc_outcome> dmarc;
};

}  // namespace mailsim::policy
