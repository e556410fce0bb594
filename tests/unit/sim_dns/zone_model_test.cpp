#include "simulator/dns/zone_model.hpp"

#include <gtest/gtest.h>

namespace mailsim::sim::dns {
namespace {

TEST(ZoneModel, WritesLocalZoneAndDataLines) {
  zone_model m;
  m.add_zone("Example.TEST.");
  m.add_mx("example.test", 10, "MX.example.test.");
  m.add_txt("example.test", "v=spf1 -all", 60);
  EXPECT_EQ(m.local_zone_lines(), std::vector<std::string>{"example.test. static"});
  const auto data = m.local_data_lines();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0], "example.test. 300 IN MX 10 mx.example.test.");
  EXPECT_EQ(data[1], "example.test. 60 IN TXT \"v=spf1 -all\"");
}

TEST(ZoneModel, SplitsLongTxtIntoCharacterStrings) {
  zone_model m;
  m.add_zone("example.test");
  m.add_txt("k._domainkey.example.test", std::string(300, 'a'));
  const auto line = m.local_data_lines().at(0);
  EXPECT_NE(line.find("\"" + std::string(255, 'a') + "\" \"" + std::string(45, 'a') + "\""),
            std::string::npos);
}

TEST(ZoneModel, ValidNamesPass) {
  zone_model m;
  m.add_zone("example.test");
  m.add_a("a.example.test", "192.0.2.1");
  EXPECT_EQ(m.validate(), std::nullopt);
}

TEST(ZoneModel, RejectsRecordOutsideEveryZone) {
  zone_model m;
  m.add_zone("example.test");
  m.add_a("other.test", "192.0.2.1");
  ASSERT_TRUE(m.validate().has_value());
  EXPECT_NE(m.validate()->find("outside every declared zone"), std::string::npos);
}

TEST(ZoneModel, RejectsWrongAddressFamily) {
  zone_model m;
  m.add_zone("example.test");
  m.add({"a.example.test", core::rr_type::a, 60, "2001:db8::1", 0});
  ASSERT_TRUE(m.validate().has_value());
  EXPECT_NE(m.validate()->find("not an IPv4 address"), std::string::npos);
}

TEST(ZoneModel, RejectsUnknownZoneTypeAndDuplicates) {
  zone_model bad_type;
  bad_type.add_zone("example.test", "nonsense");
  EXPECT_NE(bad_type.validate().value_or("").find("unknown zone type"), std::string::npos);
  zone_model twice;
  twice.add_zone("example.test");
  twice.add_zone("EXAMPLE.test.");
  EXPECT_NE(twice.validate().value_or("").find("declared twice"), std::string::npos);
}

TEST(ZoneModel, RejectsBadNames) {
  zone_model m;
  m.add_zone("example.test");
  m.add_a("a..example.test", "192.0.2.1");
  EXPECT_NE(m.validate().value_or("").find("not a domain name"), std::string::npos);
}

TEST(ZoneModel, DnsblNamesReverseAddresses) {
  EXPECT_EQ(dnsbl_name("192.0.2.99", "bl.test."), "99.2.0.192.bl.test");
  EXPECT_EQ(dnsbl_name("2001:db8::1", "bl.test"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test");
  EXPECT_EQ(dnsbl_name("nonsense", "bl.test"), "");
}

TEST(ZoneModel, UnboundConfHasServerBlockAndNodefaults) {
  zone_model m;
  m.add_zone("example.test");
  m.add_a("a.example.test", "192.0.2.1");
  const std::string conf = m.unbound_conf();
  EXPECT_EQ(conf.rfind("server:\n", 0), 0u);
  EXPECT_NE(conf.find("  local-zone: \"test.\" nodefault\n"), std::string::npos);
  EXPECT_NE(conf.find("  local-zone: \"example.test.\" static\n"), std::string::npos);
  EXPECT_NE(conf.find("  local-data: 'a.example.test. 300 IN A 192.0.2.1'\n"),
            std::string::npos);
}

TEST(ZoneModel, VersionGrowsWithChanges) {
  zone_model m;
  const auto v0 = m.version();
  m.add_zone("example.test");
  m.add_a("a.example.test", "192.0.2.1");
  EXPECT_EQ(m.remove("a.example.test", core::rr_type::a), 1u);
  EXPECT_EQ(m.version(), v0 + 3);
  EXPECT_EQ(m.remove("a.example.test", core::rr_type::a), 0u);
  EXPECT_EQ(m.version(), v0 + 3);
}

}  // namespace
}  // namespace mailsim::sim::dns
