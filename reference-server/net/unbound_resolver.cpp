// mailsim::net unbound resolver: libunbound in its own thread (ub_ctx_async), its answer
// pipe watched on the io_context. The contract is in the header; this file has three
// parts: building the libunbound context, turning a ub_result into a dns_answer, and the
// query life cycle (start, answer or timeout, exactly one callback).
#include "reference-server/net/unbound_resolver.hpp"

#include <unbound.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "reference-server/core/ip_address.hpp"
#include "reference-server/net/asio.hpp"

namespace mailsim::net {
namespace {

using core::dns_answer;
using core::dns_status;
using core::rr_type;

constexpr int class_in = 1;       // RFC 1035 §3.2.4
constexpr int rcode_noerror = 0;  // RFC 1035 §4.1.1
constexpr int rcode_nxdomain = 3;
constexpr std::uint16_t type_soa = 6;

std::string quote(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// ---------------------------------------------------------------------------------------
// Building the context. Everything goes in as configuration (ub_ctx_set_option and
// friends), which libunbound applies when the first query "finalizes" the context.

struct ctx_deleter {
  void operator()(ub_ctx* ctx) const { ub_ctx_delete(ctx); }
};
using ctx_ptr = std::unique_ptr<ub_ctx, ctx_deleter>;

// Unbound's built-in zones (unbound.conf(5), "local-zone", default zones) other than
// localhost.: RFC 6761 test. and invalid., RFC 7686 onion., RFC 8375 home.arpa., the
// loopback reverse zones and the RFC 6303 (AS112) reverse zones. resolver.arpa. and
// service.arpa. are defaults of later Unbound versions; naming a zone that is not a
// default is harmless.
std::vector<std::string> special_use_zones() {
  std::vector<std::string> zones = {"test.",
                                    "invalid.",
                                    "onion.",
                                    "home.arpa.",
                                    "resolver.arpa.",
                                    "service.arpa.",
                                    "127.in-addr.arpa.",
                                    "10.in-addr.arpa.",
                                    "168.192.in-addr.arpa.",
                                    "0.in-addr.arpa.",
                                    "254.169.in-addr.arpa.",
                                    "2.0.192.in-addr.arpa.",
                                    "100.51.198.in-addr.arpa.",
                                    "113.0.203.in-addr.arpa.",
                                    "255.255.255.255.in-addr.arpa.",
                                    "d.f.ip6.arpa.",
                                    "8.e.f.ip6.arpa.",
                                    "9.e.f.ip6.arpa.",
                                    "a.e.f.ip6.arpa.",
                                    "b.e.f.ip6.arpa.",
                                    "8.b.d.0.1.0.0.2.ip6.arpa."};
  for (int i = 16; i <= 31; ++i) zones.push_back(std::to_string(i) + ".172.in-addr.arpa.");
  for (int i = 64; i <= 127; ++i) zones.push_back(std::to_string(i) + ".100.in-addr.arpa.");
  std::string zeros;
  for (int i = 0; i < 31; ++i) zeros += "0.";
  zones.push_back("1." + zeros + "ip6.arpa.");  // ::1
  zones.push_back("0." + zeros + "ip6.arpa.");  // ::
  return zones;
}

bool set_option(ub_ctx* ctx, const char* option, const std::string& value, std::string& error) {
  const int rc = ub_ctx_set_option(ctx, option, value.c_str());
  if (rc == 0) return true;
  error = std::string("libunbound refused ") + option + " " + value + ": " + ub_strerror(rc);
  return false;
}

// "ip" or "ip@port" with an IPv4 or IPv6 literal and a port 1-65535.
bool is_forwarder(std::string_view text) {
  std::string_view ip = text;
  const auto at = text.rfind('@');
  if (at != std::string_view::npos) {
    ip = text.substr(0, at);
    const std::string_view port = text.substr(at + 1);
    if (port.empty() || port.size() > 5 || port.front() == '0') return false;
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (std::stoi(std::string(port)) > 65535) return false;
  }
  return core::parse_ip(ip).has_value();
}

bool configure_forwarders(ub_ctx* ctx, const unbound_options& options, std::string& error) {
  for (const auto& f : options.forwarders) {
    // ub_ctx_set_fwd puts them all in one forward zone for "." without forward-first, so
    // libunbound never falls back to recursion from the root.
    if (!is_forwarder(f) || ub_ctx_set_fwd(ctx, f.c_str()) != 0) {
      error = "forwarders " + quote(f) +
              ": expected an IP address with an optional @port, like 127.0.0.1@5353";
      return false;
    }
  }
  return true;
}

bool configure_system(ub_ctx* ctx, const unbound_options& options, std::string& error) {
  if (const int rc = ub_ctx_resolvconf(ctx, options.resolv_conf.c_str()); rc != 0) {
    error = "cannot use " + quote(options.resolv_conf) + ": " + ub_strerror(rc);
    return false;
  }
  if (const int rc = ub_ctx_hosts(ctx, options.hosts.c_str()); rc != 0) {
    error = "cannot use " + quote(options.hosts) + ": " + ub_strerror(rc);
    return false;
  }
  return true;
}

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// RFC 1035 §2.3.4: labels of 1-63 octets, at most 255 octets on the wire (253 in text
// without the final dot). "." is the root.
bool is_dns_name(std::string_view name) {
  if (name == ".") return true;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
    if (end == start || end - start > 63) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// The unbound.conf(5) local-zone types that make sense here (no views, no logging ones;
// "nodefault" is what every zone declared here does anyway).
bool is_zone_type(std::string_view type) {
  static constexpr std::string_view types[] = {
      "static",          "transparent",   "typetransparent",    "redirect",
      "refuse",          "deny",          "always_transparent", "always_refuse",
      "always_nxdomain", "always_nodata", "always_deny",        "always_null"};
  return std::find(std::begin(types), std::end(types), type) != std::end(types);
}

struct zone {
  std::string name;  // lower case, with the final dot
  std::string type;
};

// Every zone the context gets, as "name type": the root (embedded mode), the special-use
// zones, then the user's, which replace a special-use zone of the same name.
bool collect_zones(const unbound_options& options, std::vector<zone>& zones, std::string& error) {
  std::vector<zone> user;
  for (const auto& line : options.local_zones) {
    std::istringstream in(line);
    zone z;
    std::string extra;
    if (!(in >> z.name >> z.type) || (in >> extra) || !is_dns_name(z.name) ||
        !is_zone_type(z.type)) {
      error = "local_zones " + quote(line) +
              ": expected \"name type\" with an Unbound local-zone type, like "
              "\"example.test. static\"";
      return false;
    }
    z.name = lower(z.name);
    if (z.name.back() != '.') z.name += '.';
    for (const auto& other : user) {
      if (other.name == z.name) {
        error = "local_zones " + quote(line) + ": zone " + quote(z.name) + " is declared twice";
        return false;
      }
    }
    user.push_back(std::move(z));
  }
  const auto declared = [&](const std::string& name) -> const zone* {
    for (const auto& z : user) {
      if (z.name == name) return &z;
    }
    return nullptr;
  };
  zones.clear();
  std::string special_type = "transparent";
  if (mode_of(options) == resolver_mode::embedded) {
    const zone* root = declared(".");
    special_type = root ? root->type : "static";
    if (!root) zones.push_back({".", special_type});
  }
  for (auto& name : special_use_zones()) {
    if (!declared(name)) zones.push_back({std::move(name), special_type});
  }
  zones.insert(zones.end(), user.begin(), user.end());
  return true;
}

// The options that decide where answers come from.
bool configure_source(ub_ctx* ctx, const unbound_options& options, std::string& error) {
  // Answers in the order stored: libunbound too rotates record sets by default, and the
  // simulator's transcripts must not depend on query ids.
  if (!set_option(ctx, "rrset-roundrobin:", "no", error)) return false;
  switch (mode_of(options)) {
    case resolver_mode::embedded:
      // Nothing may leave the process, whatever zone types the user declares.
      return set_option(ctx, "do-not-query-address:", "0.0.0.0/0", error) &&
             set_option(ctx, "do-not-query-address:", "::/0", error);
    case resolver_mode::forwarders:
      // Lab forwarders live on loopback, which libunbound refuses to query by default.
      return set_option(ctx, "do-not-query-localhost:", "no", error) &&
             configure_forwarders(ctx, options, error);
    case resolver_mode::system:
      // So may the system's (systemd-resolved's 127.0.0.53).
      return set_option(ctx, "do-not-query-localhost:", "no", error) &&
             configure_system(ctx, options, error);
  }
  return false;
}

// Zones and records go in as configuration, before the context is finalized: zones added
// afterwards (ub_ctx_zone_add, or the implicit zone of a record outside every zone) can
// hide their sibling zones from lookups in libunbound 1.17. Configured records are served
// in the order given (ub_ctx_data_add would reverse them).
bool configure_zones_and_data(ub_ctx* ctx, const std::vector<zone>& zones,
                              const std::vector<std::string>& records, std::string& error) {
  for (const auto& z : zones) {
    if (!set_option(ctx, "local-zone:", z.name + " " + z.type, error)) return false;
  }
  for (const auto& record : records) {
    if (!set_option(ctx, "local-data:", record, error)) return false;
  }
  return true;
}

// libunbound reads configured records only when the context is finalized, and then cannot
// say which one was bad: each record is first added on its own to a scratch context with
// the same zones. (It also says only "out of memory" for a record it cannot parse; the
// reason goes to its log, on standard error.)
bool check_records(const std::vector<zone>& zones, const std::vector<std::string>& records,
                   std::string& error) {
  if (records.empty()) return true;
  ctx_ptr scratch(ub_ctx_create());
  if (!scratch || !configure_zones_and_data(scratch.get(), zones, {}, error)) {
    if (error.empty()) error = "cannot create a libunbound context";
    return false;
  }
  for (const auto& record : records) {
    if (ub_ctx_data_add(scratch.get(), record.c_str()) != 0) {
      error = "local_data " + quote(record) +
              ": not a valid record; expected \"name TTL IN TYPE rdata\", like "
              "\"mx.example.test. 300 IN A 192.0.2.1\"";
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Reading answers. libunbound hands over each record's rdata in wire form with names
// uncompressed (RFC 1035 §3.3), and the whole answer message for the authority section.

std::uint16_t u16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// One label byte in RFC 1035 §5.1 master-file form, lower case.
void append_label_byte(std::string& out, unsigned char c) {
  if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
  if (c == '.' || c == '\\') {
    out += '\\';
    out += static_cast<char>(c);
  } else if (c < 0x21 || c > 0x7e) {
    out += '\\';
    out += static_cast<char>('0' + c / 100);
    out += static_cast<char>('0' + c / 10 % 10);
    out += static_cast<char>('0' + c % 10);
  } else {
    out += static_cast<char>(c);
  }
}

// An uncompressed name at `pos`; moves `pos` past it. A length byte above 63 (a
// compression pointer, or an unassigned label type) makes the rdata invalid here.
std::optional<std::string> read_name(const unsigned char* p, std::size_t size, std::size_t& pos) {
  std::string name;
  while (true) {
    if (pos >= size) return std::nullopt;
    const std::size_t len = p[pos++];
    if (len == 0) return name;
    if (len > 63 || pos + len > size) return std::nullopt;
    if (!name.empty()) name += '.';
    for (std::size_t i = 0; i < len; ++i) append_label_byte(name, p[pos + i]);
    pos += len;
  }
}

std::optional<std::string> read_only_name(const unsigned char* p, std::size_t size) {
  std::size_t pos = 0;
  auto name = read_name(p, size, pos);
  if (pos != size) return std::nullopt;
  return name;
}

// RFC 1035 §3.3.14: one or more <character-string>s, here joined into one string.
std::optional<std::string> read_txt(const unsigned char* p, std::size_t size) {
  if (size == 0) return std::nullopt;
  std::string text;
  for (std::size_t pos = 0; pos < size;) {
    const std::size_t len = p[pos++];
    if (pos + len > size) return std::nullopt;
    text.append(reinterpret_cast<const char*>(p + pos), len);
    pos += len;
  }
  return text;
}

std::optional<std::string> read_address(const unsigned char* p, std::size_t size, bool v6) {
  if (size != (v6 ? 16u : 4u)) return std::nullopt;
  core::ip_address ip;
  ip.v6 = v6;
  std::copy(p, p + size, ip.bytes.begin());
  return core::to_string(ip);
}

// Adds one record to `out`; false when its rdata does not parse.
bool add_record(rr_type type, const unsigned char* p, std::size_t size, dns_answer& out) {
  std::optional<std::string> text;
  switch (type) {
    case rr_type::mx: {  // RFC 1035 §3.3.9
      if (size < 3) return false;
      std::size_t pos = 2;
      auto exchange = read_name(p, size, pos);
      if (!exchange || pos != size) return false;
      out.mx.push_back({u16(p), std::move(*exchange)});
      return true;
    }
    case rr_type::a:
      text = read_address(p, size, false);
      break;
    case rr_type::aaaa:  // RFC 3596 §2.2
      text = read_address(p, size, true);
      break;
    case rr_type::txt:
      text = read_txt(p, size);
      break;
    case rr_type::ptr:
    case rr_type::cname:
      text = read_only_name(p, size);
      break;
  }
  if (!text) return false;
  out.records.push_back(std::move(*text));
  return true;
}

bool skip_name(const unsigned char* p, std::size_t size, std::size_t& pos) {
  while (pos < size) {
    const unsigned len = p[pos];
    if ((len & 0xc0) == 0xc0) {  // a compression pointer ends the name (RFC 1035 §4.1.4)
      pos += 2;
      return pos <= size;
    }
    if (len > 63) return false;
    pos += 1 + len;
    if (len == 0) return pos <= size;
  }
  return false;
}

// RFC 2308 §5: a negative answer may be cached for min(SOA TTL, SOA MINIMUM) of the SOA in
// its authority section; without a SOA it should not be cached at all.
std::uint32_t negative_ttl(const unsigned char* p, std::size_t size) {
  if (p == nullptr || size < 12) return 0;
  const unsigned questions = u16(p + 4);
  const unsigned answers = u16(p + 6);
  const unsigned authorities = u16(p + 8);
  std::size_t pos = 12;
  for (unsigned i = 0; i < questions; ++i) {
    if (!skip_name(p, size, pos) || (pos += 4) > size) return 0;
  }
  for (unsigned i = 0; i < answers + authorities; ++i) {
    if (!skip_name(p, size, pos) || pos + 10 > size) return 0;
    const std::uint16_t type = u16(p + pos);
    std::uint32_t ttl = u32(p + pos + 4);
    const std::size_t rdlength = u16(p + pos + 8);
    pos += 10;
    if (pos + rdlength > size) return 0;
    if (i >= answers && type == type_soa && rdlength >= 22) {
      if (ttl > 0x7fffffff) ttl = 0;  // RFC 2181 §8
      return std::min(ttl, u32(p + pos + rdlength - 4));
    }
    pos += rdlength;
  }
  return 0;
}

dns_answer status_only(dns_status status) {
  dns_answer answer;
  answer.status = status;
  return answer;
}

dns_answer to_answer(int err, const ub_result* r, rr_type type) {
  if (err != 0 || r == nullptr || r->bogus) return status_only(dns_status::servfail);
  const auto* packet = static_cast<const unsigned char*>(r->answer_packet);
  const auto packet_size = static_cast<std::size_t>(std::max(r->answer_len, 0));
  if (r->rcode == rcode_nxdomain || (r->rcode == rcode_noerror && !r->havedata)) {
    dns_answer answer =
        status_only(r->rcode == rcode_nxdomain ? dns_status::nxdomain : dns_status::nodata);
    answer.ttl_s = negative_ttl(packet, packet_size);
    return answer;
  }
  if (r->rcode != rcode_noerror) return status_only(dns_status::servfail);
  dns_answer answer = status_only(dns_status::ok);
  for (int i = 0; r->data[i] != nullptr; ++i) {
    const auto* rdata = reinterpret_cast<const unsigned char*>(r->data[i]);
    if (!add_record(type, rdata, static_cast<std::size_t>(r->len[i]), answer)) {
      return status_only(dns_status::servfail);
    }
  }
  answer.ttl_s = static_cast<std::uint32_t>(std::max(r->ttl, 0));
  return answer;
}

}  // namespace

resolver_mode mode_of(const unbound_options& options) {
  if (!options.forwarders.empty()) return resolver_mode::forwarders;
  if (!options.local_zones.empty() || !options.local_data.empty()) return resolver_mode::embedded;
  return resolver_mode::system;
}

// ---------------------------------------------------------------------------------------
// The query life cycle. Everything runs on the io_context's thread: resolve(), the pipe
// watch (which calls ub_process, which calls on_ub_answer), the timers and the posted
// callbacks. A query lives in `queries` until it is answered or times out, whichever is
// first; the other event then finds no entry and does nothing.

struct unbound_resolver::impl {
  using callback = std::function<void(const dns_answer&)>;

  struct query {
    query(boost::asio::io_context& io, rr_type t, callback cb)
        : type(t), on_answer(std::move(cb)), timer(io) {}
    rr_type type;
    callback on_answer;
    int async_id = 0;
    boost::asio::steady_timer timer;
  };

  impl(boost::asio::io_context& context, ctx_ptr unbound, std::chrono::milliseconds limit)
      : io(context), ctx(std::move(unbound)), answers(context, ub_fd(ctx.get())), timeout(limit) {}

  ~impl() {
    alive.reset();      // handlers still queued on the io_context now do nothing
    answers.release();  // ub_fd is libunbound's to close; this cancels the pending wait
    queries.clear();    // cancels the timers
    // ctx goes last (ub_ctx_delete): it stops libunbound's thread and frees the queries
    // still inside it without calling back.
  }

  void start(const std::string& name, rr_type type, callback on_answer);
  void deliver(callback on_answer, dns_answer answer);
  void watch();
  void on_readable();
  void on_timeout(std::uint64_t serial);
  static void on_ub_answer(void* serial, int err, ub_result* result) noexcept;

  boost::asio::io_context& io;
  ctx_ptr ctx;
  boost::asio::posix::stream_descriptor answers;  // readable when ub_process has work
  std::chrono::milliseconds timeout;
  std::unordered_map<std::uint64_t, std::unique_ptr<query>> queries;
  std::uint64_t next_serial = 1;
  bool watching = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  // The resolver whose ub_process is running on this thread: libunbound's callback gets
  // only the query's serial number (never a pointer that a late answer could find freed).
  static thread_local impl* processing;
};

thread_local unbound_resolver::impl* unbound_resolver::impl::processing = nullptr;

void unbound_resolver::impl::start(const std::string& name, rr_type type, callback on_answer) {
  if (!is_dns_name(name)) {
    deliver(std::move(on_answer), status_only(dns_status::nxdomain));
    return;
  }
  const std::uint64_t serial = next_serial++;
  auto q = std::make_unique<query>(io, type, std::move(on_answer));
  // The serial travels as libunbound's opaque user pointer; it is never dereferenced.
  void* tag = reinterpret_cast<void*>(static_cast<std::uintptr_t>(serial));  // NOLINT
  if (ub_resolve_async(ctx.get(), name.c_str(), static_cast<int>(type), class_in, tag,
                       &impl::on_ub_answer, &q->async_id) != 0) {
    deliver(std::move(q->on_answer), status_only(dns_status::servfail));
    return;
  }
  q->timer.expires_after(timeout);
  q->timer.async_wait(
      [this, token = std::weak_ptr<bool>(alive), serial](const boost::system::error_code& ec) {
        if (!ec && !token.expired()) on_timeout(serial);
      });
  queries.emplace(serial, std::move(q));
  watch();
}

// Callbacks always go through the io_context: never inside resolve() or ub_process, and
// never after the resolver is gone.
void unbound_resolver::impl::deliver(callback on_answer, dns_answer answer) {
  if (!on_answer) return;
  boost::asio::post(
      io, [token = std::weak_ptr<bool>(alive), cb = std::move(on_answer), a = std::move(answer)] {
        if (!token.expired()) cb(a);
      });
}

// The pipe is watched only while queries are in flight, so that io_context::run() returns
// once every query has been answered.
void unbound_resolver::impl::watch() {
  if (watching || queries.empty()) return;
  watching = true;
  answers.async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      [this, token = std::weak_ptr<bool>(alive)](const boost::system::error_code& ec) {
        if (token.expired()) return;
        watching = false;
        if (!ec) {
          on_readable();
        } else if (ec == boost::asio::error::operation_aborted) {
          watch();  // a query may have started since the cancel
        }
        // Any other error leaves the queries to their timeouts.
      });
}

void unbound_resolver::impl::on_readable() {
  impl* const outer = processing;
  processing = this;
  ub_process(ctx.get());  // reads every answer ready and calls on_ub_answer for each
  processing = outer;
  watch();
}

void unbound_resolver::impl::on_ub_answer(void* serial, int err, ub_result* result) noexcept {
  const std::unique_ptr<ub_result, void (*)(ub_result*)> owned(result, &ub_resolve_free);
  impl* const self = processing;
  if (self == nullptr) return;
  const auto it = self->queries.find(reinterpret_cast<std::uintptr_t>(serial));
  if (it == self->queries.end()) return;  // timed out already
  dns_answer answer = to_answer(err, result, it->second->type);
  callback cb = std::move(it->second->on_answer);
  self->queries.erase(it);  // also cancels its timer
  self->deliver(std::move(cb), std::move(answer));
}

void unbound_resolver::impl::on_timeout(std::uint64_t serial) {
  const auto it = queries.find(serial);
  if (it == queries.end()) return;  // answered while the timer's handler was queued
  // After ub_cancel, libunbound never calls back for this query (unbound.h); the query
  // only leaves libunbound's books when its thread is done with it.
  ub_cancel(ctx.get(), it->second->async_id);
  callback cb = std::move(it->second->on_answer);
  queries.erase(it);
  if (queries.empty()) {
    boost::system::error_code ignored;
    answers.cancel(ignored);  // stop watching, so that io_context::run() can return
  }
  deliver(std::move(cb), status_only(dns_status::timeout));
}

// ---------------------------------------------------------------------------------------

std::unique_ptr<unbound_resolver> unbound_resolver::create(boost::asio::io_context& io,
                                                           const unbound_options& options,
                                                           std::string& error) {
  error.clear();
  if (options.timeout.count() <= 0) {
    error = "the timeout must be longer than 0";
    return nullptr;
  }
  ctx_ptr ctx(ub_ctx_create());
  if (!ctx) {
    error = "cannot create a libunbound context";
    return nullptr;
  }
  // Answers are resolved in a thread of libunbound's own rather than a forked process.
  if (const int rc = ub_ctx_async(ctx.get(), 1); rc != 0) {
    error = std::string("libunbound cannot work asynchronously: ") + ub_strerror(rc);
    return nullptr;
  }
  std::vector<zone> zones;
  if (!collect_zones(options, zones, error) || !check_records(zones, options.local_data, error) ||
      !configure_source(ctx.get(), options, error) ||
      !configure_zones_and_data(ctx.get(), zones, options.local_data, error)) {
    return nullptr;
  }
  try {
    auto state = std::make_unique<impl>(io, std::move(ctx), options.timeout);
    return std::unique_ptr<unbound_resolver>(new unbound_resolver(std::move(state)));
  } catch (const std::exception& e) {  // Asio could not register ub_fd
    error = std::string("cannot watch libunbound's answers: ") + e.what();
    return nullptr;
  }
}

unbound_resolver::unbound_resolver(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

unbound_resolver::~unbound_resolver() = default;

void unbound_resolver::resolve(const std::string& name, core::rr_type type,
                               std::function<void(const core::dns_answer&)> on_answer) {
  impl_->start(name, type, std::move(on_answer));
}

std::size_t unbound_resolver::in_flight() const {
  return impl_->queries.size();
}

}  // namespace mailsim::net
