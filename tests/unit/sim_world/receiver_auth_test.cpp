// DKIM and DMARC requirements at the end of DATA: the reference server's verifier and DMARC
// checker (reference-server/auth) asked through the world's DNS.
#include <gtest/gtest.h>

#include "reference-server/auth/dkim_key.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "simulator/dns/sim_resolver.hpp"
#include "simulator/dns/zone_model.hpp"
#include "tests/unit/sim_world/receiver_test_harness.hpp"

namespace mailsim::sim::world::test {
namespace {

using core::duration_ms;

struct forwarding_resolver final : core::resolver {
  core::resolver* to = nullptr;
  void resolve(const std::string& name, core::rr_type type,
               std::function<void(const core::dns_answer&)> cb) override {
    to->resolve(name, type, std::move(cb));
  }
};

// sender.sim signs with s1 and publishes p=reject; quarantine.sim publishes p=quarantine;
// SPF allows 192.0.2.10 for both.
struct auth_world {
  explicit auth_world(const auth_requirements& require, std::size_t traps = 0)
      : key(make_key()), w(spec_with(require, traps), 1, &fwd) {
    dns::zone_model model;
    model.add_zone("sim");
    model.add_txt("sender.sim", "v=spf1 ip4:192.0.2.10 -all");
    model.add_txt("quarantine.sim", "v=spf1 ip4:192.0.2.10 -all");
    model.add_txt("s1._domainkey.sender.sim", key.dns_record());
    model.add_txt("_dmarc.sender.sim", "v=DMARC1; p=reject");
    model.add_txt("_dmarc.quarantine.sim", "v=DMARC1; p=quarantine");
    std::string error;
    resolver = dns::sim_resolver::create(w.sched, &w.tr, model, {}, error);
    EXPECT_TRUE(resolver) << error;
    fwd.to = resolver.get();
  }

  static provider_spec spec_with(const auth_requirements& require, std::size_t traps) {
    provider_spec spec = spec_of("gmail-like");
    spec.require = require;
    spec.mailboxes.pristine_traps = traps;
    spec.complaint_rate = 0.0;
    return spec;
  }
  static auth::private_key make_key() {
    prng random(7);
    return *auth::generate_key(auth::key_type::ed25519, auth::rsa_bits_default, random).key;
  }

  std::string message(const std::string& from, std::uint64_t number, bool sign) {
    std::string text = "From: " + from + "\r\nMessage-ID: <m" + std::to_string(number) +
                       "@sender.sim>\r\nSubject: hi\r\n\r\nHello.\r\n";
    if (sign) {
      auth::sign_options o;
      o.domain = "sender.sim";
      o.selector = "s1";
      text = auth::dkim_signer(key, o).sign(text, w.sched.now()).field + text;
    }
    return text + ".\r\n";
  }

  // The reply to the end of DATA, and the record's placement.
  std::pair<std::string, metrics::placement> send(const std::string& ip, const std::string& from,
                                                  bool sign, const std::string& kind = "valid") {
    const std::string rcpt = address_of(*w.receiver, kind);
    const std::uint64_t n = next++;
    const std::size_t id = w.expect_record(n, rcpt);
    const std::string domain = from.substr(from.find('@') + 1);
    const auto r =
        w.talk({"EHLO c.sim\r\n", "MAIL FROM:<" + from + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n",
                "DATA\r\n", message(from, n, sign), "QUIT\r\n"},
               ip, duration_ms{10'000});
    return {r.size() > 5 ? r[5].substr(0, 10) : r.size() > 2 ? "MAIL " + r[2].substr(0, 10)
                                                              : std::string("none"),
            w.record.at(id).placed};
  }

  auth::private_key key;
  forwarding_resolver fwd;
  small_world w;
  std::unique_ptr<dns::sim_resolver> resolver;
  std::uint64_t next = 1;
};

TEST(ReceiverAuth, RequiredDkimRefusesUnsignedMail) {
  auth_requirements require;
  require.dkim_pass = true;
  auth_world a(require);
  EXPECT_EQ(a.send("192.0.2.10", "a@sender.sim", true).first.substr(0, 3), "250");
  EXPECT_EQ(a.send("192.0.2.10", "a@sender.sim", false).first, "550 5.7.30");
  EXPECT_TRUE(a.w.traced("550 5.7.30 dkim did not pass"));
}

TEST(ReceiverAuth, DmarcRejectAndQuarantineAreEnforced) {
  auth_requirements require;
  require.dmarc_enforce = true;
  auth_world a(require);
  // Aligned DKIM passes DMARC whatever the IP.
  auto signed_elsewhere = a.send("192.0.2.99", "a@sender.sim", true);
  EXPECT_EQ(signed_elsewhere.first.substr(0, 3), "250");
  EXPECT_EQ(signed_elsewhere.second, metrics::placement::inbox);
  // Aligned SPF passes too.
  EXPECT_EQ(a.send("192.0.2.10", "a@sender.sim", false).first.substr(0, 3), "250");
  // Neither: p=reject refuses, p=quarantine files as Junk.
  EXPECT_EQ(a.send("192.0.2.99", "a@sender.sim", false).first, "550 5.7.26");
  auto quarantined = a.send("192.0.2.99", "a@quarantine.sim", false);
  EXPECT_EQ(quarantined.first.substr(0, 3), "250");
  EXPECT_EQ(quarantined.second, metrics::placement::junk);
  EXPECT_TRUE(a.w.traced("dmarc fail p=reject"));
}

// Reputation follows the verified DKIM d=, not the MAIL FROM domain: trap hits of mail from
// bounce.sim signed by sender.sim count against sender.sim (the DNSBLs still hear of the
// MAIL FROM domain), so the next day sender.sim's mail lands in Junk from a clean IP under
// another MAIL FROM, while unsigned mail from bounce.sim is not held to that history.
TEST(ReceiverAuth, ReputationFollowsTheVerifiedDkimDomain) {
  auth_world a(auth_requirements{}, 5);
  EXPECT_EQ(a.send("192.0.2.10", "a@bounce.sim", true, "pristine_trap").second,
            metrics::placement::trap);
  EXPECT_EQ(a.send("192.0.2.10", "a@bounce.sim", true, "pristine_trap").second,
            metrics::placement::trap);
  EXPECT_EQ(a.w.trap_domains, (std::vector<std::string>{"bounce.sim", "bounce.sim"}));
  a.w.sched.run_for(duration_ms{24 * 3600'000});  // judged on completed days
  const auto signed_mail = a.send("198.51.100.7", "a@other.sim", true);
  EXPECT_EQ(signed_mail.first.substr(0, 3), "250");
  EXPECT_EQ(signed_mail.second, metrics::placement::junk);
  EXPECT_TRUE(a.w.traced("junk, score 0.50 of d=sender.sim")) << a.w.sink.text();
  const auto unsigned_mail = a.send("198.51.100.7", "a@bounce.sim", false);
  EXPECT_EQ(unsigned_mail.first.substr(0, 3), "250");
  EXPECT_EQ(unsigned_mail.second, metrics::placement::inbox);
}

// Far below the line (seven trap hits in a day, against one a day), the signer's mail is
// refused at the end of DATA, whatever its MAIL FROM and IP.
TEST(ReceiverAuth, ASignerFarBelowTheLineIsRefusedAtTheEndOfData) {
  auth_world a(auth_requirements{}, 8);
  for (int i = 0; i < 7; ++i) a.send("192.0.2.10", "a@bounce.sim", true, "pristine_trap");
  a.w.sched.run_for(duration_ms{24 * 3600'000});
  const auto refused = a.send("198.51.100.7", "a@other.sim", true);
  EXPECT_EQ(refused.first.substr(0, 1), "5") << refused.first;
  EXPECT_NE(refused.second, metrics::placement::inbox);
  EXPECT_TRUE(a.w.traced("of d=sender.sim")) << a.w.sink.text();
}

}  // namespace
}  // namespace mailsim::sim::world::test
