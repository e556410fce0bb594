// mailsim::store content checksum — a 64-bit digest of a stored message's bytes.
//
// Contract: content_checksum(a, b) digests the bytes of `a` followed by those of `b` (a
// delivery's trace headers and its message, as written), so that recover() can tell a file
// whose data reached the disk whole from one a crash cut or left with stale blocks. It is
// not a cryptographic hash: it guards against accidents of the disk, not against an
// adversary (who cannot choose what a crash leaves behind). Four independent lanes of
// multiply-rotate rounds keep it near memory speed, since it runs on every delivery.
// The value is fixed across builds and platforms: it is written into file names.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailsim::store {

std::uint64_t content_checksum(std::string_view first, std::string_view second = {});

}  // namespace mailsim::store
