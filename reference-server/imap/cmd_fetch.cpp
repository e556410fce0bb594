// FETCH and STORE (RFC 9051 §6.4.5-§6.4.6, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE /
// UNCHANGEDSINCE). Message data comes from reference-server/message's IMAP views.
#include <algorithm>

#include "reference-server/imap/response_format.hpp"
#include "reference-server/imap/session_impl.hpp"
#include "reference-server/message/imap_view.hpp"

namespace mailsim::imap {
namespace {

using att_kind = fetch_att::kind;

fetch_att make_att(att_kind k) {
  fetch_att a;
  a.type = k;
  return a;
}

bool needs_bytes(att_kind k) {
  return k == att_kind::envelope || k == att_kind::rfc822 || k == att_kind::rfc822_header ||
         k == att_kind::rfc822_text || k == att_kind::body || k == att_kind::bodystructure ||
         k == att_kind::body_section || k == att_kind::binary || k == att_kind::binary_size;
}

// A line that ends in LF alone: IMAP sends CRLF lines, so such a file goes through the
// parser, which converts (the store writes CRLF; other programs' files may not).
bool has_bare_lf(std::string_view bytes) {
  for (std::size_t at = bytes.find('\n'); at != std::string_view::npos; at = bytes.find('\n', at + 1)) {
    if (at == 0 || bytes[at - 1] != '\r') return true;
  }
  return false;
}

// The whole message as stored (RFC822, BODY[]): sent without parsing its MIME structure.
bool whole_message(const fetch_att& a) {
  return a.type == att_kind::rfc822 ||
         (a.type == att_kind::body_section && a.section.part.empty() &&
          a.section.text == section_spec::text_kind::none);
}

// RFC 9051 §6.4.5: these set \Seen as a side effect.
bool sets_seen(const fetch_att& a) {
  return a.type == att_kind::rfc822 || a.type == att_kind::rfc822_text ||
         ((a.type == att_kind::body_section || a.type == att_kind::binary) && !a.peek);
}

// Appends "{N}\r\n<bytes>": message data goes straight into the output, copied once.
void append_literal(std::string& out, std::string_view bytes) {
  out += '{';
  out += std::to_string(bytes.size());
  out += "}\r\n";
  out += bytes;
}

// BINARY data with NUL octets must go as literal8 (RFC 3516 §4.2).
void append_binary_literal(std::string& out, std::string_view bytes) {
  if (bytes.find('\0') != std::string_view::npos) out += '~';
  append_literal(out, bytes);
}

std::string part_text(const std::vector<std::uint32_t>& part) {
  std::string out;
  for (std::uint32_t n : part) {
    if (!out.empty()) out += '.';
    out += std::to_string(n);
  }
  return out;
}

// The section as the response names it ("1.HEADER.FIELDS (FROM TO)").
std::string section_text(const section_spec& s) {
  std::string out = part_text(s.part);
  auto add = [&out](std::string_view word) {
    if (!out.empty()) out += '.';
    out += word;
  };
  switch (s.text) {
    case section_spec::text_kind::none: break;
    case section_spec::text_kind::header: add("HEADER"); break;
    case section_spec::text_kind::header_fields: add("HEADER.FIELDS"); break;
    case section_spec::text_kind::header_fields_not: add("HEADER.FIELDS.NOT"); break;
    case section_spec::text_kind::text: add("TEXT"); break;
    case section_spec::text_kind::mime: add("MIME"); break;
  }
  if (!s.fields.empty()) {
    out += " (";
    // As the client wrote them (RFC 9051 §7.5.2), quoted again where an atom cannot hold them.
    for (std::size_t i = 0; i < s.fields.size(); ++i) {
      out += (i ? " " : "") + format_astring(s.fields[i]);
    }
    out += ")";
  }
  return out;
}

message::section_spec to_message_section(const section_spec& s) {
  message::section_spec out;
  out.part = s.part;
  out.fields = s.fields;
  switch (s.text) {
    case section_spec::text_kind::none: out.kind = message::section_kind::full; break;
    case section_spec::text_kind::header: out.kind = message::section_kind::header; break;
    case section_spec::text_kind::header_fields:
      out.kind = message::section_kind::header_fields;
      break;
    case section_spec::text_kind::header_fields_not:
      out.kind = message::section_kind::header_fields_not;
      break;
    case section_spec::text_kind::text: out.kind = message::section_kind::text; break;
    case section_spec::text_kind::mime: out.kind = message::section_kind::mime; break;
  }
  return out;
}

std::string whole(const message::parsed_message& m, message::section_kind kind) {
  message::section_spec spec;
  spec.kind = kind;
  return message::section(m, spec).value_or("");
}

// One FETCH data item; false when BINARY meets an unknown transfer encoding.
// `raw` is the stored message; `m` its parse, when an item needs it or the file has bare LFs
// (whole-message items then come from the parse, with CRLF lines).
bool fetch_item(const fetch_att& a, const message_entry& e, std::string_view raw,
                const message::parsed_message* m, std::string& out) {
  switch (a.type) {
    case att_kind::uid: out += "UID " + std::to_string(e.uid); return true;
    case att_kind::flags: out += "FLAGS (" + flags_text(e.flags, e.keywords) + ")"; return true;
    case att_kind::internaldate:
      out += "INTERNALDATE \"" + internal_date_text(e.internal_date_ms) + "\"";
      return true;
    case att_kind::rfc822_size: out += "RFC822.SIZE " + std::to_string(e.size_bytes); return true;
    case att_kind::modseq: out += "MODSEQ (" + std::to_string(e.modseq) + ")"; return true;
    case att_kind::envelope: out += "ENVELOPE " + message::envelope(*m, m->root()); return true;
    case att_kind::bodystructure:
      out += "BODYSTRUCTURE " + message::body_structure(*m, m->root(), true);
      return true;
    case att_kind::body: out += "BODY " + message::body_structure(*m, m->root(), false); return true;
    case att_kind::rfc822:
      out += "RFC822 ";
      append_literal(out, m ? whole(*m, message::section_kind::full) : raw);
      return true;
    case att_kind::rfc822_header:
      out += "RFC822.HEADER ";
      append_literal(out, whole(*m, message::section_kind::header));
      return true;
    case att_kind::rfc822_text:
      out += "RFC822.TEXT ";
      append_literal(out, whole(*m, message::section_kind::text));
      return true;
    case att_kind::body_section: {
      // The whole message as stored needs no parse and no copy of its own.
      std::optional<std::string> data;
      if (!whole_message(a) || m != nullptr) data = message::section(*m, to_message_section(a.section));
      out += "BODY[" + section_text(a.section) + "]";
      if (a.partial) out += "<" + std::to_string(a.partial->first) + ">";
      if (!data && (!whole_message(a) || m != nullptr)) {
        out += " NIL";
        return true;
      }
      std::string_view bytes = data ? std::string_view(*data) : raw;
      if (a.partial) bytes = message::apply_partial(bytes, a.partial->first, a.partial->second);
      out += ' ';
      append_literal(out, bytes);
      return true;
    }
    case att_kind::binary:
    case att_kind::binary_size: {
      std::optional<std::size_t> index = message::find_part(*m, a.section.part);
      const bool size_only = a.type == att_kind::binary_size;
      std::optional<message::binary_result> r;
      if (index) r = message::binary(*m, m->parts[*index]);
      if (r && r->unknown_encoding) return false;
      out += (size_only ? "BINARY.SIZE[" : "BINARY[") + part_text(a.section.part) + "]";
      if (!r) {
        out += size_only ? " 0" : " NIL";
        return true;
      }
      if (size_only) {
        out += " " + std::to_string(r->content.size());
        return true;
      }
      std::string_view bytes = r->content;
      if (a.partial) {
        out += "<" + std::to_string(a.partial->first) + ">";
        bytes = message::apply_partial(bytes, a.partial->first, a.partial->second);
      }
      out += ' ';
      append_binary_literal(out, bytes);
      return true;
    }
  }
  return true;
}

}  // namespace

// What one FETCH command asks of every message.
struct fetch_plan {
  std::vector<fetch_att> atts;  // with UID (UID FETCH) and MODSEQ (CHANGEDSINCE) added
  std::optional<std::uint64_t> changed_since;
  bool want_bytes = false;  // some item needs the message itself
  bool want_parse = false;  // some item needs its MIME structure
  bool has_flags = false;   // FLAGS was asked for
  std::vector<std::uint32_t> newly_seen;  // sorted UIDs this FETCH gave \Seen
};

// The FETCH under way: its plan and how far its answer got.
struct fetch_job {
  command cmd;  // for the tagged reply
  fetch_plan plan;
  std::vector<std::size_t> indexes;  // view positions, in answer order
  std::size_t next = 0;
  bool expunge_issued = false;
  bool unknown_cte = false;
};

void fetch_job_deleter::operator()(fetch_job* job) const {
  delete job;
}

session::impl::fetch_outcome session::impl::fetch_one(std::size_t index, const fetch_plan& plan) {
  const message_entry* e = backend_entry(view[index].uid);
  if (e == nullptr) return fetch_outcome::expunged;
  if (plan.changed_since && e->modseq <= *plan.changed_since) return fetch_outcome::skipped;
  bool add_flags = false;
  if (std::binary_search(plan.newly_seen.begin(), plan.newly_seen.end(), e->uid)) {
    view[index] = to_view(*e);
    add_flags = !plan.has_flags;  // RFC 9051 §6.4.5: the client learns of the new flag
  }
  std::string bytes;
  std::optional<message::parsed_message> parsed;
  if (plan.want_bytes) {
    if (box->read(e->uid, bytes) != backend_status::ok) return fetch_outcome::expunged;
    if (plan.want_parse || has_bare_lf(bytes)) parsed = message::parse(bytes);
    ++self.stats_.messages_fetched;
  }
  std::string& out = self.output_;
  out += "* " + std::to_string(index + 1) + " FETCH (";
  const std::size_t items_start = out.size();
  bool unknown_cte = false;
  for (const fetch_att& a : plan.atts) {
    const std::size_t before = out.size();
    if (before != items_start) out += ' ';
    if (!fetch_item(a, *e, bytes, parsed ? &*parsed : nullptr, out)) {
      out.resize(before);
      unknown_cte = true;  // left out; the command ends NO [UNKNOWN-CTE]
    }
  }
  if (add_flags) {
    if (out.size() != items_start) out += ' ';
    out += "FLAGS (" + flags_text(e->flags, e->keywords) + ")";
  }
  out += ")\r\n";
  return unknown_cte ? fetch_outcome::unknown_cte : fetch_outcome::sent;
}

std::vector<std::uint32_t> session::impl::mark_seen(const std::vector<std::size_t>& indexes,
                                                   std::optional<std::uint64_t> changed_since) {
  std::vector<std::uint32_t> uids;
  for (std::size_t i : indexes) {
    const message_entry* e = backend_entry(view[i].uid);
    if (e == nullptr || (e->flags & flag_seen) != 0) continue;
    if (changed_since && e->modseq <= *changed_since) continue;  // not answered: left alone
    uids.push_back(e->uid);
  }
  if (uids.empty()) return uids;
  std::sort(uids.begin(), uids.end());
  std::vector<std::uint32_t> modified;
  box_changed = true;
  // A failure leaves the flags as they were; the bodies are still sent (as Dovecot does).
  if (box->set_flags(uids, flag_op::add, flag_seen, {}, 0, modified) != backend_status::ok) {
    return {};
  }
  return uids;
}

void session::impl::continue_fetch() {
  fetch_job& part = *fetching;
  while (part.next < part.indexes.size()) {
    if (self.output_.size() >= lim.output_pending_max) return;  // written first, then more
    const fetch_outcome outcome = fetch_one(part.indexes[part.next++], part.plan);
    part.expunge_issued = part.expunge_issued || outcome == fetch_outcome::expunged;
    part.unknown_cte = part.unknown_cte || outcome == fetch_outcome::unknown_cte;
  }
  const auto done = std::move(fetching);
  if (done->unknown_cte) {
    no(done->cmd, "[UNKNOWN-CTE] unknown content-transfer-encoding");
  } else if (done->expunge_issued) {
    no(done->cmd, "[EXPUNGEISSUED] some messages were expunged");
  } else {
    ok(done->cmd, "FETCH completed");
  }
}

void session::impl::cmd_fetch(impl& s, const command& cmd) {
  const auto& args = std::get<fetch_args>(cmd.args);
  if (args.vanished && (!s.qresync || !cmd.uid || !args.changed_since)) {
    s.bad(cmd.tag, "VANISHED needs QRESYNC, UID FETCH and CHANGEDSINCE");
    return;
  }
  auto indexes = s.resolve(cmd, args.set, cmd.uid);
  if (!indexes) return;
  if (args.changed_since) s.condstore = true;  // RFC 7162 §3.1.4.1
  if (args.vanished) {
    // RFC 7162 §3.2.6: the UIDs of the set that were expunged, before the FETCH responses.
    std::string gone = vanished_uids(args.set, s.view, s.box->uid_next());
    if (!gone.empty()) s.untagged("VANISHED (EARLIER) " + gone);
  }
  std::unique_ptr<fetch_job, fetch_job_deleter> started(
      new fetch_job{cmd, {}, std::move(*indexes)});
  fetch_plan& plan = started->plan;
  plan.atts = args.atts;
  plan.changed_since = args.changed_since;
  auto has = [&plan](att_kind k) {
    return std::any_of(plan.atts.begin(), plan.atts.end(),
                       [k](const fetch_att& a) { return a.type == k; });
  };
  if (cmd.uid && !has(att_kind::uid)) plan.atts.insert(plan.atts.begin(), make_att(att_kind::uid));
  if (args.changed_since && !has(att_kind::modseq)) plan.atts.push_back(make_att(att_kind::modseq));
  plan.has_flags = has(att_kind::flags);
  plan.want_bytes = std::any_of(plan.atts.begin(), plan.atts.end(),
                                [](const fetch_att& a) { return needs_bytes(a.type); });
  plan.want_parse = std::any_of(plan.atts.begin(), plan.atts.end(), [](const fetch_att& a) {
    return needs_bytes(a.type) && !whole_message(a);
  });
  if (!s.read_only && std::any_of(plan.atts.begin(), plan.atts.end(), sets_seen)) {
    plan.newly_seen = s.mark_seen(started->indexes, plan.changed_since);
  }
  s.fetching = std::move(started);
  s.continue_fetch();
}

void session::impl::cmd_store(impl& s, const command& cmd) {
  const auto& args = std::get<store_args>(cmd.args);
  if (s.read_only) {
    s.no(cmd, "[READ-ONLY] mailbox is read-only");
    return;
  }
  std::uint8_t flags = 0;
  std::vector<std::string> keywords;
  if (!parse_flags(args.flags, flags, keywords)) {
    s.bad(cmd.tag, "invalid flag");
    return;
  }
  auto indexes = s.resolve(cmd, args.set, cmd.uid);
  if (!indexes) return;
  if (args.unchanged_since) s.condstore = true;  // RFC 7162 §3.1.3
  std::vector<std::uint32_t> uids;
  for (std::size_t i : *indexes) uids.push_back(s.view[i].uid);
  const flag_op op = args.how == store_args::mode::add      ? flag_op::add
                     : args.how == store_args::mode::remove ? flag_op::remove
                                                            : flag_op::replace;
  std::vector<std::uint32_t> modified;
  s.box_changed = true;
  backend_status status =
      s.box->set_flags(uids, op, flags, keywords, args.unchanged_since.value_or(0), modified);
  if (status != backend_status::ok) {
    s.no_for(cmd, status, "store");
    return;
  }
  std::vector<std::uint32_t> failed;  // UIDs or sequence numbers, as the command used
  for (std::size_t i : *indexes) {
    const message_entry* e = s.backend_entry(s.view[i].uid);
    if (e == nullptr) continue;
    if (std::find(modified.begin(), modified.end(), e->uid) != modified.end()) {
      failed.push_back(cmd.uid ? e->uid : static_cast<std::uint32_t>(i + 1));
      continue;
    }
    const bool changed = e->modseq != s.view[i].modseq;
    s.view[i] = to_view(*e);
    if (!args.silent) {
      s.untagged(s.fetch_flags_line(i, cmd.uid));
    } else if (s.condstore && changed) {
      // RFC 7162 §3.1.3: even .SILENT reports the new MODSEQ of a changed message.
      s.untagged(std::to_string(i + 1) + " FETCH (" +
                 (cmd.uid || s.qresync ? "UID " + std::to_string(e->uid) + " " : std::string()) +
                 "MODSEQ (" + std::to_string(e->modseq) + "))");
    }
  }
  if (!failed.empty()) {
    std::sort(failed.begin(), failed.end());
    s.ok(cmd, "[MODIFIED " + format_uid_set(failed) + "] conditional STORE failed");
    return;
  }
  s.ok(cmd, "STORE completed");
}

}  // namespace mailsim::imap
