// Fuzz target: the whole SMTP server session (reference-server/smtp/server_session.hpp).
// Header: byte 0 and 1 choose options, byte 2 the policy script (bit i of it, rotating,
// accepts or refuses the i-th event), byte 3 the split points (bit 7: one line per piece); the rest is the client's
// byte stream. Every event kind is handled as a driver would: auth runs run_auth(),
// starttls calls tls_started(), delayed replies get their deadline. Limits are small so
// that inputs reach them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "fuzz/targets/fuzz_input.hpp"
#include "reference-server/sasl/mechanism.hpp"
#include "reference-server/sasl/password.hpp"
#include "reference-server/smtp/server_session.hpp"

namespace {

using namespace mailsim;

// Every user has the password "secret", hashed once and cheaply (1000 iterations), except
// nobody@mx.test, the one unknown user: an unknown user costs a verification against the
// server's default-cost dummy hash (600 000 iterations), which would make most inputs that
// reach AUTH take a second under ASan.
class one_user final : public sasl::credential_store {
 public:
  one_user()
      : hash_(sasl::hash_password_with_salt("secret", {sasl::hash_scheme::pbkdf2_sha256, 1000},
                                            "0123456789abcdef")) {}
  std::optional<std::string> password_hash(std::string_view user) const override {
    if (user == "nobody@mx.test") return std::nullopt;
    return hash_;
  }

 private:
  std::string hash_;
};

const one_user& credentials() {
  static const one_user store;
  return store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::input in(data, size);
  const std::uint8_t f0 = in.byte();
  const std::uint8_t f1 = in.byte();
  std::uint8_t script = in.byte();
  const std::uint8_t seed = in.byte();

  smtp::server_options options;
  options.hostname = "mx.test";
  options.tls_available = (f0 & 1) != 0;
  options.tls_active = (f0 & 2) != 0;
  options.require_tls = (f0 & 4) != 0;
  options.require_auth = (f0 & 8) != 0;
  options.auth_requires_tls = (f0 & 16) != 0;
  if ((f0 & 32) == 0) options.auth_mechanisms = {"SCRAM-SHA-256", "PLAIN", "LOGIN"};
  options.pipelining = (f0 & 64) == 0;
  options.bare_newlines =
      (f0 & 128) != 0 ? smtp::bare_newline_policy::normalize : smtp::bare_newline_policy::reject;
  options.vrfy_enabled = (f1 & 1) != 0;
  options.eight_bit_mime = (f1 & 2) == 0;
  options.smtputf8 = (f1 & 4) == 0;
  options.chunking = (f1 & 8) == 0;
  options.dsn = (f1 & 16) == 0;
  const bool close_on_refusal = (f1 & 32) != 0;
  const bool shutdown_midway = (f1 & 64) != 0;

  smtp::limits lim;
  lim.command_line_bytes_max = 256;
  lim.recipients_max = 3;
  lim.message_bytes_max = 512;
  lim.auth_line_bytes_max = 512;
  lim.errors_max = 5;
  lim.auth_failures_max = 2;
  lim.transactions_max = 3;

  core::manual_clock clock;
  core::splitmix_random random(1);
  smtp::server_session s(options, lim, {&clock, &random, &credentials()});

  auto drain = [&] {
    for (int guard = 0;; ++guard) {
      if (guard > 100000) {
        std::fprintf(stderr, "server_session keeps producing events\n");
        std::abort();
      }
      const smtp::server_event ev = s.next_event();
      (void)s.take_output();
      switch (ev.kind) {
        case smtp::server_event_kind::need_more:
        case smtp::server_event_kind::close:
          return;
        case smtp::server_event_kind::waiting: {
          const auto deadline = s.next_deadline();
          if (!deadline) return;
          clock.set(*deadline);
          s.on_timeout(clock.now());
          continue;
        }
        case smtp::server_event_kind::auth:
          s.run_auth();
          continue;
        case smtp::server_event_kind::starttls:
          s.tls_started();
          continue;
        default:
          break;
      }
      if (ev.kind == smtp::server_event_kind::message) (void)s.message();
      const bool accept = (script & 1) == 0;
      script = static_cast<std::uint8_t>((script >> 1) | (script << 7));
      if (accept) {
        s.submit(smtp::decision::accept());
      } else if (close_on_refusal) {
        s.submit(smtp::decision::refuse_and_close(smtp::make_reply(421, "4.7.0", "bye")));
      } else {
        s.submit(smtp::decision::refuse(smtp::make_reply(550, "5.7.1", "refused")));
      }
    }
  };

  drain();
  fuzz::splitter pieces(in.rest(), seed, (seed & 0x80) != 0);
  std::size_t fed = 0;
  while (!pieces.done() && !s.closed()) {
    s.feed(pieces.next());
    drain();
    if (shutdown_midway && ++fed == 4) {
      (void)s.shutdown();
      drain();
    }
  }
  if (!s.closed()) {
    s.feed_eof();
    drain();
  }
  // The idle timeout must close whatever is left.
  if (const auto deadline = s.next_deadline(); deadline && !s.closed()) {
    clock.set(*deadline);
    s.on_timeout(clock.now());
    drain();
  }
  return 0;
}
