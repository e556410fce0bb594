// Internal to mailsim::imap: the state behind imap::session and its command handlers, one
// file per command family (cmd_<family>.cpp). Handlers check arguments, answer errors
// themselves and write their answers into the session's output. The dispatch table, with
// the states each command is allowed in, lives in session.cpp. Not a public header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reference-server/core/output_hold.hpp"
#include "reference-server/imap/command.hpp"
#include "reference-server/imap/parser.hpp"
#include "reference-server/imap/session.hpp"
#include "reference-server/sasl/mechanism.hpp"

namespace mailsim::imap {

// What the client knows about one message: sequence number is index + 1. Kept apart from
// the backend's view so that an expunge can wait until the client may hear of it. Plain
// data (keywords only as a digest), so that SELECT copies 10,000 of them in microseconds;
// the keywords themselves are read from the backend's entry when they are sent.
struct view_entry {
  std::uint32_t uid = 0;
  std::uint8_t flags = 0;
  std::uint64_t modseq = 0;
  std::uint64_t keywords_digest = 0;  // keywords_digest() of the keywords, 0 for none
};
std::uint64_t keywords_digest(const std::vector<std::string>& keywords);
view_entry to_view(const message_entry& m);

// Flags as IMAP text ("\Seen \Deleted kw") and back.
std::string flags_text(std::uint8_t flags, const std::vector<std::string>& keywords);
// System flag bits and keywords of a flag list; false for an unknown system flag ("\Foo")
// or \Recent, which clients may not set.
bool parse_flags(const std::vector<std::string>& in, std::uint8_t& flags,
                 std::vector<std::string>& keywords);
// "dd-Mon-yyyy hh:mm:ss +0000" of an instant (ms since the epoch), UTC.
std::string internal_date_text(std::int64_t epoch_ms);
std::int64_t date_time_to_ms(const date_time& t);
std::string upper(std::string_view s);
struct fetch_plan;  // cmd_fetch.cpp
// A FETCH answered in parts (cmd_fetch.cpp); the deleter lives there, where the type is whole.
struct fetch_job;
struct fetch_job_deleter {
  void operator()(fetch_job* job) const;
};
// A sequence set as sorted, merged, inclusive ranges with "*" replaced by `star` and
// reversed ranges put right ("4:2" is 2:4). Merging first keeps hostile sets such as
// "1:*,1:*,..." from costing ranges x messages.
using uid_ranges = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
uid_ranges normalize(const sequence_set& set, std::uint32_t star);
bool in_ranges(const uid_ranges& ranges, std::uint32_t n);
// RFC 7162 §3.2.5.2 / §3.2.6: the UIDs of `known` (below uid_next) that are not in `view`,
// as compressed ranges ("" when none), for VANISHED (EARLIER).
std::string vanished_uids(const sequence_set& known, const std::vector<view_entry>& view,
                          std::uint32_t uid_next);

struct session::impl {
  enum class state { not_authenticated, authenticated, selected, logout };

  struct auth_job {
    bool start = false;
    std::optional<std::string> input;
    std::optional<sasl::step_result> result;
  };

  using handler_fn = void (*)(impl&, const command&);

  impl(session& owner, options opts, limits lim, deps d);

  // The loop behind next_event().
  event_kind run();
  void handle(read_event& ev);
  void on_continuation(const read_event& ev);
  void on_read_error(const read_event& ev);
  void on_command(const read_event& ev);
  void dispatch(const command& cmd);
  void touch();

  // Output.
  void untagged(std::string_view text);
  void tagged(std::string_view tag, std::string_view status, std::string_view text);
  void ok(const command& cmd, std::string_view text);
  void no(const command& cmd, std::string_view text);
  // A client mistake: BAD (untagged without a tag), counted toward errors_max.
  void bad(const std::optional<std::string>& tag, std::string_view text);
  void bye_and_close(std::string_view text);
  void finish();
  std::string capability_list() const;
  parse_options parser_options() const { return {utf8, default_nesting_depth_max}; }

  // Authentication (cmd_auth.cpp).
  bool plaintext_allowed() const { return tls || opts.allow_plaintext_auth; }
  std::vector<std::string> offered_mechanisms() const;
  void begin_auth(const std::string& tag, std::string_view mechanism,
                  std::optional<std::string> initial, bool via_login);
  void auth_response(std::string_view line);
  void auth_step(const sasl::step_result& r);
  void auth_succeeded(const std::string& user);
  void auth_failed();
  void end_auth();

  // Selected state (cmd_select.cpp).
  void close_mailbox();
  // The untagged responses of SELECT/EXAMINE once the mailbox is open.
  void select_responses(const select_args& args);
  // The selected mailbox's LIST attributes for SELECT ("\Sent"), from account->list().
  std::string selected_attributes();
  // Syncs the backend and tells the client what changed; EXPUNGE/VANISHED only when
  // allow_expunge (RFC 9051 §7.5.1: not during FETCH, STORE, SEARCH).
  void report_changes(bool allow_expunge);
  // Whether another session deleted or renamed away the selected mailbox (its sync says
  // not_found); if so "* BYE" is queued and the session closed (RFC 9051 §7.1.5, as
  // Dovecot does), and the command gets no tagged answer. Otherwise changes the sync found
  // are left for the next report_changes().
  bool selected_mailbox_gone();
  bool close_if_gone(backend_status sync_status);
  // This session renamed `from` to `to`: the selected mailbox (UIDVALIDITY `uid_validity`
  // before the rename) follows if it was `from` or below it.
  void follow_rename(const std::string& from, const std::string& to, std::uint32_t uid_validity);
  std::string fetch_flags_line(std::size_t index, bool with_uid) const;
  const message_entry* backend_entry(std::uint32_t uid) const;
  // Indexes into `view` named by a set; nullopt after answering BAD (a sequence number
  // beyond the mailbox). UIDs that are not in the view are skipped.
  std::optional<std::vector<std::size_t>> resolve(const command& cmd, const sequence_set& set,
                                                  bool uid);
  // Whether every message sequence number of `set` names a message of the view.
  bool sequence_numbers_valid(const sequence_set& set) const;
  void idle_poll();
  // The mailbox named by a command, for a short operation (STATUS, APPEND, COPY target):
  // the selected one's backend when it is that mailbox, else a freshly opened one in
  // `holder`. nullptr (with `status`) when it cannot be opened; the caller answers.
  mailbox_backend* open_other(const std::string& name, bool read_only,
                              std::unique_ptr<mailbox_backend>& holder, backend_status& status);
  // A mailbox name as the client reads it: modified UTF-7 unless UTF8=ACCEPT (RFC 6855).
  std::string mailbox_text(std::string_view name) const;
  void no_for(const command& cmd, backend_status status, std::string_view what);

  // Commands (cmd_*.cpp).
  static void cmd_capability(impl& s, const command& cmd);
  static void cmd_noop(impl& s, const command& cmd);
  static void cmd_check(impl& s, const command& cmd);
  static void cmd_logout(impl& s, const command& cmd);
  static void cmd_starttls(impl& s, const command& cmd);
  static void cmd_login(impl& s, const command& cmd);
  static void cmd_authenticate(impl& s, const command& cmd);
  static void cmd_enable(impl& s, const command& cmd);
  static void cmd_id(impl& s, const command& cmd);
  static void cmd_select(impl& s, const command& cmd);
  static void cmd_create(impl& s, const command& cmd);
  static void cmd_delete(impl& s, const command& cmd);
  static void cmd_rename(impl& s, const command& cmd);
  static void cmd_subscribe(impl& s, const command& cmd);
  static void cmd_list(impl& s, const command& cmd);
  static void cmd_namespace(impl& s, const command& cmd);
  static void cmd_status(impl& s, const command& cmd);
  static void cmd_append(impl& s, const command& cmd);
  static void cmd_idle(impl& s, const command& cmd);
  static void cmd_close(impl& s, const command& cmd);
  static void cmd_expunge(impl& s, const command& cmd);
  static void cmd_fetch(impl& s, const command& cmd);
  static void cmd_store(impl& s, const command& cmd);
  static void cmd_copy(impl& s, const command& cmd);
  static void cmd_search(impl& s, const command& cmd);

  // FETCH of one message (cmd_fetch.cpp): writes its untagged FETCH unless it is skipped.
  enum class fetch_outcome { sent, skipped, expunged, unknown_cte };
  fetch_outcome fetch_one(std::size_t index, const fetch_plan& plan);
  // Answers more messages of the FETCH under way, up to lim.output_pending_max bytes of
  // output, and its tagged reply once every message is answered (fetching is then reset).
  void continue_fetch();
  // One set_flags() for every message of a FETCH that sets \Seen (not one per message).
  // Messages not modified since `changed_since` (CHANGEDSINCE) are not answered, so not marked.
  std::vector<std::uint32_t> mark_seen(const std::vector<std::size_t>& indexes,
                                       std::optional<std::uint64_t> changed_since);

  // Answers NO or BAD (and returns true) when a SEARCH cannot run: an unknown charset or
  // RETURN option, or a message sequence number beyond the view (cmd_search.cpp).
  bool search_refused(const command& cmd, const search_args& args);

  // STATUS items of a mailbox as "(MESSAGES 2 UIDNEXT 3)".
  std::string status_items(mailbox_backend& box, const std::vector<status_item>& items) const;

  session& self;
  options opts;
  limits lim;
  deps dep;
  command_reader reader;
  state st = state::not_authenticated;
  bool started = false;
  bool tls = false;
  bool eof = false;
  bool tls_wait = false;
  bool starttls_due = false;

  // Enabled extensions (RFC 5161).
  bool rev2 = false;
  bool condstore = false;
  bool qresync = false;
  bool utf8 = false;

  // AUTHENTICATE / LOGIN in progress.
  std::string auth_tag;
  bool in_sasl = false;  // lines from the client are SASL responses
  bool auth_via_login = false;
  std::unique_ptr<sasl::server_mechanism> mechanism;
  std::unique_ptr<auth_job> job;
  std::optional<std::string> final_user;

  std::unique_ptr<account_backend> account;

  // Selected state.
  std::unique_ptr<mailbox_backend> box;
  std::string box_name;
  bool read_only = false;
  std::vector<view_entry> view;
  // RFC 5182 SEARCHRES: the UIDs of the last SEARCH RETURN (SAVE), which "$" names.
  std::vector<std::uint32_t> saved_uids;

  // The FETCH whose answer is being written in parts; no other command runs meanwhile.
  std::unique_ptr<fetch_job, fetch_job_deleter> fetching;

  // IDLE.
  bool idling = false;
  // This session changed the selected mailbox (or may have): the next report_changes()
  // compares the whole view even when the backend's sync reports nothing new.
  bool box_changed = true;
  std::string idle_tag;
  core::time_point next_poll{};

  core::time_point last_activity{};
  core::output_hold hold;  // the answer to a failed login, until its time
};

}  // namespace mailsim::imap
