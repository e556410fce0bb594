// Test fixture: a private `unbound` daemon on loopback, serving only what the test gives it.
//
// unbound_daemon starts /usr/sbin/unbound -d -c <folder>/unbound.conf on 127.0.0.1 at a free
// port (UDP and TCP), in a fresh folder under /tmp, as the current user (root or not: no
// chroot, no privilege drop, no remote control, no syslog). It returns once the daemon
// answers a query, or after at most 10 s with an error. The destructor stops it (SIGTERM,
// then SIGKILL after 5 s) and removes the folder. If the test process dies first, the
// kernel sends the daemon SIGTERM (PR_SET_PDEATHSIG), so no daemon outlives its test.
//
// Nothing leaves the machine: the generated config has `local-zone: "." refuse`, so a name
// outside the test's zones is REFUSED rather than resolved from the root servers; only
// the iterator module runs (no DNSSEC); answers keep their order (rrset-roundrobin: no).
// Unbound's built-in zones stay (test., invalid., localhost., the RFC 6303 reverse zones);
// a record still goes into the deepest zone that contains it, so it is served all the same.
//
// Usage:
//   MAILSIM_SKIP_WITHOUT_UNBOUND();  // GTEST_SKIP when /usr/sbin/unbound is not installed
//   test::unbound_daemon dns({R"(local-zone: "example.test." static)",
//                             R"(local-data: "example.test. 300 IN MX 10 mx.example.test.")"});
//   ASSERT_TRUE(dns.ok()) << dns.error();
//   options.forwarders = {dns.endpoint()};  // "127.0.0.1@<port>"
//
// Each of `server_lines` is either a line for `server:` (`local-zone: "example.test."
// static`, `local-data: "..."`, `local-data-ptr: "..."`, any `option: value`) or a bare
// record in zone-file form ("example.test. 300 IN MX 10 mx.example.test."), which becomes
// local-data. A bare record whose owner is in no declared local-zone and under no other bare
// record's owner gets a static zone at its owner, so that other names below it are NXDOMAIN
// and other types NODATA. `extra_sections` is appended after `server:` verbatim
// (forward-zone:, stub-zone:, auth-zone: blocks). The Python twin, with the same rules, is
// tests/integration/unbound_fixture.py.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace mailsim::test {

class unbound_daemon {
 public:
  static constexpr const char* binary = "/usr/sbin/unbound";

  // Why the fixture cannot run here (no unbound binary), or nullopt when it can.
  static std::optional<std::string> unavailable();

  explicit unbound_daemon(const std::vector<std::string>& server_lines,
                          const std::string& extra_sections = "");
  ~unbound_daemon();
  unbound_daemon(const unbound_daemon&) = delete;
  unbound_daemon& operator=(const unbound_daemon&) = delete;

  // Whether the daemon is up and answering; error() says why not (with its log's tail).
  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }

  std::uint16_t port() const { return port_; }
  // "127.0.0.1@<port>", the form of unbound_options::forwarders and of dns.forwarders.
  std::string endpoint() const;
  const std::string& folder() const { return folder_; }
  std::string log() const;  // the daemon's log so far

  // Stops the daemon now (the destructor does it otherwise). Safe to call twice.
  void stop();

 private:
  bool start_once(const std::vector<std::string>& server_lines, const std::string& extra);
  bool wait_until_answering();

  std::string folder_;
  std::string error_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mailsim::test

// In a TEST body: skip (not fail) when unbound is not installed.
#define MAILSIM_SKIP_WITHOUT_UNBOUND()                                                     \
  do {                                                                                     \
    if (auto why_ = ::mailsim::test::unbound_daemon::unavailable()) GTEST_SKIP() << *why_; \
  } while (0)
