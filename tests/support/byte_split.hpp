// Test helper: feed an input to a sans-IO object in every way it can arrive.
//
// for_each_split() calls `run` once with the whole input as one piece, then once per split
// point (two pieces), then once byte by byte. A parser or session must give the same result
// for every call: tests compare each call's outcome with the first.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mailsim::test {

using pieces = std::vector<std::string_view>;

void for_each_split(std::string_view input, const std::function<void(const pieces&)>& run);

// A readable form of bytes for failure messages: CR as \r, LF as \n, others escaped.
std::string printable(std::string_view bytes);

}  // namespace mailsim::test
