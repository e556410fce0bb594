// mailsim_pop3_load — a POP3 retrieval load generator for benchmarks (issue 6 §5).
//
// One connection at a time (RFC 1939 §8: a maildrop is locked by one session), repeated
// --sessions times: greeting, CAPA (RFC 2449), USER/PASS (RFC 1939 §7), STAT, optionally
// LIST, then RETR 1..N with up to --window commands in flight (RFC 2449 §6.6 PIPELINING),
// then QUIT without DELE, so the maildrop is the same for the next session.
// It measures what a mail client downloading a mailbox sees: messages and content octets per
// second over the RETR phase (first RETR sent → last message received) and over whole
// sessions (connect → QUIT answered). It speaks plain POP3 over POSIX sockets and shares no
// code with mailsim, so it drives mailsim-server and Dovecot alike.
//
// Multi-line answers are parsed as RFC 1939 §3 says: lines end in CRLF, a line starting with
// '.' has one '.' removed, and the line ".\r\n" ends the answer. Content octets are counted
// after that un-stuffing (what LIST reports for a message). With --verify it also runs LIST,
// compares every message's size with it, checks that every message ends in CRLF and adds an
// order-independent digest of all contents; --digest-maildir computes the same digest from
// a Maildir's files, so a server can be checked to send every message byte for byte.
//
// Every loop is bounded: --duration bounds the whole run, --messages each session, every
// read and write has a timeout (--io-timeout), an answer line is at most 1 MiB. Output: a
// readable summary, and with --json one line "RESULT {...}" for scripts.
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
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  int port = 110;
  std::string user = "demo@mailsim.test";
  std::string password = "demo";
  int sessions = 1;
  std::uint64_t messages_max = 1'000'000;  // per session; a bound, not a target
  int window = 64;                          // RETR commands in flight; 1 = one at a time
  bool force_pipelining = false;            // pipeline even without the PIPELINING capability
  bool verify = false;
  double duration_s = 300;
  int io_timeout_s = 30;
  bool json = false;
  std::string label;
  std::string digest_maildir;  // when set: only print the digest of this Maildir's files
  bool self_test = false;      // run against a scripted server in a thread (ctest)
};

void usage() {
  std::fprintf(stderr,
               "usage: mailsim_pop3_load [--host A] [--port P] [--user U] [--password P]\n"
               "         [--sessions S] [--messages N] [--window W] [--force-pipelining]\n"
               "         [--verify] [--duration S] [--io-timeout S] [--label TEXT] [--json]\n"
               "       mailsim_pop3_load --digest-maildir DIR\n"
               "       mailsim_pop3_load --self-test [--window W]\n"
               "  --sessions: sessions one after another (each retrieves the whole maildrop);\n"
               "  --messages: at most N messages per session; --window: RETR commands in\n"
               "  flight (1 = wait for each answer; more only if CAPA lists PIPELINING unless\n"
               "  --force-pipelining); --verify: LIST sizes, CRLF ends and a content digest;\n"
               "  --duration: a bound on the whole run, in seconds; --digest-maildir: print the\n"
               "  digest --verify would compute for the files of DIR/new and DIR/cur, and exit;\n"
               "  --self-test: two verified sessions against a scripted server in a thread.\n");
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
    if (a == "--host") o.host = value();
    else if (a == "--port") o.port = std::atoi(value());
    else if (a == "--user") o.user = value();
    else if (a == "--password") o.password = value();
    else if (a == "--sessions") o.sessions = std::atoi(value());
    else if (a == "--messages") o.messages_max = std::strtoull(value(), nullptr, 10);
    else if (a == "--window") o.window = std::atoi(value());
    else if (a == "--force-pipelining") o.force_pipelining = true;
    else if (a == "--verify") o.verify = true;
    else if (a == "--duration") o.duration_s = std::atof(value());
    else if (a == "--io-timeout") o.io_timeout_s = std::atoi(value());
    else if (a == "--label") o.label = value();
    else if (a == "--json") o.json = true;
    else if (a == "--digest-maildir") o.digest_maildir = value();
    else if (a == "--self-test") o.self_test = true;
    else if (a == "--help" || a == "-h") { usage(); std::exit(0); }
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return false;
    }
  }
  // The window is bounded so that the commands in flight (at most ~20 octets each) always
  // fit in the socket's send buffer: a blocking send can then never wait on a server that
  // is itself waiting for us to read.
  if (o.port < 1 || o.port > 65535 || o.sessions < 1 || o.sessions > 10'000 || o.messages_max < 1 ||
      o.window < 1 || o.window > 1024 || o.duration_s <= 0 || o.duration_s > 3600 || o.io_timeout_s < 1 ||
      o.user.find_first_of("\r\n") != std::string::npos ||
      o.password.find_first_of("\r\n") != std::string::npos) {
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

// The line-oriented reader of one connection: blocking socket, poll() for the timeout, a
// buffer compacted as lines are consumed.
class pop3_connection {
 public:
  explicit pop3_connection(const options& o) : o_(o), buffer_(1 << 20) {}
  ~pop3_connection() { close(); }
  pop3_connection(const pop3_connection&) = delete;
  pop3_connection& operator=(const pop3_connection&) = delete;

  bool open(std::string& error) {
    close();
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
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail(error, "connect");
    begin_ = end_ = 0;
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
  // a timeout or a line longer than the buffer.
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
      if (!fill(error)) return false;
    }
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
    if (end_ == buffer_.size()) {
      error = "answer line longer than 1 MiB";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    for (;;) {
      int r = ::poll(&p, 1, o_.io_timeout_s * 1000);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return fail(error, "poll");
      if (r == 0) {
        error = "timeout waiting for the server";
        return false;
      }
      break;
    }
    ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
    if (n < 0 && errno == EINTR) return true;
    if (n < 0) return fail(error, "recv");
    if (n == 0) {
      error = "connection closed by server";
      return false;
    }
    end_ += static_cast<std::size_t>(n);
    bytes_read_ += static_cast<std::uint64_t>(n);
    return true;
  }

  bool fail(std::string& error, const char* what) {
    error = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  const options& o_;
  int fd_ = -1;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t bytes_read_ = 0;
};

std::string_view trim_crlf(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

bool is_ok(std::string_view line) { return line.substr(0, 3) == "+OK"; }

// One message body of a multi-line answer, after un-stuffing.
struct body_stats {
  std::uint64_t octets = 0;
  std::uint64_t lines = 0;
  std::uint64_t digest = 0;
  bool ends_in_crlf = true;  // false when some line lacked its CR
};

// Reads the lines of a multi-line answer up to and including ".\r\n".
bool read_body(pop3_connection& c, bool hash, body_stats& out, std::string& error) {
  out = {};
  fnv1a h;
  std::string_view line;
  for (;;) {
    if (!c.read_line(line, error)) return false;
    if (line[0] == '.') {
      if (line == ".\r\n") break;
      line.remove_prefix(1);  // byte-stuffed: the first '.' is not content
    }
    if (line.size() < 2 || line[line.size() - 2] != '\r') out.ends_in_crlf = false;
    out.octets += line.size();
    ++out.lines;
    if (hash) h.add(line);
  }
  out.digest = h.h;
  return true;
}

struct run_result {
  int sessions_ok = 0;
  int sessions_failed = 0;
  std::uint64_t messages = 0;       // RETR answered +OK with a complete body
  std::uint64_t retr_errors = 0;    // RETR answered -ERR
  std::uint64_t octets = 0;         // content octets of those messages, un-stuffed
  std::uint64_t wire_bytes = 0;     // everything read from the sockets
  std::uint64_t size_mismatches = 0;  // --verify: octets differ from LIST
  std::uint64_t bad_line_ends = 0;  // --verify: messages with a line not ending in CRLF
  std::uint64_t digest = 0;         // --verify: sum of per-message FNV-1a
  std::uint64_t maildrop_messages = 0;  // STAT of the last session
  std::uint64_t maildrop_octets = 0;
  double retr_s = 0;     // sum over sessions: first RETR sent → last answer read
  double session_s = 0;  // sum over sessions: connect → QUIT answered
  double login_ms_max = 0;  // connect → PASS answered (the first session opens the indexes)
  double first_login_ms = 0;
  bool pipelining_advertised = false;
  int window_used = 1;
  std::vector<std::string> samples;

  void note(std::string text) {
    if (samples.size() < 5) samples.push_back(std::move(text));
  }
};

// Records an error text and returns false, so that failures read as one statement.
bool noted(run_result& res, std::string text) {
  res.note(std::move(text));
  return false;
}

double seconds(clock_type::duration d) { return std::chrono::duration<double>(d).count(); }

// Sends one command and reads its status line; false on I/O failure.
bool command(pop3_connection& c, const std::string& cmd, std::string_view& status, std::string& error) {
  return c.send_all(cmd + "\r\n", error) && c.read_line(status, error);
}

// Greeting, CAPA, USER/PASS. False when the session cannot go on (noted in `res`).
bool login(pop3_connection& c, const options& o, run_result& res) {
  std::string error;
  std::string_view line;
  if (!c.open(error) || !c.read_line(line, error)) return noted(res, error);
  if (!is_ok(line)) return noted(res, "greeting: " + std::string(trim_crlf(line)));
  if (!command(c, "CAPA", line, error)) return noted(res, error);
  if (is_ok(line)) {  // a multi-line list; -ERR means a server without RFC 2449
    for (;;) {
      if (!c.read_line(line, error)) return noted(res, error);
      if (line == ".\r\n") break;
      if (trim_crlf(line) == "PIPELINING") res.pipelining_advertised = true;
    }
  }
  if (!command(c, "USER " + o.user, line, error)) return noted(res, error);
  if (!is_ok(line)) return noted(res, "USER: " + std::string(trim_crlf(line)));
  if (!command(c, "PASS " + o.password, line, error)) return noted(res, error);
  if (!is_ok(line)) return noted(res, "PASS: " + std::string(trim_crlf(line)));
  return true;
}

// STAT, and with --verify LIST: the message count and the sizes the server announces.
bool stat_and_list(pop3_connection& c, const options& o, run_result& res, std::vector<std::uint64_t>& sizes) {
  std::string error;
  std::string_view line;
  if (!command(c, "STAT", line, error)) return noted(res, error);
  unsigned long long count = 0, octets = 0;
  std::string status(trim_crlf(line));
  if (std::sscanf(status.c_str(), "+OK %llu %llu", &count, &octets) != 2) {
    return noted(res, "STAT: " + status);
  }
  res.maildrop_messages = count;
  res.maildrop_octets = octets;
  sizes.assign(count, 0);
  if (!o.verify) return true;
  if (!command(c, "LIST", line, error)) return noted(res, error);
  if (!is_ok(line)) return noted(res, "LIST: " + std::string(trim_crlf(line)));
  for (std::uint64_t listed = 0;; ++listed) {
    if (!c.read_line(line, error)) return noted(res, error);
    if (line == ".\r\n") break;
    unsigned long long n = 0, size = 0;
    std::string entry(trim_crlf(line));
    if (std::sscanf(entry.c_str(), "%llu %llu", &n, &size) != 2 || n < 1 || n > count || listed >= count) {
      return noted(res, "LIST entry: " + entry);
    }
    sizes[n - 1] = size;
  }
  return true;
}

// RETR 1..n with up to `window` commands in flight; the window is refilled once half of it
// has been answered, so that commands go out in batches rather than one send per message.
bool retrieve_all(pop3_connection& c, const options& o, std::uint64_t n, int window,
                  const std::vector<std::uint64_t>& sizes, clock_type::time_point deadline, run_result& res) {
  std::string error;
  std::string_view line;
  std::string batch;
  std::uint64_t sent = 0, answered = 0;
  const std::uint64_t w = static_cast<std::uint64_t>(window);
  const std::uint64_t refill_at = w > 1 ? w / 2 : 0;
  while (answered < n) {
    if (sent < n && sent - answered <= refill_at) {
      if (clock_type::now() >= deadline) {  // the run's bound: drain what is in flight
        n = sent;
        res.note("duration bound reached after " + std::to_string(sent) + " RETR commands");
        continue;
      }
      batch.clear();
      while (sent < n && sent - answered < w) batch += "RETR " + std::to_string(++sent) + "\r\n";
      if (!c.send_all(batch, error)) return noted(res, error);
    }
    if (!c.read_line(line, error)) return noted(res, error);
    std::uint64_t number = ++answered;
    if (!is_ok(line)) {
      ++res.retr_errors;
      res.note("RETR " + std::to_string(number) + ": " + std::string(trim_crlf(line)));
      continue;
    }
    body_stats body;
    if (!read_body(c, o.verify, body, error)) return noted(res, error);
    ++res.messages;
    res.octets += body.octets;
    if (o.verify) {
      res.digest += body.digest;
      if (!body.ends_in_crlf) ++res.bad_line_ends;
      if (body.octets != sizes[number - 1]) {
        if (res.size_mismatches++ == 0) {
          res.note("message " + std::to_string(number) + ": " + std::to_string(body.octets) +
                   " octets, LIST said " + std::to_string(sizes[number - 1]));
        }
      }
    }
  }
  return true;
}

// One whole session; its times are added to `res`.
void run_session(const options& o, clock_type::time_point deadline, run_result& res, bool first) {
  pop3_connection c(o);
  auto t0 = clock_type::now();
  std::vector<std::uint64_t> sizes;
  bool ok = login(c, o, res);
  auto t_login = clock_type::now();
  double login_ms = seconds(t_login - t0) * 1000;
  if (first) res.first_login_ms = login_ms;
  res.login_ms_max = std::max(res.login_ms_max, login_ms);
  ok = ok && stat_and_list(c, o, res, sizes);
  int window = res.pipelining_advertised || o.force_pipelining ? o.window : 1;
  res.window_used = window;
  auto t1 = clock_type::now();
  ok = ok && retrieve_all(c, o, std::min<std::uint64_t>(res.maildrop_messages, o.messages_max), window, sizes, deadline, res);
  auto t2 = clock_type::now();
  std::string error;
  std::string_view line;
  if (ok) {
    ok = command(c, "QUIT", line, error);
    if (!ok) res.note(error);
    else if (!is_ok(line)) ok = noted(res, "QUIT: " + std::string(trim_crlf(line)));
  }
  auto t3 = clock_type::now();
  res.wire_bytes += c.bytes_read();
  res.retr_s += seconds(t2 - t1);
  res.session_s += seconds(t3 - t0);
  ++(ok ? res.sessions_ok : res.sessions_failed);
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", ch);
      out += hex;
    } else {
      out += ch;
    }
  }
  return out;
}

double client_cpu_s() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void print_result(const options& o, const run_result& r, double elapsed_s) {
  auto per_s = [](double x, double s) { return s > 0 ? x / s : 0.0; };
  double retr_msg_s = per_s(static_cast<double>(r.messages), r.retr_s);
  double retr_mb_s = per_s(static_cast<double>(r.octets), r.retr_s) / 1e6;
  double session_msg_s = per_s(static_cast<double>(r.messages), r.session_s);
  double cpu_s = client_cpu_s();
  std::printf("%s%s%s:%d  sessions=%d (ok %d, failed %d)  window=%d (PIPELINING %s)\n", o.label.c_str(),
              o.label.empty() ? "" : "  ", o.host.c_str(), o.port, o.sessions, r.sessions_ok, r.sessions_failed,
              r.window_used, r.pipelining_advertised ? "advertised" : "not advertised");
  std::printf("  maildrop %llu messages, %llu octets; retrieved %llu (%llu content octets), RETR -ERR %llu\n",
              static_cast<unsigned long long>(r.maildrop_messages),
              static_cast<unsigned long long>(r.maildrop_octets), static_cast<unsigned long long>(r.messages),
              static_cast<unsigned long long>(r.octets), static_cast<unsigned long long>(r.retr_errors));
  std::printf("  RETR phase %.3f s: %.1f msg/s  %.2f MB/s;  whole sessions %.3f s: %.1f msg/s\n", r.retr_s,
              retr_msg_s, retr_mb_s, r.session_s, session_msg_s);
  std::printf("  login (connect to PASS +OK): first %.2f ms, max %.2f ms;  load generator CPU %.2f s\n",
              r.first_login_ms, r.login_ms_max, cpu_s);
  if (o.verify) {
    std::printf("  verify: digest %016llx  size mismatches %llu  messages with a bare LF %llu\n",
                static_cast<unsigned long long>(r.digest), static_cast<unsigned long long>(r.size_mismatches),
                static_cast<unsigned long long>(r.bad_line_ends));
  }
  for (const auto& s : r.samples) std::printf("  error sample: %s\n", s.c_str());
  if (!o.json) return;
  std::printf(
      "RESULT {\"label\":\"%s\",\"port\":%d,\"sessions\":%d,\"sessions_ok\":%d,\"sessions_failed\":%d,"
      "\"window\":%d,\"pipelining_advertised\":%s,\"maildrop_messages\":%llu,\"maildrop_octets\":%llu,"
      "\"messages\":%llu,\"octets\":%llu,\"wire_bytes\":%llu,\"retr_errors\":%llu,\"retr_s\":%.4f,"
      "\"msg_per_s\":%.1f,\"mb_per_s\":%.3f,\"session_s\":%.4f,\"session_msg_per_s\":%.1f,"
      "\"first_login_ms\":%.3f,\"login_ms_max\":%.3f,\"elapsed_s\":%.3f,\"client_cpu_s\":%.3f,\"verify\":%s,"
      "\"digest\":\"%016llx\",\"size_mismatches\":%llu,\"bad_line_ends\":%llu,\"error_samples\":[",
      json_escape(o.label).c_str(), o.port, o.sessions, r.sessions_ok, r.sessions_failed, r.window_used,
      r.pipelining_advertised ? "true" : "false", static_cast<unsigned long long>(r.maildrop_messages),
      static_cast<unsigned long long>(r.maildrop_octets), static_cast<unsigned long long>(r.messages),
      static_cast<unsigned long long>(r.octets), static_cast<unsigned long long>(r.wire_bytes),
      static_cast<unsigned long long>(r.retr_errors), r.retr_s, retr_msg_s, retr_mb_s, r.session_s,
      session_msg_s, r.first_login_ms, r.login_ms_max, elapsed_s, cpu_s, o.verify ? "true" : "false",
      static_cast<unsigned long long>(r.digest), static_cast<unsigned long long>(r.size_mismatches),
      static_cast<unsigned long long>(r.bad_line_ends));
  for (std::size_t i = 0; i < r.samples.size(); ++i) {
    std::printf("%s\"%s\"", i ? "," : "", json_escape(r.samples[i]).c_str());
  }
  std::printf("]}\n");
}

// The digest --verify computes, over the files of a Maildir's new/ and cur/: what a server
// serving that Maildir unchanged must produce. False when a folder cannot be read.
bool print_maildir_digest(const std::string& maildir) {
  std::uint64_t digest = 0, files = 0, octets = 0;
  std::error_code ec;
  for (const char* sub : {"new", "cur"}) {
    for (const auto& entry : std::filesystem::directory_iterator(maildir + "/" + sub, ec)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      fnv1a h;
      h.add(bytes);
      digest += h.h;
      ++files;
      octets += bytes.size();
    }
    if (ec) {
      std::fprintf(stderr, "cannot read %s/%s: %s\n", maildir.c_str(), sub, ec.message().c_str());
      return false;
    }
  }
  std::printf("DIGEST %016llx files %llu octets %llu\n", static_cast<unsigned long long>(digest),
              static_cast<unsigned long long>(files), static_cast<unsigned long long>(octets));
  return true;
}

// Runs the sessions one after another: a second concurrent session would find the maildrop
// locked. The digest is kept from the first session only, so it describes one copy of the
// maildrop whatever the number of sessions.
run_result run_all(const options& o) {
  run_result res;
  auto start = clock_type::now();
  auto deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.duration_s));
  std::uint64_t first_digest = 0;
  for (int i = 0; i < o.sessions && clock_type::now() < deadline; ++i) {
    run_session(o, deadline, res, i == 0);
    if (i == 0) first_digest = res.digest;
    if (res.sessions_failed > 0) break;  // a failing server is not measured further
  }
  res.digest = first_digest;
  return res;
}

bool clean(const run_result& res) {
  return res.sessions_failed == 0 && res.retr_errors == 0 && res.messages > 0 && res.size_mismatches == 0 &&
         res.bad_line_ends == 0;
}

// --- --self-test: the client against a scripted server --------------------------------
// The messages exercise what the parser must get right: lines that are only ".", start with
// "." or "..", empty lines, and one message of 3 MiB, more than the client's read buffer.
std::vector<std::string> self_test_messages() {
  std::vector<std::string> m;
  m.push_back("Subject: plain\r\n\r\nbody\r\n");
  m.push_back("Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\n. \r\n\r\n...\r\nend.\r\n");
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; big.size() < (3u << 20); ++i) {
    if (i % 7 == 0) big += '.';
    big += std::string(static_cast<std::size_t>(20 + i % 90), static_cast<char>('a' + i % 26)) + "\r\n";
  }
  m.push_back(big);
  for (int i = 0; i < 200; ++i) m.push_back("Subject: n" + std::to_string(i) + "\r\n\r\n.x\r\n");
  return m;
}

std::string stuffed(const std::string& text) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    end = end == std::string::npos ? text.size() : end + 1;
    if (text[at] == '.') out += '.';
    out.append(text, at, end - at);
    at = end;
  }
  return out + ".\r\n";
}

// Answers each command of one session in order, as a pipelining server must.
void serve_one(int fd, const std::vector<std::string>& msgs) {
  std::string in, out = "+OK ready\r\n";
  char chunk[512];
  for (bool quit = false; !quit;) {
    std::size_t lf;
    while (!quit && (lf = in.find('\n')) != std::string::npos) {
      std::string cmd = in.substr(0, lf > 0 && in[lf - 1] == '\r' ? lf - 1 : lf);
      in.erase(0, lf + 1);
      if (cmd == "CAPA") out += "+OK\r\nUSER\r\nPIPELINING\r\n.\r\n";
      else if (cmd == "STAT") out += "+OK " + std::to_string(msgs.size()) + " 0\r\n";
      else if (cmd == "LIST") {
        out += "+OK\r\n";
        for (std::size_t i = 0; i < msgs.size(); ++i) out += std::to_string(i + 1) + " " + std::to_string(msgs[i].size()) + "\r\n";
        out += ".\r\n";
      } else if (cmd.rfind("RETR ", 0) == 0) {
        std::size_t n = std::strtoull(cmd.c_str() + 5, nullptr, 10);
        out += n >= 1 && n <= msgs.size() ? "+OK\r\n" + stuffed(msgs[n - 1]) : "-ERR no such message\r\n";
      } else {
        quit = cmd == "QUIT";
        out += "+OK\r\n";
      }
    }
    if (!out.empty() && ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) break;
    out.clear();
    if (quit) break;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    in.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
}

// Serves `sessions` connections on a loopback port, checks what the client reports.
int self_test(options o) {
  const std::vector<std::string> msgs = self_test_messages();
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 4) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("self-test listener");
    return 1;
  }
  o.host = "127.0.0.1";
  o.port = ntohs(addr.sin_port);
  o.sessions = 2;
  o.verify = true;
  o.io_timeout_s = 10;
  std::thread server([&] {
    for (int i = 0; i < o.sessions; ++i) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      serve_one(fd, msgs);
    }
  });
  run_result res = run_all(o);
  server.join();
  ::close(listener);
  std::uint64_t want = 0;
  for (const auto& m : msgs) {
    fnv1a h;
    h.add(m);
    want += h.h;
  }
  print_result(o, res, res.session_s);
  bool ok = clean(res) && res.digest == want && res.messages == 2 * msgs.size() && res.sessions_ok == 2;
  std::printf("self-test (window %d): %s\n", o.window, ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  if (!o.digest_maildir.empty()) return print_maildir_digest(o.digest_maildir) ? 0 : 1;
  if (o.self_test) return self_test(o);
  auto start = clock_type::now();
  run_result res = run_all(o);
  print_result(o, res, seconds(clock_type::now() - start));
  return clean(res) ? 0 : 1;
}
