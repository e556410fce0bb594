#include "simulator/world/spec.hpp"

#include <cmath>

namespace mailsim::sim::world {

std::size_t amount::resolve(std::size_t valid) const {
  if (!fraction) return count;
  return static_cast<std::size_t>(std::llround(*fraction * static_cast<double>(valid)));
}

}  // namespace mailsim::sim::world
