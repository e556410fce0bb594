#include "tests/unit/imap/describe.hpp"

#include <variant>

namespace mailsim::imap::test {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out = "(";
  for (const std::string& s : items) out += (out.size() > 1 ? " " : "") + s;
  return out + ")";
}

std::string text(const date& d) {
  return std::to_string(d.year) + "-" + std::to_string(d.month) + "-" + std::to_string(d.day);
}

std::string text(const std::vector<status_item>& items) {
  static const char* const names[] = {"messages", "recent", "uidnext", "uidvalidity", "unseen",
                                      "deleted", "size", "highestmodseq", "appendlimit"};
  std::vector<std::string> out;
  for (status_item i : items) out.emplace_back(names[static_cast<int>(i)]);
  return join(out);
}

std::string text(const search_key& k) {
  static const char* const names[] = {
      "all", "answered", "bcc", "before", "body", "cc", "deleted", "draft", "flagged", "from",
      "header", "keyword", "larger", "new", "not", "old", "on", "or", "recent", "seen",
      "sentbefore", "senton", "sentsince", "since", "smaller", "subject", "text", "to", "uid",
      "unanswered", "undeleted", "undraft", "unflagged", "unkeyword", "unseen", "seq", "and",
      "modseq"};
  std::string out = names[static_cast<int>(k.type)];
  using kind = search_key::kind;
  switch (k.type) {
    case kind::before: case kind::on: case kind::since: case kind::sentbefore:
    case kind::senton: case kind::sentsince:
      return out + "=" + text(k.when);
    case kind::larger: case kind::smaller:
      return out + "=" + std::to_string(k.number);
    case kind::modseq:
      return out + (k.modseq_entry.empty() ? "" : "[" + k.modseq_entry + " " + k.modseq_entry_type + "]") +
             "=" + std::to_string(k.number);
    case kind::uid: case kind::sequence:
      return out + "=" + to_string(k.set);
    case kind::header:
      return out + "=" + k.text + ":" + k.value;
    case kind::not_: case kind::or_: case kind::group: {
      out += "(";
      for (std::size_t i = 0; i < k.children.size(); ++i) {
        out += (i ? " " : "") + text(k.children[i]);
      }
      return out + ")";
    }
    default:
      return k.text.empty() ? out : out + "=" + k.text;
  }
}

std::string text(const section_spec& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.part.size(); ++i) out += (i ? "." : "") + std::to_string(s.part[i]);
  static const char* const kinds[] = {"", "HEADER", "FIELDS", "FIELDS.NOT", "TEXT", "MIME"};
  const std::string k = kinds[static_cast<int>(s.text)];
  if (!k.empty()) out += (s.part.empty() ? "" : ".") + k;
  if (!s.fields.empty()) out += join(s.fields);
  return out + "]";
}

std::string text(const fetch_att& a) {
  static const char* const names[] = {
      "envelope", "flags", "internaldate", "rfc822", "rfc822.header", "rfc822.size",
      "rfc822.text", "body", "bodystructure", "uid", "body", "binary", "binary.size", "modseq"};
  std::string out = names[static_cast<int>(a.type)];
  if (a.peek) out += ".peek";
  using kind = fetch_att::kind;
  if (a.type == kind::body_section || a.type == kind::binary || a.type == kind::binary_size) {
    out += text(a.section);
  }
  if (a.partial) out += "<" + std::to_string(a.partial->first) + "." + std::to_string(a.partial->second) + ">";
  return out;
}

struct describer {
  std::string operator()(const std::monostate&) const { return ""; }
  std::string operator()(const authenticate_args& a) const {
    return " mech=" + a.mechanism + (a.initial_response ? " ir=" + *a.initial_response : "");
  }
  std::string operator()(const login_args& a) const { return " user=" + a.user + " pass=" + a.password; }
  std::string operator()(const enable_args& a) const { return " " + join(a.capabilities); }
  std::string operator()(const id_args& a) const {
    if (!a.fields) return " NIL";
    std::string out = " ";
    for (const auto& [k, v] : *a.fields) out += k + "=" + v.value_or("NIL") + ";";
    return out;
  }
  std::string operator()(const select_args& a) const {
    std::string out = " box=" + a.mailbox + (a.condstore ? " condstore" : "");
    if (a.qresync) {
      out += " qresync=" + std::to_string(a.qresync->uidvalidity) + "/" + std::to_string(a.qresync->modseq);
      if (a.qresync->known_uids) out += " known=" + to_string(*a.qresync->known_uids);
      if (a.qresync->seq_match) {
        out += " match=" + to_string(a.qresync->seq_match->first) + "/" + to_string(a.qresync->seq_match->second);
      }
    }
    return out;
  }
  std::string operator()(const mailbox_args& a) const {
    return " box=" + a.mailbox + (a.special_use.empty() ? "" : " use=" + join(a.special_use));
  }
  std::string operator()(const rename_args& a) const { return " " + a.from + " -> " + a.to; }
  std::string operator()(const list_args& a) const {
    std::string out = a.extended ? " ext" : "";
    if (a.select_subscribed) out += " sel:subscribed";
    if (a.select_remote) out += " sel:remote";
    if (a.select_recursivematch) out += " sel:recursivematch";
    if (a.select_special_use) out += " sel:special-use";
    out += " ref=" + a.reference + " pat=" + join(a.patterns);
    if (a.return_subscribed) out += " ret:subscribed";
    if (a.return_children) out += " ret:children";
    if (a.return_special_use) out += " ret:special-use";
    if (a.return_status) out += " ret:status" + text(*a.return_status);
    return out;
  }
  std::string operator()(const status_args& a) const { return " box=" + a.mailbox + " " + text(a.items); }
  std::string operator()(const append_args& a) const {
    std::string out = " box=" + a.mailbox;
    if (!a.flags.empty()) out += " flags=" + join(a.flags);
    if (a.internal_date) {
      const date_time& d = *a.internal_date;
      out += " date=" + text(d.day) + "T" + std::to_string(d.hour) + ":" + std::to_string(d.minute) +
             ":" + std::to_string(d.second) + "z" + std::to_string(d.zone_minutes);
    }
    return out + (a.binary ? " binary" : "") + " msg=" + a.message;
  }
  std::string operator()(const search_args& a) const {
    std::string out;
    if (a.return_options) out += " return=" + join(*a.return_options);
    if (a.charset) out += " charset=" + *a.charset;
    for (const search_key& k : a.keys) out += " " + text(k);
    return out;
  }
  std::string operator()(const fetch_args& a) const {
    std::string out = " " + to_string(a.set);
    for (const fetch_att& att : a.atts) out += " " + text(att);
    if (a.changed_since) out += " changedsince=" + std::to_string(*a.changed_since);
    if (a.vanished) out += " vanished";
    return out;
  }
  std::string operator()(const store_args& a) const {
    std::string out = " " + to_string(a.set);
    if (a.unchanged_since) out += " unchangedsince=" + std::to_string(*a.unchanged_since);
    out += a.how == store_args::mode::add ? " +" : a.how == store_args::mode::remove ? " -" : " =";
    return out + (a.silent ? "silent" : "") + join(a.flags);
  }
  std::string operator()(const copy_args& a) const { return " " + to_string(a.set) + " box=" + a.mailbox; }
  std::string operator()(const expunge_args& a) const {
    return a.uids ? " " + to_string(*a.uids) : std::string();
  }
};

}  // namespace

std::string describe(const command& cmd) {
  return cmd.tag + (cmd.uid ? " UID " : " ") + std::string(command_name_text(cmd.name)) +
         std::visit(describer{}, cmd.args);
}

command_text frame(std::string_view wire) {
  command_reader reader;
  reader.feed(wire);
  reader.feed("\r\n");
  for (;;) {
    read_event ev = reader.next();
    if (ev.state == read_event::status::complete) return std::move(ev.command);
    if (ev.state != read_event::status::continuation_needed) return {};
  }
}

}  // namespace mailsim::imap::test
