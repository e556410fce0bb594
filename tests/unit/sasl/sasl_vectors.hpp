// Shared by the SASL tests: the RFC 7677 §3 SCRAM-SHA-256 example exchange (user "user",
// password "pencil") and cheap hash costs, so that tests run fast on synthetic passwords.
#pragma once

#include <string_view>

#include "reference-server/sasl/password.hpp"

namespace mailsim::sasl::test {

inline constexpr std::string_view rfc_salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
inline constexpr std::string_view rfc_client_nonce = "rOprNGfwEbeRWgbNEkqO";
inline constexpr std::string_view rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
inline constexpr std::string_view rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
inline constexpr std::string_view rfc_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
inline constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
inline constexpr std::string_view rfc_server_final =
    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

// Costs far below the defaults: fine for test passwords, never for users.
inline hash_params cheap(hash_scheme scheme) {
  hash_params p;
  p.scheme = scheme;
  p.iterations = 4096;
  p.scrypt_log2_n = 10;
  p.scrypt_r = 8;
  p.scrypt_p = 1;
  return p;
}

}  // namespace mailsim::sasl::test
