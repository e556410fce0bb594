// mailsim_smtp_load — an SMTP ingest load generator for benchmarks (issue 2 §6).
//
// N client threads each hold one connection to host:port: greeting, EHLO once (and, with
// --auth-user, AUTH PLAIN once: RFC 4954, RFC 4616), then MAIL / RCPT / DATA / message
// repeated (with --pipelining, MAIL+RCPT+DATA go out in one write, RFC 2920) until the
// duration is over or each connection sent its message count.
// It measures what a sender sees: messages acknowledged with 250 per second, MB/s, and the
// latency of the DATA step — from the first byte of the message after the 354 to the 250
// (data_to_250), and from the last byte written to the 250 (eod_to_250, which is the
// server's commit latency as the client sees it). It speaks plain SMTP over POSIX sockets
// and shares no code with mailsim, so it drives mailsim-server and Postfix's smtpd alike.
//
// Every loop is bounded: a duration (default 10 s) and a message count per connection, a
// timeout on every read and write, a bounded number of reconnects. Output: a readable
// summary, and with --json one line "RESULT {...}" for scripts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  int port = 2525;
  int connections = 1;
  std::size_t body_bytes = 1024;
  double duration_s = 10;
  std::uint64_t messages_per_connection = 1'000'000;  // a bound, not a target
  bool pipelining = false;
  std::string from = "load@client.example.test";
  std::string to = "demo@mailsim.test";
  std::string helo = "loadgen.example.test";
  std::string auth_user;  // AUTH PLAIN after EHLO when not empty (relay benchmarks)
  std::string auth_password;
  int io_timeout_s = 30;
  int reconnects_max = 10;  // per connection
  bool json = false;
  std::string label;
};

void usage() {
  std::fprintf(stderr,
               "usage: mailsim_smtp_load [--host A] [--port P] [--connections N] [--size BYTES]\n"
               "         [--duration S] [--messages M] [--pipelining] [--from ADDR] [--to ADDR]\n"
               "         [--helo NAME] [--auth-user U --auth-password P] [--io-timeout S]\n"
               "         [--label TEXT] [--json]\n"
               "  --size: body bytes (headers are added); --messages: per connection (a bound);\n"
               "  the run ends at --duration or when every connection sent --messages;\n"
               "  --auth-user: AUTH PLAIN once per connection, before the clock starts.\n");
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
    else if (a == "--connections") o.connections = std::atoi(value());
    else if (a == "--size") o.body_bytes = std::strtoull(value(), nullptr, 10);
    else if (a == "--duration") o.duration_s = std::atof(value());
    else if (a == "--messages") o.messages_per_connection = std::strtoull(value(), nullptr, 10);
    else if (a == "--pipelining") o.pipelining = true;
    else if (a == "--from") o.from = value();
    else if (a == "--to") o.to = value();
    else if (a == "--helo") o.helo = value();
    else if (a == "--auth-user") o.auth_user = value();
    else if (a == "--auth-password") o.auth_password = value();
    else if (a == "--io-timeout") o.io_timeout_s = std::atoi(value());
    else if (a == "--label") o.label = value();
    else if (a == "--json") o.json = true;
    else if (a == "--help" || a == "-h") { usage(); std::exit(0); }
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return false;
    }
  }
  if (o.connections < 1 || o.connections > 10'000 || o.port < 1 || o.port > 65535 ||
      o.duration_s <= 0 || o.duration_s > 3600 || o.messages_per_connection < 1 ||
      o.io_timeout_s < 1 || o.body_bytes > (64u << 20)) {
    std::fprintf(stderr, "option out of range\n");
    return false;
  }
  return true;
}

// The message as it goes on the wire after the 354: RFC 5322 headers, a body of
// `body_bytes` in 76-character lines, dot-stuffed (RFC 5321 §4.5.2), and the end-of-data
// line. The Message-ID has a fixed-width counter that each send overwrites in place.
struct wire_message {
  std::string bytes;
  std::size_t counter_at = 0;
  static constexpr std::size_t counter_width = 16;

  void set_counter(std::uint64_t n) {
    char digits[counter_width + 1];
    std::snprintf(digits, sizeof digits, "%016llx", static_cast<unsigned long long>(n));
    std::memcpy(bytes.data() + counter_at, digits, counter_width);
  }
};

wire_message make_message(const options& o, int connection) {
  std::string m;
  m += "From: Load Generator <" + o.from + ">\r\n";
  m += "To: <" + o.to + ">\r\n";
  m += "Subject: mailsim benchmark message, " + std::to_string(o.body_bytes) + " body bytes\r\n";
  m += "Date: Wed, 26 Nov 2025 12:00:00 +0000\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=us-ascii\r\n";
  m += "Content-Transfer-Encoding: 7bit\r\n";
  m += "Message-ID: <";
  wire_message w;
  w.counter_at = m.size();
  m += std::string(wire_message::counter_width, '0');
  m += "." + std::to_string(connection) + "." + std::to_string(::getpid()) + "@loadgen.example.test>\r\n";
  m += "\r\n";
  static constexpr std::string_view text =
      "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
      "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud. ";
  std::string body;
  std::size_t line_no = 0;
  while (body.size() < o.body_bytes) {
    std::size_t room = o.body_bytes - body.size();
    if (room <= 2) {  // too little for a line of its own: lengthen the last one
      if (body.empty()) {
        body = "\r\n";
      } else {
        body.insert(body.size() - 2, room, 'x');
      }
      break;
    }
    std::size_t len = std::min<std::size_t>(76, room - 2);
    for (std::size_t i = 0; i < len; ++i) body += text[(i + line_no * 13) % text.size()];
    body += "\r\n";
    ++line_no;
  }
  // Dot-stuffing: a body line starting with '.' gets one more.
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t eol = body.find("\r\n", at);
    std::size_t end = eol == std::string::npos ? body.size() : eol + 2;
    if (body[at] == '.') m += '.';
    m.append(body, at, end - at);
    at = end;
  }
  if (m.size() < 2 || m.compare(m.size() - 2, 2, "\r\n") != 0) m += "\r\n";
  m += ".\r\n";
  w.bytes = std::move(m);
  return w;
}

// RFC 4648 §4 base64, for the AUTH PLAIN initial response.
std::string base64(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16 |
                      static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8 |
                      static_cast<unsigned char>(in[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += alphabet[(n >> shift) & 63];
  }
  if (i < in.size()) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

struct reply {
  int code = 0;
  std::vector<std::string> lines;  // text after "ddd-" / "ddd "
};

// One SMTP client connection with blocking I/O and per-call timeouts.
class connection {
 public:
  explicit connection(const options& o) : o_(o) {}
  ~connection() { close(); }

  bool open(std::string& error) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail(error, "socket");
    timeval tv{o_.io_timeout_s, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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
    buffer_.clear();
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

  // Reads one complete (possibly multi-line) reply.
  bool read_reply(reply& r, std::string& error) {
    r = {};
    for (;;) {
      std::string line;
      if (!read_line(line, error)) return false;
      if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
          !std::isdigit(static_cast<unsigned char>(line[1])) ||
          !std::isdigit(static_cast<unsigned char>(line[2]))) {
        error = "malformed reply line: " + line.substr(0, 80);
        return false;
      }
      r.code = std::atoi(line.substr(0, 3).c_str());
      bool more = line.size() > 3 && line[3] == '-';
      r.lines.push_back(line.size() > 4 ? line.substr(4) : std::string());
      if (!more) return true;
      if (r.lines.size() > 1000) {
        error = "reply with too many lines";
        return false;
      }
    }
  }

 private:
  bool read_line(std::string& line, std::string& error) {
    for (;;) {
      std::size_t lf = buffer_.find('\n', scanned_);
      if (lf != std::string::npos) {
        std::size_t len = lf > 0 && buffer_[lf - 1] == '\r' ? lf - 1 : lf;
        line.assign(buffer_, 0, len);
        buffer_.erase(0, lf + 1);
        scanned_ = 0;
        return true;
      }
      scanned_ = buffer_.size();
      if (buffer_.size() > 65536) {
        error = "reply line too long";
        return false;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(error, "recv");
      if (n == 0) {
        error = "connection closed by server";
        return false;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  bool fail(std::string& error, const char* what) {
    error = std::string(what) + ": " + std::strerror(errno);
    return false;
  }

  const options& o_;
  int fd_ = -1;
  std::string buffer_;
  std::size_t scanned_ = 0;
};

struct client_result {
  std::uint64_t accepted = 0;       // 250 after the end of data
  std::uint64_t refused = 0;        // a reply other than the expected one in a transaction
  std::uint64_t io_errors = 0;      // connect/read/write failures, timeouts, closes
  std::uint64_t wire_bytes = 0;     // message bytes of accepted messages, as sent
  std::vector<std::uint32_t> data_to_250_us;
  std::vector<std::uint32_t> eod_to_250_us;
  std::vector<std::string> samples;  // a few error texts
  bool pipelining_used = false;

  void note(std::string text) {
    if (samples.size() < 5) samples.push_back(std::move(text));
  }
};

std::uint32_t micros(clock_type::duration d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX));
}

std::string reply_text(const reply& r) {
  return std::to_string(r.code) + " " + (r.lines.empty() ? std::string() : r.lines.back());
}

// Greeting and EHLO; false when the connection is not usable.
bool start_session(connection& c, const options& o, client_result& res, bool& pipelining) {
  std::string error;
  reply r;
  if (!c.open(error) || !c.read_reply(r, error)) {
    ++res.io_errors;
    res.note(error);
    return false;
  }
  if (r.code != 220) {
    ++res.refused;
    res.note("greeting: " + reply_text(r));
    return false;
  }
  if (!c.send_all("EHLO " + o.helo + "\r\n", error) || !c.read_reply(r, error)) {
    ++res.io_errors;
    res.note(error);
    return false;
  }
  if (r.code != 250) {
    ++res.refused;
    res.note("EHLO: " + reply_text(r));
    return false;
  }
  pipelining = false;
  for (const auto& l : r.lines) {
    std::string up = l;
    for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (up == "PIPELINING") pipelining = true;
  }
  pipelining = pipelining && o.pipelining;
  if (!o.auth_user.empty()) {  // RFC 4616: authzid NUL authcid NUL password, empty authzid
    std::string plain = std::string(1, '\0') + o.auth_user + '\0' + o.auth_password;
    if (!c.send_all("AUTH PLAIN " + base64(plain) + "\r\n", error) || !c.read_reply(r, error)) {
      ++res.io_errors;
      res.note(error);
      return false;
    }
    if (r.code != 235) {
      ++res.refused;
      res.note("AUTH: " + reply_text(r));
      return false;
    }
  }
  return true;
}

void run_client(const options& o, int index, std::latch& ready, std::atomic<bool>& go_flag,
                const std::atomic<std::int64_t>& deadline_ns, client_result& res) {
  wire_message msg = make_message(o, index);
  connection c(o);
  bool pipelining = false;
  bool up = start_session(c, o, res, pipelining);
  ready.count_down();
  while (!go_flag.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(200));
  auto deadline = clock_type::time_point(clock_type::duration(deadline_ns.load()));
  res.pipelining_used = pipelining;

  const std::string mail = "MAIL FROM:<" + o.from + ">\r\n";
  const std::string rcpt = "RCPT TO:<" + o.to + ">\r\n";
  const std::string data = "DATA\r\n";
  const std::string envelope = mail + rcpt + data;
  int reconnects = 0;
  std::uint64_t sent = 0;
  std::string error;
  reply r;

  while (sent < o.messages_per_connection && clock_type::now() < deadline) {
    if (!up) {
      if (reconnects++ >= o.reconnects_max) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      up = start_session(c, o, res, pipelining);
      continue;
    }
    ++sent;
    bool io_ok = true;
    bool envelope_ok = true;
    if (pipelining) {  // RFC 2920: MAIL, RCPT and DATA in one write, then three replies
      io_ok = c.send_all(envelope, error);
      int expect[3] = {250, 250, 354};
      for (int i = 0; io_ok && i < 3; ++i) {
        io_ok = c.read_reply(r, error);
        if (io_ok && r.code != expect[i] && !(i < 2 && r.code == 251)) {
          if (envelope_ok) res.note((i == 0 ? "MAIL: " : i == 1 ? "RCPT: " : "DATA: ") + reply_text(r));
          envelope_ok = false;
        }
      }
      // A 354 after a refused RCPT would mean the server is in DATA: not expected from a
      // conforming server (RFC 2920 §3.1), but end that message cleanly if it happens.
      if (io_ok && !envelope_ok && r.code == 354) io_ok = c.send_all(".\r\n", error) && c.read_reply(r, error);
    } else {
      const std::string* steps[3] = {&mail, &rcpt, &data};
      int expect[3] = {250, 250, 354};
      for (int i = 0; io_ok && envelope_ok && i < 3; ++i) {
        io_ok = c.send_all(*steps[i], error) && c.read_reply(r, error);
        if (io_ok && r.code != expect[i] && !(i < 2 && r.code == 251)) {
          res.note((i == 0 ? "MAIL: " : i == 1 ? "RCPT: " : "DATA: ") + reply_text(r));
          envelope_ok = false;
        }
      }
    }
    if (io_ok && envelope_ok) {
      msg.set_counter(sent);
      auto t0 = clock_type::now();
      io_ok = c.send_all(msg.bytes, error);
      auto t1 = clock_type::now();
      if (io_ok) io_ok = c.read_reply(r, error);
      auto t2 = clock_type::now();
      if (io_ok && r.code == 250) {
        ++res.accepted;
        res.wire_bytes += msg.bytes.size();
        res.data_to_250_us.push_back(micros(t2 - t0));
        res.eod_to_250_us.push_back(micros(t2 - t1));
        continue;
      }
      if (io_ok) {
        ++res.refused;
        res.note("end of data: " + reply_text(r));
        if (r.code == 421) up = false;
        continue;
      }
    }
    if (!io_ok) {
      ++res.io_errors;
      res.note(error);
      c.close();
      up = false;
      continue;
    }
    // Refused envelope: count it, reset the transaction, back off a little (a 4xx is
    // usually a server asking for time).
    ++res.refused;
    if (!c.send_all("RSET\r\n", error) || !c.read_reply(r, error)) {
      ++res.io_errors;
      res.note(error);
      c.close();
      up = false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (up && c.send_all("QUIT\r\n", error)) c.read_reply(r, error);
  c.close();
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;
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

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  std::vector<client_result> results(static_cast<std::size_t>(o.connections));
  std::vector<std::thread> threads;
  std::latch ready(o.connections);
  std::atomic<bool> go{false};
  std::atomic<std::int64_t> deadline_ns{0};
  for (int i = 0; i < o.connections; ++i) {
    threads.emplace_back(run_client, std::cref(o), i, std::ref(ready), std::ref(go),
                         std::cref(deadline_ns), std::ref(results[static_cast<std::size_t>(i)]));
  }
  ready.wait();  // every client has its greeting, EHLO (and AUTH) answers, or failed
  auto start = clock_type::now();
  // The same instant on the wall clock, so that scripts can relate it to other processes'
  // timestamps (the relay benchmark measures until a sink has received everything).
  double start_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto deadline = start + std::chrono::duration_cast<clock_type::duration>(
                              std::chrono::duration<double>(o.duration_s));
  deadline_ns.store(deadline.time_since_epoch().count());
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  double cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;

  client_result total;
  int pipelined = 0;
  for (auto& r : results) {
    total.accepted += r.accepted;
    total.refused += r.refused;
    total.io_errors += r.io_errors;
    total.wire_bytes += r.wire_bytes;
    total.data_to_250_us.insert(total.data_to_250_us.end(), r.data_to_250_us.begin(), r.data_to_250_us.end());
    total.eod_to_250_us.insert(total.eod_to_250_us.end(), r.eod_to_250_us.begin(), r.eod_to_250_us.end());
    for (auto& s : r.samples) total.note(s);
    pipelined += r.pipelining_used ? 1 : 0;
  }
  double msgs = static_cast<double>(total.accepted) / elapsed;
  double mbs = static_cast<double>(total.wire_bytes) / elapsed / 1e6;
  std::size_t wire_size = make_message(o, 0).bytes.size();
  double d50 = percentile(total.data_to_250_us, 0.50), d99 = percentile(total.data_to_250_us, 0.99);
  double e50 = percentile(total.eod_to_250_us, 0.50), e99 = percentile(total.eod_to_250_us, 0.99);

  std::printf("%s%s%s:%d  connections=%d  body=%zu B (wire %zu B)  pipelining=%s (%d conns)\n",
              o.label.c_str(), o.label.empty() ? "" : "  ", o.host.c_str(), o.port, o.connections,
              o.body_bytes, wire_size, o.pipelining ? "requested" : "off", pipelined);
  std::printf("  elapsed %.2f s  accepted(250) %llu  refused %llu  io_errors %llu\n", elapsed,
              static_cast<unsigned long long>(total.accepted), static_cast<unsigned long long>(total.refused),
              static_cast<unsigned long long>(total.io_errors));
  std::printf("  %.1f msg/s  %.2f MB/s  (load generator CPU %.2f s)\n", msgs, mbs, cpu_s);
  std::printf("  DATA->250 latency (first message byte to 250): p50 %.3f ms  p99 %.3f ms\n", d50, d99);
  std::printf("  end-of-data->250 latency:                      p50 %.3f ms  p99 %.3f ms\n", e50, e99);
  for (auto& s : total.samples) std::printf("  error sample: %s\n", s.c_str());
  if (o.json) {
    std::printf(
        "RESULT {\"label\":\"%s\",\"port\":%d,\"connections\":%d,\"body_bytes\":%zu,\"wire_bytes_per_msg\":%zu,"
        "\"pipelining\":%s,\"elapsed_s\":%.3f,\"accepted\":%llu,\"refused\":%llu,\"io_errors\":%llu,"
        "\"msg_per_s\":%.1f,\"mb_per_s\":%.3f,\"data_to_250_p50_ms\":%.3f,\"data_to_250_p99_ms\":%.3f,"
        "\"eod_to_250_p50_ms\":%.3f,\"eod_to_250_p99_ms\":%.3f,\"client_cpu_s\":%.3f,\"start_unix_s\":%.6f,"
        "\"error_samples\":[",
        json_escape(o.label).c_str(), o.port, o.connections, o.body_bytes, wire_size,
        o.pipelining ? "true" : "false", elapsed, static_cast<unsigned long long>(total.accepted),
        static_cast<unsigned long long>(total.refused), static_cast<unsigned long long>(total.io_errors), msgs,
        mbs, d50, d99, e50, e99, cpu_s, start_unix_s);
    for (std::size_t i = 0; i < total.samples.size(); ++i) {
      std::printf("%s\"%s\"", i ? "," : "", json_escape(total.samples[i]).c_str());
    }
    std::printf("]}\n");
  }
  return total.accepted > 0 ? 0 : 1;
}
