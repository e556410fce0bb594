// mailsim::sasl SCRAM-SHA-256 (RFC 7677, RFC 5802) — message syntax shared by the server
// (scram_server.cpp) and client (scram_client.cpp) mechanisms, and factories that fix the
// nonce so that tests can reproduce the exchange of RFC 7677 §3 byte for byte.
//
// Contract:
// - No channel binding: this module offers SCRAM-SHA-256, never -PLUS. A client-first message
//   with gs2 flag "p=" is refused (failure); "n" and "y" are accepted (RFC 5802 §6: "y" means
//   the client could bind but believes the server cannot, which is true here).
// - SASLprep (RFC 4013) subset: user names and passwords must be printable ASCII (0x20-0x7E).
//   On those SASLprep changes nothing (no mapping, NFKC is the identity, nothing prohibited),
//   so no normalization is needed; anything else is refused rather than normalized wrongly.
// - Nonces are 18 random bytes in base64 (24 characters, 144 bits).
// - Iteration counts: a client refuses fewer than 4096 (RFC 7677 §4 minimum; a man in the
//   middle lowering it would cheapen offline guessing) and more than iterations_max
//   (RFC 5802 §9: a hostile server could make the client burn CPU).
// - Unknown users, and users whose hash cannot serve SCRAM (scrypt), get a normal-looking
//   server-first message with a salt derived from the user name and the store's secret (see
//   credential_store::scram_mock_secret), and fail at the proof, so that a client cannot tell
//   whether the user exists.
// The fixed-nonce factories exist for test vectors only; production code uses
// make_server_mechanism() and make_client_mechanism().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference-server/core/random.hpp"
#include "reference-server/sasl/client.hpp"
#include "reference-server/sasl/mechanism.hpp"

namespace mailsim::sasl {

inline constexpr std::size_t scram_nonce_bytes = 18;
inline constexpr std::size_t scram_message_bytes_max = 4096;
inline constexpr std::size_t scram_nonce_chars_max = 256;
inline constexpr std::uint32_t scram_client_iterations_min = 4096;

// A SCRAM-SHA-256 server whose server nonce part is `fixed_server_nonce` when not empty.
std::unique_ptr<server_mechanism> make_scram_sha256_server(const credential_store& store,
                                                           core::random_source& random,
                                                           std::string_view fixed_server_nonce);

// A SCRAM-SHA-256 client whose nonce is `fixed_client_nonce` when not empty; nullptr when the
// credentials are outside the SASLprep subset.
std::unique_ptr<client_mechanism> make_scram_sha256_client(std::string_view user,
                                                           std::string_view password,
                                                           core::random_source& random,
                                                           std::string_view fixed_client_nonce);

namespace detail {

// One "a=value" attribute of a SCRAM message (RFC 5802 §5).
struct scram_attribute {
  char name = 0;
  std::string_view value;
};

// Splits a SCRAM message at commas into attributes; nullopt when a part is not ALPHA "=" ...
// (values never contain commas: RFC 5802 §7 escapes them in names and excludes them elsewhere).
std::optional<std::vector<scram_attribute>> split_scram_attributes(std::string_view message);

// Printable ASCII, 1 to 255 bytes: the SASLprep subset handled here.
bool is_saslprep_subset(std::string_view text);
// RFC 5802 §5.1: "," and "=" in a name are sent as "=2C" and "=3D".
std::string encode_saslname(std::string_view name);
// The inverse; nullopt for a name that is empty or has any other "=" sequence.
std::optional<std::string> decode_saslname(std::string_view text);
// RFC 5802 §7 `printable`: %x21-2B / %x2D-7E, at least one character.
bool is_scram_nonce(std::string_view nonce);
// 18 random bytes in base64.
std::string make_scram_nonce(core::random_source& random);

}  // namespace detail
}  // namespace mailsim::sasl
