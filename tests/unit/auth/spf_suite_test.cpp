// The OpenSPF RFC 7208 test suite (rfc7208-tests.yml, release 2014.04), every scenario and
// every test case, run against spf_evaluation: one gtest per suite case, named after it.
//
// How the suite's zone data is served (what its drivers are expected to do):
// - "SPF" (type 99) records are never asked for (RFC 7208 §3.1, §4.4); as the suite's
//   header says, drivers copy a name's SPF records into TXT when the name has no TXT entry
//   of its own; "TXT: NONE" stops that copy (the name then has no TXT record).
// - TXT given as a list of strings is one record of those strings concatenated; an empty
//   list is an empty record.
// - "TIMEOUT" makes every question about the name that the data does not answer time out.
// - CNAMEs are followed (as a recursive resolver does); a loop or a chain over 10 is
//   SERVFAIL.
// - A name with any entry exists (other types: NODATA); any other name is NXDOMAIN.
// The expected result may be a list of acceptable results. "explanation: DEFAULT" means
// the default explanation, which these tests set to the text "DEFAULT".
#include <yaml-cpp/yaml.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reference-server/auth/spf.hpp"

namespace mailsim::auth {
namespace {

const std::string suite_path = std::string(MAILSIM_CONFORMANCE_DIR) + "/rfc7208-tests.yml";

std::string key_of(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// One scenario's zonedata as a DNS that answers core::dns_answer.
class suite_zone {
 public:
  void add(const YAML::Node& name, const YAML::Node& entries);
  core::dns_answer answer(const std::string& name, core::rr_type type) const;
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct node {
    std::map<core::rr_type, core::dns_answer> data;
    std::vector<std::string> spf;  // type-99 records, copied to TXT unless TXT is given
    std::optional<std::string> cname;
    bool timeout = false;
    bool txt_given = false;
  };
  void add_entry(node& n, const std::string& type, const YAML::Node& value);
  core::dns_answer direct(const std::string& key, core::rr_type type) const;

  std::map<std::string, node> nodes_;
  std::vector<std::string> errors_;  // entries this driver cannot read
};

std::string txt_value(const YAML::Node& value) {
  if (!value.IsSequence()) return value.as<std::string>();
  std::string joined;
  for (const YAML::Node& piece : value) joined += piece.as<std::string>();
  return joined;
}

void suite_zone::add(const YAML::Node& name, const YAML::Node& entries) {
  node& n = nodes_[key_of(name.as<std::string>())];
  for (const YAML::Node& entry : entries) {
    if (entry.IsScalar() && entry.as<std::string>() == "TIMEOUT") {
      n.timeout = true;
      continue;
    }
    for (const auto& kv : entry) add_entry(n, kv.first.as<std::string>(), kv.second);
  }
  if (!n.txt_given && !n.spf.empty()) {
    core::dns_answer& txt = n.data[core::rr_type::txt];
    txt.status = core::dns_status::ok;
    txt.records = n.spf;
  }
}

void suite_zone::add_entry(node& n, const std::string& type, const YAML::Node& value) {
  auto append = [&n](core::rr_type t, std::string record) {
    core::dns_answer& a = n.data[t];
    a.status = core::dns_status::ok;
    a.records.push_back(std::move(record));
  };
  if (type == "SPF") {
    n.spf.push_back(txt_value(value));
  } else if (type == "TXT") {
    n.txt_given = true;
    if (!(value.IsScalar() && value.as<std::string>() == "NONE"))
      append(core::rr_type::txt, txt_value(value));
  } else if (type == "A" || type == "AAAA") {
    std::optional<core::ip_address> ip = core::parse_ip(value.as<std::string>());
    if (!ip) {
      errors_.push_back("bad address " + value.as<std::string>());
      return;
    }
    append(type == "A" ? core::rr_type::a : core::rr_type::aaaa, core::to_string(*ip));
  } else if (type == "PTR") {
    append(core::rr_type::ptr, key_of(value.as<std::string>()));
  } else if (type == "MX") {
    core::dns_answer& a = n.data[core::rr_type::mx];
    a.status = core::dns_status::ok;
    a.mx.push_back({value[0].as<std::uint16_t>(), key_of(value[1].as<std::string>())});
  } else if (type == "CNAME") {
    n.cname = key_of(value.as<std::string>());
  } else {
    errors_.push_back("unknown zone entry type " + type);
  }
}

core::dns_answer suite_zone::direct(const std::string& key, core::rr_type type) const {
  core::dns_answer a;
  auto it = nodes_.find(key);
  if (it == nodes_.end()) {
    a.status = core::dns_status::nxdomain;
    return a;
  }
  if (auto d = it->second.data.find(type); d != it->second.data.end()) return d->second;
  a.status = it->second.timeout ? core::dns_status::timeout : core::dns_status::nodata;
  return a;
}

core::dns_answer suite_zone::answer(const std::string& name, core::rr_type type) const {
  std::string key = key_of(name);
  std::set<std::string> seen;
  for (int hops = 0; hops <= 10; ++hops) {
    auto it = nodes_.find(key);
    if (it == nodes_.end() || !it->second.cname) return direct(key, type);
    if (!seen.insert(key).second) break;  // a loop
    key = *it->second.cname;
  }
  core::dns_answer failure;
  failure.status = core::dns_status::servfail;
  return failure;
}

struct suite_case {
  std::string name;
  std::string scenario;
  std::shared_ptr<suite_zone> zone;
  std::string helo, host, mail_from;
  std::vector<std::string> results;
  std::optional<std::string> explanation;
};

std::vector<suite_case> load_cases() {
  std::vector<suite_case> cases;
  if (!std::filesystem::exists(suite_path)) return cases;
  for (const YAML::Node& doc : YAML::LoadAllFromFile(suite_path)) {
    auto zone = std::make_shared<suite_zone>();
    for (const auto& kv : doc["zonedata"]) zone->add(kv.first, kv.second);
    for (const auto& kv : doc["tests"]) {
      const YAML::Node& t = kv.second;
      suite_case c{kv.first.as<std::string>(),
                   doc["description"].as<std::string>(),
                   zone,
                   t["helo"].as<std::string>(),
                   t["host"].as<std::string>(),
                   t["mailfrom"].as<std::string>(),
                   {},
                   std::nullopt};
      if (t["result"].IsSequence()) {
        for (const YAML::Node& r : t["result"]) c.results.push_back(r.as<std::string>());
      } else {
        c.results.push_back(t["result"].as<std::string>());
      }
      if (t["explanation"]) c.explanation = t["explanation"].as<std::string>();
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

// gtest names the failing case by this instead of dumping its bytes.
void PrintTo(const suite_case& c, std::ostream* os) {
  *os << c.scenario << " / " << c.name;
}

const std::vector<suite_case>& all_cases() {
  static const std::vector<suite_case> cases = load_cases();
  return cases;
}

spf_outcome run_case(const suite_case& c, std::shared_ptr<spf_record_cache> records = nullptr) {
  spf_request request;
  request.ip = core::parse_ip(c.host).value();
  request.mail_from = c.mail_from;
  request.helo = c.helo;
  request.now = core::from_epoch_ms(1'400'000'000'000);
  spf_options options;
  options.default_explanation = "DEFAULT";
  spf_evaluation e(request, false, options, std::move(records));
  for (int round = 0; !e.complete() && round < 200; ++round) {
    const std::vector<spf_evaluation::query> asked = e.queries();
    for (const spf_evaluation::query& q : asked)
      e.on_answer(q.name, q.type, c.zone->answer(q.name, q.type));
  }
  EXPECT_TRUE(e.complete());
  return e.outcome();
}

class Rfc7208Suite : public ::testing::TestWithParam<suite_case> {};

TEST_P(Rfc7208Suite, GivesTheExpectedResultAndExplanation) {
  const suite_case& c = GetParam();
  ASSERT_TRUE(c.zone->errors().empty()) << c.zone->errors().front();
  const spf_outcome o = run_case(c);
  const std::string got = to_string(o.result);
  EXPECT_NE(std::find(c.results.begin(), c.results.end(), got), c.results.end())
      << c.scenario << " / " << c.name << ": got " << got << " (problem: " << o.problem
      << ", mechanism: " << o.mechanism << ")";
  if (c.explanation) {
    EXPECT_EQ(o.explanation, *c.explanation) << c.scenario << " / " << c.name;
  }
}

std::string case_name(const ::testing::TestParamInfo<suite_case>& info) {
  std::string name = info.param.name;
  for (char& ch : name)
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
  return name;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Rfc7208Suite);
INSTANTIATE_TEST_SUITE_P(OpenSpf, Rfc7208Suite, ::testing::ValuesIn(all_cases()), case_name);

// A receiver's evaluations share parsed records (spf_checker's cache): through a cache small
// enough to evict all the time, twice over, every case gives the outcome it gives alone.
TEST(Rfc7208SuiteWithRecordCache, GivesTheSameOutcomesAsWithout) {
  if (all_cases().empty()) GTEST_SKIP() << suite_path << " is absent";
  auto records = std::make_shared<spf_record_cache>(4);
  for (int round = 0; round < 2; ++round) {
    for (const suite_case& c : all_cases()) {
      const spf_outcome alone = run_case(c);
      const spf_outcome shared = run_case(c, records);
      EXPECT_EQ(shared.result, alone.result) << c.name;
      EXPECT_EQ(shared.mechanism, alone.mechanism) << c.name;
      EXPECT_EQ(shared.problem, alone.problem) << c.name;
      EXPECT_EQ(shared.explanation, alone.explanation) << c.name;
      EXPECT_EQ(shared.dns_lookups, alone.dns_lookups) << c.name;
      EXPECT_EQ(shared.void_lookups, alone.void_lookups) << c.name;
    }
  }
  EXPECT_LE(records->size(), 4u);
  EXPECT_GT(records->hits(), 0u);
}

TEST(Rfc7208SuiteFile, IsPresentAndComplete) {
  if (!std::filesystem::exists(suite_path))
    GTEST_SKIP() << suite_path << " is absent: the RFC 7208 suite is not run";
  // Release 2014.04 has 203 test cases in 16 scenarios; all of them run above.
  EXPECT_EQ(all_cases().size(), 203u);
}

}  // namespace
}  // namespace mailsim::auth
