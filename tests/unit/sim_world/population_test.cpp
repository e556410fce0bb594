// Mailbox populations: naming, the state layout, lookups, catch-all, and a large world.
#include <gtest/gtest.h>

#include <map>

#include "simulator/world/population.hpp"

namespace mailsim::sim::world {
namespace {

mailbox_spec mixed() {
  mailbox_spec m;
  m.valid = 100;
  m.unknown.fraction = 0.05;  // 5
  m.disabled.count = 3;
  m.full.count = 2;
  m.bounce_later.count = 4;
  m.pristine_traps = 1;
  m.recycled_traps = 2;
  return m;
}

TEST(Population, CountsFollowTheSpec) {
  population p({"Dest.SIM"}, mixed());
  EXPECT_EQ(p.size(), 117u);
  std::map<mailbox_state, std::size_t> seen;
  for (std::size_t i = 1; i <= p.size(); ++i) ++seen[p.state_at(i)];
  EXPECT_EQ(seen[mailbox_state::valid], 100u);
  EXPECT_EQ(seen[mailbox_state::unknown], 5u);
  EXPECT_EQ(seen[mailbox_state::disabled], 3u);
  EXPECT_EQ(seen[mailbox_state::full], 2u);
  EXPECT_EQ(seen[mailbox_state::bounce_later], 4u);
  EXPECT_EQ(seen[mailbox_state::pristine_trap], 1u);
  EXPECT_EQ(seen[mailbox_state::recycled_trap], 2u);
  EXPECT_EQ(p.count(mailbox_state::unknown), 5u);
  EXPECT_EQ(p.domains()[0], "dest.sim");
}

TEST(Population, StatesAreScatteredNotInBlocks) {
  population p({"d.sim"}, mixed());
  std::size_t valid_in_last_17 = 0;
  for (std::size_t i = 101; i <= 117; ++i)
    valid_in_last_17 += p.state_at(i) == mailbox_state::valid;
  EXPECT_GT(valid_in_last_17, 0u);
}

TEST(Population, LooksUpAddressesByName) {
  population p({"d.sim", "e.sim"}, mixed());
  EXPECT_EQ(p.address(1, 42), "u000042@e.sim");
  for (std::size_t i = 1; i <= p.size(); ++i) {
    EXPECT_EQ(p.lookup(p.address(0, i)), p.state_at(i));
    EXPECT_EQ(p.lookup(p.address(1, i)), p.state_at(i));
  }
  EXPECT_EQ(p.lookup("U000001@D.SIM"), p.state_at(1));
  EXPECT_EQ(p.lookup("u000118@d.sim"), mailbox_state::unknown);   // past the population
  EXPECT_EQ(p.lookup("u0000001@d.sim"), mailbox_state::unknown);  // not the generated spelling
  EXPECT_EQ(p.lookup("bob@d.sim"), mailbox_state::unknown);
  EXPECT_EQ(p.lookup("u000001@other.sim"), std::nullopt);
  EXPECT_EQ(p.lookup("no-at-sign"), std::nullopt);
}

TEST(Population, CatchAllAcceptsEveryOtherLocalPart) {
  mailbox_spec m = mixed();
  m.catch_all = true;
  population p({"d.sim"}, m);
  EXPECT_EQ(p.lookup("bob@d.sim"), mailbox_state::catch_all);
  std::size_t catch_all = 0;
  for (std::size_t i = 1; i <= p.size(); ++i)
    catch_all += p.state_at(i) == mailbox_state::catch_all;
  EXPECT_EQ(catch_all, 5u);  // the generated unknown ones
}

TEST(Population, RoleMailboxesExistAtEveryDomainBesideTheGeneratedOnes) {
  population p({"d.sim", "e.sim"}, mixed());  // default roles: postmaster and abuse
  EXPECT_EQ(p.lookup("postmaster@d.sim"), mailbox_state::role);
  EXPECT_EQ(p.lookup("Abuse@E.SIM"), mailbox_state::role);
  EXPECT_EQ(p.lookup("info@d.sim"), mailbox_state::unknown);
  EXPECT_EQ(p.size(), 117u);  // not generated addresses

  mailbox_spec m = mixed();
  m.roles = {"info", "Sales"};
  m.catch_all = true;
  population own({"d.sim"}, m);
  EXPECT_EQ(own.roles(), (std::vector<std::string>{"info", "sales"}));
  EXPECT_EQ(own.lookup("sales@d.sim"), mailbox_state::role);
  EXPECT_EQ(own.lookup("postmaster@d.sim"), mailbox_state::catch_all);  // not a role here

  m.trap_domain = true;  // a typo-domain trap has no role mailboxes: every address is a trap
  population traps({"gmial.sim"}, m);
  EXPECT_TRUE(traps.roles().empty());
  EXPECT_EQ(traps.lookup("info@gmial.sim"), mailbox_state::pristine_trap);
}

TEST(Population, AMillionAddressesCostNothingToLookUp) {
  mailbox_spec m;
  m.valid = 1'000'000;
  m.unknown.fraction = 0.02;
  population p({"big.sim"}, m);
  EXPECT_EQ(p.size(), 1'020'000u);
  EXPECT_EQ(p.lookup("u1020000@big.sim"), p.state_at(1'020'000));
  std::size_t unknown = 0;
  for (std::size_t i = 1; i <= p.size(); ++i) {
    unknown += p.lookup(p.address(0, i)) == mailbox_state::unknown;
  }
  EXPECT_EQ(unknown, 20'000u);
}

TEST(Population, KindNames) {
  EXPECT_STREQ(to_string(mailbox_state::pristine_trap), "pristine_trap");
  EXPECT_STREQ(to_string(mailbox_state::catch_all), "catch_all");
  EXPECT_STREQ(to_string(mailbox_state::role), "role");
  EXPECT_EQ(local_part_of(7), "u000007");
  EXPECT_EQ(local_part_of(1234567), "u1234567");
}

}  // namespace
}  // namespace mailsim::sim::world
