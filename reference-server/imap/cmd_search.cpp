// SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 4731 ESEARCH RETURN options, RFC 7162
// MODSEQ). Header and text keys read the message through reference-server/message and
// compare ASCII case-insensitively; header values have RFC 2047 words decoded.
#include <algorithm>
#include <map>

#include "reference-server/imap/session_impl.hpp"
#include "reference-server/message/date.hpp"
#include "reference-server/message/imap_view.hpp"

namespace mailsim::imap {
namespace {

using key_kind = search_key::kind;

// UID and sequence-set keys, normalized once per SEARCH rather than once per message.
// Looked up by key address only; never iterated.
struct set_cache {
  std::map<const search_key*, uid_ranges> ranges;
  const std::vector<std::uint32_t>* saved = nullptr;  // "$" (RFC 5182), sorted UIDs

  bool contains(const search_key& key, std::uint32_t n, std::uint32_t star, std::uint32_t uid) {
    if (key.set.saved) return std::binary_search(saved->begin(), saved->end(), uid);
    auto it = ranges.find(&key);
    if (it == ranges.end()) it = ranges.emplace(&key, normalize(key.set, star)).first;
    return in_ranges(it->second, n);
  }
};

// One message under test; its bytes are read and parsed only when a key needs them.
struct candidate {
  std::uint32_t seq = 0;
  std::uint32_t max_seq = 0;
  std::uint32_t max_uid = 0;
  const message_entry* entry = nullptr;
  const mailbox_backend* box = nullptr;
  set_cache* sets = nullptr;
  bool loaded = false;
  std::string bytes;
  message::parsed_message parsed;

  const message::parsed_message& message() {
    if (!loaded) {
      loaded = true;
      if (box->read(entry->uid, bytes) != backend_status::ok) bytes.clear();
      parsed = message::parse(bytes);
    }
    return parsed;
  }
};

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  return upper(haystack).find(upper(needle)) != std::string::npos;
}


std::int64_t key_day(const date& d) {
  return message::days_from_civil(d.year, d.month, d.day);
}

std::int64_t internal_day(std::int64_t ms) {
  std::int64_t days = ms / 86'400'000;
  if (ms < 0 && ms % 86'400'000 != 0) --days;
  return days;
}

std::optional<std::int64_t> sent_day(candidate& c) {
  auto values = message::header_values(c.message().root(), "Date");
  if (values.empty()) return std::nullopt;
  auto d = message::parse_date(values.front());
  if (!d) return std::nullopt;
  return message::days_from_civil(d->year, d->month, d->day);
}

bool header_has(candidate& c, std::string_view field, std::string_view value) {
  auto values = message::header_values_decoded(c.message().root(), field);
  return std::any_of(values.begin(), values.end(),
                     [value](const std::string& v) { return contains_nocase(v, value); });
}

bool has_keyword(const message_entry& e, std::string_view k) {
  return std::any_of(e.keywords.begin(), e.keywords.end(),
                     [k](const std::string& have) { return upper(have) == upper(k); });
}

bool matches(const search_key& key, candidate& c);

bool all_match(const std::vector<search_key>& keys, candidate& c) {
  return std::all_of(keys.begin(), keys.end(), [&c](const search_key& k) { return matches(k, c); });
}

bool flag(const candidate& c, std::uint8_t bit) {
  return (c.entry->flags & bit) != 0;
}

bool matches(const search_key& key, candidate& c) {
  const message_entry& e = *c.entry;
  switch (key.type) {
    case key_kind::all: return true;
    case key_kind::answered: return flag(c, flag_answered);
    case key_kind::deleted: return flag(c, flag_deleted);
    case key_kind::draft: return flag(c, flag_draft);
    case key_kind::flagged: return flag(c, flag_flagged);
    case key_kind::seen: return flag(c, flag_seen);
    case key_kind::unanswered: return !flag(c, flag_answered);
    case key_kind::undeleted: return !flag(c, flag_deleted);
    case key_kind::undraft: return !flag(c, flag_draft);
    case key_kind::unflagged: return !flag(c, flag_flagged);
    case key_kind::unseen: return !flag(c, flag_seen);
    case key_kind::recent: return false;  // no session ever sees \Recent here
    case key_kind::new_: return false;    // NEW is RECENT UNSEEN
    case key_kind::old: return true;
    case key_kind::keyword: return has_keyword(e, key.text);
    case key_kind::unkeyword: return !has_keyword(e, key.text);
    case key_kind::before: return internal_day(e.internal_date_ms) < key_day(key.when);
    case key_kind::on: return internal_day(e.internal_date_ms) == key_day(key.when);
    case key_kind::since: return internal_day(e.internal_date_ms) >= key_day(key.when);
    case key_kind::sentbefore: {
      auto d = sent_day(c);
      return d && *d < key_day(key.when);
    }
    case key_kind::senton: {
      auto d = sent_day(c);
      return d && *d == key_day(key.when);
    }
    case key_kind::sentsince: {
      auto d = sent_day(c);
      return d && *d >= key_day(key.when);
    }
    case key_kind::larger: return e.size_bytes > key.number;
    case key_kind::smaller: return e.size_bytes < key.number;
    case key_kind::from: return header_has(c, "From", key.text);
    case key_kind::to: return header_has(c, "To", key.text);
    case key_kind::cc: return header_has(c, "Cc", key.text);
    case key_kind::bcc: return header_has(c, "Bcc", key.text);
    case key_kind::subject: return header_has(c, "Subject", key.text);
    case key_kind::header: {
      // RFC 9051 §6.4.4: an empty value matches every message that has the field.
      if (key.value.empty()) {
        return !message::header_values(c.message().root(), key.text).empty();
      }
      return header_has(c, key.text, key.value);
    }
    case key_kind::body: {
      const auto& m = c.message();
      return contains_nocase(m.body_of(m.root()), key.text);
    }
    case key_kind::text: return contains_nocase(c.message().bytes, key.text);
    case key_kind::uid: return c.sets->contains(key, e.uid, c.max_uid, e.uid);
    case key_kind::sequence: return c.sets->contains(key, c.seq, c.max_seq, e.uid);
    case key_kind::modseq: return e.modseq >= key.number;
    case key_kind::not_: return key.children.empty() || !matches(key.children.front(), c);
    case key_kind::or_:
      return key.children.size() == 2 && (matches(key.children[0], c) || matches(key.children[1], c));
    case key_kind::group: return all_match(key.children, c);
  }
  return false;
}

// RFC 9051 §9: message sequence numbers beyond the mailbox are a client error, in SEARCH
// as in FETCH; UID keys are not (those messages may be gone).
template <typename Valid>
bool sequence_keys_valid(const std::vector<search_key>& keys, const Valid& valid) {
  return std::all_of(keys.begin(), keys.end(), [&valid](const search_key& k) {
    if (k.type == key_kind::sequence && !valid(k.set)) return false;
    return sequence_keys_valid(k.children, valid);
  });
}

bool uses_modseq(const std::vector<search_key>& keys) {
  return std::any_of(keys.begin(), keys.end(), [](const search_key& k) {
    return k.type == key_kind::modseq || uses_modseq(k.children);
  });
}

std::string join_numbers(const std::vector<std::uint32_t>& numbers) {
  std::string out;
  for (std::uint32_t n : numbers) out += " " + std::to_string(n);
  return out;
}

// RFC 5182 §2.4: SAVE keeps every match, or only the minimum and/or maximum when MIN or
// MAX is asked for too. `found_uids` is ascending.
std::vector<std::uint32_t> saved_result(const std::vector<std::string>& opts,
                                        const std::vector<std::uint32_t>& found_uids) {
  const bool min = std::find(opts.begin(), opts.end(), "MIN") != opts.end();
  const bool max = std::find(opts.begin(), opts.end(), "MAX") != opts.end();
  if ((!min && !max) || found_uids.empty()) return found_uids;
  std::vector<std::uint32_t> out;
  if (min) out.push_back(found_uids.front());
  if (max && (!min || found_uids.size() > 1)) out.push_back(found_uids.back());
  return out;
}

// RFC 4731 §3.1: the ESEARCH response for these RETURN options.
std::string esearch_line(const std::string& tag, bool uid, const std::vector<std::string>& opts,
                         const std::vector<std::uint32_t>& found) {
  std::string line = "ESEARCH (TAG \"" + tag + "\")";
  if (uid) line += " UID";
  for (const std::string& opt : opts) {
    if (opt == "MIN" && !found.empty()) line += " MIN " + std::to_string(found.front());
    if (opt == "MAX" && !found.empty()) line += " MAX " + std::to_string(found.back());
    if (opt == "COUNT") line += " COUNT " + std::to_string(found.size());
    if (opt == "ALL" && !found.empty()) line += " ALL " + format_uid_set(found);
  }
  return line;
}

}  // namespace

bool session::impl::search_refused(const command& cmd, const search_args& args) {
  if (args.charset && upper(*args.charset) != "UTF-8" && upper(*args.charset) != "US-ASCII") {
    no(cmd, "[BADCHARSET (UTF-8 US-ASCII)] unsupported charset");
    return true;
  }
  if (args.return_options) {
    for (const std::string& opt : *args.return_options) {
      if (opt != "MIN" && opt != "MAX" && opt != "COUNT" && opt != "ALL" && opt != "SAVE") {
        bad(cmd.tag, "unsupported RETURN option");
        return true;
      }
    }
  }
  // Checked against the view before the sync below: the numbers the client knew of. An
  // empty mailbox has no numbers to be out of range of: "1:*" there finds nothing, as
  // clients that search before they look expect.
  const auto in_view = [this](const sequence_set& set) {
    return view.empty() || sequence_numbers_valid(set);
  };
  if (!sequence_keys_valid(args.keys, in_view)) {
    bad(cmd.tag, "invalid message sequence number");
    return true;
  }
  return false;
}

void session::impl::cmd_search(impl& s, const command& cmd) {
  const auto& args = std::get<search_args>(cmd.args);
  if (s.search_refused(cmd, args)) return;
  // RFC 9051 §7.5.1: no EXPUNGE now, but the result must agree with what the client will
  // be told. New messages are announced (EXISTS) before the result so that it may name
  // them; messages another session expunged are left out (the client still numbers them,
  // so the sequence numbers of the others stay right), as Dovecot does.
  s.report_changes(false);
  if (s.st != state::selected) return;  // the mailbox went away: "* BYE" was the answer
  const bool modseq_key = uses_modseq(args.keys);
  if (modseq_key) s.condstore = true;
  std::vector<std::uint32_t> found;
  std::uint64_t max_modseq = 0;
  const std::uint32_t max_uid = s.view.empty() ? 0 : s.view.back().uid;
  set_cache sets;
  sets.saved = &s.saved_uids;
  std::vector<std::uint32_t> found_uids;
  for (std::size_t i = 0; i < s.view.size(); ++i) {
    const message_entry* e = s.backend_entry(s.view[i].uid);
    if (e == nullptr) continue;
    candidate c;
    c.seq = static_cast<std::uint32_t>(i + 1);
    c.max_seq = static_cast<std::uint32_t>(s.view.size());
    c.max_uid = max_uid;
    c.entry = e;
    c.box = s.box.get();
    c.sets = &sets;
    if (!all_match(args.keys, c)) continue;
    found.push_back(cmd.uid ? e->uid : c.seq);
    found_uids.push_back(e->uid);
    max_modseq = std::max(max_modseq, e->modseq);
  }
  const std::string modseq_suffix =
      modseq_key && !found.empty() ? " (MODSEQ " + std::to_string(max_modseq) + ")" : "";
  // RFC 9051 §6.4.4: an IMAP4rev2 client always gets ESEARCH; no RETURN means ALL.
  if (!args.return_options && !s.rev2) {
    s.untagged("SEARCH" + join_numbers(found) + modseq_suffix);
    s.ok(cmd, "SEARCH completed");
    return;
  }
  // RFC 4731: RETURN () means ALL.
  std::vector<std::string> opts = args.return_options.value_or(std::vector<std::string>{});
  if (opts.empty()) opts.push_back("ALL");
  if (std::find(opts.begin(), opts.end(), "SAVE") != opts.end()) {
    s.saved_uids = saved_result(opts, found_uids);
    // RFC 5182 §2.4: SAVE alone asks for no ESEARCH response.
    if (opts.size() == 1) {
      s.ok(cmd, "SEARCH completed");
      return;
    }
  }
  std::string line = esearch_line(cmd.tag, cmd.uid, opts, found);
  if (modseq_key && !found.empty()) line += " MODSEQ " + std::to_string(max_modseq);
  s.untagged(line);
  s.ok(cmd, "SEARCH completed");
}

}  // namespace mailsim::imap
