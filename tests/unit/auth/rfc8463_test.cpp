// RFC 8463 Appendix A, from the files in ../shared/conformance: the A.1 private key, the A.2
// key records and the A.3 message signed twice (ed25519-sha256 and rsa-sha256).
// Ed25519 signatures are deterministic, so signing A.3's message with A.1's key over the same
// field must give the RFC's b= octet for octet.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "auth_fixtures.hpp"
#include "reference-server/auth/dkim_signature.hpp"
#include "reference-server/auth/dkim_signer.hpp"
#include "reference-server/auth/dkim_verifier.hpp"

namespace mailsim::auth {
namespace {

namespace fs = std::filesystem;

fs::path conformance_dir() {
  const char* env = std::getenv("MAILSIM_CONFORMANCE_DIR");
  return env != nullptr ? fs::path(env) : fs::path(MAILSIM_CONFORMANCE_DIR);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The files keep the RFC's text with LF line ends; mail on the wire has CRLF.
std::string to_crlf(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' && (out.empty() || out.back() != '\r')) out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// Lines `name TTL IN TXT "..."` (one string each in A.2) into the fake resolver.
void load_zone(const std::string& zone, test::fake_resolver& dns) {
  std::istringstream lines(zone);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == ';') continue;
    std::istringstream words(line);
    std::string name, ttl, cls, type;
    words >> name >> ttl >> cls >> type;
    std::size_t open = line.find('"');
    std::size_t close = line.rfind('"');
    ASSERT_EQ(type, "TXT") << line;
    ASSERT_LT(open, close) << line;
    if (name.back() == '.') name.pop_back();
    dns.add_txt(name, {line.substr(open + 1, close - open - 1)});
  }
}

class Rfc8463 : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path dir = conformance_dir();
    if (!fs::exists(dir / "rfc8463-A3-signed.eml")) {
      GTEST_SKIP() << "RFC 8463 example files not found in " << dir
                   << " (set MAILSIM_CONFORMANCE_DIR)";
    }
    signed_ = to_crlf(read_file(dir / "rfc8463-A3-signed.eml"));
    load_zone(read_file(dir / "rfc8463-A2-dns.zone"), dns_);
    private_key_result key = private_key::load(read_file(dir / "rfc8463-A1-ed25519.key"));
    ASSERT_TRUE(key.ok()) << key.error.message();
    key_ = *key.key;
    message_parts parts = split_message(signed_);
    ASSERT_GE(parts.fields.size(), 2u);
    ed_field_ = std::string(parts.fields[0].raw);
    rsa_field_ = std::string(parts.fields[1].raw);
    unsigned_ = signed_.substr(ed_field_.size() + rsa_field_.size());
  }

  std::string signed_;     // A.3 as published
  std::string unsigned_;   // A.3 without its two signatures
  std::string ed_field_;   // the ed25519-sha256 DKIM-Signature field
  std::string rsa_field_;  // the rsa-sha256 one
  std::optional<private_key> key_;
  test::fake_resolver dns_;
};

TEST_F(Rfc8463, A1KeyMatchesTheA2Record) {
  EXPECT_EQ(key_->dns_record(),
            "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
}

TEST_F(Rfc8463, SigningTheA3FieldReproducesTheRfcSignature) {
  signature_parse_result published = parse_signature(ed_field_);
  ASSERT_TRUE(published.ok()) << published.error;
  std::string unsigned_field = without_b_value(ed_field_, published.signature);
  unsigned_field.resize(unsigned_field.size() - 2);  // sign_field takes it without its CRLF
  sign_result ours = sign_field(*key_, unsigned_, unsigned_field);
  ASSERT_TRUE(ours.ok()) << ours.error.message();
  signature_parse_result reparsed = parse_signature(ours.field);
  ASSERT_TRUE(reparsed.ok()) << reparsed.error;
  EXPECT_EQ(reparsed.signature.signature_text, published.signature.signature_text);
  EXPECT_EQ(
      reparsed.signature.signature_text,
      "9/dsDChY0YMTtD5Eyw3wx7x22BlSJP7M5ECbJ7GWrR45nXlTCGb8l0YBo0wBLR++X5LqmsxXaOYLLJe46l10AQ==");
}

TEST_F(Rfc8463, SignerWithTheSameSettingsGivesTheSameHashesAndVerifies) {
  sign_options o = test::options_for("football.example.com", "brisbane");
  o.identity = "@football.example.com";
  o.header_canon = o.body_canon = canon::simple;
  o.headers = {"from", "to", "subject", "date", "message-id"};
  o.oversign = {"from", "subject", "date"};
  core::time_point t = core::from_epoch_ms(1518460054LL * 1000);
  sign_result ours = dkim_signer(*key_, o).sign(unsigned_, t);
  ASSERT_TRUE(ours.ok()) << ours.error.message();
  dkim_signature mine = parse_signature(ours.field).signature;
  dkim_signature theirs = parse_signature(ed_field_).signature;
  EXPECT_EQ(mine.body_hash, theirs.body_hash);
  EXPECT_EQ(mine.headers, theirs.headers);  // from:to:subject:date:message-id:from:subject:date
  EXPECT_EQ(mine.timestamp, theirs.timestamp);
  std::vector<dkim_result> results = test::verify_all(ours.field + unsigned_, dns_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, dkim_status::pass) << results[0].reason;
}

TEST_F(Rfc8463, VerifyingA3WithTheA2ZonePassesBothSignatures) {
  std::vector<dkim_result> results = test::verify_all(signed_, dns_);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(authres_text(results[0]),
            "dkim=pass header.d=football.example.com header.s=brisbane header.a=ed25519-sha256");
  EXPECT_EQ(authres_text(results[1]),
            "dkim=pass header.d=football.example.com header.s=test header.a=rsa-sha256");
}

TEST_F(Rfc8463, A3WithAChangedBodyFailsBoth) {
  std::string changed = signed_;
  changed.replace(changed.find("hungry"), 6, "thirsty");
  std::vector<dkim_result> results = test::verify_all(changed, dns_);
  ASSERT_EQ(results.size(), 2u);
  for (const dkim_result& r : results) {
    EXPECT_EQ(r.status, dkim_status::fail);
    EXPECT_EQ(r.reason, "body hash did not verify");
  }
}

}  // namespace
}  // namespace mailsim::auth
