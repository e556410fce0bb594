// mailsim_imap_load — an IMAP mailbox-reading load generator for benchmarks (issue 6 §5).
//
// One session: greeting, LOGIN (RFC 9051 §6.2.3), SELECT INBOX --selects times (each timed:
// command sent → tagged OK; the first SELECT after a server start includes building its
// index), then the chosen operation --repeat times, each timed the same way:
//   fetch-bodies  FETCH 1:* BODY.PEEK[]  (whole messages as literals; \Seen is not set)
//   fetch-flags   UID FETCH 1:* FLAGS
//   none          nothing (only the SELECT timings)
// and LOGOUT. It speaks plain IMAP over POSIX sockets and shares no code with mailsim, so it
// drives mailsim-server and Dovecot alike.
//
// Responses are read as RFC 9051 §4.3 says: a line that ends in "{N}" (or "{N+}", "~{N}") is
// followed by exactly N octets of literal, after which the same response continues with
// more text. An untagged "* n FETCH" response counts one message; its literal octets are the
// body octets. With --verify, every fetch-bodies literal is also checked to end in CRLF and
// added to an order-independent digest, so two servers serving copies of one Maildir can
// be checked to send the same bytes (--digest-maildir computes the digest of the files).
//
// Every loop is bounded: --duration bounds the whole run, every read and write has a
// timeout (--io-timeout), a response line is at most 1 MiB, a literal at most 1 GiB, and a
// command's untagged responses at most --responses-max. Output: a readable summary, and
// with --json one line "RESULT {...}" for scripts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

enum class operation { fetch_bodies, fetch_flags, none };

struct options {
  std::string host = "127.0.0.1";
  int port = 143;
  std::string user = "demo@mailsim.test";
  std::string password = "demo";
  std::string mailbox = "INBOX";
  operation op = operation::fetch_bodies;
  int repeat = 1;
  int selects = 1;
  bool verify = false;
  double duration_s = 300;
  int io_timeout_s = 30;
  std::uint64_t responses_max = 10'000'000;  // untagged responses per command; a bound
  bool json = false;
  std::string label;
  std::string digest_maildir;  // when set: only print the digest of this Maildir's files
};

constexpr std::size_t line_bytes_max = 1 << 20;
constexpr std::uint64_t literal_bytes_max = 1ULL << 30;

void usage() {
  std::fprintf(stderr,
               "usage: mailsim_imap_load [--host A] [--port P] [--user U] [--password P]\n"
               "         [--mailbox M] [--op fetch-bodies|fetch-flags|none] [--repeat R]\n"
               "         [--selects S] [--verify] [--duration S] [--io-timeout S]\n"
               "         [--responses-max N] [--label TEXT] [--json]\n"
               "       mailsim_imap_load --digest-maildir DIR\n"
               "  --repeat: the operation R times in the one session; --selects: SELECT the\n"
               "  mailbox S times before it (each timed); --verify: CRLF ends and a content\n"
               "  digest of the bodies; --duration: a bound on the whole run, in seconds;\n"
               "  --digest-maildir: print the digest --verify would compute for the files of\n"
               "  DIR/new and DIR/cur, and exit.\n");
}

bool parse_op(std::string_view s, operation& op) {
  if (s == "fetch-bodies")
    op = operation::fetch_bodies;
  else if (s == "fetch-flags")
    op = operation::fetch_flags;
  else if (s == "none")
    op = operation::none;
  else
    return false;
  return true;
}

const char* op_name(operation op) {
  switch (op) {
    case operation::fetch_bodies:
      return "fetch-bodies";
    case operation::fetch_flags:
      return "fetch-flags";
    case operation::none:
      return "none";
  }
  return "?";
}

bool parse_options(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--host")
      o.host = value();
    else if (a == "--port")
      o.port = std::atoi(value());
    else if (a == "--user")
      o.user = value();
    else if (a == "--password")
      o.password = value();
    else if (a == "--mailbox")
      o.mailbox = value();
    else if (a == "--op") {
      if (!parse_op(value(), o.op)) {
        std::fprintf(stderr, "unknown --op %s\n", argv[i]);
        return false;
      }
    } else if (a == "--repeat")
      o.repeat = std::atoi(value());
    else if (a == "--selects")
      o.selects = std::atoi(value());
    else if (a == "--verify")
      o.verify = true;
    else if (a == "--duration")
      o.duration_s = std::atof(value());
    else if (a == "--io-timeout")
      o.io_timeout_s = std::atoi(value());
    else if (a == "--responses-max")
      o.responses_max = std::strtoull(value(), nullptr, 10);
    else if (a == "--label")
      o.label = value();
    else if (a == "--json")
      o.json = true;
    else if (a == "--digest-maildir")
      o.digest_maildir = value();
    else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return false;
    }
  }
  auto bad_text = [](const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; };
  if (o.port < 1 || o.port > 65535 || o.repeat < 1 || o.repeat > 1000 || o.selects < 1 ||
      o.selects > 100 || o.duration_s <= 0 || o.duration_s > 3600 || o.io_timeout_s < 1 ||
      o.responses_max < 1 || bad_text(o.user) || bad_text(o.password) || bad_text(o.mailbox)) {
    std::fprintf(stderr, "option out of range\n");
    return false;
  }
  return true;
}

// Content digest: FNV-1a over one message, 64 bits; messages combine by addition, so the
// total does not depend on the order in which a server numbers them.
struct fnv1a {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void add(std::string_view bytes) {
    for (char ch : bytes) {
      h ^= static_cast<unsigned char>(ch);
      h *= 0x100000001b3ULL;
    }
  }
};

// A quoted string (RFC 9051 §4.3) for LOGIN and SELECT arguments.
std::string imap_quoted(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  out += '"';
  return out;
}

// The size of the literal a response line announces at its end ("{N}\r\n", "{N+}\r\n",
// "~{N}\r\n"), or -1 when the line does not end in one.
std::int64_t literal_at_end(std::string_view line) {
  if (line.size() < 5 || line.substr(line.size() - 3) != "}\r\n") return -1;
  std::size_t close = line.size() - 3;
  std::size_t end = close;
  if (line[end - 1] == '+') --end;
  std::size_t begin = end;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9' && end - begin < 12) --begin;
  if (begin == end || begin == 0 || line[begin - 1] != '{') return -1;
  std::uint64_t n = 0;
  for (std::size_t i = begin; i < end; ++i) n = n * 10 + static_cast<std::uint64_t>(line[i] - '0');
  return static_cast<std::int64_t>(n);
}

// The line-oriented reader of one connection: blocking socket, poll() for the timeout, a
// buffer compacted as lines are consumed; literals are handed out in pieces without copying.
class imap_connection {
 public:
  imap_connection(const options& o, clock_type::time_point deadline)
      : o_(o), deadline_(deadline), buffer_(line_bytes_max + 4096) {}
  ~imap_connection() { close(); }
  imap_connection(const imap_connection&) = delete;
  imap_connection& operator=(const imap_connection&) = delete;

  bool open(std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail(error, "socket");
    timeval tv{o_.io_timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o_.port));
    if (::inet_pton(AF_INET, o_.host.c_str(), &addr.sin_addr) != 1) {
      error = "bad IPv4 address " + o_.host;
      return false;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return fail(error, "connect");
    return true;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send_all(std::string_view bytes, std::string& error) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(error, "send");
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next line, CRLF included, valid until the next call. False on a closed connection,
  // a timeout or a line longer than line_bytes_max.
  bool read_line(std::string_view& line, std::string& error) {
    for (;;) {
      const char* start = buffer_.data() + begin_;
      const void* lf = std::memchr(start, '\n', end_ - begin_);
      if (lf != nullptr) {
        std::size_t len = static_cast<std::size_t>(static_cast<const char*>(lf) - start) + 1;
        line = std::string_view(start, len);
        begin_ += len;
        return true;
      }
      if (end_ - begin_ > line_bytes_max) {
        error = "response line longer than 1 MiB";
        return false;
      }
      if (!fill(error)) return false;
    }
  }

  // Up to `remaining` literal octets already received (reading once if none are), valid
  // until the next call.
  bool read_literal_piece(std::uint64_t remaining, std::string_view& piece, std::string& error) {
    if (begin_ == end_ && !fill(error)) return false;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, end_ - begin_));
    piece = std::string_view(buffer_.data() + begin_, n);
    begin_ += n;
    return true;
  }

  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Makes room (moving the unread tail to the front) and reads once, with the timeout.
  bool fill(std::string& error) {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock_type::now())
              .count();
      if (left <= 0) {
        error = "--duration reached";
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      int wait_ms = static_cast<int>(std::min<long long>(left, o_.io_timeout_s * 1000LL));
      int r = ::poll(&p, 1, wait_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return fail(error, "poll");
      if (r == 0) {
        error = "read timeout";
        return false;
      }
      ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(error, "recv");
      if (n == 0) {
        error = "connection closed by the server";
        return false;
      }
      end_ += static_cast<std::size_t>(n);
      bytes_read_ += static_cast<std::uint64_t>(n);
      return true;
    }
  }

  static bool fail(std::string& error, const char* what) {
    error = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  const options& o_;
  clock_type::time_point deadline_;
  int fd_ = -1;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t bytes_read_ = 0;
};

// What one command's responses held.
struct command_result {
  bool ok = false;            // tagged OK
  std::string tagged;         // the tagged response line, without CRLF
  std::uint64_t fetches = 0;  // untagged FETCH responses
  std::uint64_t literal_octets = 0;
  std::uint64_t exists = 0;  // the last "* n EXISTS"
  bool saw_exists = false;
  std::uint64_t fetches_without_literal = 0;  // FETCH responses that carried no literal
  std::uint64_t fetches_without_uid = 0;      // FETCH responses without "UID" (UID FETCH)
  std::uint64_t bad_line_ends = 0;            // --verify: literals not ending in CRLF
  std::uint64_t digest = 0;                   // --verify: sum of per-literal FNV-1a
  double seconds = 0;
  double first_response_s = -1;  // command sent → first untagged response read
};

std::string_view trim_crlf(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 'a' + 'A');
    if (a != prefix[i]) return false;
  }
  return true;
}

// Classifies the first line of an untagged response: "* n FETCH", "* n EXISTS".
void classify_untagged(std::string_view line, bool& is_fetch, bool& is_exists,
                       std::uint64_t& number) {
  is_fetch = is_exists = false;
  std::size_t i = 2;
  number = 0;
  if (i >= line.size() || line[i] < '0' || line[i] > '9') return;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
    number = number * 10 + static_cast<std::uint64_t>(line[i] - '0');
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') return;
  std::string_view rest = line.substr(i + 1);
  is_fetch = starts_with_ci(rest, "FETCH ");
  is_exists = starts_with_ci(rest, "EXISTS");
}

class session {
 public:
  session(const options& o, clock_type::time_point deadline) : o_(o), conn_(o, deadline) {}

  bool open(std::string& error) {
    if (!conn_.open(error)) return false;
    std::string_view line;
    if (!conn_.read_line(line, error)) return false;
    if (!starts_with_ci(line, "* OK")) {
      error = "greeting: " + std::string(trim_crlf(line));
      return false;
    }
    return true;
  }

  // Sends "<tag> <text>" and reads every response up to the tagged one. False only when
  // the connection failed; a NO/BAD answer is reported in `res.ok`.
  bool command(const std::string& text, command_result& res, std::string& error) {
    std::string tag = "a" + std::to_string(++tag_number_);
    std::string wire = tag + " " + text + "\r\n";
    auto t0 = clock_type::now();
    if (!conn_.send_all(wire, error)) return false;
    std::uint64_t responses = 0;
    for (;;) {
      std::string_view line;
      if (!conn_.read_line(line, error)) return false;
      if (line.size() > tag.size() && line.substr(0, tag.size()) == tag &&
          line[tag.size()] == ' ') {
        res.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
        res.tagged = std::string(trim_crlf(line));
        res.ok = starts_with_ci(line.substr(tag.size() + 1), "OK");
        return true;
      }
      if (responses == 0) {
        res.first_response_s = std::chrono::duration<double>(clock_type::now() - t0).count();
      }
      if (++responses > o_.responses_max) {
        error = "more untagged responses than --responses-max";
        return false;
      }
      if (!untagged(line, res, error)) return false;
    }
  }

  std::uint64_t bytes_read() const { return conn_.bytes_read(); }

 private:
  // One untagged (or continuation) response: its first line is `line`; literals and the
  // lines that follow them are consumed here.
  bool untagged(std::string_view line, command_result& res, std::string& error) {
    bool is_fetch = false, is_exists = false;
    std::uint64_t number = 0;
    if (starts_with_ci(line, "* ")) classify_untagged(line, is_fetch, is_exists, number);
    if (is_exists) {
      res.exists = number;
      res.saw_exists = true;
    }
    bool has_uid = is_fetch && line.find("UID ") != std::string_view::npos;
    bool had_literal = false;
    for (;;) {
      std::int64_t literal = literal_at_end(line);
      if (literal < 0) break;
      if (static_cast<std::uint64_t>(literal) > literal_bytes_max) {
        error = "literal larger than 1 GiB";
        return false;
      }
      had_literal = true;
      if (!read_literal(static_cast<std::uint64_t>(literal), is_fetch, res, error)) return false;
      if (!conn_.read_line(line, error)) return false;
      if (is_fetch && line.find("UID ") != std::string_view::npos) has_uid = true;
    }
    if (is_fetch) {
      ++res.fetches;
      if (!had_literal) ++res.fetches_without_literal;
      if (!has_uid) ++res.fetches_without_uid;
    }
    return true;
  }

  bool read_literal(std::uint64_t size, bool count, command_result& res, std::string& error) {
    fnv1a h;
    char last[2] = {0, 0};
    std::uint64_t remaining = size;
    while (remaining > 0) {
      std::string_view piece;
      if (!conn_.read_literal_piece(remaining, piece, error)) return false;
      remaining -= piece.size();
      if (o_.verify && count) {
        h.add(piece);
        if (piece.size() >= 2) {
          last[0] = piece[piece.size() - 2];
          last[1] = piece.back();
        } else if (piece.size() == 1) {
          last[0] = last[1];
          last[1] = piece[0];
        }
      }
    }
    if (!count) return true;
    res.literal_octets += size;
    if (o_.verify) {
      res.digest += h.h;
      if (size > 0 && (last[0] != '\r' || last[1] != '\n')) ++res.bad_line_ends;
    }
    return true;
  }

  const options& o_;
  imap_connection conn_;
  std::uint64_t tag_number_ = 0;
};

// What the whole run measured.
struct run_result {
  bool login_ok = false;
  std::string error;
  std::string refusal;  // a NO/BAD tagged line, when one ended the run
  double connect_login_ms = 0;
  std::vector<double> select_ms;
  std::uint64_t exists = 0;
  std::vector<double> op_s;                // per repeat
  std::vector<double> first_response_ms;   // per repeat: until the first untagged response
  std::vector<std::uint64_t> op_messages;  // per repeat
  std::uint64_t messages = 0;
  std::uint64_t literal_octets = 0;
  std::uint64_t wire_octets = 0;         // octets read during the operations
  std::uint64_t incomplete_repeats = 0;  // repeats that did not return EXISTS messages
  std::uint64_t fetches_without_literal = 0;
  std::uint64_t fetches_without_uid = 0;
  std::uint64_t bad_line_ends = 0;
  std::uint64_t digest = 0;  // of the first repeat
  double client_cpu_s = 0;
};

std::string operation_command(operation op) {
  return op == operation::fetch_bodies ? "FETCH 1:* BODY.PEEK[]" : "UID FETCH 1:* FLAGS";
}

// Accounts one repeat of the operation.
void add_repeat(const options& o, const command_result& c, int index, std::uint64_t wire,
                run_result& r) {
  r.op_s.push_back(c.seconds);
  r.first_response_ms.push_back(c.first_response_s * 1000);
  r.op_messages.push_back(c.fetches);
  r.messages += c.fetches;
  r.literal_octets += c.literal_octets;
  r.wire_octets += wire;
  if (c.fetches != r.exists) ++r.incomplete_repeats;
  if (o.op == operation::fetch_bodies) r.fetches_without_literal += c.fetches_without_literal;
  if (o.op == operation::fetch_flags) r.fetches_without_uid += c.fetches_without_uid;
  r.bad_line_ends += c.bad_line_ends;
  if (index == 0) r.digest = c.digest;
}

bool run_selects(const options& o, session& s, run_result& r) {
  for (int i = 0; i < o.selects; ++i) {
    command_result c;
    if (!s.command("SELECT " + imap_quoted(o.mailbox), c, r.error)) return false;
    if (!c.ok) {
      r.refusal = c.tagged;
      return false;
    }
    r.select_ms.push_back(c.seconds * 1000);
    r.exists = c.exists;
  }
  return true;
}

void run(const options& o, run_result& r) {
  auto deadline =
      clock_type::now() + std::chrono::milliseconds(static_cast<long long>(o.duration_s * 1000));
  session s(o, deadline);
  auto t0 = clock_type::now();
  if (!s.open(r.error)) return;
  command_result login;
  if (!s.command("LOGIN " + imap_quoted(o.user) + " " + imap_quoted(o.password), login, r.error))
    return;
  if (!login.ok) {
    r.refusal = login.tagged;
    return;
  }
  r.login_ok = true;
  r.connect_login_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  if (!run_selects(o, s, r)) return;
  if (o.op != operation::none) {
    for (int i = 0; i < o.repeat; ++i) {
      command_result c;
      std::uint64_t before = s.bytes_read();
      if (!s.command(operation_command(o.op), c, r.error)) return;
      if (!c.ok) {
        r.refusal = c.tagged;
        return;
      }
      add_repeat(o, c, i, s.bytes_read() - before, r);
    }
  }
  command_result logout;
  s.command("LOGOUT", logout, r.error);  // a failure here does not spoil the figures
  r.error.clear();
}

double sum(const std::vector<double>& v) {
  double t = 0;
  for (double x : v) t += x;
  return t;
}

// Messages per second of the fastest repeat (the figure least disturbed by other load).
double best_rate(const run_result& r) {
  double best = 0;
  for (std::size_t i = 0; i < r.op_s.size(); ++i) {
    if (r.op_s[i] > 0) best = std::max(best, static_cast<double>(r.op_messages[i]) / r.op_s[i]);
  }
  return best;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      out += ' ';
      continue;
    }
    out += ch;
  }
  return out;
}

std::string json_list(const std::vector<double>& v, int decimals) {
  std::string out = "[";
  char buf[64];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.*f", i ? "," : "", decimals, v[i]);
    out += buf;
  }
  return out + "]";
}

void print_summary(const options& o, const run_result& r, double op_total_s) {
  std::printf("%s: %s, port %d, mailbox %s, EXISTS %llu\n",
              o.label.empty() ? "imap" : o.label.c_str(), op_name(o.op), o.port, o.mailbox.c_str(),
              static_cast<unsigned long long>(r.exists));
  std::printf("  connect+login %.2f ms; SELECT ms:", r.connect_login_ms);
  for (double ms : r.select_ms) std::printf(" %.2f", ms);
  std::printf("\n");
  for (std::size_t i = 0; i < r.op_s.size(); ++i) {
    double rate = r.op_s[i] > 0 ? static_cast<double>(r.op_messages[i]) / r.op_s[i] : 0;
    std::printf(
        "  repeat %zu: %llu messages in %.4f s = %.0f msg/s (first response after %.1f ms)\n",
        i + 1, static_cast<unsigned long long>(r.op_messages[i]), r.op_s[i], rate,
        r.first_response_ms[i]);
  }
  if (op_total_s > 0) {
    std::printf(
        "  total: %llu messages, %.1f MB of literals, %.1f MB on the wire, %.0f msg/s, %.1f MB/s\n",
        static_cast<unsigned long long>(r.messages), static_cast<double>(r.literal_octets) / 1e6,
        static_cast<double>(r.wire_octets) / 1e6, static_cast<double>(r.messages) / op_total_s,
        static_cast<double>(r.literal_octets) / 1e6 / op_total_s);
  }
  if (o.verify) {
    std::printf("  verify: digest %016llx  literals not ending in CRLF %llu\n",
                static_cast<unsigned long long>(r.digest),
                static_cast<unsigned long long>(r.bad_line_ends));
  }
  if (r.incomplete_repeats || r.fetches_without_literal || r.fetches_without_uid) {
    std::printf(
        "  PROBLEMS: repeats not returning EXISTS messages %llu, FETCH without a literal %llu, "
        "UID FETCH without UID %llu\n",
        static_cast<unsigned long long>(r.incomplete_repeats),
        static_cast<unsigned long long>(r.fetches_without_literal),
        static_cast<unsigned long long>(r.fetches_without_uid));
  }
  if (!r.refusal.empty()) std::printf("  refused: %s\n", r.refusal.c_str());
  if (!r.error.empty()) std::printf("  error: %s\n", r.error.c_str());
}

void print_json(const options& o, const run_result& r, double op_total_s) {
  double msg_per_s = op_total_s > 0 ? static_cast<double>(r.messages) / op_total_s : 0;
  double mb_per_s = op_total_s > 0 ? static_cast<double>(r.literal_octets) / 1e6 / op_total_s : 0;
  double wire_mb_per_s = op_total_s > 0 ? static_cast<double>(r.wire_octets) / 1e6 / op_total_s : 0;
  bool clean = r.login_ok && r.error.empty() && r.refusal.empty() && r.incomplete_repeats == 0 &&
               r.fetches_without_literal == 0 && r.fetches_without_uid == 0 &&
               r.bad_line_ends == 0 &&
               static_cast<int>(r.op_s.size()) == (o.op == operation::none ? 0 : o.repeat);
  std::printf(
      "RESULT {\"label\":\"%s\",\"op\":\"%s\",\"port\":%d,\"ok\":%s,\"exists\":%llu,\"repeat\":%d,"
      "\"connect_login_ms\":%.3f,\"select_ms\":%s,\"op_s\":%s,\"first_response_ms\":%s,"
      "\"messages\":%llu,\"literal_octets\":%llu,"
      "\"wire_octets\":%llu,\"msg_per_s\":%.1f,\"mb_per_s\":%.2f,\"wire_mb_per_s\":%.2f,"
      "\"best_msg_per_s\":%.1f,\"incomplete_repeats\":%llu,\"fetches_without_literal\":%llu,"
      "\"fetches_without_uid\":%llu,\"bad_line_ends\":%llu,\"digest\":\"%016llx\",\"client_cpu_s\":"
      "%.3f,"
      "\"refusal\":\"%s\",\"error\":\"%s\"}\n",
      json_escape(o.label).c_str(), op_name(o.op), o.port, clean ? "true" : "false",
      static_cast<unsigned long long>(r.exists), o.repeat, r.connect_login_ms,
      json_list(r.select_ms, 3).c_str(), json_list(r.op_s, 6).c_str(),
      json_list(r.first_response_ms, 3).c_str(), static_cast<unsigned long long>(r.messages),
      static_cast<unsigned long long>(r.literal_octets),
      static_cast<unsigned long long>(r.wire_octets), msg_per_s, mb_per_s, wire_mb_per_s,
      best_rate(r), static_cast<unsigned long long>(r.incomplete_repeats),
      static_cast<unsigned long long>(r.fetches_without_literal),
      static_cast<unsigned long long>(r.fetches_without_uid),
      static_cast<unsigned long long>(r.bad_line_ends), static_cast<unsigned long long>(r.digest),
      r.client_cpu_s, json_escape(r.refusal).c_str(), json_escape(r.error).c_str());
}

// The digest --verify computes, over the files of a Maildir's new/ and cur/: what a server
// sending every stored file unchanged would produce.
bool print_maildir_digest(const std::string& maildir) {
  std::uint64_t digest = 0, files = 0, octets = 0;
  std::error_code ec;
  for (const char* sub : {"new", "cur"}) {
    std::filesystem::path dir = std::filesystem::path(maildir) / sub;
    if (!std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (!entry.is_regular_file(ec)) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      fnv1a h;
      h.add(data);
      digest += h.h;
      ++files;
      octets += data.size();
    }
  }
  if (ec) {
    std::fprintf(stderr, "cannot read %s: %s\n", maildir.c_str(), ec.message().c_str());
    return false;
  }
  std::printf("DIGEST %016llx files %llu octets %llu\n", static_cast<unsigned long long>(digest),
              static_cast<unsigned long long>(files), static_cast<unsigned long long>(octets));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  if (!o.digest_maildir.empty()) return print_maildir_digest(o.digest_maildir) ? 0 : 1;
  run_result r;
  run(o, r);
  rusage usage_self{};
  ::getrusage(RUSAGE_SELF, &usage_self);
  r.client_cpu_s =
      static_cast<double>(usage_self.ru_utime.tv_sec + usage_self.ru_stime.tv_sec) +
      static_cast<double>(usage_self.ru_utime.tv_usec + usage_self.ru_stime.tv_usec) / 1e6;
  double op_total_s = sum(r.op_s);
  print_summary(o, r, op_total_s);
  if (o.json) print_json(o, r, op_total_s);
  std::fflush(stdout);
  bool failed = !r.login_ok || !r.error.empty() || !r.refusal.empty();
  return failed ? 1 : 0;
}
