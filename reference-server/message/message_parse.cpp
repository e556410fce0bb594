#include <algorithm>
#include <optional>
#include <string>

#include "reference-server/core/ascii.hpp"
#include "reference-server/message/codec.hpp"
#include "reference-server/message/message.hpp"
#include "reference-server/message/mime_value.hpp"

namespace mailsim::message {
namespace {

// Where a part stopped: at a delimiter line of an enclosing multipart, or at the end.
struct boundary_hit {
  std::size_t line_start = 0;  // first byte of the "--boundary" line
  std::size_t next = 0;        // first byte after that line
  std::size_t level = 0;       // index into the boundary stack
  bool close = false;          // "--boundary--"
};

class parser {
 public:
  parser(std::string_view bytes, const parse_limits& limits, std::vector<part>& parts)
      : b_(bytes), limits_(limits), parts_(parts) {
    for (std::size_t i = 0; i < b_.size(); ++i) {
      if (b_[i] != '\n') continue;
      lf_.push_back(i);
      if (i == 0 || b_[i - 1] != '\r') bare_lf_.push_back(i);
    }
  }

  void run() {
    parts_.emplace_back();
    parts_[0].message_root = true;
    parse_entity(0, 0, 0, false);
  }

 private:
  std::size_t next_line(std::size_t pos) const {
    const std::size_t lf = b_.find('\n', pos);
    return lf == std::string_view::npos ? b_.size() : lf + 1;
  }

  bool blank_line(std::size_t pos) const {
    return b_[pos] == '\n' || (b_[pos] == '\r' && pos + 1 < b_.size() && b_[pos + 1] == '\n');
  }

  // RFC 2046 §5.1.1 delimiter at `pos`. Like deployed servers, only the start of the line
  // must match, and the longest matching boundary wins so that nested boundaries that
  // share a prefix stay apart.
  std::optional<boundary_hit> boundary_at(std::size_t pos) const {
    if (stack_.empty() || b_.size() - pos < 2 || b_[pos] != '-' || b_[pos + 1] != '-') {
      return std::nullopt;
    }
    const std::string_view line = b_.substr(pos + 2, next_line(pos) - pos - 2);
    std::optional<boundary_hit> best;
    std::size_t best_len = 0;
    for (std::size_t level = stack_.size(); level-- > 0;) {
      const std::string& bnd = stack_[level];
      if (line.substr(0, bnd.size()) != bnd || (best && bnd.size() <= best_len)) continue;
      best = boundary_hit{pos, next_line(pos), level, line.substr(bnd.size(), 2) == "--"};
      best_len = bnd.size();
    }
    return best;
  }

  // Scans lines from `pos` for a delimiter of any open multipart.
  std::optional<boundary_hit> scan(std::size_t pos) const {
    if (stack_.empty()) return std::nullopt;
    while (pos < b_.size()) {
      if (auto hit = boundary_at(pos)) return hit;
      pos = next_line(pos);
    }
    return std::nullopt;
  }

  // RFC 2046 §5.1.1: the line break before a delimiter belongs to the delimiter.
  std::size_t end_before(const std::optional<boundary_hit>& hit, std::size_t start) const {
    if (!hit) return b_.size();
    std::size_t end = hit->line_start;
    if (end > start && b_[end - 1] == '\n') --end;
    if (end > start && b_[end - 1] == '\r') --end;
    return end;
  }

  std::size_t count_between(const std::vector<std::size_t>& v, std::size_t from,
                            std::size_t to) const {
    return static_cast<std::size_t>(std::lower_bound(v.begin(), v.end(), to) -
                                    std::lower_bound(v.begin(), v.end(), from));
  }

  void set_body(std::size_t index, std::size_t start, std::size_t end) {
    part& p = parts_[index];
    p.body_offset = start;
    p.body_bytes = end - start;
    p.body_lines = count_between(lf_, start, end);
    p.body_crlf_bytes = p.body_bytes + count_between(bare_lf_, start, end);
  }

  static void reset_to_text_plain(part& p) { p.type = content_type{}; }

  void apply_fields(part& p, bool in_digest) {
    if (in_digest) {  // RFC 2046 §5.1.5
      p.type.type = "message";
      p.type.subtype = "rfc822";
    }
    for (const header_field& f : p.fields) {
      const std::string_view n = f.name;
      if (iequals(n, "Content-Type") && p.type.defaulted) {
        if (auto ct = parse_content_type(f.value)) p.type = std::move(*ct);
      } else if (iequals(n, "Content-Transfer-Encoding") && p.transfer_encoding.empty()) {
        p.transfer_encoding = f.value;
      } else if (iequals(n, "Content-ID") && !p.id) {
        p.id = f.value;
      } else if (iequals(n, "Content-Description") && !p.description) {
        p.description = f.value;
      } else if (iequals(n, "Content-MD5") && !p.md5) {
        p.md5 = f.value;
      } else if (iequals(n, "Content-Location") && !p.location) {
        std::string loc;  // RFC 2557 §4.4.1: folding white space is not part of the URI
        for (char c : f.value) {
          if (!core::is_wsp(c)) loc += c;
        }
        p.location = std::move(loc);
      } else if (iequals(n, "Content-Disposition") && !p.disposition_value) {
        p.disposition_value = parse_disposition(f.value);
      } else if (iequals(n, "Content-Language") && !p.languages) {
        p.languages = parse_languages(f.value);
      }
    }
  }

  // Reads the header at `start`; returns the body start, or a hit when a delimiter came
  // before the blank line (the part then has an empty body).
  std::size_t read_header(std::size_t index, std::size_t start, std::optional<boundary_hit>& hit) {
    std::size_t pos = start;
    while (pos < b_.size() && !blank_line(pos)) {
      if ((hit = boundary_at(pos))) break;
      pos = next_line(pos);
    }
    // A delimiter inside the header ends it; the line break before it is the delimiter's.
    const std::size_t end = hit ? end_before(hit, start) : pos < b_.size() ? next_line(pos) : pos;
    part& p = parts_[index];
    p.header_offset = start;
    p.header_bytes = end - start;
    p.fields = parse_header_fields(b_.substr(start, end - start), start, limits_.header_fields_max);
    return end;
  }

  bool can_nest(std::size_t depth) const {
    return depth < limits_.depth_max && parts_.size() < limits_.parts_max;
  }

  std::size_t new_part(bool message_root) {
    parts_.emplace_back();
    parts_.back().message_root = message_root;
    return parts_.size() - 1;
  }

  // Parses the entity (header and body) at `start` into parts_[index]; returns the
  // delimiter that ended it, if any.
  std::optional<boundary_hit> parse_entity(std::size_t start, std::size_t index, std::size_t depth,
                                           bool in_digest) {
    std::optional<boundary_hit> hit;
    const std::size_t body = read_header(index, start, hit);
    apply_fields(parts_[index], in_digest);
    if (hit) {
      set_body(index, body, body);
      degrade_container(index);
      return hit;
    }
    const content_type& ct = parts_[index].type;
    if (ct.is("multipart")) return parse_multipart(index, body, depth);
    if (ct.is("message", "rfc822") || ct.is("message", "global")) {
      return parse_embedded(index, body, depth);
    }
    hit = scan(body);
    set_body(index, body, end_before(hit, body));
    return hit;
  }

  // A multipart or message part whose header ran into a delimiter has no body to hold
  // children: like any part with unusable MIME it becomes text/plain.
  void degrade_container(std::size_t index) {
    part& p = parts_[index];
    if (p.type.is("multipart") || p.type.is("message", "rfc822") ||
        p.type.is("message", "global")) {
      reset_to_text_plain(p);
    }
  }

  std::optional<boundary_hit> parse_leaf_opaque(std::size_t index, std::size_t body) {
    part& p = parts_[index];
    p.truncated = true;
    p.type = content_type{"application", "octet-stream", {}, false};
    std::optional<boundary_hit> hit = scan(body);
    set_body(index, body, end_before(hit, body));
    return hit;
  }

  std::optional<boundary_hit> parse_embedded(std::size_t index, std::size_t body,
                                             std::size_t depth) {
    if (!can_nest(depth)) return parse_leaf_opaque(index, body);
    const std::size_t child = new_part(true);
    parts_[index].kind = part_kind::message;
    parts_[index].children.push_back(child);
    std::optional<boundary_hit> hit = parse_entity(body, child, depth + 1, false);
    set_body(index, body, end_before(hit, body));
    return hit;
  }

  std::optional<boundary_hit> parse_multipart(std::size_t index, std::size_t body,
                                              std::size_t depth) {
    const mime_param* bnd = find_param(parts_[index].type.params, "boundary");
    if (bnd == nullptr || bnd->value.empty()) {  // unusable: RFC 2045 §5.2 text/plain
      reset_to_text_plain(parts_[index]);
      std::optional<boundary_hit> hit = scan(body);
      set_body(index, body, end_before(hit, body));
      return hit;
    }
    if (!can_nest(depth)) return parse_leaf_opaque(index, body);
    const bool digest = parts_[index].type.is("multipart", "digest");
    stack_.push_back(bnd->value);
    const std::size_t own = stack_.size() - 1;
    std::optional<boundary_hit> hit = scan(body);  // the preamble
    while (hit && hit->level == own && !hit->close) {
      if (parts_.size() >= limits_.parts_max) {  // the rest of the parts is not recorded
        parts_[index].truncated = true;
        hit = scan(hit->next);
        continue;
      }
      const std::size_t child = new_part(false);
      parts_[index].children.push_back(child);
      hit = parse_entity(hit->next, child, depth + 1, digest);
    }
    stack_.pop_back();
    if (hit && hit->level == own) hit = scan(hit->next);  // the epilogue
    if (parts_[index].children.empty()) {
      reset_to_text_plain(parts_[index]);
    } else {
      parts_[index].kind = part_kind::multipart;
    }
    set_body(index, body, end_before(hit, body));
    return hit;
  }

  std::string_view b_;
  const parse_limits& limits_;
  std::vector<part>& parts_;
  std::vector<std::string> stack_;    // boundaries of the open multiparts, outermost first
  std::vector<std::size_t> lf_;       // offsets of every LF
  std::vector<std::size_t> bare_lf_;  // offsets of LFs without a CR before them
};

}  // namespace

parsed_message parse(std::string_view bytes, const parse_limits& limits) {
  parsed_message m;
  m.bytes = bytes;
  parser(bytes, limits, m.parts).run();
  return m;
}

}  // namespace mailsim::message
