// Fuzz target: SPF records (reference-server/auth/spf_record.hpp parse_spf_record) and the
// check_host() evaluation over them (spf.hpp spf_evaluation). The input (up to 16 KiB) is
// one TXT record. One header byte is not used: the whole input is the record, so that the
// corpus files read as records.
// Checked beyond the sanitizers:
// - a refused record names a term that is in the record (or none for record-level errors)
//   and has a message; is_spf_record() agrees with not_spf;
// - an accepted record keeps every term as written, in order, CIDR lengths in range, and
//   every domain-spec passes check_domain_spec(); the terms written back as a record parse
//   to the same thing;
// - evaluated against a synthetic DNS where every TXT lookup returns this same record
//   (so include and redirect recurse into it), A/AAAA/MX/PTR answer fixed data and names
//   under "void." do not exist, the evaluation completes within the query cap, never asks
//   a question twice, and its counters stay within one past their limits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "reference-server/auth/spf.hpp"
#include "reference-server/auth/spf_record.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 16u << 10;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "spf_record property violated: %s\n", what);
  std::abort();
}

void check_refusal(std::string_view text, const auth::spf_parse_result& r) {
  require(!r.message().empty(), "a refusal without a message");
  require(r.term.empty() || text.find(r.term) != std::string_view::npos,
          "the offending term is not in the record");
  require((r.error == auth::spf_record_errc::not_spf) ==
              (!auth::is_spf_record(text) && r.error != auth::spf_record_errc::too_long &&
               r.error != auth::spf_record_errc::non_ascii),
          "not_spf disagrees with is_spf_record");
}

std::string written_back(const auth::spf_record& record) {
  std::string out = "v=spf1";
  for (const auto& m : record.mechanisms) out += " " + m.term;
  if (record.redirect) out += " " + record.redirect->term;
  if (record.exp) out += " " + record.exp->term;
  for (const auto& m : record.unknown) out += " " + m.term;
  return out;
}

void check_record(std::string_view text, const auth::spf_record& record) {
  std::size_t at = 0;
  for (const auth::spf_mechanism& m : record.mechanisms) {
    at = text.find(m.term, at);
    require(at != std::string_view::npos, "a mechanism term out of order or not as written");
    at += m.term.size();
    require(m.prefix4 <= 32 && m.prefix6 <= 128, "CIDR length out of range");
    require(m.domain_spec.empty() ||
                auth::check_domain_spec(m.domain_spec) == auth::spf_record_errc::ok,
            "an accepted domain-spec fails check_domain_spec");
  }
  const auth::spf_parse_result again = auth::parse_spf_record(written_back(record));
  require(again.ok(), "the terms written back do not parse");
  require(again.record.mechanisms.size() == record.mechanisms.size() &&
              again.record.unknown.size() == record.unknown.size() &&
              again.record.redirect.has_value() == record.redirect.has_value() &&
              again.record.exp.has_value() == record.exp.has_value(),
          "the terms written back parse differently");
}

core::dns_answer synthetic(const std::string& name, core::rr_type type, std::string_view record) {
  core::dns_answer a;
  a.status = core::dns_status::ok;
  if (name.rfind("void.", 0) == 0 || name.find(".void.") != std::string::npos) {
    a.status = core::dns_status::nxdomain;
    return a;
  }
  switch (type) {
    case core::rr_type::txt:
      a.records = {std::string(record), "unrelated text"};
      break;
    case core::rr_type::a:
      a.records = {"192.0.2.1", "198.51.100.7"};
      break;
    case core::rr_type::aaaa:
      a.records = {"2001:db8::1"};
      break;
    case core::rr_type::mx:
      a.mx = {{10, "mx1.example.org"}, {20, "mx2.example.org"}};
      break;
    case core::rr_type::ptr:
      a.records = {"mail.example.org", "other.example.net"};
      break;
    case core::rr_type::cname:
      a.status = core::dns_status::nodata;
      break;
  }
  return a;
}

void check_evaluation(std::string_view record, bool v6) {
  auth::spf_request request;
  request.ip = *core::parse_ip(v6 ? "2001:db8::1" : "192.0.2.1");
  request.mail_from = "user@example.org";
  request.helo = "mail.example.org";
  auth::spf_options options;
  auth::spf_evaluation e(request, false, options);
  std::set<std::pair<std::string, core::rr_type>> asked;
  for (std::size_t round = 0; !e.complete(); ++round) {
    require(round <= options.queries_max, "the evaluation does not complete");
    const std::vector<auth::spf_evaluation::query> queries = e.queries();
    require(!queries.empty(), "incomplete without a question");
    for (const auto& q : queries) {
      require(asked.insert({q.name, q.type}).second, "a question asked twice");
      e.on_answer(q.name, q.type, synthetic(q.name, q.type, record));
    }
  }
  require(asked.size() <= options.queries_max, "more questions than the cap");
  const auth::spf_outcome& o = e.outcome();
  require(o.dns_lookups <= options.dns_mechanisms_max + 1, "lookup counter past its limit");
  require(o.void_lookups <= options.void_lookups_max + 1, "void counter past its limit");
  require(o.result == auth::spf_result::fail || o.explanation.empty(),
          "an explanation on a result other than fail");
  (void)auth::received_spf(o, request);
  (void)auth::authres_text(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auth::spf_parse_result r = auth::parse_spf_record(text);
  if (!r.ok()) {
    check_refusal(text, r);
    return 0;
  }
  check_record(text, r.record);
  check_evaluation(text, false);
  check_evaluation(text, true);
  return 0;
}
