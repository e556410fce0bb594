// The scenario loader's inputs besides the YAML text (simulator/scenario/scenario.hpp):
// --set overrides, message templates (rendered or read beside the scenario file), scenario
// files and their errors, and the scenarios shipped in scenarios/.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/sim_scenario/loader_test_support.hpp"

namespace mailsim::sim::scenario {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using test::days;
using test::load_bad;
using test::load_ok;

TEST(ScenarioLoader, OverridesApplyBeforeTyping) {
  load_options o;
  o.overrides = {{"seed", "7"},
                 {"duration", "2d"},
                 {"world.providers.0.greylist.delay", "60s"},
                 {"world.latency", "5ms"},
                 {"senders.0.retry", "{ fixed: 10m }"}};
  const scenario s = load_ok(R"(
name: o
duration: 1d
world:
  providers:
    - { domains: [a.sim] }
senders:
  - { domain: s.example, ips: [192.0.2.1], retry: postfix }
)",
                             o);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.duration, days(2));
  ASSERT_TRUE(s.world.providers.at(0).greylist);  // created as a mapping: enabled
  EXPECT_TRUE(s.world.providers.at(0).greylist->enabled);
  EXPECT_EQ(s.world.providers.at(0).greylist->delay, seconds(60));
  EXPECT_EQ(s.world.latency, milliseconds(5));
  EXPECT_EQ(s.world.senders.at(0).retry.interval, minutes(10));
}

TEST(ScenarioLoader, OverridesCreateMissingMappingsAndAppendToLists) {
  load_options o;
  o.overrides = {{"world.providers", "[{ domains: [a.sim] }]"},
                 {"world.providers.1", "{ domains: [b.sim] }"}};
  const scenario s = load_ok("name: o\n", o);
  ASSERT_EQ(s.world.providers.size(), 2u);
  EXPECT_EQ(s.world.providers[1].domains.at(0), "b.sim");
}

TEST(ScenarioLoader, BadOverridesNameTheOverride) {
  const std::string yaml = "name: o\nworld:\n  providers:\n    - { domains: [a.sim] }\n";
  const std::pair<override_value, const char*> cases[] = {
      {{"world.providers.3.greylist.delay", "60s"}, "is a list of length 1: no index 3"},
      {{"world.providers.x", "1"}, "expected an index up to 1 (to append), got 'x'"},
      {{"name.first", "1"}, "'name' is a single value"},
      {{"senders.0.domain", "a.example"}, "is no list: no index 0"},
      {{"", "1"}, "the path is empty"},
      {{"seed.0", "1"}, "'seed' is no list: no index 0"},
      {{"world.", "1"}, "the path ends with '.'"},
      {{"world..latency", "1"}, "empty path component after 'world'"},
      {{"seed", "[1"}, "the value is not YAML"},
      {{"duration", "ten"}, "expected a duration such as 30s, 5m, 2h or 3d, got 'ten'"},
      {{"world.colour", "red"}, "unknown key 'colour' in 'world'"},
      {{"world.providers.0.mailboxes", "{ valid: -3 }"}, "must not be negative"},
  };
  for (const auto& [o, fragment] : cases) {
    SCOPED_TRACE(o.path + "=" + o.value);
    load_options options;
    options.overrides = {o};
    const load_error e = load_bad(yaml, options);
    EXPECT_EQ(e.line, 0u);
    EXPECT_NE(e.message.find("--set " + o.path + "=" + o.value + ": "), std::string::npos)
        << e.message;
    EXPECT_NE(e.message.find(fragment), std::string::npos) << e.message;
    EXPECT_EQ(e.to_string(), "s.yaml: " + e.message);
  }
}

TEST(ScenarioLoader, TemplatesFromTextNeedTheirRenderedText) {
  const std::string yaml =
      "name: t\nworkload:\n  - from: a@b.example\n    volume: { total: 1 }\n"
      "    message: templates/news.eml.j2\n";
  const load_error j2 = load_bad(yaml);
  EXPECT_EQ(j2.line, 5u);
  EXPECT_EQ(j2.column, 14u);
  EXPECT_NE(j2.message.find("mailsim run"), std::string::npos) << j2.message;
  const std::string line3 =
      "  - { from: a@b.example, volume: { total: 1 }, message: { template: x.eml } }";
  const load_error plain = load_bad("name: t\nworkload:\n" + line3 + "\n");
  EXPECT_EQ(plain.line, 3u);
  EXPECT_EQ(plain.column, line3.find("x.eml") + 1);
  EXPECT_NE(plain.message.find("'x.eml' was not given"), std::string::npos) << plain.message;
}

// A scratch folder for file tests, removed at the end.
class scratch_folder {
 public:
  scratch_folder() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mailsim-loader-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~scratch_folder() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

TEST(ScenarioLoader, FileReadsPlainTemplatesBesideIt) {
  const scratch_folder dir;
  dir.write("templates/plain.eml", "Subject: plain\r\n\r\nhi\r\n");
  const std::string file = dir.write("suite/../s.yaml",
                                     "name: f\nworkload:\n  - { from: a@b.example, volume: { "
                                     "total: 1 }, message: templates/plain.eml }\n"
                                     "  - { from: a@b.example, volume: { total: 1 }, message: { "
                                     "template: templates/n.eml.j2 } }\n");
  load_options o;
  o.rendered_templates["templates/n.eml.j2"] = "Subject: rendered\r\n\r\n";
  const load_result r = load_scenario_file(file, o);
  ASSERT_TRUE(r.ok()) << r.error->to_string();
  const auto& w = r.value->world.workload;
  EXPECT_EQ(w.at(0).message.text, "Subject: plain\r\n\r\nhi\r\n");
  EXPECT_TRUE(std::filesystem::equivalent(w.at(0).message.template_path,
                                          dir.path() / "templates/plain.eml"));
  EXPECT_EQ(w.at(1).message.text, "Subject: rendered\r\n\r\n");
  EXPECT_EQ(r.value->file, file);
}

TEST(ScenarioLoader, FileErrors) {
  const scratch_folder dir;
  const std::string missing = (dir.path() / "nope.yaml").string();
  const load_result none = load_scenario_file(missing);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error->to_string(), missing + ": cannot read the scenario file");
  const std::string file =
      dir.write("s.yaml",
                "name: f\nworkload:\n  - from: a@b.example\n    volume: { total: 1 }\n"
                "    message: templates/gone.eml\n");
  const load_result gone = load_scenario_file(file);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error->line, 5u);
  EXPECT_EQ(gone.error->column, 14u);
  EXPECT_NE(gone.error->message.find("cannot read message template"), std::string::npos);
  const std::string j2 =
      dir.write("t.yaml",
                "name: f\nworkload:\n  - from: a@b.example\n    volume: { total: 1 }\n"
                "    message: news.eml.j2\n");
  dir.write("news.eml.j2", "Subject: {{ x }}\n\n");
  const load_result unrendered = load_scenario_file(j2);
  ASSERT_FALSE(unrendered.ok());
  EXPECT_NE(unrendered.error->message.find("`mailsim run`"), std::string::npos);
  const std::string bad = dir.write("b.yaml", "name: f\nseed: x\n");
  EXPECT_EQ(load_scenario_file(bad).error->to_string(),
            bad + ":2:7: expected a whole number such as 0, 5 or 20000, got 'x'");
}

// The message template a "... is a Jinja2 template" error names, or "".
std::string unrendered_template(const load_error& e) {
  const std::string lead = "message template '";
  const std::size_t from = e.message.find(lead);
  if (from == std::string::npos || e.message.find("Jinja2") == std::string::npos) return "";
  const std::size_t start = from + lead.size();
  return e.message.substr(start, e.message.find('\'', start) - start);
}

// Every shipped plain scenario (*.yaml) loads; Jinja2 message templates get a placeholder,
// as `mailsim run` would render them. Scenario templates (*.yaml.j2) need rendering first.
TEST(ScenarioLoader, ShippedScenariosLoad) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(MAILSIM_SCENARIOS_DIR)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  EXPECT_FALSE(files.empty());
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    load_options options;
    load_result r = load_scenario_file(file, options);
    for (int round = 0; !r.ok() && round < 20; ++round) {
      const std::string name = unrendered_template(*r.error);
      if (name.empty()) break;
      options.rendered_templates[name] = "Subject: placeholder\r\n\r\nbody\r\n";
      r = load_scenario_file(file, options);
    }
    EXPECT_TRUE(r.ok()) << r.error->to_string();
  }
}

}  // namespace
}  // namespace mailsim::sim::scenario
