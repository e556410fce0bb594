#include "simulator/network/network.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulator/network/connection.hpp"
#include "simulator/network/network_core.hpp"

namespace mailsim::sim::network {

const char* to_string(fault_kind kind) {
  switch (kind) {
    case fault_kind::refuse:
      return "refuse";
    case fault_kind::blackhole:
      return "blackhole";
    case fault_kind::stall:
      return "stall";
    case fault_kind::reset:
      return "reset";
    case fault_kind::loss:
      return "loss";
  }
  return "unknown";
}

// --- network_core ---------------------------------------------------------------------------

bool covers(const fault& f, const core::endpoint& server, const core::endpoint& client) {
  if (f.address == server.address && (f.port == 0 || f.port == server.port)) return true;
  return f.port == 0 && f.address == client.address;
}

std::uint16_t network_core::ephemeral_port() {
  const std::uint16_t port = next_port;
  next_port = port >= options.ephemeral_port_last ? options.ephemeral_port_first
                                                  : static_cast<std::uint16_t>(port + 1);
  return port;
}

const link_profile& network_core::profile_for(const core::endpoint& server,
                                              const core::endpoint& client) const {
  if (auto it = links.find(server.address); it != links.end()) return it->second;
  if (auto it = links.find(client.address); it != links.end()) return it->second;
  return options.default_link;
}

namespace {
// Bounds on the spare buffers: enough for the pieces in flight on many connections at once,
// and no large buffer (a big DATA write) kept beyond its piece.
constexpr std::size_t spare_buffers_max = 256;
constexpr std::size_t buffer_bytes_max = 64 * 1024;
}  // namespace

std::string network_core::take_buffer(std::string_view bytes) {
  if (spare_buffers.empty()) return std::string(bytes);
  std::string buffer = std::move(spare_buffers.back());
  spare_buffers.pop_back();
  buffer.assign(bytes);
  return buffer;
}

void network_core::give_back(std::string&& buffer) {
  // A short string lives inside the object: keeping it would save nothing.
  if (buffer.capacity() <= std::string().capacity() || buffer.capacity() > buffer_bytes_max ||
      spare_buffers.size() >= spare_buffers_max) {
    return;
  }
  spare_buffers.push_back(std::move(buffer));
}

const fault* network_core::active_fault(fault_kind kind, const core::endpoint& server,
                                        const core::endpoint& client) const {
  for (const auto& [name, state] : faults) {
    if (state.active && state.spec.kind == kind && covers(state.spec, server, client)) {
      return &state.spec;
    }
  }
  return nullptr;
}

void network_core::switch_fault(const std::string& name, bool on) {
  auto it = faults.find(name);
  if (it == faults.end() || it->second.active == on) return;
  it->second.active = on;
  const fault& f = it->second.spec;
  log(std::string("fault ") + (on ? "on " : "off ") + f.name + " " + to_string(f.kind) + " " +
      (f.port != 0 ? format_endpoint({f.address, f.port}) : f.address));
  // A copy: resets change `live` as the connections end.
  std::vector<std::shared_ptr<connection>> affected;
  for (const auto& [id, conn] : live) {
    if (conn->covered_by(f)) affected.push_back(conn);
  }
  for (auto& conn : affected) {
    if (on && f.kind == fault_kind::reset) conn->reset_both("fault " + f.name);
    if (!on && f.kind == fault_kind::stall) conn->rearm();
  }
}

// --- the host transport ---------------------------------------------------------------------

namespace {

class host_transport final : public core::transport {
 public:
  host_transport(std::weak_ptr<network_core> net, std::vector<std::string> addresses)
      : net_(std::move(net)), addresses_(std::move(addresses)) {}

  std::unique_ptr<core::stream> connect(const core::connect_request& request,
                                        core::stream_handler& handler) override;

 private:
  // The source address for `request`, or the error that ends the attempt.
  std::error_code pick_local(const core::connect_request& request,
                             const std::optional<std::string>& remote, std::string& local) const;

  std::weak_ptr<network_core> net_;
  std::vector<std::string> addresses_;  // canonical
};

std::error_code host_transport::pick_local(const core::connect_request& request,
                                           const std::optional<std::string>& remote,
                                           std::string& local) const {
  const auto bad = std::make_error_code(std::errc::invalid_argument);
  if (!remote || request.remote.port == 0) return bad;
  if (!request.local.address.empty()) {
    auto bound = canonical_address(request.local.address);
    if (!bound || is_ipv6(*bound) != is_ipv6(*remote)) return bad;
    local = *bound;
    for (const auto& a : addresses_) {
      if (a == local) return {};
    }
    return std::make_error_code(std::errc::address_not_available);
  }
  for (const auto& a : addresses_) {
    if (is_ipv6(a) == is_ipv6(*remote)) {
      local = a;
      return {};
    }
  }
  return std::make_error_code(std::errc::network_unreachable);
}

std::unique_ptr<core::stream> host_transport::connect(const core::connect_request& request,
                                                      core::stream_handler& handler) {
  auto net = net_.lock();
  if (!net) {  // the network is gone: a stream that never calls anything
    return std::make_unique<link_stream>(std::make_shared<connection>(net_, 0), client_side);
  }
  const std::uint64_t id = net->next_id++;
  ++net->stats.connects;
  auto conn = std::make_shared<connection>(net_, id);
  net->live.emplace(id, conn);
  const auto remote = canonical_address(request.remote.address);
  std::string local;
  const std::error_code error = pick_local(request, remote, local);
  const core::endpoint server{remote.value_or(request.remote.address), request.remote.port};
  const core::endpoint client{local.empty() ? request.local.address : local,
                              request.local.port != 0 ? request.local.port : net->ephemeral_port()};
  if (error) {
    conn->fail_at_once(client, server, handler, error);
  } else {
    conn->start(client, server, handler, request.timeout);
  }
  return std::make_unique<link_stream>(std::move(conn), client_side);
}

}  // namespace

// --- link_stream ----------------------------------------------------------------------------

link_stream::link_stream(std::shared_ptr<connection> conn, int side)
    : conn_(std::move(conn)), side_(side) {}
link_stream::~link_stream() {
  conn_->stream_gone(side_);
}
void link_stream::write(std::string_view bytes) {
  conn_->write(side_, bytes);
}
void link_stream::start_tls(const core::tls_request& request) {
  conn_->start_tls(side_, request);
}
void link_stream::close() {
  conn_->close(side_);
}
void link_stream::reset() {
  conn_->abort(side_, "reset");
}
std::uint64_t link_stream::connection_id() const {
  return conn_->id();
}
const core::endpoint& link_stream::local() const {
  return conn_->endpoint_of(side_);
}
const core::endpoint& link_stream::remote() const {
  return conn_->endpoint_of(1 - side_);
}
bool link_stream::tls_active() const {
  return conn_->tls_up();
}
const std::string& link_stream::tls_server_name() const {
  return conn_->sni();
}

// --- virtual_network ------------------------------------------------------------------------

virtual_network::virtual_network(scheduler& sched, const random_streams& random, trace* tr,
                                 network_options options)
    : core_(std::make_shared<network_core>(sched, random, tr, std::move(options))) {}

virtual_network::~virtual_network() = default;

bool virtual_network::listen(const core::endpoint& at, accept_handler& handler,
                             listen_options options) {
  if (!core_->listeners.listen(at, handler, std::move(options))) return false;
  core_->log("listen " + format_endpoint({*canonical_address(at.address), at.port}));
  return true;
}

void virtual_network::unlisten(const core::endpoint& at) {
  core_->listeners.unlisten(at);
  if (auto address = canonical_address(at.address)) {
    core_->log("unlisten " + format_endpoint({*address, at.port}));
  }
}

std::unique_ptr<core::transport> virtual_network::make_transport(
    std::vector<std::string> addresses) {
  for (auto& a : addresses) {
    auto canonical = canonical_address(a);
    if (!canonical) return nullptr;
    a = *canonical;
  }
  return std::make_unique<host_transport>(core_, std::move(addresses));
}

bool virtual_network::set_link(const std::string& address, const link_profile& profile) {
  auto canonical = canonical_address(address);
  if (!canonical) return false;
  core_->links[*canonical] = profile;
  return true;
}

void virtual_network::set_default_link(const link_profile& profile) {
  core_->options.default_link = profile;
}

bool virtual_network::add_fault(const fault& f, core::time_point on,
                                std::optional<core::time_point> off) {
  auto address = canonical_address(f.address);
  if (!address || f.name.empty() || core_->faults.count(f.name) != 0) return false;
  if (off && *off < on) return false;
  fault_state state{f, false};
  state.spec.address = *address;
  core_->faults.emplace(f.name, std::move(state));
  std::weak_ptr<network_core> weak = core_;
  auto switcher = [weak, name = f.name](bool active) {
    return [weak, name, active] {
      if (auto net = weak.lock()) net->switch_fault(name, active);
    };
  };
  core_->sched.schedule(on, switcher(true));
  if (off) core_->sched.schedule(*off, switcher(false));
  return true;
}

bool virtual_network::set_fault(const std::string& name, bool active) {
  if (core_->faults.count(name) == 0) return false;
  core_->switch_fault(name, active);
  return true;
}

bool virtual_network::fault_active(const std::string& name) const {
  auto it = core_->faults.find(name);
  return it != core_->faults.end() && it->second.active;
}

const network_stats& virtual_network::stats() const {
  return core_->stats;
}

std::size_t virtual_network::open_connections() const {
  return core_->live.size();
}

}  // namespace mailsim::sim::network
