#include "simulator/world/receiver_fcrdns.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "reference-server/policy/dnsbl.hpp"

namespace mailsim::sim::world {

const char* to_string(fcrdns_result r) {
  switch (r) {
    case fcrdns_result::pass:
      return "pass";
    case fcrdns_result::fail:
      return "fail";
    case fcrdns_result::temperror:
      return "temperror";
  }
  return "?";
}

namespace {

constexpr std::size_t ptr_names_max = 10;

bool temporary(core::dns_status s) {
  return s == core::dns_status::servfail || s == core::dns_status::timeout;
}

// The walk's state, shared by its callbacks.
struct walk {
  core::resolver& resolver;
  core::ip_address client;
  std::function<void(fcrdns_result)> done;
  std::size_t waiting = 0;
  bool temp = false;
  bool finished = false;

  void finish(fcrdns_result r) {
    if (finished) return;
    finished = true;
    done(r);
  }
};

void on_forward(const std::shared_ptr<walk>& w, const core::dns_answer& answer) {
  --w->waiting;
  if (answer.status == core::dns_status::ok) {
    for (const auto& a : answer.records) {
      if (core::parse_ip(a) == w->client) return w->finish(fcrdns_result::pass);
    }
  }
  if (temporary(answer.status)) w->temp = true;
  if (w->waiting == 0) w->finish(w->temp ? fcrdns_result::temperror : fcrdns_result::fail);
}

void on_ptr(const std::shared_ptr<walk>& w, const core::dns_answer& answer) {
  if (answer.status != core::dns_status::ok || answer.records.empty()) {
    return w->finish(temporary(answer.status) ? fcrdns_result::temperror : fcrdns_result::fail);
  }
  const std::size_t n = std::min(answer.records.size(), ptr_names_max);
  w->waiting = n;
  const core::rr_type type = w->client.v6 ? core::rr_type::aaaa : core::rr_type::a;
  for (std::size_t i = 0; i < n; ++i) {
    w->resolver.resolve(answer.records[i], type,
                        [w](const core::dns_answer& a) { on_forward(w, a); });
  }
}

}  // namespace

void check_fcrdns(core::resolver& resolver, const core::ip_address& client,
                  std::function<void(fcrdns_result)> done) {
  auto w = std::make_shared<walk>(walk{resolver, client, std::move(done)});
  // RFC 1035 §3.5 / RFC 3596 §2.5: the reverse name is the DNSBL-style reversed address
  // under in-addr.arpa or ip6.arpa.
  const std::string name =
      policy::dnsbl_query_name(client, client.v6 ? "ip6.arpa" : "in-addr.arpa");
  resolver.resolve(name, core::rr_type::ptr, [w](const core::dns_answer& a) { on_ptr(w, a); });
}

}  // namespace mailsim::sim::world
