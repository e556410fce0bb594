// mailsim_idle_conns — opens N SMTP connections, takes each one to an idle state (greeting
// read, EHLO sent and answered), reports, then holds them all open without traffic, for the
// RSS-per-idle-connection measurement of issue 2 §6 (bench/run_idle_rss.sh).
//
// Connections are spread over several loopback source addresses (127.0.0.1, 127.0.0.2, …)
// so that no single source address carries them all. Bounded: every read has a timeout,
// and the hold ends after --hold seconds or at SIGTERM/SIGINT, whichever comes first.
// Prints "READY opened=N idle=M failed=F" on standard output once every connection has
// been tried, then "DONE" when it lets go.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

// Reads until a final reply line ("ddd " or "ddd\r\n") with the expected code arrives.
bool read_reply(int fd, int expect_code) {
  std::string buf;
  for (int reads = 0; reads < 64; ++reads) {
    char chunk[2048];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    // Look at complete lines only; a final line has a space (or nothing) after the code.
    std::size_t start = 0;
    for (std::size_t lf = buf.find('\n'); lf != std::string::npos; lf = buf.find('\n', start)) {
      std::string_view line(buf.data() + start, lf - start);
      start = lf + 1;
      if (line.size() < 3) return false;
      if (line.size() == 3 || line[3] == ' ' || line[3] == '\r') {
        return std::atoi(std::string(line.substr(0, 3)).c_str()) == expect_code;
      }
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host_port = "2525";
  int count = 5000;
  int sources = 8;
  int hold_s = 120;
  int timeout_s = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--port") host_port = argv[i + 1];
    else if (a == "--count") count = std::atoi(argv[i + 1]);
    else if (a == "--sources") sources = std::atoi(argv[i + 1]);
    else if (a == "--hold") hold_s = std::atoi(argv[i + 1]);
    else if (a == "--timeout") timeout_s = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: mailsim_idle_conns --port P [--count N] [--sources K] [--hold S]\n");
      return 2;
    }
  }
  int port = std::atoi(host_port.c_str());
  if (count < 1 || count > 100'000 || sources < 1 || sources > 250 || hold_s < 1 || hold_s > 3600 ||
      port < 1 || port > 65535 || timeout_s < 1) {
    std::fprintf(stderr, "option out of range\n");
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  std::vector<int> fds;
  fds.reserve(static_cast<std::size_t>(count));
  int failed = 0;
  int idle = 0;
  std::string first_error;
  const std::string ehlo = "EHLO idle.example.test\r\n";
  for (int i = 0; i < count && !stop_requested; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (first_error.empty()) first_error = std::string("socket: ") + std::strerror(errno);
      ++failed;
      continue;
    }
    timeval tv{timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(0x7f000001u + static_cast<std::uint32_t>(i % sources));
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(static_cast<std::uint16_t>(port));
    remote.sin_addr.s_addr = htonl(0x7f000001u);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
              ::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0;
    if (!ok && first_error.empty()) first_error = std::string("connect: ") + std::strerror(errno);
    ok = ok && read_reply(fd, 220);
    ok = ok && ::send(fd, ehlo.data(), ehlo.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ehlo.size());
    ok = ok && read_reply(fd, 250);
    if (!ok) {
      if (first_error.empty()) first_error = "no 220 greeting or no 250 to EHLO";
      ++failed;
      ::close(fd);
      continue;
    }
    ++idle;
    fds.push_back(fd);
  }
  std::printf("READY opened=%d idle=%d failed=%d%s%s\n", count - failed, idle, failed,
              first_error.empty() ? "" : " first_error=", first_error.c_str());
  std::fflush(stdout);

  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(hold_s);
  while (!stop_requested && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (int fd : fds) ::close(fd);
  std::printf("DONE\n");
  return idle == count ? 0 : 1;
}
