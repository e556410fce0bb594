#include "reference-server/policy/greylist.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace mailsim::policy {
namespace {

constexpr std::string_view header_line = "mailsim-greylist 1";

std::int64_t ms_of(std::chrono::seconds s) {
  return s.count() * 1000;
}

std::chrono::seconds ceil_seconds(std::int64_t ms) {
  return std::chrono::seconds{(ms + 999) / 1000};
}

std::string_view without_brackets(std::string_view address) {
  if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
    return address.substr(1, address.size() - 2);
  return address;
}

// Fields of the text form: printable ASCII except '%', '<', '>' as is, other bytes %XX,
// the empty string as "<>". Used for the in-memory keys too, so save() writes keys as kept.
void append_encoded(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  if (s.empty()) {
    out += "<>";
    return;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u > 0x20 && u < 0x7f && c != '%' && c != '<' && c != '>') {
      out.push_back(c);
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
}

std::string encode(std::string_view s) {
  std::string out;
  append_encoded(out, s);
  return out;
}

std::optional<std::string> decode(std::string_view s) {
  if (s == "<>") return std::string();
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= s.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (ec != std::errc{} || end != s.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at <= line.size()) {
    std::size_t space = line.find(' ', at);
    if (space == std::string_view::npos) space = line.size();
    out.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  return out;
}

greylist_verdict pass(greylist_reason reason) {
  greylist_verdict v;
  v.reason = reason;
  return v;
}

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

const char* to_string(greylist_reason r) {
  switch (r) {
    case greylist_reason::first_seen:
      return "first-seen";
    case greylist_reason::too_early:
      return "too-early";
    case greylist_reason::window_expired:
      return "window-expired";
    case greylist_reason::retried:
      return "retried";
    case greylist_reason::known:
      return "known";
    case greylist_reason::whitelisted:
      return "whitelisted";
  }
  return "known";
}

// Edits the local part (before the last '@', or all of it) in place: one string per call.
std::string normalize_sender(std::string_view sender, bool strip_batv, bool strip_extension) {
  std::string s = to_lower(without_brackets(sender));
  std::size_t local_end = std::min(s.rfind('@'), s.size());
  if (strip_batv) {
    // BATV (draft-levine-smtp-batv): "prvs=<tag>=<local>"; Microsoft's "msprvs1=" alike.
    for (std::string_view prefix : {"prvs=", "msprvs1="}) {
      if (!std::string_view(s).substr(0, local_end).starts_with(prefix)) continue;
      const std::size_t eq = s.find('=', prefix.size());
      if (eq < local_end && eq + 1 < local_end) {
        s.erase(0, eq + 1);
        local_end -= eq + 1;
      }
      break;
    }
  }
  if (strip_extension) {
    const std::size_t plus = s.find('+');
    if (plus > 0 && plus < local_end) s.erase(plus, local_end - plus);
  }
  return s;
}

greylist::greylist(greylist_options options)
    : options_(std::move(options)),
      triplets_(options_.entries_max),
      clients_(options_.clients_max) {}

greylist_verdict greylist::defer(greylist_reason reason, std::chrono::seconds left,
                                 std::string_view recipient) const {
  greylist_verdict v;
  v.action = greylist_action::defer;
  v.reason = reason;
  v.retry_after = left;
  // Postfix's wording around a policy service's DEFER_IF_PERMIT (§1.6).
  std::string text = "<" + std::string(without_brackets(recipient)) +
                     ">: Recipient address rejected: " + options_.reply_text;
  v.reply = {options_.reply_code, options_.reply_enhanced, printable(text, reply_text_max)};
  return v;
}

bool greylist::whitelisted(const std::string& net, std::int64_t now_ms) {
  if (options_.auto_whitelist_after == 0) return false;
  client* c = clients_.find(net);
  if (c == nullptr) return false;
  if (now_ms - c->last_ms > ms_of(options_.max_age)) {
    clients_.erase(net);
    return false;
  }
  if (c->passes < options_.auto_whitelist_after) return false;
  c->last_ms = now_ms;
  return true;
}

void greylist::count_pass(const std::string& net, std::int64_t now_ms) {
  if (options_.auto_whitelist_after == 0) return;
  client* c = clients_.find(net);
  if (c == nullptr || now_ms - c->last_ms > ms_of(options_.max_age)) {
    clients_.insert(net, {1, now_ms});
    return;
  }
  ++c->passes;
  c->last_ms = now_ms;
}

greylist_verdict greylist::check(const core::ip_address& ip, std::string_view sender,
                                 std::string_view recipient, core::time_point now) {
  bool exact = options_.key == greylist_key_mode::exact;
  std::string net = encode(
      network_key(ip, exact ? 32 : options_.ipv4_prefix, exact ? 128 : options_.ipv6_prefix));
  std::int64_t now_ms = core::epoch_ms(now);
  if (whitelisted(net, now_ms)) return pass(greylist_reason::whitelisted);
  // "<net> <sender> <recipient>", each field encoded, built in place (every RCPT asks).
  std::string key;
  key.reserve(net.size() + sender.size() + recipient.size() + 8);
  key += net;
  key += ' ';
  append_encoded(key, normalize_sender(sender, options_.strip_batv, options_.strip_extension));
  key += ' ';
  append_encoded(key, to_lower(without_brackets(recipient)));
  triplet* t = triplets_.find(key);
  if (t == nullptr || (t->passed && now_ms - t->last_ms > ms_of(options_.max_age))) {
    triplets_.insert(std::move(key), {now_ms, now_ms, false});
    return defer(greylist_reason::first_seen, options_.delay, recipient);
  }
  std::int64_t age = now_ms - t->first_ms;
  t->last_ms = now_ms;
  if (t->passed) return pass(greylist_reason::known);
  if (age < ms_of(options_.delay))
    return defer(greylist_reason::too_early, ceil_seconds(ms_of(options_.delay) - age), recipient);
  if (age > ms_of(options_.retry_window)) {
    t->first_ms = now_ms;
    return defer(greylist_reason::window_expired, options_.delay, recipient);
  }
  t->passed = true;
  count_pass(net, now_ms);
  return pass(greylist_reason::retried);
}

std::size_t greylist::purge(core::time_point now) {
  std::int64_t now_ms = core::epoch_ms(now);
  std::int64_t window = ms_of(options_.retry_window);
  std::int64_t max_age = ms_of(options_.max_age);
  std::size_t removed = triplets_.erase_if([&](std::string_view, const triplet& t) {
    return t.passed ? now_ms - t.last_ms > max_age : now_ms - t.first_ms > window;
  });
  return removed + clients_.erase_if([&](std::string_view, const client& c) {
    return now_ms - c.last_ms > max_age;
  });
}

void greylist::save(std::string& out) const {
  out += header_line;
  out += '\n';
  clients_.for_each_oldest_first([&out](const std::string& net, const client& c) {
    out += "C " + net + " " + std::to_string(c.passes) + " " + std::to_string(c.last_ms) + "\n";
  });
  triplets_.for_each_oldest_first([&out](const std::string& key, const triplet& t) {
    out += "T " + key + " " + std::to_string(t.first_ms) + " " + std::to_string(t.last_ms) +
           (t.passed ? " 1\n" : " 0\n");
  });
}

bool greylist::load_line(std::string_view line, std::string& error) {
  std::vector<std::string_view> w = split_words(line);
  std::vector<std::string> fields;
  std::size_t text_fields = w[0] == "T" ? 3 : 1;
  for (std::size_t i = 1; i <= text_fields && i < w.size(); ++i) {
    std::optional<std::string> f = decode(w[i]);
    if (!f) {
      error = "bad field encoding";
      return false;
    }
    fields.push_back(encode(*f));  // canonical, as check() builds keys
  }
  if (w[0] == "C" && w.size() == 4) {
    std::optional<std::int64_t> passes = number(w[2]), last = number(w[3]);
    if (!passes || !last || *passes > 0xffffffff) {
      error = "bad number";
      return false;
    }
    clients_.insert(fields[0], {static_cast<std::uint32_t>(*passes), *last});
    return true;
  }
  if (w[0] == "T" && w.size() == 7) {
    std::optional<std::int64_t> first = number(w[4]), last = number(w[5]);
    if (!first || !last || (w[6] != "0" && w[6] != "1")) {
      error = "bad number";
      return false;
    }
    triplets_.insert(fields[0] + " " + fields[1] + " " + fields[2], {*first, *last, w[6] == "1"});
    return true;
  }
  error = "not a C or T line with the right number of fields";
  return false;
}

greylist_load_result greylist::load(std::string_view text) {
  greylist_load_result r;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (++line_no == 1) {
      if (line == header_line) continue;
      r.error = "line 1: not a mailsim greylist (expected \"" + std::string(header_line) + "\")";
      return r;
    }
    if (line.empty() || line[0] == '#') continue;
    std::string why;
    if (load_line(line, why)) {
      ++r.loaded;
      continue;
    }
    ++r.skipped;
    if (r.error.empty()) r.error = "line " + std::to_string(line_no) + ": " + why;
  }
  if (line_no == 0) r.error = "empty text";
  return r;
}

}  // namespace mailsim::policy
