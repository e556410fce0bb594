// Test helpers for the simulated providers: a small world (scheduler, streams, trace,
// network, recorder) around one provider, and a scripted SMTP line client that sends its
// next line after each complete reply.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/engine/rng.hpp"
#include "simulator/engine/scheduler.hpp"
#include "simulator/engine/trace.hpp"
#include "simulator/metrics/recorder.hpp"
#include "simulator/network/network.hpp"
#include "simulator/world/receiver.hpp"

namespace mailsim::sim::world::test {

inline constexpr const char* mx_address = "198.51.100.25";
inline constexpr const char* client_ip = "192.0.2.10";

inline provider_spec spec_of(const std::string& profile, std::size_t valid = 10) {
  provider_spec spec;
  spec.profile = profile;
  spec.name = profile;
  spec.domains = {"dest.sim"};
  spec.mx = {mx_spec{"mx1.dest.sim", 10, mx_address}};
  spec.mailboxes.valid = valid;
  return spec;
}

// Sends script[0] after the greeting, script[i] after the reply to script[i-1]; keeps each
// reply's final line. An empty script line closes the connection instead.
class line_client final : public core::stream_handler {
 public:
  line_client(network::virtual_network& net, const std::string& ip, std::vector<std::string> script)
      : script_(std::move(script)), transport_(net.make_transport({ip})) {
    stream_ = transport_->connect({{mx_address, 25}, {ip, 0}, core::duration_ms{30'000}}, *this);
  }

  void on_connected() override {}
  void on_data(std::string_view bytes) override {
    buffer_ += bytes;
    for (auto end = buffer_.find("\r\n"); end != std::string::npos; end = buffer_.find("\r\n")) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      if (line.size() >= 4 && line[3] == '-') continue;
      replies.push_back(line);
      send_next();
    }
  }
  void on_tls_ready(const core::tls_result&) override {}
  void on_closed(std::error_code) override { closed = true; }

  void send_next() {
    if (next_ >= script_.size() || closed) return;
    const std::string& line = script_[next_++];
    if (line.empty()) {
      stream_->close();
      closed = true;
      return;
    }
    stream_->write(line);
  }

  std::vector<std::string> replies;
  bool closed = false;

 private:
  std::vector<std::string> script_;
  std::size_t next_ = 0;
  std::string buffer_;
  std::unique_ptr<core::transport> transport_;
  std::unique_ptr<core::stream> stream_;
};

// "From: ...\r\nMessage-ID: <mN@sender.sim>\r\n..." ending in CRLF . CRLF.
inline std::string message_text(std::uint64_t number, double score = 0) {
  std::string text =
      "From: a@sender.sim\r\nMessage-ID: <m" + std::to_string(number) + "@sender.sim>\r\n";
  if (score != 0) text += "X-Mailsim-Score: " + std::to_string(score) + "\r\n";
  return text + "Subject: hi\r\n\r\nHello.\r\n.\r\n";
}

// One message from a@sender.sim to `rcpts`, then QUIT.
inline std::vector<std::string> one_message(const std::vector<std::string>& rcpts,
                                            std::uint64_t number = 1, double score = 0) {
  std::vector<std::string> s = {"EHLO out.sender.sim\r\n", "MAIL FROM:<a@sender.sim>\r\n"};
  for (const auto& r : rcpts) s.push_back("RCPT TO:<" + r + ">\r\n");
  s.push_back("DATA\r\n");
  s.push_back(message_text(number, score));
  s.push_back("QUIT\r\n");
  return s;
}

struct small_world {
  explicit small_world(const provider_spec& spec, std::uint64_t seed = 1,
                       core::resolver* dns = nullptr)
      : streams(seed), tr(sched.clock()), net(sched, streams, &tr, options()), record(sched.now()) {
    tr.add_sink(sink);
    world_services services;
    services.sched = &sched;
    services.streams = &streams;
    services.tr = &tr;
    services.net = &net;
    services.dns = dns;
    services.record = &record;
    services.trap_hit = [this](const std::string& ip, const std::string& domain,
                               core::time_point) {
      trap_hits.push_back(ip);
      trap_domains.push_back(domain);
    };
    services.complaint = [this](const std::string& ip, const std::string&, core::time_point) {
      complaints.push_back(ip);
    };
    receiver = std::make_unique<provider>(spec, services);
    receiver->start();
  }

  static network::network_options options() {
    network::network_options o;
    o.default_link.latency = core::duration_ms{10};
    return o;
  }

  // Runs one scripted dialogue from `ip` to the end (or `for_ms` of virtual time).
  std::vector<std::string> talk(std::vector<std::string> script, const std::string& ip = client_ip,
                                core::duration_ms for_ms = core::duration_ms{60'000}) {
    line_client c(net, ip, std::move(script));
    sched.run_for(for_ms);
    return c.replies;
  }

  // Adds the workload's record of (message, recipient), as the world does at enqueue.
  std::size_t expect_record(std::uint64_t message, const std::string& rcpt) {
    metrics::message_record r;
    r.message = message;
    r.recipient = rcpt;
    return record.add(r);
  }

  std::size_t count_reply(const std::string& key) const {
    std::size_t n = 0;
    for (const auto& [k, c] : record.series()) {
      auto it = c.by_reply.find(key);
      if (it != c.by_reply.end()) n += it->second;
    }
    return n;
  }
  metrics::series_counts totals() const {
    metrics::series_counts t;
    for (const auto& [k, c] : record.series()) {
      t.connections += c.connections;
      t.accepted += c.accepted;
      t.deferred += c.deferred;
      t.rejected += c.rejected;
      t.trap_hits += c.trap_hits;
      t.complaints += c.complaints;
    }
    return t;
  }
  bool traced(std::string_view text) const { return sink.text().find(text) != std::string::npos; }

  scheduler sched;
  random_streams streams;
  trace tr;
  memory_sink sink;
  network::virtual_network net;
  metrics::recorder record;
  std::vector<std::string> trap_hits;
  std::vector<std::string> trap_domains;  // MAIL FROM domain of each trap hit
  std::vector<std::string> complaints;
  std::unique_ptr<provider> receiver;
};

inline std::string code_of(const std::string& reply) {
  return reply.substr(0, 3);
}

// The first address of `kind` in the provider's population.
inline std::string address_of(const provider& p, const std::string& kind) {
  for (const auto& e : p.population()) {
    if (e.kind == kind) return e.address;
  }
  ADD_FAILURE() << "no " << kind << " address";
  return {};
}

}  // namespace mailsim::sim::world::test
