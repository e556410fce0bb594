// The file spool's files: their layout, and what recover() does with a crash's leftovers.
#include "reference-server/queue/file_spool.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "reference-server/queue/error.hpp"
#include "reference-server/queue/message_file.hpp"
#include "reference-server/queue/state_file.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::queue {
namespace {

using store::test::names_in;
using store::test::read_file;
using store::test::write_file;

constexpr std::string_view body = "Subject: hi\r\n\r\nHello.\r\n";

smtp::envelope envelope_to(std::size_t count) {
  smtp::envelope e;
  e.reverse_path.box.local_part = "alice";
  e.reverse_path.box.domain = "example.com";
  for (std::size_t i = 0; i < count; ++i) {
    smtp::recipient r;
    r.address.box.local_part = "user" + std::to_string(i);
    r.address.box.domain = "example.org";
    e.recipients.push_back(r);
  }
  return e;
}

class file_spool_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    open_spool();
  }

  recover_report open_spool() {
    spool_ =
        std::make_unique<file_spool>(file_spool_config{root_}, spool_limits{}, clock_, random_);
    EXPECT_FALSE(spool_->open());
    return spool_->recover();
  }

  std::string enqueue(std::size_t recipients = 1, std::string_view message = body) {
    const enqueue_request request{envelope_to(recipients), "", message, ""};
    const auto result = spool_->enqueue(std::span(&request, 1)).front();
    EXPECT_TRUE(result.ok()) << result.error.message();
    return result.id;
  }

  // Records one attempt on the first recipient: the message's first state file.
  void update_once(const std::string& id) {
    recipient_status deferred;
    deferred.attempts = 1;
    ASSERT_FALSE(spool_->update({id, {{0, deferred}}}));
  }

  // What a message file embeds, decoded.
  queued_message embedded_in(const std::string& id) {
    const std::string bytes = read_file(path("msg/" + id));
    const auto embedded = find_embedded_state(bytes);
    EXPECT_TRUE(embedded);
    if (!embedded) return {};
    auto decoded = decode_state(embedded->state);
    EXPECT_TRUE(decoded.value) << decoded.error;
    return decoded.value.value_or(queued_message{});
  }

  std::string path(const std::string& relative) const { return root_ + "/" + relative; }
  bool exists(const std::string& relative) const { return std::filesystem::exists(path(relative)); }

  store::test::temp_dir dir_;
  std::string root_ = dir_.path() + "/queue";
  core::manual_clock clock_;
  core::splitmix_random random_{3};
  std::unique_ptr<file_spool> spool_;
};

TEST_F(file_spool_fixture, lays_out_one_file_per_message_until_its_first_update) {
  const std::string id = enqueue(2);
  EXPECT_EQ(names_in(root_), (std::vector<std::string>{"corrupt", "msg", "state", "tmp"}));
  EXPECT_EQ(names_in(path("msg")), (std::vector<std::string>{id}));
  EXPECT_TRUE(names_in(path("state")).empty()) << "the state rides in the message file";
  EXPECT_TRUE(names_in(path("tmp")).empty());
  const std::string bytes = read_file(path("msg/" + id));
  EXPECT_EQ(bytes.rfind(std::string(body) + "mailsim-queue-state 1\nid " + id + "\n", 0), 0u)
      << bytes;
  EXPECT_NE(bytes.find("\nrcpt user1@example.org\nstate pending\n"), std::string::npos) << bytes;
  EXPECT_EQ(embedded_in(id).size_bytes, body.size());
  std::error_code error;
  EXPECT_EQ(*spool_->load_message(id, error), body) << "delivery reads the message alone";

  update_once(id);
  const std::string state = read_file(path("state/" + id));
  EXPECT_EQ(state.rfind("mailsim-queue-state 1\nid " + id + "\n", 0), 0u) << state;
  EXPECT_NE(state.find("\nattempts 1\n"), std::string::npos) << state;
  EXPECT_EQ(read_file(path("msg/" + id)), bytes) << "the message file never changes";
  EXPECT_EQ(open_spool().loaded, 1u);
  EXPECT_EQ(spool_->find(id)->recipients[0].status.attempts, 1u) << "the state file wins";
  EXPECT_EQ(*spool_->load_message(id, error), body);
}

TEST_F(file_spool_fixture, a_large_message_is_written_once) {
  const std::string large(10 * 1024 * 1024, 'x');
  const std::string id = enqueue(100, large);
  const auto size = std::filesystem::file_size(path("msg/" + id));
  EXPECT_GT(size, large.size());
  EXPECT_LT(size, large.size() + 16u * 1024) << "the embedded state is small";
  recipient_status deferred;
  deferred.attempts = 1;
  ASSERT_FALSE(spool_->update({id, {{3, deferred}}}));
  // An update writes the small state file, never the message.
  EXPECT_EQ(std::filesystem::file_size(path("msg/" + id)), size);
  EXPECT_LT(std::filesystem::file_size(path("state/" + id)), 16u * 1024);
  EXPECT_TRUE(names_in(path("tmp")).empty());
}

TEST_F(file_spool_fixture, recover_cleans_what_a_killed_writer_left) {
  const std::string kept = enqueue();
  const std::string whole = read_file(path("msg/" + kept));
  // Unfinished writes of an update, and of an enqueue of the older layout.
  write_file(path("tmp/018bcfe56800ffff00000001.msg"), "partial");
  write_file(path("tmp/" + kept + ".update"), "mailsim-queue");
  // An enqueue killed while writing its message file: never acknowledged.
  write_file(path("msg/018bcfe56800ffff00000002"), whole.substr(0, whole.size() - 3));
  // The older layout: a message whose state was never written.
  write_file(path("msg/018bcfe56800ffff00000003"), "never acknowledged");
  // A file that is not ours.
  write_file(path("state/README"), "hello");
  const auto report = open_spool();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.removed_tmp, 2u);
  EXPECT_EQ(report.orphan_messages, 2u);
  EXPECT_EQ(report.foreign, 1u);
  EXPECT_EQ(report.corrupt, 0u);
  EXPECT_EQ(report.problems.size(), 3u);
  EXPECT_TRUE(names_in(path("tmp")).empty());
  EXPECT_EQ(names_in(path("msg")), (std::vector<std::string>{kept}));
  EXPECT_TRUE(exists("state/README")) << "foreign files are left alone";
  EXPECT_NE(spool_->find(kept), nullptr);
}

TEST_F(file_spool_fixture, a_file_cut_anywhere_is_never_loaded) {
  const std::string id = enqueue();
  const std::string whole = read_file(path("msg/" + id));
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    write_file(path("msg/" + id), whole.substr(0, cut));
    const auto report = open_spool();
    EXPECT_EQ(report.loaded, 0u) << "cut at " << cut;
    EXPECT_EQ(report.orphan_messages, 1u) << "cut at " << cut << ": deleted, never acknowledged";
  }
}

TEST_F(file_spool_fixture, a_damaged_state_file_is_moved_aside_with_its_message) {
  const std::string good = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string truncated = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string flipped = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string resized = enqueue();
  for (const auto& id : {good, truncated, flipped, resized}) update_once(id);
  const std::string text = read_file(path("state/" + truncated));
  write_file(path("state/" + truncated), text.substr(0, text.size() / 2));
  std::string damaged = read_file(path("state/" + flipped));
  damaged[30] = static_cast<char>(damaged[30] ^ 4);
  write_file(path("state/" + flipped), damaged);
  write_file(path("msg/" + resized), "short");  // the message lost bytes

  const auto report = open_spool();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.corrupt, 3u);
  ASSERT_EQ(report.problems.size(), 3u);
  EXPECT_NE(report.problems[0].find("truncated"), std::string::npos) << report.problems[0];
  EXPECT_NE(report.problems[1].find("checksum"), std::string::npos) << report.problems[1];
  EXPECT_NE(report.problems[2].find("has 5 bytes"), std::string::npos) << report.problems[2];
  EXPECT_NE(spool_->find(good), nullptr);
  EXPECT_EQ(spool_->find(truncated), nullptr);
  EXPECT_EQ(names_in(path("state")), (std::vector<std::string>{good}));
  EXPECT_EQ(names_in(path("msg")), (std::vector<std::string>{good}));
  EXPECT_EQ(names_in(path("corrupt")),
            (std::vector<std::string>{truncated + ".msg", truncated + ".state", flipped + ".msg",
                                      flipped + ".state", resized + ".msg", resized + ".state"}));
  EXPECT_EQ(read_file(path("corrupt/" + truncated + ".msg")).rfind(body, 0), 0u)
      << "the bytes are kept";
  // The next start finds nothing more to do; the same id turning corrupt again gets a new
  // name in corrupt/.
  EXPECT_EQ(open_spool().corrupt, 0u);
  write_file(path("state/" + truncated), "garbage\n");
  write_file(path("msg/" + truncated), "x");
  EXPECT_EQ(open_spool().corrupt, 1u);
  EXPECT_TRUE(exists("corrupt/" + truncated + ".state.1"));
}

// A file written to its end (its last line is there) may have been acknowledged: when what
// it embeds does not fit, it is kept in corrupt/, never deleted.
TEST_F(file_spool_fixture, a_damaged_embedded_state_is_moved_aside) {
  const std::string good = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string flipped = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string torn = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string copied = enqueue();
  std::string damaged = read_file(path("msg/" + flipped));
  damaged[body.size() + 30] = static_cast<char>(damaged[body.size() + 30] ^ 4);
  write_file(path("msg/" + flipped), damaged);
  std::string zeros = read_file(path("msg/" + torn));
  std::fill_n(zeros.begin(), body.size(), '\0');  // what a power cut may leave
  write_file(path("msg/" + torn), zeros);
  std::filesystem::copy_file(path("msg/" + good), path("msg/" + copied),
                             std::filesystem::copy_options::overwrite_existing);

  const auto report = open_spool();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.corrupt, 3u);
  ASSERT_EQ(report.problems.size(), 3u);
  EXPECT_NE(report.problems[0].find("its embedded state: checksum mismatch"), std::string::npos)
      << report.problems[0];
  EXPECT_NE(report.problems[1].find("does not match the checksum of its embedded state"),
            std::string::npos)
      << report.problems[1];
  EXPECT_NE(report.problems[2].find("names another id (" + good + ")"), std::string::npos)
      << report.problems[2];
  EXPECT_NE(spool_->find(good), nullptr);
  EXPECT_EQ(names_in(path("msg")), (std::vector<std::string>{good}));
  EXPECT_EQ(names_in(path("corrupt")),
            (std::vector<std::string>{flipped + ".msg", torn + ".msg", copied + ".msg"}));
}

TEST_F(file_spool_fixture, a_message_that_does_not_match_its_checksum_is_moved_aside) {
  // What a power cut may leave: a state file that made it, and a message file of the right
  // size whose first bytes did not (zeros, or old blocks).
  const std::string good = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string torn = enqueue();
  update_once(good);
  update_once(torn);
  EXPECT_NE(read_file(path("state/" + torn)).find("\nmessage-sum "), std::string::npos);
  std::string zeros = read_file(path("msg/" + torn));
  std::fill_n(zeros.begin(), body.size(), '\0');
  write_file(path("msg/" + torn), zeros);
  const auto report = open_spool();
  EXPECT_FALSE(report.error) << report.error.message();
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.corrupt, 1u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("does not match its checksum"), std::string::npos)
      << report.problems[0];
  EXPECT_NE(spool_->find(good), nullptr);
  EXPECT_EQ(names_in(path("corrupt")), (std::vector<std::string>{torn + ".msg", torn + ".state"}));
}

// Spools written before message files carried their state: msg/<id> is the message alone
// and state/<id> was written at enqueue, with or without a checksum.
TEST_F(file_spool_fixture, a_spool_of_the_older_layout_still_loads) {
  const std::string summed = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string plain = enqueue();
  queued_message with_sum = *spool_->find(summed);
  queued_message without_sum = *spool_->find(plain);
  ASSERT_TRUE(without_sum.message_sum);
  without_sum.message_sum.reset();
  write_file(path("msg/" + summed), std::string(body));
  write_file(path("state/" + summed), encode_state(with_sum));
  write_file(path("msg/" + plain), std::string(body));
  write_file(path("state/" + plain), encode_state(without_sum));
  const auto report = open_spool();
  EXPECT_EQ(report.loaded, 2u);
  EXPECT_EQ(report.corrupt, 0u);
  EXPECT_FALSE(spool_->find(plain)->message_sum);
  std::error_code error;
  EXPECT_EQ(*spool_->load_message(summed, error), body);
  EXPECT_EQ(*spool_->load_message(plain, error), body);
}

TEST_F(file_spool_fixture, a_state_without_its_message_is_moved_aside) {
  const std::string id = enqueue();
  update_once(id);
  std::filesystem::remove(path("msg/" + id));
  const auto report = open_spool();
  EXPECT_EQ(report.loaded, 0u);
  EXPECT_EQ(report.orphan_states, 1u);
  EXPECT_TRUE(exists("corrupt/" + id + ".state"));
}

TEST_F(file_spool_fixture, a_state_file_naming_another_id_is_moved_aside) {
  const std::string a = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string b = enqueue();
  update_once(a);
  update_once(b);
  std::filesystem::copy_file(path("state/" + a), path("state/" + b),
                             std::filesystem::copy_options::overwrite_existing);
  const auto report = open_spool();
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.corrupt, 1u);
  EXPECT_NE(report.problems.at(0).find("names another id"), std::string::npos);
}

TEST_F(file_spool_fixture, a_failed_enqueue_leaves_nothing_behind) {
  // msg/ replaced by a plain file: every message file fails to be created.
  std::filesystem::remove(path("msg"));
  write_file(path("msg"), "");
  const enqueue_request request{envelope_to(1), "", body, ""};
  const auto result = spool_->enqueue(std::span(&request, 1)).front();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, std::errc::not_a_directory) << result.error.message();
  EXPECT_TRUE(names_in(path("tmp")).empty());
  EXPECT_TRUE(names_in(path("state")).empty());
  EXPECT_EQ(spool_->message_count(), 0u);
}

TEST_F(file_spool_fixture, a_failed_update_keeps_the_old_state_everywhere) {
  const std::string id = enqueue();
  std::filesystem::rename(path("state"), path("state.saved"));
  write_file(path("state"), "");
  recipient_status changed;
  changed.attempts = 9;
  EXPECT_EQ(spool_->update({id, {{0, changed}}}), std::errc::not_a_directory);
  EXPECT_EQ(spool_->find(id)->recipients[0].status.attempts, 0u);
  EXPECT_TRUE(names_in(path("tmp")).empty());
  std::filesystem::remove(path("state"));
  std::filesystem::rename(path("state.saved"), path("state"));
  open_spool();
  EXPECT_EQ(spool_->find(id)->recipients[0].status.attempts, 0u);
  // And the spool goes on working.
  EXPECT_FALSE(spool_->update({id, {{0, changed}}}));
}

TEST_F(file_spool_fixture, removal_deletes_every_file_of_a_message) {
  const std::string updated = enqueue();
  clock_.advance(core::duration_ms{1});
  const std::string first_try = enqueue();
  recipient_status done;
  done.state = recipient_state::relayed;
  ASSERT_FALSE(spool_->update({updated, {{0, done}}}));
  ASSERT_FALSE(spool_->remove(updated));
  ASSERT_FALSE(spool_->remove_settled(first_try)) << "a message without a state file";
  EXPECT_TRUE(names_in(path("msg")).empty());
  EXPECT_TRUE(names_in(path("state")).empty());
}

// remove() unlinks the state file, then the message: a crash in between leaves the message
// with the state it was queued with, and it is sent again rather than lost.
TEST_F(file_spool_fixture, a_crash_inside_a_removal_brings_the_message_back_as_queued) {
  const std::string id = enqueue(2);
  update_once(id);
  std::filesystem::remove(path("state/" + id));
  const auto report = open_spool();
  EXPECT_EQ(report.loaded, 1u);
  EXPECT_EQ(report.corrupt, 0u);
  EXPECT_EQ(spool_->find(id)->recipients[0].status.attempts, 0u);
  EXPECT_EQ(spool_->find(id)->recipients.size(), 2u);
}

TEST_F(file_spool_fixture, nothing_works_before_open_and_recover) {
  file_spool unopened(file_spool_config{dir_.path() + "/other"}, {}, clock_, random_);
  const enqueue_request request{envelope_to(1), "", body, ""};
  EXPECT_EQ(unopened.enqueue(std::span(&request, 1)).front().error, errc::not_open);
  ASSERT_FALSE(unopened.open());
  EXPECT_EQ(unopened.enqueue(std::span(&request, 1)).front().error, errc::not_open)
      << "recover() first";
  std::error_code error;
  EXPECT_EQ(unopened.load_message("018bcfe568000000deadbeef", error), nullptr);
  EXPECT_EQ(error, errc::not_open);
  EXPECT_FALSE(unopened.recover().error);
  EXPECT_TRUE(unopened.enqueue(std::span(&request, 1)).front().ok());
}

TEST_F(file_spool_fixture, a_root_that_cannot_be_created_is_reported) {
  file_spool bad(file_spool_config{dir_.path() + "/missing/parent/queue"}, {}, clock_, random_);
  EXPECT_EQ(bad.open(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(bad.recover().error, errc::not_open);
}

TEST_F(file_spool_fixture, barrier_none_still_stores_and_recovers) {
  file_spool_config config{dir_.path() + "/fast", barrier_mode::none};
  auto fast = std::make_unique<file_spool>(config, spool_limits{}, clock_, random_);
  ASSERT_FALSE(fast->open());
  fast->recover();
  const enqueue_request request{envelope_to(3), "", body, ""};
  const auto id = fast->enqueue(std::span(&request, 1)).front().id;
  fast = std::make_unique<file_spool>(config, spool_limits{}, clock_, random_);
  ASSERT_FALSE(fast->open());
  EXPECT_EQ(fast->recover().loaded, 1u);
  EXPECT_NE(fast->find(id), nullptr);
}

// The message class is copied at enqueue and survives a restart; one that is not a class
// name is not kept (so the state file always reads back).
TEST_F(file_spool_fixture, the_message_class_survives_recover) {
  enqueue_request classed{envelope_to(1), "", body, ""};
  classed.message_class = "Bulk";
  enqueue_request invalid{envelope_to(1), "", body, ""};
  invalid.message_class = "not a name";
  const std::vector<enqueue_request> batch = {classed, invalid};
  const auto results = spool_->enqueue(batch);
  ASSERT_TRUE(results.at(0).ok() && results.at(1).ok());
  EXPECT_EQ(spool_->find(results[0].id)->message_class, "Bulk");
  EXPECT_EQ(spool_->find(results[1].id)->message_class, "");
  EXPECT_EQ(embedded_in(results[0].id).message_class, "Bulk");
  EXPECT_EQ(open_spool().loaded, 2u);
  ASSERT_NE(spool_->find(results[0].id), nullptr);
  EXPECT_EQ(spool_->find(results[0].id)->message_class, "Bulk");
  EXPECT_EQ(spool_->find(results[1].id)->message_class, "");
}

}  // namespace
}  // namespace mailsim::queue
