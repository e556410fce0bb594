// The end-of-DATA checks of inbound_session: DKIM and ARC side by side, then DMARC (which
// needs DKIM's results and SPF's), then the spam score; and the fields the message is
// stored with.
#include <utility>

#include "reference-server/auth/auth_results.hpp"
#include "reference-server/auth/author.hpp"
#include "reference-server/policy/inbound_session_impl.hpp"

namespace mailsim::policy {

namespace {

// The message's DKIM result in one word, for the spam score: pass if any signature passed.
std::string dkim_word(const std::vector<auth::dkim_result>& results) {
  if (results.empty()) return "none";
  for (const auth::dkim_result& r : results) {
    if (r.status == auth::dkim_status::pass) return "pass";
  }
  for (const auth::dkim_result& r : results) {
    if (r.status == auth::dkim_status::fail) return "fail";
  }
  return auth::to_string(results.front().status);
}

}  // namespace

std::optional<message_verdict> inbound_session::impl::start_message(std::string_view text,
                                                                    message_fn done) {
  message = std::make_unique<message_run>();
  message->text = text;
  message->done = std::move(done);
  std::weak_ptr<impl> weak = weak_from_this();
  if (settings().dkim) {
    auto later = [weak](std::vector<auth::dkim_result> r) {
      if (auto self = weak.lock(); self && self->message) {
        self->message->dkim = std::move(r);
        self->authentication_done();
      }
    };
    if (auto now = state.dkim_.verify(text, later)) {
      message->dkim = std::move(*now);
    } else {
      ++message->pending;
    }
  }
  if (settings().arc) {
    auto later = [weak](auth::arc_outcome o) {
      if (auto self = weak.lock(); self && self->message) {
        self->message->arc = std::move(o);
        self->authentication_done();
      }
    };
    if (auto now = state.arc_.verify(text, later)) {
      message->arc = std::move(*now);
    } else {
      ++message->pending;
    }
  }
  if (message->pending > 0) return std::nullopt;
  return after_authentication();
}

void inbound_session::impl::authentication_done() {
  if (--message->pending > 0) return;
  if (auto verdict = after_authentication()) deliver(std::move(*verdict));
}

// DMARC once DKIM and ARC are in; the verdict at once, or later through deliver().
std::optional<message_verdict> inbound_session::impl::after_authentication() {
  if (!settings().dmarc.enabled) return finish();
  auth::dmarc_identifiers ids;
  ids.header_from = auth::author_domain(message->text).value_or("");
  if (spf_mail) {
    ids.spf_domain = spf_mail->domain;
    ids.spf_result = auth::to_string(spf_mail->result);
  } else {
    ids.spf_result = "none";
  }
  ids.dkim = message->dkim;
  std::weak_ptr<impl> weak = weak_from_this();
  std::optional<auth::dmarc_outcome> now =
      state.dmarc_.check(std::move(ids), [weak](auth::dmarc_outcome o) {
        if (auto self = weak.lock(); self && self->message) {
          self->message->dmarc = std::move(o);
          self->deliver(self->finish());
        }
      });
  if (!now) return std::nullopt;
  message->dmarc = std::move(*now);
  return finish();
}

void inbound_session::impl::deliver(message_verdict verdict) {
  message_fn done = std::move(message->done);
  message.reset();
  done(std::move(verdict));
}

// RFC 8601 resinfos in the order the checks ran.
std::vector<std::string> inbound_session::impl::resinfos() const {
  std::vector<std::string> out;
  if (spf_mail) out.push_back(auth::authres_text(*spf_mail));
  if (spf_helo) out.push_back(auth::authres_text(*spf_helo));
  if (settings().dkim && message->dkim.empty()) out.emplace_back("dkim=none");
  for (const auth::dkim_result& r : message->dkim) out.push_back(auth::authres_text(r));
  if (message->arc) out.push_back(auth::authres_text(*message->arc, client_text));
  if (message->dmarc) out.push_back(auth::authres_text(*message->dmarc));
  return out;
}

// The domain owner's policy, enforced (receiver-behaviour.md §1.1, Gmail's wording):
// 550 5.7.26 for p=reject, 451 4.7.26 when the policy could not be read for now.
std::optional<smtp::reply> inbound_session::impl::dmarc_refusal() const {
  const dmarc_settings& s = settings().dmarc;
  if (!message->dmarc || !s.enforce) return std::nullopt;
  const auth::dmarc_outcome& d = *message->dmarc;
  if (d.status == auth::dmarc_status::temperror && s.on_temperror == check_action::defer) {
    return smtp::make_reply(451, "4.7.26",
                            "Temporary DMARC error for " + d.header_from + ", try again later");
  }
  if (d.status == auth::dmarc_status::fail && d.disposition == auth::dmarc_policy::reject) {
    return smtp::make_reply(550, "5.7.26",
                            "Unauthenticated email from " + d.header_from +
                                " is not accepted due to domain's DMARC policy");
  }
  return std::nullopt;
}

// p=quarantine (enforced), or an SPF result configured to file into Junk.
bool inbound_session::impl::junk_by_authentication() const {
  const auth::dmarc_outcome* d = message->dmarc ? &*message->dmarc : nullptr;
  if (d && settings().dmarc.enforce && d->status == auth::dmarc_status::fail &&
      d->disposition == auth::dmarc_policy::quarantine) {
    return true;
  }
  if (!spf_mail) return false;
  const spf_settings& s = settings().spf;
  return (spf_mail->result == auth::spf_result::fail && s.on_fail == check_action::junk) ||
         (spf_mail->result == auth::spf_result::softfail && s.on_softfail == check_action::junk);
}

message_verdict inbound_session::impl::finish() {
  message_verdict v;
  const std::vector<std::string> results = resinfos();
  v.notes = results;
  if (message->dmarc && message->dmarc->status != auth::dmarc_status::none) {
    state.dmarc_reports().record(client_text, *message->dmarc);
  }
  if (auto refusal = dmarc_refusal()) {
    v.reply = std::move(refusal);
    return v;
  }
  auth_summary summary{spf_mail ? auth::to_string(spf_mail->result) : "",
                       settings().dkim ? dkim_word(message->dkim) : "",
                       message->dmarc ? auth::to_string(message->dmarc->status) : ""};
  const spam_report report =
      state.scorer_.score(message->text, summary, dnsbl ? &*dnsbl : nullptr, now());
  v.notes.push_back("spam: " + report.status_line());
  if (report.reject()) {
    v.reply = smtp::make_reply(550, "5.7.1", "Message rejected as spam");
    return v;
  }
  if (report.spam() || junk_by_authentication()) v.folder = settings().junk_folder;
  v.header = auth::authentication_results_field(settings().authserv_id, results) +
             "X-Spam-Status: " + report.status_line() + "\r\n";
  std::size_t removed = 0;
  std::string stripped =
      auth::strip_authentication_results(message->text, settings().authserv_id, &removed);
  if (removed > 0) v.rewritten = std::move(stripped);
  return v;
}

}  // namespace mailsim::policy
