#include "reference-server/queue/state_file.hpp"

#include <array>
#include <limits>
#include <set>

namespace mailsim::queue {
namespace {

constexpr std::string_view magic = "mailsim-queue-state 1";
constexpr std::string_view magic_prefix = "mailsim-queue-state ";
constexpr std::string_view end_key = "end ";
constexpr std::size_t checksum_digits = 16;

constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ULL;

// FNV-1a, 64 bits (offset basis and prime from the FNV specification), continuing `hash`.
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t hash = fnv_offset_basis) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex16(std::uint64_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(checksum_digits, '0');
  for (std::size_t i = checksum_digits; i > 0; --i) {
    out[i - 1] = digits[value & 0xf];
    value >>= 4;
  }
  return out;
}

// ---- escaping ---------------------------------------------------------------------------

bool must_escape(unsigned char c, bool address) {
  return c < 0x20 || c == 0x7f || c == '%' || (address && c == '@');
}

std::string escape(std::string_view text, bool address = false) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (!must_escape(byte, address)) {
      out += c;
      continue;
    }
    out += '%';
    out += digits[byte >> 4];
    out += digits[byte & 0xf];
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;  // a '%' needs two hex digits
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

bool has_high_bit(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

std::string encode_mailbox(const smtp::mailbox& box) {
  return escape(box.local_part, true) + "@" + escape(box.domain, true);
}

std::string encode_path(const smtp::path& path) {
  return path.null ? "<>" : encode_mailbox(path.box);
}

std::optional<smtp::mailbox> decode_mailbox(std::string_view text) {
  const auto at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto local = unescape(text.substr(0, at));
  auto domain = unescape(text.substr(at + 1));
  if (!local || !domain) return std::nullopt;
  smtp::mailbox box;
  box.local_part = std::move(*local);
  box.domain = std::move(*domain);
  box.utf8 = has_high_bit(box.local_part) || has_high_bit(box.domain);
  return box;
}

// ---- enumerations -----------------------------------------------------------------------

template <typename T, std::size_t N>
struct name_table {
  std::array<std::pair<T, std::string_view>, N> items;

  std::string_view name(T value) const {
    for (const auto& [v, n] : items) {
      if (v == value) return n;
    }
    return items[0].second;
  }
  std::optional<T> value(std::string_view name) const {
    for (const auto& [v, n] : items) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
};

constexpr name_table<smtp::body_type, 3> body_names{{{
    {smtp::body_type::seven_bit, "7bit"},
    {smtp::body_type::eight_bit_mime, "8bitmime"},
    {smtp::body_type::binary_mime, "binarymime"},
}}};

constexpr name_table<smtp::dsn_ret, 3> ret_names{{{
    {smtp::dsn_ret::unspecified, "unspecified"},
    {smtp::dsn_ret::full, "full"},
    {smtp::dsn_ret::headers, "hdrs"},
}}};

constexpr name_table<recipient_state, 4> state_names{{{
    {recipient_state::pending, "pending"},
    {recipient_state::delivered, "delivered"},
    {recipient_state::relayed, "relayed"},
    {recipient_state::failed, "failed"},
}}};

std::string encode_notify(const smtp::dsn_notify& notify) {
  if (notify.never) return "never";
  std::string out;
  const std::pair<bool, std::string_view> flags[] = {
      {notify.success, "success"}, {notify.failure, "failure"}, {notify.delay, "delay"}};
  for (const auto& [set, name] : flags) {
    if (!set) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::optional<smtp::dsn_notify> decode_notify(std::string_view text) {
  smtp::dsn_notify out;
  out.specified = true;
  if (text == "never") {
    out.never = true;
    return out;
  }
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    bool* flag = item == "success"   ? &out.success
                 : item == "failure" ? &out.failure
                 : item == "delay"   ? &out.delay
                                     : nullptr;
    if (flag == nullptr || *flag) return std::nullopt;
    *flag = true;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return std::nullopt;  // a trailing comma
  }
  return out;
}

std::optional<std::uint64_t> decode_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return value;
}

// Exactly 16 lower-case hex digits, as hex16() writes them.
std::optional<std::uint64_t> decode_hex16(std::string_view text) {
  if (text.size() != checksum_digits) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    const bool digit = c >= '0' && c <= '9';
    if (!digit && (c < 'a' || c > 'f')) return std::nullopt;
    value = value << 4 | static_cast<std::uint64_t>(digit ? c - '0' : c - 'a' + 10);
  }
  return value;
}

std::optional<bool> decode_flag(std::string_view text) {
  if (text == "0") return false;
  if (text == "1") return true;
  return std::nullopt;
}

// ---- writing ----------------------------------------------------------------------------

class writer {
 public:
  void line(std::string_view key, std::string_view value) {
    out_ += key;
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void text(std::string_view key, std::string_view value) { line(key, escape(value)); }
  void number(std::string_view key, std::uint64_t value) { line(key, std::to_string(value)); }
  void time(std::string_view key, core::time_point value) {
    line(key, std::to_string(std::max<std::int64_t>(0, core::epoch_ms(value))));
  }
  void flag(std::string_view key, bool value) { line(key, value ? "1" : "0"); }
  std::string finish() {
    const std::uint64_t sum = fnv1a64(out_);
    line("end", hex16(sum));
    return std::move(out_);
  }
  std::string& raw() { return out_; }

 private:
  std::string out_;
};

void write_recipient(writer& w, const queued_recipient& r) {
  w.line("rcpt", encode_mailbox(r.rcpt.address.box));
  if (r.rcpt.notify.specified) w.line("notify", encode_notify(r.rcpt.notify));
  if (r.rcpt.orcpt) w.text("orcpt", *r.rcpt.orcpt);
  const recipient_status& s = r.status;
  w.line("state", state_names.name(s.state));
  w.number("attempts", s.attempts);
  w.time("next-attempt", s.next_attempt_at);
  if (s.last_attempt_at) w.time("last-attempt", *s.last_attempt_at);
  if (!s.status.empty()) w.text("status", s.status);
  if (s.reply) {
    w.number("reply-code", static_cast<std::uint64_t>(std::max(0, s.reply->code)));
    if (!s.reply->enhanced.empty()) w.text("reply-enhanced", s.reply->enhanced);
    for (const auto& text : s.reply->lines) w.text("reply-line", text);
  }
  if (!s.remote_mta.empty()) w.text("remote-mta", s.remote_mta);
  if (!s.remote_address.empty()) w.text("remote-address", s.remote_address);
  if (!s.diagnostic.empty()) w.text("diagnostic", s.diagnostic);
  if (s.delay_warning_sent) w.flag("delay-warning-sent", true);
  if (s.dsn_sent) w.flag("dsn-sent", true);
}

// ---- reading ----------------------------------------------------------------------------

class reader {
 public:
  state_decode run(std::string_view text);

 private:
  bool field(std::string_view key, std::string_view value);
  bool message_field(std::string_view key, std::string_view value);
  bool recipient_field(std::string_view key, std::string_view value);
  bool fail(const std::string& message) {
    error_ = "line " + std::to_string(line_) + ": " + message;
    return false;
  }
  bool bad_value(std::string_view key) {
    return fail("bad value for \"" + std::string(key) + "\"");
  }
  bool once(std::set<std::string>& seen, std::string_view key) {
    if (seen.insert(std::string(key)).second) return true;
    return fail("\"" + std::string(key) + "\" given twice");
  }
  bool finish_recipient();
  bool time(std::string_view key, std::string_view value, core::time_point& out) {
    const auto n = decode_number(value);
    if (!n) return bad_value(key);
    out = core::from_epoch_ms(static_cast<std::int64_t>(*n));
    return true;
  }
  bool text(std::string_view key, std::string_view value, std::string& out) {
    auto decoded = unescape(value);
    if (!decoded) return bad_value(key);
    out = std::move(*decoded);
    return true;
  }

  queued_message entry_;
  std::set<std::string> message_seen_;
  std::set<std::string> recipient_seen_;
  bool in_recipient_ = false;
  std::size_t line_ = 0;
  std::string error_;
};

state_decode reader::run(std::string_view text) {
  state_decode out;
  // The last line: "end <checksum>\n", over every byte before it.
  if (text.empty() || text.back() != '\n') {
    out.error = "truncated: the file does not end with a line end";
    return out;
  }
  const auto last_start =
      text.size() < 2 ? std::string_view::npos : text.rfind('\n', text.size() - 2);
  const std::size_t end_line = last_start == std::string_view::npos ? 0 : last_start + 1;
  const auto last = text.substr(end_line, text.size() - 1 - end_line);
  if (last.substr(0, end_key.size()) != end_key ||
      last.size() != end_key.size() + checksum_digits) {
    out.error = "truncated: no \"end\" line";
    return out;
  }
  const auto body = text.substr(0, end_line);
  if (last.substr(end_key.size()) != hex16(fnv1a64(body))) {
    out.error = "checksum mismatch: the file was changed or damaged";
    return out;
  }
  std::size_t start = 0;
  while (start < body.size()) {
    ++line_;
    const auto stop = body.find('\n', start);
    const auto row = body.substr(start, stop - start);
    start = stop + 1;
    if (line_ == 1) {
      if (row == magic) continue;
      out.error = row.substr(0, magic_prefix.size()) == magic_prefix
                      ? "unsupported state file version \"" +
                            std::string(row.substr(magic_prefix.size())) + "\""
                      : "not a mailsim queue state file";
      return out;
    }
    const auto space = row.find(' ');
    const auto key = row.substr(0, space);
    const auto value = space == std::string_view::npos ? std::string_view{} : row.substr(space + 1);
    if (!field(key, value)) {
      out.error = error_;
      return out;
    }
  }
  if (line_ == 0) {
    out.error = "not a mailsim queue state file";
    return out;
  }
  ++line_;
  if (!finish_recipient()) {
    out.error = error_;
    return out;
  }
  for (const char* key :
       {"id", "queued-at", "size", "from", "esmtp", "tls", "body", "smtputf8", "ret"}) {
    if (!message_seen_.contains(key)) {
      out.error = "missing field \"" + std::string(key) + "\"";
      return out;
    }
  }
  if (entry_.recipients.empty()) {
    out.error = "no recipient";
    return out;
  }
  out.value = std::move(entry_);
  return out;
}

bool reader::field(std::string_view key, std::string_view value) {
  if (key == "rcpt") {
    if (!finish_recipient()) return false;
    const auto box = decode_mailbox(value);
    if (!box) return bad_value(key);
    queued_recipient r;
    r.rcpt.address.box = *box;
    entry_.recipients.push_back(std::move(r));
    recipient_seen_.clear();
    in_recipient_ = true;
    return true;
  }
  if (in_recipient_) return recipient_field(key, value);
  return message_field(key, value);
}

bool reader::message_field(std::string_view key, std::string_view value) {
  if (!once(message_seen_, key)) return false;
  smtp::envelope& e = entry_.envelope;
  if (key == "id") return text(key, value, entry_.id);
  if (key == "queued-at") return time(key, value, entry_.queued_at);
  if (key == "size" || key == "declared-size") {
    const auto n = decode_number(value);
    if (!n) return bad_value(key);
    (key == "size" ? entry_.size_bytes : e.declared_size.emplace()) = *n;
    return true;
  }
  if (key == "from") {
    if (value == "<>") {
      e.reverse_path.null = true;
      return true;
    }
    const auto box = decode_mailbox(value);
    if (!box) return bad_value(key);
    e.reverse_path.box = *box;
    return true;
  }
  if (key == "helo") return text(key, value, e.helo_name);
  if (key == "esmtp" || key == "tls" || key == "smtputf8") {
    const auto flag = decode_flag(value);
    if (!flag) return bad_value(key);
    (key == "esmtp" ? e.esmtp : key == "tls" ? e.tls : e.smtputf8) = *flag;
    return true;
  }
  if (key == "body") {
    const auto body = body_names.value(value);
    if (!body) return bad_value(key);
    e.body = *body;
    return true;
  }
  if (key == "ret") {
    const auto ret = ret_names.value(value);
    if (!ret) return bad_value(key);
    e.ret = *ret;
    return true;
  }
  if (key == "envid") return text(key, value, e.envid.emplace());
  if (key == "auth-user") return text(key, value, e.auth_user.emplace());
  if (key == "received-from") return text(key, value, entry_.received_from);
  if (key == "class") {
    if (!is_message_class(value)) return bad_value(key);
    entry_.message_class = std::string(value);
    return true;
  }
  if (key == "message-sum") {
    const auto sum = decode_hex16(value);
    if (!sum) return bad_value(key);
    entry_.message_sum = *sum;
    return true;
  }
  return fail("unknown field \"" + std::string(key) + "\"");
}

bool reader::recipient_field(std::string_view key, std::string_view value) {
  if (key != "reply-line" && !once(recipient_seen_, key)) return false;
  queued_recipient& r = entry_.recipients.back();
  recipient_status& s = r.status;
  if (key == "notify") {
    const auto notify = decode_notify(value);
    if (!notify) return bad_value(key);
    r.rcpt.notify = *notify;
    return true;
  }
  if (key == "orcpt") return text(key, value, r.rcpt.orcpt.emplace());
  if (key == "state") {
    const auto state = state_names.value(value);
    if (!state) return bad_value(key);
    s.state = *state;
    return true;
  }
  if (key == "attempts") {
    const auto n = decode_number(value);
    if (!n || *n > std::numeric_limits<std::uint32_t>::max()) return bad_value(key);
    s.attempts = static_cast<std::uint32_t>(*n);
    return true;
  }
  if (key == "next-attempt") return time(key, value, s.next_attempt_at);
  if (key == "last-attempt") return time(key, value, s.last_attempt_at.emplace());
  if (key == "status") return text(key, value, s.status);
  if (key == "reply-code") {
    const auto n = decode_number(value);
    if (!n || *n < 100 || *n > 999) return bad_value(key);
    s.reply.emplace().code = static_cast<int>(*n);
    return true;
  }
  if (key == "reply-enhanced" || key == "reply-line") {
    if (!s.reply) return fail("\"" + std::string(key) + "\" before \"reply-code\"");
    if (key == "reply-enhanced") return text(key, value, s.reply->enhanced);
    return text(key, value, s.reply->lines.emplace_back());
  }
  if (key == "remote-mta") return text(key, value, s.remote_mta);
  if (key == "remote-address") return text(key, value, s.remote_address);
  if (key == "diagnostic") return text(key, value, s.diagnostic);
  if (key == "delay-warning-sent" || key == "dsn-sent") {
    const auto flag = decode_flag(value);
    if (!flag) return bad_value(key);
    (key == "dsn-sent" ? s.dsn_sent : s.delay_warning_sent) = *flag;
    return true;
  }
  return fail("unknown recipient field \"" + std::string(key) + "\"");
}

bool reader::finish_recipient() {
  if (!in_recipient_) return true;
  for (const char* key : {"state", "attempts", "next-attempt"}) {
    if (!recipient_seen_.contains(key)) {
      return fail("recipient " + std::to_string(entry_.recipients.size()) + " lacks \"" + key +
                  "\"");
    }
  }
  return true;
}

}  // namespace

std::string encode_state(const queued_message& entry) {
  writer w;
  w.raw() += magic;
  w.raw() += '\n';
  const smtp::envelope& e = entry.envelope;
  w.text("id", entry.id);
  w.time("queued-at", entry.queued_at);
  w.number("size", entry.size_bytes);
  w.line("from", encode_path(e.reverse_path));
  if (!e.helo_name.empty()) w.text("helo", e.helo_name);
  w.flag("esmtp", e.esmtp);
  w.flag("tls", e.tls);
  w.line("body", body_names.name(e.body));
  w.flag("smtputf8", e.smtputf8);
  w.line("ret", ret_names.name(e.ret));
  if (e.envid) w.text("envid", *e.envid);
  if (e.declared_size) w.number("declared-size", *e.declared_size);
  if (e.auth_user) w.text("auth-user", *e.auth_user);
  if (!entry.received_from.empty()) w.text("received-from", entry.received_from);
  // Only a valid name is written (spool::enqueue keeps no other), so that it reads back.
  if (is_message_class(entry.message_class)) w.line("class", entry.message_class);
  if (entry.message_sum) w.line("message-sum", hex16(*entry.message_sum));
  for (const auto& r : entry.recipients) write_recipient(w, r);
  return w.finish();
}

state_decode decode_state(std::string_view text) {
  return reader{}.run(text);
}

std::uint64_t message_checksum(std::string_view first, std::string_view second) {
  return fnv1a64(second, fnv1a64(first));
}

}  // namespace mailsim::queue
