// net::unbound_resolver without a daemon: the embedded mode (the world is the local data),
// local data over forwarders, and forwarders that are a scripted loopback UDP server in
// this process (silent, late, or answering at once). The real-daemon cases are in
// unbound_resolver_itest.cpp.
#include "reference-server/net/unbound_resolver.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>

#include "reference-server/net/asio.hpp"

namespace mailsim::net {
namespace {

using boost::asio::ip::udp;
using core::dns_answer;
using core::dns_status;
using core::rr_type;

std::unique_ptr<unbound_resolver> make(boost::asio::io_context& io, const unbound_options& o) {
  std::string error;
  auto r = unbound_resolver::create(io, o, error);
  EXPECT_TRUE(r) << error;
  EXPECT_TRUE(!r || error.empty()) << error;
  return r;
}

// One query, run to its single answer. Every query is bounded by the resolver's timeout.
dns_answer ask(boost::asio::io_context& io, unbound_resolver& r, const std::string& name,
               rr_type type) {
  int calls = 0;
  dns_answer got;
  r.resolve(name, type, [&](const dns_answer& a) {
    ++calls;
    got = a;
  });
  EXPECT_EQ(calls, 0) << name << ": called from inside resolve()";
  io.restart();
  io.run();
  EXPECT_EQ(calls, 1) << name;
  EXPECT_EQ(r.in_flight(), 0u);
  return got;
}

std::vector<std::string> mx_list(const dns_answer& a) {
  std::vector<std::string> out;
  for (const auto& mx : a.mx) out.push_back(std::to_string(mx.preference) + " " + mx.exchange);
  return out;
}

// The world of the embedded tests.
unbound_options world() {
  unbound_options o;
  o.local_zones = {"example.test. static", "refused.test. refuse", "dropped.test. deny",
                   "open.test. transparent"};
  o.local_data = {
      // MINIMUM 120 < TTL 300: negative answers may be cached for 120 s (RFC 2308 §5).
      "example.test. 300 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 120",
      "example.test. 300 IN MX 20 MX2.Example.TEST.",
      "example.test. 300 IN MX 10 mx1.example.test.",
      "example.test. 300 IN TXT \"v=spf1 \" \"ip4:192.0.2.0/24 \" \"-all\"",
      "example.test. 300 IN TXT \"second record\"",
      "mx1.example.test. 60 IN A 192.0.2.1",
      "mx1.example.test. 60 IN A 192.0.2.2",
      "mx1.example.test. 60 IN AAAA 2001:DB8:0:0:0:0:0:1",
      "www.example.test. 300 IN CNAME Example.Test.",
      "deep.a.example.test. 300 IN A 192.0.2.9",  // a.example.test: an empty non-terminal
      "null.example.test. 300 IN MX 0 .",         // RFC 7505 null MX
      "1.2.0.192.in-addr.arpa. 300 IN PTR mx1.example.test.",
      "2.0.0.127.in-addr.arpa. 300 IN PTR MX1.example.test.",
      "elsewhere.example. 30 IN A 198.51.100.7",  // in no declared zone: the root's
      "ok.refused.test. 300 IN A 192.0.2.5",
      "ok.open.test. 300 IN A 192.0.2.6",
  };
  return o;
}

class embedded : public ::testing::Test {
 protected:
  void SetUp() override {
    resolver_ = make(io_, world());
    ASSERT_TRUE(resolver_);
  }
  dns_answer ask(const std::string& name, rr_type type) {
    return net::ask(io_, *resolver_, name, type);
  }

  boost::asio::io_context io_;
  std::unique_ptr<unbound_resolver> resolver_;
};

TEST(mode_of, follows_what_is_given) {
  unbound_options o;
  EXPECT_EQ(mode_of(o), resolver_mode::system);
  o.local_data = {"a.test. 1 IN A 192.0.2.1"};
  EXPECT_EQ(mode_of(o), resolver_mode::embedded);
  o.local_data.clear();
  o.local_zones = {". refuse"};
  EXPECT_EQ(mode_of(o), resolver_mode::embedded);
  o.forwarders = {"127.0.0.1@53"};
  EXPECT_EQ(mode_of(o), resolver_mode::forwarders);
}

TEST_F(embedded, mx_in_the_order_served_lower_case_without_the_dot) {
  const dns_answer a = ask("example.test", rr_type::mx);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(mx_list(a), (std::vector<std::string>{"20 mx2.example.test", "10 mx1.example.test"}));
  EXPECT_TRUE(a.records.empty());
  EXPECT_EQ(a.ttl_s, 300u);
}

TEST_F(embedded, a_trailing_dot_and_upper_case_in_the_query_change_nothing) {
  EXPECT_EQ(mx_list(ask("EXAMPLE.test.", rr_type::mx)), mx_list(ask("example.test", rr_type::mx)));
}

TEST_F(embedded, a_and_aaaa_records_as_text) {
  const dns_answer a = ask("mx1.example.test", rr_type::a);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(a.ttl_s, 60u);
  const dns_answer aaaa = ask("mx1.example.test", rr_type::aaaa);
  EXPECT_EQ(aaaa.status, dns_status::ok);
  EXPECT_EQ(aaaa.records, std::vector<std::string>{"2001:db8::1"});  // RFC 5952 form
}

TEST_F(embedded, txt_strings_are_joined_per_record) {
  const dns_answer a = ask("example.test", rr_type::txt);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, (std::vector<std::string>{"v=spf1 ip4:192.0.2.0/24 -all", "second record"}));
}

TEST_F(embedded, ptr_and_cname_give_names) {
  const dns_answer ptr = ask("1.2.0.192.in-addr.arpa", rr_type::ptr);
  EXPECT_EQ(ptr.status, dns_status::ok);
  EXPECT_EQ(ptr.records, std::vector<std::string>{"mx1.example.test"});
  // Inside Unbound's built-in 127.in-addr.arpa. zone: served from the data all the same.
  const dns_answer loopback = ask("2.0.0.127.in-addr.arpa", rr_type::ptr);
  EXPECT_EQ(loopback.status, dns_status::ok);
  EXPECT_EQ(loopback.records, std::vector<std::string>{"mx1.example.test"});
  const dns_answer cname = ask("www.example.test", rr_type::cname);
  EXPECT_EQ(cname.status, dns_status::ok);
  EXPECT_EQ(cname.records, std::vector<std::string>{"example.test"});
}

TEST_F(embedded, null_mx_has_an_empty_exchange) {
  const dns_answer a = ask("null.example.test", rr_type::mx);
  EXPECT_EQ(a.status, dns_status::ok);
  ASSERT_EQ(a.mx.size(), 1u);
  EXPECT_EQ(a.mx[0].preference, 0);
  EXPECT_EQ(a.mx[0].exchange, "");
}

TEST_F(embedded, nxdomain_and_nodata_are_told_apart) {
  const dns_answer missing = ask("nope.example.test", rr_type::mx);
  EXPECT_EQ(missing.status, dns_status::nxdomain);
  EXPECT_TRUE(missing.mx.empty());
  const dns_answer other_type = ask("mx1.example.test", rr_type::mx);
  EXPECT_EQ(other_type.status, dns_status::nodata);
  EXPECT_EQ(ask("example.test", rr_type::a).status, dns_status::nodata);
  // RFC 8020: a name with names below it exists.
  EXPECT_EQ(ask("a.example.test", rr_type::a).status, dns_status::nodata);
  EXPECT_EQ(ask("deep.a.example.test", rr_type::a).status, dns_status::ok);
}

TEST_F(embedded, negative_ttl_comes_from_the_soa) {
  EXPECT_EQ(ask("nope.example.test", rr_type::a).ttl_s, 120u);  // min(300, 120)
  EXPECT_EQ(ask("mx1.example.test", rr_type::txt).ttl_s, 120u);
  // Outside any zone with a SOA: nothing says how long to cache the answer.
  const dns_answer outside = ask("nothing.example", rr_type::a);
  EXPECT_EQ(outside.status, dns_status::nxdomain);
  EXPECT_EQ(outside.ttl_s, 0u);
}

TEST_F(embedded, the_world_is_the_data) {
  EXPECT_EQ(ask("elsewhere.example", rr_type::a).records, std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(ask("gmail.com", rr_type::mx).status, dns_status::nxdomain);
  // Unbound's own test. zone (SOA "localhost.", negative TTL 3600) is replaced.
  const dns_answer test_name = ask("other.test", rr_type::a);
  EXPECT_EQ(test_name.status, dns_status::nxdomain);
  EXPECT_EQ(test_name.ttl_s, 0u);
  // Nor does Unbound's 127.0.0.1 PTR leak in.
  EXPECT_EQ(ask("1.0.0.127.in-addr.arpa", rr_type::ptr).status, dns_status::nxdomain);
}

TEST_F(embedded, refused_and_denied_zones_are_servfail) {
  EXPECT_EQ(ask("x.refused.test", rr_type::a).status, dns_status::servfail);
  EXPECT_EQ(ask("ok.refused.test", rr_type::a).status, dns_status::ok);  // data wins
  // Unlike the daemon, libunbound does not stay silent for a deny zone: it reports an
  // error at once.
  EXPECT_EQ(ask("x.dropped.test", rr_type::a).status, dns_status::servfail);
}

TEST_F(embedded, a_transparent_zone_cannot_reach_the_internet) {
  EXPECT_EQ(ask("ok.open.test", rr_type::a).status, dns_status::ok);
  EXPECT_EQ(ask("www.open.test", rr_type::a).status, dns_status::servfail);
}

TEST_F(embedded, names_that_cannot_exist_are_nxdomain_without_asking) {
  const std::vector<std::string> names = {"", "a..example.test", ".example.test",
                                          std::string(64, 'a') + ".test", std::string(254, 'a')};
  for (const auto& name : names) {
    EXPECT_EQ(ask(name, rr_type::a).status, dns_status::nxdomain) << "'" << name << "'";
  }
  // The longest label is a name like any other: asked, and answered from the zone's SOA.
  const dns_answer longest = ask(std::string(63, 'a') + ".example.test", rr_type::a);
  EXPECT_EQ(longest.status, dns_status::nxdomain);
  EXPECT_EQ(longest.ttl_s, 120u);
}

TEST(embedded_root, a_refuse_root_makes_undeclared_names_servfail) {
  boost::asio::io_context io;
  unbound_options o = world();
  o.local_zones.push_back(". refuse");
  auto r = make(io, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(ask(io, *r, "gmail.com", rr_type::mx).status, dns_status::servfail);
  EXPECT_EQ(ask(io, *r, "other.test", rr_type::a).status, dns_status::servfail);
  EXPECT_EQ(ask(io, *r, "nope.example.test", rr_type::a).status, dns_status::nxdomain);
  EXPECT_EQ(ask(io, *r, "elsewhere.example", rr_type::a).status, dns_status::ok);
}

TEST_F(embedded, a_thousand_concurrent_queries_are_each_answered_once) {
  constexpr int n = 1000;
  struct expectation {
    std::string name;
    rr_type type;
    dns_status status;
  };
  const std::array<expectation, 4> kinds = {{
      {"example.test", rr_type::mx, dns_status::ok},
      {"mx1.example.test", rr_type::a, dns_status::ok},
      {"nope.example.test", rr_type::a, dns_status::nxdomain},
      {"example.test", rr_type::aaaa, dns_status::nodata},
  }};
  std::vector<int> calls(n, 0);
  std::vector<dns_status> statuses(n, dns_status::timeout);
  for (int i = 0; i < n; ++i) {
    const auto& k = kinds[static_cast<std::size_t>(i) % kinds.size()];
    resolver_->resolve(k.name, k.type, [&, i](const dns_answer& a) {
      ++calls[static_cast<std::size_t>(i)];
      statuses[static_cast<std::size_t>(i)] = a.status;
    });
  }
  EXPECT_EQ(resolver_->in_flight(), static_cast<std::size_t>(n));
  io_.run();
  for (int i = 0; i < n; ++i) {
    const auto index = static_cast<std::size_t>(i);
    EXPECT_EQ(calls[index], 1) << i;
    EXPECT_EQ(statuses[index], kinds[index % kinds.size()].status) << i;
  }
  EXPECT_EQ(resolver_->in_flight(), 0u);
}

TEST_F(embedded, a_callback_may_ask_again) {
  std::vector<std::string> got;
  resolver_->resolve("example.test", rr_type::mx, [&](const dns_answer& a) {
    got.push_back(a.mx.at(1).exchange);
    resolver_->resolve(a.mx.at(1).exchange, rr_type::a,
                       [&](const dns_answer& b) { got.push_back(b.records.at(0)); });
  });
  io_.run();
  EXPECT_EQ(got, (std::vector<std::string>{"mx1.example.test", "192.0.2.1"}));
}

TEST(destruction, before_any_answer_no_callback_ever_runs) {
  boost::asio::io_context io;
  int calls = 0;
  {
    auto r = make(io, world());
    ASSERT_TRUE(r);
    for (int i = 0; i < 200; ++i) {
      r->resolve(i % 2 ? "example.test" : "nope.example.test", rr_type::mx,
                 [&](const dns_answer&) { ++calls; });
    }
  }
  io.run();
  EXPECT_EQ(calls, 0);
}

TEST(destruction, with_answers_waiting_no_callback_runs_after_it) {
  boost::asio::io_context io;
  auto r = make(io, world());
  ASSERT_TRUE(r);
  int calls = 0;
  for (int i = 0; i < 200; ++i) {
    r->resolve(i % 2 ? "example.test" : "nope.example.test", rr_type::mx,
               [&](const dns_answer&) { ++calls; });
  }
  // One callback has run: the others wait as posted callbacks, in libunbound's pipe or in
  // its thread.
  while (calls == 0 && io.run_one() > 0) {
  }
  ASSERT_EQ(calls, 1);
  r.reset();
  io.restart();
  io.run();
  EXPECT_EQ(calls, 1);
}

TEST(destruction, from_inside_a_callback_stops_the_others) {
  boost::asio::io_context io;
  auto r = make(io, world());
  ASSERT_TRUE(r);
  int calls = 0;
  for (int i = 0; i < 50; ++i) {
    r->resolve("mx1.example.test", rr_type::a, [&](const dns_answer&) {
      ++calls;
      r.reset();
    });
  }
  io.run();
  EXPECT_EQ(calls, 1);
}

// ---------------------------------------------------------------------------------------
// A scripted upstream: a UDP socket on 127.0.0.1 that answers every query with
// "A 192.0.2.1, TTL 60", either at once or only when release() is called, or never reads.

class scripted_upstream {
 public:
  enum class mode { answer, hold, silent };

  scripted_upstream(boost::asio::io_context& io, mode m)
      : socket_(io, udp::endpoint(boost::asio::ip::address_v4::loopback(), 0)), mode_(m) {
    if (m != mode::silent) receive();
  }

  std::string endpoint() const {
    return "127.0.0.1@" + std::to_string(socket_.local_endpoint().port());
  }
  std::size_t queries() const { return queries_; }
  void set_mode(mode m) { mode_ = m; }
  void close() { socket_.close(); }

  // Answers every query held so far.
  void release() {
    for (const auto& [query, from] : held_)
      socket_.send_to(boost::asio::buffer(reply_to(query)), from);
    held_.clear();
  }

 private:
  void receive() {
    socket_.async_receive_from(boost::asio::buffer(buffer_), from_,
                               [this](const boost::system::error_code& ec, std::size_t n) {
                                 if (ec) return;
                                 ++queries_;
                                 std::string query(buffer_.data(), n);
                                 if (mode_ == mode::answer) {
                                   socket_.send_to(boost::asio::buffer(reply_to(query)), from_);
                                 } else {
                                   held_.emplace_back(query, from_);
                                 }
                                 receive();
                               });
  }

  // The query's header and question, turned into a response with one A record.
  static std::string reply_to(const std::string& query) {
    std::size_t pos = 12;
    while (pos < query.size() && query[pos] != 0) pos += 1 + static_cast<unsigned char>(query[pos]);
    std::string r = query.substr(0, pos + 5);
    r[2] = static_cast<char>(r[2] | 0x80);  // QR
    r[3] = static_cast<char>(0x80);         // RA, NOERROR
    r.replace(4, 8, std::string("\0\1\0\1\0\0\0\0", 8));
    r += std::string("\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc0\0\2\1", 16);
    return r;
  }

  udp::socket socket_;
  mode mode_;
  std::array<char, 1500> buffer_{};
  udp::endpoint from_;
  std::vector<std::pair<std::string, udp::endpoint>> held_;
  std::size_t queries_ = 0;
};

TEST(forwarders, answers_come_from_the_forwarder) {
  boost::asio::io_context io;
  scripted_upstream upstream(io, scripted_upstream::mode::answer);
  unbound_options o;
  o.forwarders = {upstream.endpoint()};
  auto r = make(io, o);
  ASSERT_TRUE(r);
  int calls = 0;
  dns_answer got;
  r->resolve("host.example.com", rr_type::a, [&](const dns_answer& a) {
    ++calls;
    got = a;
    upstream.close();  // lets io.run() return
  });
  io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.status, dns_status::ok);
  EXPECT_EQ(got.records, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(got.ttl_s, 60u);
  EXPECT_GE(upstream.queries(), 1u);
}

TEST(forwarders, special_use_names_go_to_the_forwarder_too) {
  boost::asio::io_context io;
  scripted_upstream upstream(io, scripted_upstream::mode::answer);
  unbound_options o;
  o.forwarders = {upstream.endpoint()};
  auto r = make(io, o);
  ASSERT_TRUE(r);
  std::vector<dns_status> got;
  for (const char* name : {"mx.example.test", "2.0.0.127.in-addr.arpa", "1.2.0.192.in-addr.arpa"}) {
    r->resolve(name, rr_type::a, [&](const dns_answer& a) {
      got.push_back(a.status);
      if (got.size() == 3) upstream.close();
    });
  }
  io.run();
  EXPECT_EQ(got, std::vector<dns_status>(3, dns_status::ok));
}

TEST(forwarders, no_answer_in_time_is_a_timeout_and_a_late_answer_is_dropped) {
  boost::asio::io_context io;
  scripted_upstream upstream(io, scripted_upstream::mode::hold);
  unbound_options o;
  o.forwarders = {upstream.endpoint()};
  o.timeout = std::chrono::milliseconds(300);
  auto r = make(io, o);
  ASSERT_TRUE(r);
  int late_calls = 0;
  dns_answer late;
  r->resolve("late.example.com", rr_type::a, [&](const dns_answer& a) {
    ++late_calls;
    late = a;
  });
  // The upstream keeps io_context busy, so run step by step until the timeout arrives.
  while (late_calls == 0 && io.run_one() > 0) {
  }
  EXPECT_EQ(late.status, dns_status::timeout);
  EXPECT_EQ(r->in_flight(), 0u);
  ASSERT_GE(upstream.queries(), 1u);

  // Now the late answer arrives, and then the answer to a second query comes through the
  // same pipe: ub_process runs with the late one there to be (wrongly) delivered.
  upstream.release();
  upstream.set_mode(scripted_upstream::mode::answer);
  int second_calls = 0;
  r->resolve("second.example.com", rr_type::a, [&](const dns_answer& a) {
    ++second_calls;
    EXPECT_EQ(a.status, dns_status::ok);
    upstream.close();
  });
  io.run();
  EXPECT_EQ(late_calls, 1);
  EXPECT_EQ(second_calls, 1);
}

TEST(forwarders, a_silent_forwarder_times_out) {
  boost::asio::io_context io;
  scripted_upstream upstream(io, scripted_upstream::mode::silent);
  unbound_options o;
  o.forwarders = {upstream.endpoint()};
  o.timeout = std::chrono::milliseconds(200);
  auto r = make(io, o);
  ASSERT_TRUE(r);
  const dns_answer a = ask(io, *r, "example.com", rr_type::mx);
  EXPECT_EQ(a.status, dns_status::timeout);
  EXPECT_EQ(a.ttl_s, 0u);
}

TEST(forwarders, local_data_answers_its_names_first) {
  boost::asio::io_context io;
  scripted_upstream upstream(io, scripted_upstream::mode::silent);
  unbound_options o;
  o.forwarders = {upstream.endpoint()};
  o.local_data = {"override.example.com. 30 IN A 203.0.113.1"};
  o.timeout = std::chrono::milliseconds(200);
  auto r = make(io, o);
  ASSERT_TRUE(r);
  const dns_answer a = ask(io, *r, "override.example.com", rr_type::a);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"203.0.113.1"});
  EXPECT_EQ(ask(io, *r, "override.example.com", rr_type::mx).status, dns_status::nodata);
  EXPECT_EQ(ask(io, *r, "other.example.com", rr_type::a).status, dns_status::timeout);
}

// resolv.conf gives servers on port 53 only, so only the hosts file is checked here: a
// name found there never reaches the (unreachable) server.
TEST(system, reads_the_hosts_file) {
  namespace fs = std::filesystem;
  boost::asio::io_context io;
  const fs::path dir = fs::temp_directory_path() / "mailsim_unbound_system_test";
  fs::create_directories(dir);
  std::ofstream(dir / "resolv.conf") << "nameserver 192.0.2.53\n";  // TEST-NET-1: nobody
  std::ofstream(dir / "hosts") << "192.0.2.77 fromhosts.example.com\n";
  unbound_options o;
  o.resolv_conf = (dir / "resolv.conf").string();
  o.hosts = (dir / "hosts").string();
  o.timeout = std::chrono::milliseconds(200);
  ASSERT_EQ(mode_of(o), resolver_mode::system);
  auto r = make(io, o);
  ASSERT_TRUE(r);
  const dns_answer a = ask(io, *r, "fromhosts.example.com", rr_type::a);
  EXPECT_EQ(a.status, dns_status::ok);
  EXPECT_EQ(a.records, std::vector<std::string>{"192.0.2.77"});
  EXPECT_EQ(ask(io, *r, "fromhosts.example.com", rr_type::aaaa).status, dns_status::nodata);
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------------------

TEST(create, names_the_bad_item) {
  struct bad {
    unbound_options options;
    std::string error;
  };
  auto with = [](auto edit) {
    unbound_options o;
    edit(o);
    return o;
  };
  const std::vector<bad> cases = {
      {with([](auto& o) { o.forwarders = {"127.0.0.1@99999"}; }),
       "forwarders '127.0.0.1@99999': expected an IP address with an optional @port, like "
       "127.0.0.1@5353"},
      {with([](auto& o) {
         o.forwarders = {"192.0.2.1", "localhost"};
       }),
       "forwarders 'localhost': expected an IP address with an optional @port, like "
       "127.0.0.1@5353"},
      {with([](auto& o) {
         o.local_data = {"a.test. 300 IN A 192.0.2.1", "b.test. 300 IN A 1.2.3"};
       }),
       "local_data 'b.test. 300 IN A 1.2.3': not a valid record; expected \"name TTL IN TYPE "
       "rdata\", like \"mx.example.test. 300 IN A 192.0.2.1\""},
      {with([](auto& o) { o.local_zones = {"example.test. sometimes"}; }),
       "local_zones 'example.test. sometimes': expected \"name type\" with an Unbound "
       "local-zone type, like \"example.test. static\""},
      {with([](auto& o) { o.local_zones = {"example.test. static extra"}; }),
       "local_zones 'example.test. static extra': expected \"name type\" with an Unbound "
       "local-zone type, like \"example.test. static\""},
      {with([](auto& o) {
         o.local_zones = {"a.test. static", "A.Test refuse"};
       }),
       "local_zones 'A.Test refuse': zone 'a.test.' is declared twice"},
      {with([](auto& o) { o.local_zones = {"a..test. static"}; }),
       "local_zones 'a..test. static': expected \"name type\" with an Unbound local-zone "
       "type, like \"example.test. static\""},
      {with([](auto& o) { o.local_data = {"a.test. 300 IN AAAA 192.0.2.1"}; }),
       "local_data 'a.test. 300 IN AAAA 192.0.2.1': not a valid record; expected \"name TTL IN "
       "TYPE "
       "rdata\", like \"mx.example.test. 300 IN A 192.0.2.1\""},
      {with([](auto& o) {
         o.local_data = {"a.test. 1 IN A 192.0.2.1"};
         o.timeout = std::chrono::milliseconds(0);
       }),
       "the timeout must be longer than 0"},
      {with([](auto& o) { o.resolv_conf = "/nonexistent/resolv.conf"; }),
       "cannot use '/nonexistent/resolv.conf': error reading file"},
  };
  boost::asio::io_context io;
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(unbound_resolver::create(io, c.options, error)) << c.error;
    EXPECT_EQ(error, c.error);
  }
}

TEST(create, accepts_ipv6_forwarders_and_default_ports) {
  boost::asio::io_context io;
  unbound_options o;
  o.forwarders = {"::1@5353", "192.0.2.1", "2001:db8::53"};
  std::string error;
  EXPECT_TRUE(unbound_resolver::create(io, o, error)) << error;
}

}  // namespace
}  // namespace mailsim::net
