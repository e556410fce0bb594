// The spool contract, run against both implementations (and the file spool's barrier modes).
#include "reference-server/queue/spool.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <stdexcept>

#include "reference-server/queue/error.hpp"
#include "reference-server/queue/file_spool.hpp"
#include "reference-server/queue/memory_spool.hpp"
#include "tests/unit/store/temp_dir.hpp"

namespace mailsim::queue {
namespace {

using core::duration_ms;

enum class kind { memory, file_syncfs, file_fsync_each };

std::string kind_name(const ::testing::TestParamInfo<kind>& info) {
  switch (info.param) {
    case kind::memory:
      return "memory";
    case kind::file_syncfs:
      return "file_syncfs";
    case kind::file_fsync_each:
      return "file_fsync_each";
  }
  return "unknown";
}

smtp::recipient rcpt(const std::string& local, const std::string& domain) {
  smtp::recipient out;
  out.address.box.local_part = local;
  out.address.box.domain = domain;
  return out;
}

smtp::envelope envelope_to(std::vector<smtp::recipient> recipients) {
  smtp::envelope e;
  e.helo_name = "client.example";
  e.esmtp = true;
  e.reverse_path.box.local_part = "alice";
  e.reverse_path.box.domain = "example.com";
  e.body = smtp::body_type::eight_bit_mime;
  e.ret = smtp::dsn_ret::headers;
  e.envid = "ENV1";
  e.auth_user = "alice";
  e.recipients = std::move(recipients);
  return e;
}

constexpr std::string_view body = "Subject: hi\r\n\r\nHello.\r\n";
const std::string trace = "Received: from client.example\r\n";

class spool_fixture : public ::testing::TestWithParam<kind> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    open_spool();
  }

  void open_spool(spool_limits limits = {}) {
    if (GetParam() == kind::memory) {
      spool_ = std::make_unique<memory_spool>(limits, clock_, random_);
      return;
    }
    file_spool_config config;
    config.root = dir_.path() + "/" + root_name_;
    config.barrier =
        GetParam() == kind::file_syncfs ? barrier_mode::syncfs : barrier_mode::fsync_each;
    auto file = std::make_unique<file_spool>(config, limits, clock_, random_);
    ASSERT_FALSE(file->open());
    const auto report = file->recover();
    ASSERT_FALSE(report.error) << report.error.message();
    spool_ = std::move(file);
  }

  // A restart: the file spool is opened again from disk; the memory spool rebuilds its index
  // from what it stored.
  recover_report restart() {
    if (GetParam() == kind::memory) return spool_->recover();
    spool_.reset();
    file_spool_config config;
    config.root = dir_.path() + "/" + root_name_;
    config.barrier =
        GetParam() == kind::file_syncfs ? barrier_mode::syncfs : barrier_mode::fsync_each;
    auto file = std::make_unique<file_spool>(config, spool_limits{}, clock_, random_);
    EXPECT_FALSE(file->open());
    auto report = file->recover();
    spool_ = std::move(file);
    return report;
  }

  enqueue_result enqueue_one(std::vector<smtp::recipient> recipients,
                             std::string_view message = body) {
    const enqueue_request request{envelope_to(std::move(recipients)), trace, message,
                                  "dns; client.example (192.0.2.7)"};
    return spool_->enqueue(std::span(&request, 1)).front();
  }

  std::string bytes_of(const std::string& id) {
    std::error_code error;
    const auto bytes = spool_->load_message(id, error);
    EXPECT_FALSE(error) << error.message();
    return bytes ? *bytes : std::string();
  }

  store::test::temp_dir dir_;
  std::string root_name_ = "queue";
  core::manual_clock clock_;
  core::splitmix_random random_{7};
  std::unique_ptr<spool> spool_;
};

TEST_P(spool_fixture, a_queued_message_comes_back_after_a_restart) {
  const auto result = enqueue_one({rcpt("bob", "example.org"), rcpt("carol", "example.net")});
  ASSERT_TRUE(result.ok()) << result.error.message();
  ASSERT_TRUE(is_message_id(result.id)) << result.id;
  for (int round = 0; round < 2; ++round) {
    const queued_message* m = spool_->find(result.id);
    ASSERT_NE(m, nullptr) << round;
    EXPECT_EQ(m->queued_at, clock_.now());
    EXPECT_EQ(m->size_bytes, trace.size() + body.size());
    EXPECT_EQ(m->received_from, "dns; client.example (192.0.2.7)");
    EXPECT_EQ(m->envelope.reverse_path.box.to_string(), "alice@example.com");
    EXPECT_EQ(m->envelope.envid, "ENV1");
    EXPECT_EQ(m->envelope.ret, smtp::dsn_ret::headers);
    EXPECT_EQ(m->envelope.body, smtp::body_type::eight_bit_mime);
    EXPECT_EQ(m->envelope.auth_user, "alice");
    EXPECT_EQ(m->envelope.helo_name, "client.example");
    EXPECT_TRUE(m->envelope.recipients.empty()) << "recipients live beside their state";
    ASSERT_EQ(m->recipients.size(), 2u);
    EXPECT_EQ(m->recipients[1].rcpt.address.box.to_string(), "carol@example.net");
    EXPECT_EQ(m->recipients[0].status.state, recipient_state::pending);
    EXPECT_EQ(m->recipients[0].status.next_attempt_at, clock_.now());
    EXPECT_EQ(bytes_of(result.id), trace + std::string(body));
    EXPECT_EQ(spool_->message_count(), 1u);
    EXPECT_EQ(spool_->bytes(), trace.size() + body.size());
    if (round == 0) {
      const auto report = restart();
      EXPECT_EQ(report.loaded, 1u);
      EXPECT_FALSE(report.error);
    }
  }
}

TEST_P(spool_fixture, ids_are_unique_and_increase_while_the_clock_stands_still) {
  std::vector<enqueue_request> batch;
  for (int i = 0; i < 50; ++i)
    batch.push_back({envelope_to({rcpt("bob", "example.org")}), "", body, ""});
  auto results = spool_->enqueue(batch);
  clock_.advance(duration_ms{1});
  auto more = spool_->enqueue(batch);
  results.insert(results.end(), more.begin(), more.end());
  std::string previous;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error.message();
    EXPECT_GT(result.id, previous);
    previous = result.id;
  }
  EXPECT_EQ(spool_->ids().size(), 100u);
  EXPECT_EQ(results[0].id.substr(0, 12), "018bcfe56800");  // 1,700,000,000,000 ms in hex
  EXPECT_EQ(results[50].id.substr(0, 12), "018bcfe56801");
  // After a restart, with a clock set back, new ids still sort after the old ones.
  restart();
  clock_.set(core::from_epoch_ms(1'600'000'000'000));
  const auto later = enqueue_one({rcpt("bob", "example.org")});
  ASSERT_TRUE(later.ok());
  EXPECT_GT(later.id, previous);
}

TEST_P(spool_fixture, ids_list_in_arrival_order_however_the_index_keeps_them) {
  std::vector<std::string> queued;
  for (int i = 0; i < 300; ++i) {
    if (i % 7 == 0) clock_.advance(duration_ms{1});
    const auto result = enqueue_one({rcpt("bob", "example.org")});
    ASSERT_TRUE(result.ok()) << result.error.message();
    queued.push_back(result.id);
  }
  for (std::size_t i = 0; i < queued.size(); i += 3) {
    ASSERT_FALSE(spool_->remove_settled(queued[i]));
    queued[i].clear();
  }
  std::erase(queued, std::string());
  EXPECT_EQ(spool_->ids(), queued);
  for (const std::string& id : queued) EXPECT_NE(spool_->find(id), nullptr) << id;
  restart();
  EXPECT_EQ(spool_->ids(), queued);
}

TEST_P(spool_fixture, updates_are_kept_and_drive_what_is_due) {
  const auto a = enqueue_one({rcpt("bob", "example.org"), rcpt("carol", "example.net")});
  clock_.advance(duration_ms{10});
  const auto b = enqueue_one({rcpt("dave", "example.org")});
  ASSERT_TRUE(a.ok() && b.ok());
  const core::time_point t0 = clock_.now();
  EXPECT_EQ(spool_->due(t0), (std::vector<std::string>{a.id, b.id}));
  EXPECT_EQ(spool_->due(t0, 1), (std::vector<std::string>{a.id}));

  recipient_status delivered;
  delivered.state = recipient_state::delivered;
  delivered.attempts = 1;
  delivered.last_attempt_at = t0;
  delivered.status = "2.0.0";
  delivered.reply = smtp::reply{250, "2.0.0", {"Ok: queued as 123"}};
  delivered.remote_mta = "mx.example.org";
  delivered.remote_address = "192.0.2.25";
  recipient_status deferred;
  deferred.attempts = 1;
  deferred.last_attempt_at = t0;
  deferred.next_attempt_at = t0 + duration_ms{300'000};
  deferred.status = "4.7.1";
  deferred.reply = smtp::reply{451, "4.7.1", {"Greylisted,", "try again later"}};
  const std::vector<state_update> updates = {{a.id, {{0, delivered}, {1, deferred}}},
                                             {b.id, {{0, deferred}}}};
  const auto errors = spool_->update(updates);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_FALSE(errors[0]) << errors[0].message();
  EXPECT_FALSE(errors[1]) << errors[1].message();
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(spool_->due(t0).empty()) << round;
    EXPECT_EQ(spool_->next_due(), t0 + duration_ms{300'000}) << round;
    EXPECT_EQ(spool_->due(t0 + duration_ms{300'000}), (std::vector<std::string>{a.id, b.id}));
    const queued_message* m = spool_->find(a.id);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->recipients[0].status, delivered);
    EXPECT_EQ(m->recipients[1].status, deferred);
    EXPECT_TRUE(m->has_pending());
    if (round == 0) restart();
  }
}

TEST_P(spool_fixture, several_updates_of_one_message_apply_in_order) {
  const auto a = enqueue_one({rcpt("bob", "example.org"), rcpt("carol", "example.net")});
  recipient_status first;
  first.attempts = 1;
  recipient_status second;
  second.attempts = 2;
  second.delay_warning_sent = true;
  const std::vector<state_update> updates = {
      {a.id, {{0, first}}}, {a.id, {{0, second}}}, {a.id, {{1, first}}}};
  for (const auto& error : spool_->update(updates)) EXPECT_FALSE(error);
  restart();
  EXPECT_EQ(spool_->find(a.id)->recipients[0].status, second);
  EXPECT_EQ(spool_->find(a.id)->recipients[1].status, first);
}

TEST_P(spool_fixture, bad_updates_are_refused_without_touching_the_message) {
  const auto a = enqueue_one({rcpt("bob", "example.org")});
  recipient_status changed;
  changed.attempts = 3;
  const std::vector<state_update> updates = {
      {"018bcfe568000000ffffffff", {{0, changed}}},  // no such message
      {a.id, {{0, changed}, {1, changed}}},          // recipient 1 does not exist
  };
  const auto errors = spool_->update(updates);
  EXPECT_EQ(errors[0], errc::unknown_message);
  EXPECT_EQ(errors[1], errc::invalid_update);
  EXPECT_EQ(spool_->find(a.id)->recipients[0].status.attempts, 0u);
  EXPECT_EQ(spool_->update({a.id, {{0, changed}}}), std::error_code{});
  EXPECT_EQ(spool_->find(a.id)->recipients[0].status.attempts, 3u);
}

TEST_P(spool_fixture, remove_waits_for_every_recipient_to_be_final) {
  const auto a = enqueue_one({rcpt("bob", "example.org"), rcpt("carol", "example.net")});
  EXPECT_EQ(spool_->remove(a.id), errc::recipients_pending);
  recipient_status done;
  done.state = recipient_state::delivered;
  recipient_status bounced;
  bounced.state = recipient_state::failed;
  bounced.status = "5.1.1";
  ASSERT_FALSE(spool_->update({a.id, {{0, done}}}));
  EXPECT_EQ(spool_->remove(a.id), errc::recipients_pending);
  ASSERT_FALSE(spool_->update({a.id, {{1, bounced}}}));
  EXPECT_FALSE(spool_->next_due());
  EXPECT_EQ(spool_->remove(a.id), std::error_code{});
  EXPECT_EQ(spool_->find(a.id), nullptr);
  EXPECT_EQ(spool_->message_count(), 0u);
  EXPECT_EQ(spool_->bytes(), 0u);
  std::error_code error;
  EXPECT_EQ(spool_->load_message(a.id, error), nullptr);
  EXPECT_EQ(error, errc::unknown_message);
  EXPECT_EQ(spool_->remove(a.id), errc::unknown_message);
  EXPECT_EQ(restart().loaded, 0u);
}

TEST_P(spool_fixture, held_messages_leave_the_schedule_until_released_or_restarted) {
  const auto a = enqueue_one({rcpt("bob", "example.org")});
  const auto b = enqueue_one({rcpt("carol", "example.org")});
  spool_->hold(a.id);
  spool_->hold(a.id);  // twice is harmless
  EXPECT_EQ(spool_->due(clock_.now()), std::vector<std::string>{b.id});
  recipient_status later;
  later.next_attempt_at = clock_.now() + std::chrono::minutes(5);
  ASSERT_FALSE(spool_->update({a.id, {{0, later}}}));  // the hold survives an update
  EXPECT_EQ(spool_->due(clock_.now() + std::chrono::hours(1)), std::vector<std::string>{b.id});
  spool_->unhold(a.id);
  EXPECT_EQ(spool_->due(clock_.now()), std::vector<std::string>{b.id});
  EXPECT_EQ(spool_->due(clock_.now() + std::chrono::minutes(5)), (std::vector<std::string>{b.id, a.id}));
  spool_->hold(b.id);
  EXPECT_EQ(restart().loaded, 2u);  // nothing is held after a restart
  EXPECT_EQ(spool_->due(clock_.now()), std::vector<std::string>{b.id});
}

TEST_P(spool_fixture, a_settled_message_is_removed_without_a_last_update) {
  const auto a = enqueue_one({rcpt("bob", "example.org")});
  spool_->hold(a.id);
  EXPECT_EQ(spool_->remove_settled(a.id), std::error_code{});
  EXPECT_EQ(spool_->find(a.id), nullptr);
  EXPECT_FALSE(spool_->next_due());
  EXPECT_EQ(restart().loaded, 0u);
  EXPECT_EQ(spool_->remove_settled(a.id), errc::unknown_message);
}

TEST_P(spool_fixture, limits_refuse_with_a_reason_and_free_up_on_removal) {
  const std::uint64_t size = trace.size() + body.size();
  open_spool({2, 0});
  ASSERT_TRUE(enqueue_one({rcpt("a", "example.org")}).ok());
  const auto second = enqueue_one({rcpt("b", "example.org")});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(enqueue_one({rcpt("c", "example.org")}).error, errc::queue_full_messages);
  recipient_status done;
  done.state = recipient_state::delivered;
  ASSERT_FALSE(spool_->update({second.id, {{0, done}}}));
  ASSERT_FALSE(spool_->remove(second.id));
  EXPECT_TRUE(enqueue_one({rcpt("c", "example.org")}).ok());

  root_name_ = "bytes";  // a fresh spool for the byte limit
  open_spool({0, 2 * size});
  std::vector<enqueue_request> batch(3, {envelope_to({rcpt("a", "example.org")}), trace, body, ""});
  const auto results = spool_->enqueue(batch);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(results[2].error, errc::queue_full_bytes);
  EXPECT_EQ(spool_->bytes(), 2 * size);
  const std::string big(2 * size + 1, 'x');
  EXPECT_EQ(enqueue_one({rcpt("a", "example.org")}, big).error, errc::queue_full_bytes);
  EXPECT_EQ(spool_->message_count(), 2u);
}

TEST_P(spool_fixture, a_message_without_recipients_is_refused) {
  const std::vector<enqueue_request> batch = {
      {envelope_to({}), trace, body, ""},
      {envelope_to({rcpt("a", "example.org")}), trace, body, ""}};
  const auto results = spool_->enqueue(batch);
  EXPECT_EQ(results[0].error, errc::no_recipients);
  EXPECT_TRUE(results[1].ok());
  EXPECT_EQ(spool_->message_count(), 1u);
}

TEST_P(spool_fixture, many_recipients_round_trip) {
  std::vector<smtp::recipient> recipients;
  for (int i = 0; i < 2000; ++i) {
    auto r = rcpt("user" + std::to_string(i), "d" + std::to_string(i % 37) + ".example");
    if (i % 3 == 0) r.notify = {true, false, false, true, i % 2 == 0};
    if (i % 5 == 0) r.orcpt = "rfc822;user" + std::to_string(i) + "@old.example";
    recipients.push_back(r);
  }
  const auto a = enqueue_one(recipients);
  ASSERT_TRUE(a.ok());
  std::vector<recipient_change> changes;
  for (std::size_t i = 0; i < recipients.size(); i += 7) {
    recipient_status s;
    s.state = recipient_state::failed;
    s.attempts = static_cast<std::uint32_t>(i);
    s.status = "5.1.1";
    changes.push_back({i, s});
  }
  ASSERT_FALSE(spool_->update({a.id, changes}));
  restart();
  const queued_message* m = spool_->find(a.id);
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->recipients.size(), recipients.size());
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    EXPECT_EQ(m->recipients[i].rcpt.address.box.to_string(), recipients[i].address.box.to_string());
    EXPECT_EQ(m->recipients[i].rcpt.orcpt, recipients[i].orcpt);
    EXPECT_EQ(m->recipients[i].rcpt.notify.delay, recipients[i].notify.delay);
    EXPECT_EQ(m->recipients[i].status.state,
              i % 7 == 0 ? recipient_state::failed : recipient_state::pending);
  }
}

TEST_P(spool_fixture, a_large_message_is_stored_once_for_all_its_recipients) {
  std::string large(10 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>('a' + i % 26);
  std::vector<smtp::recipient> recipients;
  for (int i = 0; i < 50; ++i) recipients.push_back(rcpt("u" + std::to_string(i), "example.org"));
  const auto a = enqueue_one(recipients, large);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(spool_->bytes(), trace.size() + large.size());
  restart();
  EXPECT_EQ(bytes_of(a.id), trace + large);
}

INSTANTIATE_TEST_SUITE_P(all, spool_fixture,
                         ::testing::Values(kind::memory, kind::file_syncfs, kind::file_fsync_each),
                         kind_name);

// ---- memory spool -------------------------------------------------------------------------

TEST(memory_spool, shares_the_stored_bytes) {
  core::manual_clock clock;
  core::splitmix_random random(1);
  memory_spool spool({}, clock, random);
  const enqueue_request request{envelope_to({rcpt("a", "example.org")}), trace, body, ""};
  const auto id = spool.enqueue(std::span(&request, 1)).front().id;
  std::error_code error;
  const auto first = spool.load_message(id, error);
  const auto second = spool.load_message(id, error);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first.get(), second.get());
}

TEST(memory_spool, a_disk_full_fault_refuses_writes_and_keeps_the_state) {
  core::manual_clock clock;
  core::splitmix_random random(1);
  memory_spool spool({}, clock, random);
  const enqueue_request request{envelope_to({rcpt("a", "example.org")}), trace, body, ""};
  const auto id = spool.enqueue(std::span(&request, 1)).front().id;
  spool.fail_writes(std::make_error_code(std::errc::no_space_on_device));
  EXPECT_EQ(spool.enqueue(std::span(&request, 1)).front().error, std::errc::no_space_on_device);
  recipient_status changed;
  changed.attempts = 5;
  EXPECT_EQ(spool.update({id, {{0, changed}}}), std::errc::no_space_on_device);
  EXPECT_EQ(spool.find(id)->recipients[0].status.attempts, 0u);
  EXPECT_EQ(spool.message_count(), 1u);
  spool.fail_writes({});
  EXPECT_FALSE(spool.update({id, {{0, changed}}}));
  // A restart (crash of the sender) keeps exactly what was stored.
  EXPECT_EQ(spool.recover().loaded, 1u);
  EXPECT_EQ(spool.find(id)->recipients[0].status.attempts, 5u);
}

TEST(memory_spool, without_states_it_serves_the_queue_but_cannot_recover) {
  core::manual_clock clock;
  core::splitmix_random random(1);
  memory_spool spool({}, clock, random, memory_spool::states::not_kept);
  const enqueue_request request{envelope_to({rcpt("a", "example.org")}), trace, body, ""};
  const auto id = spool.enqueue(std::span(&request, 1)).front().id;
  recipient_status changed;
  changed.attempts = 2;
  EXPECT_FALSE(spool.update({id, {{0, changed}}}));
  EXPECT_EQ(spool.find(id)->recipients[0].status.attempts, 2u);
  std::error_code error;
  const auto bytes = spool.load_message(id, error);
  ASSERT_NE(bytes, nullptr) << error.message();
  EXPECT_EQ(*bytes, trace + std::string(body));
  EXPECT_EQ(spool.update({"018bcfe568000012deadbeef", {{0, changed}}}), errc::unknown_message);
  spool.fail_writes(std::make_error_code(std::errc::no_space_on_device));
  EXPECT_EQ(spool.update({id, {{0, changed}}}), std::errc::no_space_on_device);
  EXPECT_THROW(spool.recover(), std::logic_error);
}

TEST(message_id, format) {
  EXPECT_EQ(make_message_id(1'700'000'000'000, 0x12, 0xdeadbeef), "018bcfe568000012deadbeef");
  EXPECT_TRUE(is_message_id("018bcfe568000012deadbeef"));
  EXPECT_FALSE(is_message_id("018BCFE568000012DEADBEEF"));
  EXPECT_FALSE(is_message_id("018bcfe568000012deadbee"));
  EXPECT_FALSE(is_message_id("../state/018bcfe5680000"));
}

}  // namespace
}  // namespace mailsim::queue
