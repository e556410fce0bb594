// The one way into Boost.Asio for mailsim (L3 and L4 only; the layering test keeps it out
// of the lower layers). Boost 1.74's asio/awaitable.hpp uses std::exchange without
// including <utility>, which GCC 12 rejects: include it first, here, once.
#pragma once

#include <utility>

#include <boost/asio.hpp>
