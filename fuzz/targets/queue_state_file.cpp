// Fuzz target: the spool's state file reader (reference-server/queue/state_file.hpp
// decode_state). No header byte; the input (up to 64 KiB) is decoded twice:
//   1. as it is, so that truncation, a bad "end" line and a wrong checksum are reached;
//   2. with its last "end ..." line (if any) replaced by a correct one for the bytes
//      before it: a random mutation almost never fixes the FNV-1a checksum, and without
//      this the fuzzer would not get past it.
//   3. as a message file (message_file.hpp): the state its last line announces, if any,
//      must lie inside the input before that line, and is decoded as in 1.
// Checked beyond the sanitizers: a refusal has an error and no value; an accepted file
// has a recipient, and writing it back and reading that again gives the same value
// (the encoded forms compare equal, and so do the recipients' states); embedded after a
// message, an accepted state is found back whole.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "reference-server/queue/message_file.hpp"
#include "reference-server/queue/state_file.hpp"

namespace {

using namespace mailsim;

constexpr std::size_t input_bytes_max = 64u << 10;

void require(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "queue_state_file property violated: %s\n", what);
  std::abort();
}

// The checksum line as state_file.hpp defines it: FNV-1a 64 (offset basis and prime from
// the FNV specification) of every byte before it, 16 lower-case hex digits.
std::string end_line(std::string_view body) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : body) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "end 0000000000000000\n";
  for (std::size_t i = 0; i < 16; ++i) out[4 + 15 - i] = digits[(hash >> (4 * i)) & 0xf];
  return out;
}

// `text` with its final "end" line dropped and a correct one appended.
std::string with_checksum(std::string_view text) {
  std::string body(text);
  if (!body.empty() && body.back() == '\n') body.pop_back();
  const std::size_t last = body.rfind('\n');
  const std::size_t start = last == std::string::npos ? 0 : last + 1;
  if (std::string_view(body).substr(start).starts_with("end ")) {
    body.resize(start);
  } else if (!body.empty()) {
    body += '\n';
  }
  return body + end_line(body);
}

bool same_recipients(const queue::queued_message& a, const queue::queued_message& b) {
  if (a.recipients.size() != b.recipients.size()) return false;
  for (std::size_t i = 0; i < a.recipients.size(); ++i) {
    const smtp::recipient& x = a.recipients[i].rcpt;
    const smtp::recipient& y = b.recipients[i].rcpt;
    if (!(a.recipients[i].status == b.recipients[i].status) ||
        x.address.box.local_part != y.address.box.local_part ||
        x.address.box.domain != y.address.box.domain || x.orcpt != y.orcpt ||
        x.notify.specified != y.notify.specified || x.notify.never != y.notify.never ||
        x.notify.success != y.notify.success || x.notify.failure != y.notify.failure ||
        x.notify.delay != y.notify.delay) {
      return false;
    }
  }
  return true;
}

void decode_and_check(std::string_view text) {
  const queue::state_decode first = queue::decode_state(text);
  if (!first.value) {
    require(!first.error.empty(), "a refusal without an error");
    return;
  }
  require(first.error.empty(), "an accepted file with an error");
  require(!first.value->recipients.empty(), "an accepted file without recipients");
  const std::string encoded = queue::encode_state(*first.value);
  const queue::state_decode second = queue::decode_state(encoded);
  if (!second.value) std::fprintf(stderr, "re-read refused: %s\n", second.error.c_str());
  require(second.value.has_value(), "encode_state wrote a file decode_state refuses");
  require(queue::encode_state(*second.value) == encoded, "round trip changed the value");
  const queue::queued_message& a = *first.value;
  const queue::queued_message& b = *second.value;
  require(a.id == b.id && a.queued_at == b.queued_at && a.size_bytes == b.size_bytes &&
              a.received_from == b.received_from &&
              a.envelope.reverse_path.null == b.envelope.reverse_path.null &&
              a.envelope.envid == b.envelope.envid && a.envelope.auth_user == b.envelope.auth_user,
          "round trip changed a message field");
  require(same_recipients(a, b), "round trip changed a recipient");
  const std::string file = "x\r\n" + queue::embedded_state_tail(a);
  const auto embedded = queue::find_embedded_state(file);
  require(embedded && embedded->message_bytes == 3 && embedded->state == encoded,
          "an embedded state is not found back");
}

void check_embedded(std::string_view file) {
  const auto found = queue::find_embedded_state(file);
  if (!found) return;
  require(found->state.data() == file.data() + found->message_bytes &&
              found->message_bytes + found->state.size() < file.size(),
          "an embedded state outside the file, or past its last line");
  decode_and_check(found->state);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > input_bytes_max) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  decode_and_check(text);
  decode_and_check(with_checksum(text));
  check_embedded(text);
  return 0;
}
