// Internal to simulator/world: forward-confirmed reverse DNS of a client (RFC 8601 §3
// "iprev"): the PTR names of the address, then the addresses of those names; confirmed
// when one of them is the client's address again.
//
// Contract: asynchronous through the world's core::resolver; `done` runs exactly once,
// from a resolver callback, never inside check_fcrdns(). At most 10 PTR names are
// followed (RFC 7208 §4.6.4 uses the same bound for the same walk). NXDOMAIN or no PTR, or
// no name leading back, is fail; a SERVFAIL or timeout that left the question open is
// temperror.
#pragma once

#include <functional>

#include "reference-server/core/ip_address.hpp"
#include "reference-server/core/resolver.hpp"

namespace mailsim::sim::world {

enum class fcrdns_result { pass, fail, temperror };
const char* to_string(fcrdns_result r);

void check_fcrdns(core::resolver& resolver, const core::ip_address& client,
                  std::function<void(fcrdns_result)> done);

}  // namespace mailsim::sim::world
