#include "tests/support/unbound_daemon.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace mailsim::test {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

constexpr auto start_limit = std::chrono::seconds(10);
constexpr auto stop_limit = std::chrono::seconds(5);
constexpr int port_attempts = 5;

// A socket that closes itself.
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool bind_to(int fd, std::uint16_t port) {
  const sockaddr_in a = loopback(port);
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
}

// A port free for both UDP and TCP on 127.0.0.1 right now. Another process may take it
// before unbound binds it; start() then tries another one.
std::uint16_t free_port() {
  for (int i = 0; i < 20; ++i) {
    const fd_guard udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (udp.get() < 0 || !bind_to(udp.get(), 0)) continue;
    sockaddr_in a{};
    socklen_t size = sizeof a;
    if (::getsockname(udp.get(), reinterpret_cast<sockaddr*>(&a), &size) != 0) continue;
    const std::uint16_t port = ntohs(a.sin_port);
    const fd_guard tcp(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int on = 1;
    ::setsockopt(tcp.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as unbound does
    if (tcp.get() >= 0 && bind_to(tcp.get(), port)) return port;
  }
  return 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tail(const std::string& text, std::size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// `local-data: "..."` and other `option: value` lines, as opposed to bare records.
bool is_config_line(const std::string& line) {
  std::istringstream in(line);
  std::string first;
  return (in >> first) && first.back() == ':';
}

// The first name of a record or of a local-zone value, lower case, with the final dot.
std::string owner_of(const std::string& text) {
  std::istringstream in(text);
  std::string name;
  if (!(in >> name)) return ".";
  name.erase(0, name.find_first_not_of("\"'"));
  name.erase(name.find_last_not_of("\"'") + 1);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return !name.empty() && name.back() == '.' ? name : name + ".";
}

bool is_under(const std::string& name, const std::string& zone) {
  if (zone == "." || name == zone) return true;
  return name.size() > zone.size() &&
         name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
         name[name.size() - zone.size() - 1] == '.';
}

// The test's lines for server:, bare records turned into local-data plus a static zone at
// each owner that no declared zone and no other owner covers.
std::vector<std::string> server_lines_for(const std::vector<std::string>& zone_lines) {
  std::vector<std::string> declared, owners, zones, lines;
  for (const auto& line : zone_lines) {
    if (!is_config_line(line)) {
      owners.push_back(owner_of(line));
    } else if (line.rfind("local-zone:", 0) == 0) {
      declared.push_back(owner_of(line.substr(line.find(':') + 1)));
    }
  }
  for (const auto& owner : owners) {
    const auto covers = [&](const std::string& z) { return is_under(owner, z); };
    const auto strictly_covers = [&](const std::string& o) {
      return o != owner && is_under(owner, o);
    };
    if (std::find(zones.begin(), zones.end(), owner) != zones.end() ||
        std::any_of(declared.begin(), declared.end(), covers) ||
        std::any_of(owners.begin(), owners.end(), strictly_covers)) {
      continue;
    }
    zones.push_back(owner);
  }
  for (const auto& z : zones) lines.push_back("local-zone: \"" + z + "\" static");
  for (const auto& line : zone_lines) {
    if (is_config_line(line)) {
      lines.push_back(line);
    } else {
      const char quote = line.find('"') == std::string::npos ? '"' : '\'';
      lines.push_back(std::string("local-data: ") + quote + line + quote);
    }
  }
  return lines;
}

std::string config_text(const std::string& folder, std::uint16_t port,
                        const std::vector<std::string>& server_lines, const std::string& extra) {
  std::ostringstream c;
  c << "server:\n"
    << "  verbosity: 1\n"
    << "  interface: 127.0.0.1\n"
    << "  port: " << port << "\n"
    << "  do-ip4: yes\n  do-ip6: no\n  do-udp: yes\n  do-tcp: yes\n"
    << "  num-threads: 1\n"
    << "  username: \"\"\n  chroot: \"\"\n"
    << "  directory: \"" << folder << "\"\n"
    << "  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n"
    << "  access-control: 127.0.0.0/8 allow\n"
    // A test may forward a zone to another loopback server (extra_sections).
    << "  do-not-query-localhost: no\n"
    << "  module-config: \"iterator\"\n"
    << "  rrset-roundrobin: no\n"
    << "  local-zone: \".\" refuse\n";
  for (const auto& line : server_lines_for(server_lines)) c << "  " << line << "\n";
  c << "remote-control:\n  control-enable: no\n" << extra << "\n";
  return c.str();
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// A query for the root SOA (RFC 1035 §4.1); any reply, REFUSED included, proves the
// daemon is serving.
std::array<unsigned char, 17> probe(std::uint16_t id) {
  return {static_cast<unsigned char>(id >> 8),
          static_cast<unsigned char>(id & 0xff),
          0,
          0,
          0,
          1,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          0,
          6,
          0,
          1};
}

}  // namespace

std::optional<std::string> unbound_daemon::unavailable() {
  if (::access(binary, X_OK) == 0) return std::nullopt;
  return std::string(binary) + " is not installed (apt-get install unbound); skipped";
}

unbound_daemon::unbound_daemon(const std::vector<std::string>& server_lines,
                               const std::string& extra_sections) {
  char folder[] = "/tmp/mailsim-unbound-XXXXXX";
  if (::mkdtemp(folder) == nullptr) {
    error_ =
        std::string("cannot make a temporary folder: ") + std::generic_category().message(errno);
    return;
  }
  folder_ = folder;
  for (int attempt = 0; attempt < port_attempts; ++attempt) {
    if (start_once(server_lines, extra_sections)) return;
    // Only a port taken between free_port() and unbound's bind is worth another try.
    if (error_.find("Address already in use") == std::string::npos) return;
  }
}

unbound_daemon::~unbound_daemon() {
  stop();
  if (!folder_.empty()) {
    std::error_code ignored;
    fs::remove_all(folder_, ignored);
  }
}

std::string unbound_daemon::endpoint() const {
  return "127.0.0.1@" + std::to_string(port_);
}

std::string unbound_daemon::log() const {
  return read_file(folder_ + "/unbound.log");
}

bool unbound_daemon::start_once(const std::vector<std::string>& server_lines,
                                const std::string& extra) {
  port_ = free_port();
  if (port_ == 0) {
    error_ = "no free loopback port";
    return false;
  }
  const std::string conf = folder_ + "/unbound.conf";
  const std::string log_path = folder_ + "/unbound.log";
  {
    std::ofstream out(conf);
    out << config_text(folder_, port_, server_lines, extra);
    if (!out) {
      error_ = "cannot write " + conf;
      return false;
    }
  }
  // Everything the child needs is prepared before fork(): after it, only system calls.
  const std::string flag_d = "-d", flag_c = "-c";
  char* const argv[] = {const_cast<char*>(binary), const_cast<char*>(flag_d.c_str()),
                        const_cast<char*>(flag_c.c_str()), const_cast<char*>(conf.c_str()),
                        nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error_ = std::string("fork: ") + std::generic_category().message(errno);
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // the daemon dies with the test
    if (::getppid() != parent) ::_exit(127);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (log_fd < 0 || null_fd < 0) ::_exit(127);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(binary, argv);
    ::_exit(127);
  }
  pid_ = pid;
  return wait_until_answering();
}

bool unbound_daemon::wait_until_answering() {
  const fd_guard udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const sockaddr_in to = loopback(port_);
  if (udp.get() < 0 || ::connect(udp.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to)) {
    error_ = std::string("probe socket: ") + std::generic_category().message(errno);
    stop();
    return false;
  }
  const auto deadline = steady::now() + start_limit;
  for (std::uint16_t id = 1; steady::now() < deadline; ++id) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "unbound exited during start-up (" + describe_exit(status) + "); log:\n" +
               tail(log(), 2000);
      return false;
    }
    const auto query = probe(id);
    ::send(udp.get(), query.data(), query.size(), 0);  // refused until it listens
    pollfd p{udp.get(), POLLIN, 0};
    if (::poll(&p, 1, 100) == 1) {
      std::array<unsigned char, 512> reply{};
      const ssize_t n = ::recv(udp.get(), reply.data(), reply.size(), 0);
      // Any reply shows the daemon serves: under load an answer may come after the next
      // probe was sent, so the id is not required to be the last one (the connected socket
      // only hears from the daemon's port).
      if (n >= 12) return true;
      if (n < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  error_ = "unbound did not answer on " + endpoint() + " within 10 s; log:\n" + tail(log(), 2000);
  stop();
  return false;
}

void unbound_daemon::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = steady::now() + stop_limit;
  while (steady::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace mailsim::test
