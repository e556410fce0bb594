// Internal to mailsim::sim::network: the state a virtual_network shares with its
// connections and transports. Not a public header.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/network/network.hpp"

namespace mailsim::sim::network {

struct fault_state {
  fault spec;  // address canonical
  bool active = false;
};

// Does the fault cover a connection between these endpoints? (network.hpp: the server's
// address and port, unless 0, or the client's address.)
bool covers(const fault& f, const core::endpoint& server, const core::endpoint& client);

struct network_core {
  network_core(scheduler& s, const random_streams& r, trace* t, network_options o)
      : sched(s),
        random(r),
        tr(t),
        options(std::move(o)),
        next_port(options.ephemeral_port_first) {}

  scheduler& sched;
  const random_streams& random;
  trace* tr;
  network_options options;
  address_registry listeners;
  std::map<std::string, link_profile> links;                  // by canonical address
  std::map<std::string, fault_state> faults;                  // by name
  std::map<std::uint64_t, std::shared_ptr<connection>> live;  // by id: not yet over
  network_stats stats;
  std::uint64_t next_id = 1;
  std::uint16_t next_port;
  std::string line;  // the trace line a connection is writing (its capacity is kept)
  // Byte buffers of delivered pieces, kept for the next pieces written: a piece's bytes are
  // copied once each way, and a simulated SMTP session writes about ten of them.
  std::vector<std::string> spare_buffers;

  bool tracing() const { return tr != nullptr && tr->enabled(); }
  void log(std::string_view text) const {
    if (tracing()) tr->record("net", text);
  }
  std::uint16_t ephemeral_port();
  const link_profile& profile_for(const core::endpoint& server, const core::endpoint& client) const;
  // The first active fault of `kind` (by name) that covers the connection, if any.
  const fault* active_fault(fault_kind kind, const core::endpoint& server,
                            const core::endpoint& client) const;
  void switch_fault(const std::string& name, bool on);
  // A buffer holding `bytes`: a spare one when there is one.
  std::string take_buffer(std::string_view bytes);
  // Keeps `buffer` for take_buffer(), within spare_buffers_max and buffer_bytes_max.
  void give_back(std::string&& buffer);
};

}  // namespace mailsim::sim::network
