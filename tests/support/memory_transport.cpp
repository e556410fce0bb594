#include "tests/support/memory_transport.hpp"

#include <algorithm>

#include "reference-server/core/ip_address.hpp"

namespace mailsim::test {

// One connection attempt and, once accepted, the connection. Shared by the transport, the
// client's stream and every task in flight, so that no task outlives what it touches.
struct memory_link : std::enable_shared_from_this<memory_link> {
  enum class state { connecting, open, failed };

  memory_link(manual_loop& l, core::stream_handler& h) : loop(l), client(&h), server_side(*this) {}

  manual_loop& loop;
  core::stream_handler* client;  // null once the client closed, dropped its stream, or was told
  memory_connection server_side;
  memory_peer* peer = nullptr;  // null: nothing listens (refused, invalid, blackhole)
  memory_listen_options options;
  std::uint64_t id = 0;
  core::endpoint client_endpoint;
  core::endpoint server_endpoint;
  core::time_point started{};
  std::optional<std::error_code> result;

  state phase = state::connecting;
  bool client_open = true;  // the client has not closed
  bool server_open = true;  // the peer has not closed
  bool tls_requested = false;
  bool tls = false;
  std::string server_name;
  std::string early_bytes;  // written by the client before the accept
  std::optional<core::timer_id> timeout_timer;

  // --- the client's calls (through memory_stream) ---
  void client_write(std::string_view bytes);
  void client_start_tls(const core::tls_request& request);
  void client_close();
  // --- tasks on the loop ---
  void establish();
  void time_out();
  void handshake(const core::tls_request& request);
  void deliver_to_peer(const std::string& bytes);
  void deliver_to_client(const std::string& bytes);
  // The client learns the connection is over, unless it already left.
  void end_for_client(std::error_code reason);
  void fail_later(std::error_code reason);
};

namespace {

std::optional<core::ip_address> parse(const std::string& text) { return core::parse_ip(text); }

std::string canonical(const std::string& text) {
  auto ip = parse(text);
  return ip ? core::to_string(*ip) : text;
}

class memory_stream final : public core::stream {
 public:
  explicit memory_stream(std::shared_ptr<memory_link> link) : link_(std::move(link)) {}
  ~memory_stream() override { link_->client_close(); }
  memory_stream(const memory_stream&) = delete;
  memory_stream& operator=(const memory_stream&) = delete;

  void write(std::string_view bytes) override { link_->client_write(bytes); }
  void start_tls(const core::tls_request& request) override { link_->client_start_tls(request); }
  void close() override { link_->client_close(); }

 private:
  std::shared_ptr<memory_link> link_;
};

}  // namespace

// --- memory_link ----------------------------------------------------------------------------

void memory_link::end_for_client(std::error_code reason) {
  client_open = false;
  if (auto* handler = std::exchange(client, nullptr)) handler->on_closed(reason);
}

// Ends the attempt (or the connection, on a misuse) and tells both sides from the loop.
void memory_link::fail_later(std::error_code reason) {
  const bool was_open = phase == state::open;
  phase = state::failed;
  if (!result) result = reason;
  loop.post([self = shared_from_this(), reason, was_open] {
    if (was_open && self->server_open) {
      self->server_open = false;
      self->peer->on_close(self->server_side);
    }
    self->end_for_client(reason);
  });
}

void memory_link::establish() {
  if (phase != state::connecting) return;  // timed out first
  if (timeout_timer) loop.cancel(*timeout_timer);
  if (!client_open) {  // the client gave up before the accept: the peer never sees it
    phase = state::failed;
    if (!result) result = std::make_error_code(std::errc::operation_canceled);
    return;
  }
  phase = state::open;
  result = std::error_code{};
  peer->on_open(server_side);
  if (client != nullptr) client->on_connected();
  if (!early_bytes.empty()) {
    loop.post([self = shared_from_this(), bytes = std::move(early_bytes)] {
      self->deliver_to_peer(bytes);
    });
    early_bytes.clear();
  }
}

void memory_link::time_out() {
  if (phase != state::connecting) return;
  phase = state::failed;
  result = std::make_error_code(std::errc::timed_out);
  end_for_client(*result);
}

void memory_link::client_write(std::string_view bytes) {
  if (!client_open || phase == state::failed) return;
  if (phase == state::connecting) {
    early_bytes.append(bytes);
    return;
  }
  loop.post([self = shared_from_this(), copy = std::string(bytes)] { self->deliver_to_peer(copy); });
}

void memory_link::deliver_to_peer(const std::string& bytes) {
  if (server_open && peer != nullptr) peer->on_bytes(server_side, bytes);
}

void memory_link::deliver_to_client(const std::string& bytes) {
  // Clear text after STARTTLS and before the handshake is never delivered (RFC 3207 §6).
  if (tls_requested && !tls) return;
  if (client != nullptr && client_open) client->on_data(bytes);
}

void memory_link::client_start_tls(const core::tls_request& request) {
  if (!client_open || phase == state::failed) return;
  if (phase != state::open || tls_requested) {
    fail_later(std::make_error_code(std::errc::operation_not_permitted));
    return;
  }
  if (request.verify == core::tls_verify::hostname && request.server_name.empty()) {
    fail_later(std::make_error_code(std::errc::invalid_argument));
    return;
  }
  tls_requested = true;
  loop.post([self = shared_from_this(), request] { self->handshake(request); });
}

void memory_link::handshake(const core::tls_request& request) {
  if (phase != state::open || !client_open || !server_open) return;
  std::error_code error;
  const bool name_matched = options.tls_name_matches && !request.server_name.empty();
  if (!options.tls_available) {
    error = core::transport_errc::tls_handshake_failed;
  } else if (request.verify != core::tls_verify::none && !options.tls_trusted) {
    error = core::transport_errc::tls_untrusted;
  } else if (request.verify == core::tls_verify::hostname && !name_matched) {
    error = core::transport_errc::tls_name_mismatch;
  }
  if (error) {
    // The client aborts the handshake: both sides see the end.
    server_open = false;
    peer->on_close(server_side);
    end_for_client(error);
    return;
  }
  tls = true;
  server_name = request.server_name;
  core::tls_result report;
  report.protocol = options.tls_protocol;
  report.cipher = options.tls_cipher;
  report.chain_trusted = options.tls_trusted;
  report.name_matched = name_matched;
  if (!report.chain_trusted) report.detail = "certificate not trusted (memory listener)";
  if (!report.name_matched) {
    if (!report.detail.empty()) report.detail += "; ";
    report.detail += "certificate does not name the host (memory listener)";
  }
  peer->on_tls(server_side);
  if (client != nullptr) client->on_tls_ready(report);
}

void memory_link::client_close() {
  client = nullptr;
  if (!client_open) return;
  client_open = false;
  if (phase != state::open) return;  // connecting: establish() sees it; failed: nothing
  loop.post([self = shared_from_this()] {
    if (!self->server_open) return;
    self->server_open = false;
    self->peer->on_close(self->server_side);
  });
}

// --- memory_connection ----------------------------------------------------------------------

std::uint64_t memory_connection::id() const { return link_.id; }
const core::endpoint& memory_connection::client() const { return link_.client_endpoint; }
const core::endpoint& memory_connection::server() const { return link_.server_endpoint; }
bool memory_connection::tls_active() const { return link_.tls; }
const std::string& memory_connection::server_name() const { return link_.server_name; }
bool memory_connection::open() const { return link_.client_open && link_.server_open; }

void memory_connection::write(std::string_view bytes) {
  if (!link_.server_open || !link_.client_open) return;
  // Written after the client's start_tls() but before the handshake: clear text the client
  // will never accept (the real transport drops it on arrival).
  if (link_.tls_requested && !link_.tls) return;
  link_.loop.post([self = link_.shared_from_this(), copy = std::string(bytes)] {
    self->deliver_to_client(copy);
  });
}

void memory_connection::close() {
  if (!link_.server_open) return;
  link_.server_open = false;
  link_.loop.post([self = link_.shared_from_this()] {
    if (self->client_open) self->end_for_client({});
  });
}

void memory_connection::reset() {
  if (!link_.server_open) return;
  link_.server_open = false;
  link_.loop.post([self = link_.shared_from_this()] {
    if (self->client_open) self->end_for_client(std::make_error_code(std::errc::connection_reset));
  });
}

// --- memory_transport -----------------------------------------------------------------------

memory_transport::~memory_transport() = default;

void memory_transport::listen(const core::endpoint& at, memory_peer& peer,
                              memory_listen_options options) {
  listeners_[{canonical(at.address), at.port}] = listener{&peer, std::move(options)};
}

void memory_transport::unlisten(const core::endpoint& at) {
  listeners_.erase({canonical(at.address), at.port});
}

void memory_transport::set_local_addresses(std::set<std::string> addresses) {
  local_addresses_.clear();
  for (const auto& a : addresses) local_addresses_.insert(canonical(a));
}

std::unique_ptr<core::stream> memory_transport::connect(const core::connect_request& request,
                                                        core::stream_handler& handler) {
  auto link = std::make_shared<memory_link>(loop_, handler);
  links_.push_back(link);
  link->started = loop_.now();
  link->server_endpoint = {canonical(request.remote.address), request.remote.port};
  auto stream = std::make_unique<memory_stream>(link);

  const auto remote_ip = parse(request.remote.address);
  const auto local_ip = request.local.address.empty() ? std::optional<core::ip_address>{}
                                                      : parse(request.local.address);
  const bool v6 = remote_ip && remote_ip->v6;
  link->client_endpoint = {
      local_ip ? core::to_string(*local_ip) : std::string(v6 ? "::1" : "127.0.0.1"),
      request.local.port != 0 ? request.local.port : next_port_++};
  if (!remote_ip || (!request.local.address.empty() && (!local_ip || local_ip->v6 != v6))) {
    link->fail_later(std::make_error_code(std::errc::invalid_argument));
    return stream;
  }
  if (local_ip && !local_addresses_.empty() &&
      local_addresses_.count(link->client_endpoint.address) == 0) {
    link->fail_later(std::make_error_code(std::errc::address_not_available));
    return stream;
  }
  auto found = listeners_.find({link->server_endpoint.address, request.remote.port});
  if (found == listeners_.end()) {
    link->fail_later(std::make_error_code(std::errc::connection_refused));
    return stream;
  }
  link->options = found->second.options;
  if (request.timeout.count() > 0) {
    link->timeout_timer =
        loop_.schedule(loop_.now() + request.timeout, [link] { link->time_out(); });
  }
  if (link->options.blackhole) return stream;
  link->peer = found->second.peer;
  link->id = next_connection_id_++;
  if (link->options.connect_delay.count() > 0) {
    loop_.schedule(loop_.now() + link->options.connect_delay, [link] { link->establish(); });
  } else {
    loop_.post([link] { link->establish(); });
  }
  return stream;
}

std::vector<connect_attempt> memory_transport::attempts() const {
  std::vector<connect_attempt> out;
  out.reserve(links_.size());
  for (const auto& link : links_) {
    out.push_back({link->server_endpoint, link->client_endpoint, link->started, link->result});
  }
  return out;
}

std::vector<memory_connection*> memory_transport::connections() const {
  std::vector<memory_connection*> out;
  for (const auto& link : links_) {
    if (link->id != 0 && link->result && !*link->result) out.push_back(&link->server_side);
  }
  return out;
}

std::size_t memory_transport::open_connections() const {
  return static_cast<std::size_t>(std::count_if(links_.begin(), links_.end(), [](const auto& l) {
    return l->phase == memory_link::state::open && l->client_open && l->server_open;
  }));
}

}  // namespace mailsim::test
