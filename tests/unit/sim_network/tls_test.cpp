// simulator/network: STARTTLS as a flag on the link (core/transport.hpp, RFC 3207).
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/sim_network/harness.hpp"

namespace mailsim::sim::network::test {
namespace {

using core::duration_ms;

core::tls_request hostname_request(std::string name) {
  core::tls_request request;
  request.server_name = std::move(name);
  request.verify = core::tls_verify::hostname;
  return request;
}

class tls_test : public network_test {
 protected:
  // A listener whose server side answers "STARTTLS" with "220 go", then starts TLS, and
  // answers anything later with "ok <bytes>".
  void listen_tls(tls_profile profile, std::string extra_after_220 = {}) {
    listen_options options;
    options.tls = std::move(profile);
    ASSERT_TRUE(net->listen(mx, server, options));
    server.setup = [extra = std::move(extra_after_220)](link_stream& s, recorder& r) {
      r.on_bytes = [&s, &r, extra](std::string_view bytes) {
        if (bytes == "STARTTLS\r\n") {
          s.write("220 go\r\n");
          if (!extra.empty()) s.write(extra);
          s.start_tls({});
        } else if (r.tls) {
          s.write("ok " + std::string(bytes));
        }
      };
    };
  }
  // The client says STARTTLS once connected and starts TLS on the 220.
  std::unique_ptr<core::stream> client_starttls(core::tls_request request) {
    auto stream = connect();
    auto* raw = stream.get();
    client.on_connect = [raw] { raw->write("STARTTLS\r\n"); };
    client.on_bytes = [raw, request](std::string_view bytes) {
      if (bytes == "220 go\r\n") raw->start_tls(request);
    };
    return stream;
  }
  tls_profile mx_certificate() {
    tls_profile p;
    p.names = {"mx.example.net", "*.mail.example.net"};
    return p;
  }
};

TEST_F(tls_test, TheHandshakeTakesOneRoundTripAfterBothSidesStarted) {
  latency(10);
  listen_tls(mx_certificate());
  auto stream = client_starttls(hostname_request("MX.example.net"));
  sched.run_until_idle();
  // Connected +20, STARTTLS at the server +30, 220 at the client +40, ready at +60.
  EXPECT_EQ(client.events, (ev{"+20 connected", "+40 data 220 go\r\n", "+60 tls TLSv1.3"}));
  EXPECT_EQ(server.handler().events.back(), "+60 tls TLSv1.3");
  ASSERT_TRUE(client.tls);
  EXPECT_TRUE(client.tls->verified());
  EXPECT_EQ(client.tls->cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_TRUE(server.stream().tls_active());
  EXPECT_EQ(server.stream().tls_server_name(), "MX.example.net");
}

TEST_F(tls_test, BytesWrittenDuringTheHandshakeGoOutEncryptedAfterIt) {
  latency(10);
  listen_tls(mx_certificate());
  auto stream = client_starttls(hostname_request("mx.example.net"));
  auto* raw = stream.get();
  client.on_bytes = [raw](std::string_view bytes) {
    if (bytes != "220 go\r\n") return;
    raw->start_tls(hostname_request("mx.example.net"));
    raw->write("EHLO again\r\n");
  };
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events.back(), "+70 data EHLO again\r\n");
  EXPECT_EQ(client.events.back(), "+80 data ok EHLO again\r\n");
}

TEST_F(tls_test, ClearTextAfterStartTlsIsDropped) {
  listen_tls(mx_certificate(), "250 injected\r\n");
  auto stream = client_starttls(hostname_request("mx.example.net"));
  sched.run_until_idle();
  EXPECT_EQ(client.data, "220 go\r\n");  // never the injected reply (RFC 3207 §6)
  EXPECT_TRUE(client.tls);
  EXPECT_NE(sink.text().find("dropped 14 clear-text bytes after starttls"), std::string::npos);
}

TEST_F(tls_test, AWildcardNamesOneLabel) {
  listen_tls(mx_certificate());
  auto stream = client_starttls(hostname_request("mx1.mail.example.net"));
  sched.run_until_idle();
  ASSERT_TRUE(client.tls);
  EXPECT_TRUE(client.tls->name_matched);
}

TEST_F(tls_test, ANameTheCertificateLacksFailsUnderHostname) {
  listen_tls(mx_certificate());
  auto stream = client_starttls(hostname_request("a.b.mail.example.net"));
  sched.run_until_idle();
  EXPECT_EQ(client.closed, core::transport_errc::tls_name_mismatch);
  EXPECT_EQ(server.handler().closed, core::transport_errc::tls_handshake_failed);
  EXPECT_EQ(net->stats().tls_failures, 1u);
}

TEST_F(tls_test, AnUntrustedChainFailsUnderTrusted) {
  auto profile = mx_certificate();
  profile.trusted = false;
  listen_tls(profile);
  core::tls_request request;
  request.verify = core::tls_verify::trusted;
  auto stream = client_starttls(request);
  sched.run_until_idle();
  EXPECT_EQ(client.closed, core::transport_errc::tls_untrusted);
}

TEST_F(tls_test, AnExpiredCertificateFailsUnderTrusted) {
  auto profile = mx_certificate();
  profile.expired = true;
  listen_tls(profile);
  core::tls_request request;
  request.verify = core::tls_verify::trusted;
  auto stream = client_starttls(request);
  sched.run_until_idle();
  EXPECT_EQ(client.closed, core::transport_errc::tls_expired);
}

TEST_F(tls_test, NoTlsAtTheListenerFailsTheHandshakeUnderEveryMode) {
  auto profile = mx_certificate();
  profile.available = false;
  listen_tls(profile);
  auto stream = client_starttls({});
  sched.run_until_idle();
  EXPECT_EQ(client.closed, core::transport_errc::tls_handshake_failed);
}

TEST_F(tls_test, UnderNoneABadCertificateIsOnlyReported) {
  auto profile = mx_certificate();
  profile.trusted = false;
  listen_tls(profile);
  core::tls_request request;
  request.server_name = "other.example";
  auto stream = client_starttls(request);
  sched.run_until_idle();
  ASSERT_TRUE(client.tls);
  EXPECT_FALSE(client.tls->chain_trusted);
  EXPECT_FALSE(client.tls->name_matched);
  EXPECT_EQ(client.tls->detail,
            "certificate not trusted; certificate does not name \"other.example\"");
}

TEST_F(tls_test, StartTlsTwiceIsNotPermitted) {
  listen_tls(mx_certificate());
  auto stream = client_starttls({});
  auto* raw = stream.get();
  client.on_bytes = [raw](std::string_view) {
    raw->start_tls({});
    raw->start_tls({});
  };
  sched.run_until_idle();
  EXPECT_EQ(client.events.back(), "+0 closed not_permitted");
  EXPECT_EQ(server.handler().closed, std::errc::connection_reset);
}

TEST_F(tls_test, StartTlsBeforeOnConnectedIsNotPermitted) {
  listen_tls(mx_certificate());
  auto stream = connect();
  stream->start_tls({});
  EXPECT_TRUE(client.events.empty());  // not from inside start_tls()
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+0 closed not_permitted"}));
}

TEST_F(tls_test, HostnameVerificationNeedsAServerName) {
  listen_tls(mx_certificate());
  auto stream = client_starttls(hostname_request(""));
  sched.run_until_idle();
  EXPECT_EQ(client.events.back(), "+0 closed invalid_argument");
}

TEST_F(tls_test, AHandshakeThePeerNeverJoinsTimesOut) {
  latency(10);
  ASSERT_TRUE(net->listen(mx, server, {}));  // a server that never starts TLS
  auto stream = connect();
  core::tls_request request;
  request.timeout = duration_ms{1'000};
  client.on_connect = [&] { stream->start_tls(request); };
  sched.run_until_idle();
  EXPECT_EQ(client.events, (ev{"+20 connected", "+1020 closed timed_out"}));
  EXPECT_EQ(server.handler().events.back(), "+1030 closed reset");
}

TEST_F(tls_test, CloseDuringTheHandshakeAbandonsIt) {
  latency(10);
  ASSERT_TRUE(net->listen(mx, server, {}));
  auto stream = connect();
  client.on_connect = [&] {
    stream->start_tls({});
    stream->write("waits for the handshake");
    stream->close();
  };
  sched.run_until_idle();
  EXPECT_EQ(server.handler().events, (ev{"+10 connected", "+30 closed reset"}));
}

}  // namespace
}  // namespace mailsim::sim::network::test
