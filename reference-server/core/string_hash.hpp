// mailsim::core string_hash — the hash of hashed containers keyed by std::string that are
// also searched by std::string_view, without building a string per lookup.
//
// Contract: std::unordered_map<std::string, T, core::string_hash, std::equal_to<>> (or the
// set) accepts find/count/contains with a std::string_view or a const char*; the value is
// std::hash<std::string_view>'s. Header-only, no state.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace mailsim::core {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class T>
using string_map = std::unordered_map<std::string, T, string_hash, std::equal_to<>>;
using string_set = std::unordered_set<std::string, string_hash, std::equal_to<>>;

}  // namespace mailsim::core
