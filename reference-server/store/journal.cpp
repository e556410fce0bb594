#include "reference-server/store/journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "reference-server/store/checksum.hpp"
#include "reference-server/store/error.hpp"

namespace mailsim::store {
namespace {

constexpr std::uint32_t header_magic = 0x484a534d;  // "MSJH" read little-endian
constexpr std::uint32_t record_magic = 0x524a534d;  // "MSJR"
constexpr std::uint32_t format_version = 1;
constexpr std::uint64_t slot_bytes = 32;  // magic, version, generation, salt, checksum

// Fixed little-endian encoding: the file must read back the same on any host.
void put(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  }
  return value;
}

std::uint64_t round_up(std::uint64_t bytes) {
  const std::uint64_t page = delivery_journal::page_bytes;
  return (bytes + page - 1) / page * page;
}

std::uint64_t record_bytes(std::uint64_t payload_bytes) {
  return round_up(delivery_journal::record_head_bytes + payload_bytes);
}

std::string header_slot(std::uint64_t generation, std::uint64_t salt) {
  std::string slot;
  put(slot, header_magic, 4);
  put(slot, format_version, 4);
  put(slot, generation, 8);
  put(slot, salt, 8);
  put(slot, content_checksum(slot), 8);
  return slot;
}

struct slot_value {
  bool valid = false;
  std::uint64_t generation = 0;
  std::uint64_t salt = 0;
};

slot_value parse_slot(std::string_view slot) {
  if (slot.size() < slot_bytes || get(slot, 0, 4) != header_magic ||
      get(slot, 4, 4) != format_version ||
      content_checksum(slot.substr(0, slot_bytes - 8)) != get(slot, slot_bytes - 8, 8)) {
    return {};
  }
  return {true, get(slot, 8, 8), get(slot, 16, 8)};
}

}  // namespace

std::error_code delivery_journal::open(int at, const std::string& name, std::uint64_t size_bytes) {
  fd_ = fs::unique_fd(::openat(at, name.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd_.valid() && errno == ENOENT) {
    if (auto error = create(at, name, size_bytes)) return error;
    fd_ = fs::unique_fd(::openat(at, name.c_str(), O_RDWR | O_CLOEXEC));
  }
  if (!fd_.valid()) return fs::last_error();
  // Two writers would overwrite each other's records: one process per journal.
  if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) return fs::last_error();
  struct stat info {};
  if (::fstat(fd_.get(), &info) != 0) return fs::last_error();
  size_ = static_cast<std::uint64_t>(info.st_size);
  // A journal cut short cannot be trusted to hold every acknowledged record.
  if (size_ < size_min || size_ % page_bytes != 0) return errc::damaged;
  if (auto error = read_header()) return error;
  return generation_ == 0 ? reset() : std::error_code{};  // a new file has no header yet
}

// Zeros now, so that later appends only overwrite allocated, written blocks.
std::error_code delivery_journal::create(int at, const std::string& name,
                                         std::uint64_t size_bytes) {
  const std::string fresh = name + ".new";
  if (auto error = fs::remove_file(at, fresh)) return error;  // a creation a crash cut
  std::error_code error;
  fs::unique_fd fd = fs::create_file(at, fresh, error);
  if (error) return error;
  const std::uint64_t size = round_up(std::max(size_bytes, size_min));
  const std::string zeros(1 << 20, '\0');
  for (std::uint64_t done = 0; done < size && !error; done += zeros.size()) {
    error = fs::write_all(fd.get(), std::string_view(zeros).substr(0, size - done), {});
  }
  if (!error) error = fs::sync_fd(fd.get());
  if (const auto closed = fd.close(); !error) error = closed;
  if (!error && ::renameat(at, fresh.c_str(), at, name.c_str()) != 0) error = fs::last_error();
  if (!error) error = fs::sync_path(at, ".");
  return error;
}

std::error_code delivery_journal::read_header() {
  std::string bytes;
  if (auto error = fs::read_at(fd_.get(), 0, header_bytes, bytes)) return error;
  generation_ = 0;
  for (std::uint64_t slot = 0; slot < 2; ++slot) {
    const auto value = parse_slot(std::string_view(bytes).substr(slot * page_bytes));
    if (value.valid && value.generation > generation_) {
      generation_ = value.generation;
      salt_ = value.salt;
    }
  }
  end_ = header_bytes;
  return {};
}

std::uint64_t delivery_journal::record_checksum(std::string_view head,
                                                std::string_view payload) const {
  std::string salted;
  put(salted, salt_, 8);
  salted.append(head.substr(0, record_head_bytes - 8));
  return content_checksum(salted, payload);
}

std::error_code delivery_journal::replay(
    const std::function<void(std::string_view payload)>& each) {
  std::uint64_t at = header_bytes;
  std::string head;
  std::string payload;
  while (at + record_head_bytes <= size_) {
    if (auto error = fs::read_at(fd_.get(), at, record_head_bytes, head)) return error;
    if (head.size() < record_head_bytes || get(head, 0, 4) != record_magic ||
        get(head, 8, 8) != generation_) {
      break;
    }
    const std::uint64_t length = get(head, 16, 8);
    if (length > size_ - at - record_head_bytes) break;
    if (auto error = fs::read_at(fd_.get(), at + record_head_bytes, length, payload)) {
      return error;
    }
    if (payload.size() != length || record_checksum(head, payload) != get(head, 24, 8)) break;
    each(payload);
    at += record_bytes(length);
  }
  end_ = at;
  return {};
}

bool delivery_journal::fits(std::uint64_t payload_bytes) const {
  return !broken_ && end_ + record_bytes(payload_bytes) <= size_;
}

bool delivery_journal::could_fit(std::uint64_t payload_bytes) const {
  return header_bytes + record_bytes(payload_bytes) <= size_;
}

std::error_code delivery_journal::append(std::string_view payload) {
  if (!fd_.valid()) return errc::not_open;
  if (!fits(payload.size())) return errc::limit_exceeded;
  buffer_.clear();
  put(buffer_, record_magic, 4);
  put(buffer_, 0, 4);
  put(buffer_, generation_, 8);
  put(buffer_, payload.size(), 8);
  put(buffer_, record_checksum(buffer_, payload), 8);
  buffer_.append(payload);
  buffer_.resize(record_bytes(payload.size()), '\0');
  std::error_code error = fs::write_at(fd_.get(), buffer_, end_);
  if (!error) error = fs::sync_data(fd_.get());
  if (error) {
    broken_ = true;  // part of the record may be on disk; the next one must not follow it
    return error;
  }
  end_ += buffer_.size();
  return {};
}

std::error_code delivery_journal::reset() {
  if (!fd_.valid()) return errc::not_open;
  const std::uint64_t generation = generation_ + 1;
  const std::uint64_t salt = random_.next_u64();
  std::string slot = header_slot(generation, salt);
  slot.resize(page_bytes, '\0');
  std::error_code error = fs::write_at(fd_.get(), slot, (generation % 2) * page_bytes);
  if (!error) error = fs::sync_data(fd_.get());
  // A failed write may have torn its slot; the other one still names the old generation.
  if (error) return error;
  generation_ = generation;
  salt_ = salt;
  end_ = header_bytes;
  broken_ = false;
  return {};
}

void append_journal_message(std::string& payload, const journal_message& message) {
  put(payload, message.paths.size(), 4);
  for (const auto path : message.paths) {
    put(payload, path.size(), 4);
    payload.append(path);
  }
  put(payload, message.trace.size(), 8);
  payload.append(message.trace);
  put(payload, message.message.size(), 8);
  payload.append(message.message);
}

namespace {

// Reads a length of `bytes` octets and then that many octets, advancing `at`.
bool take(std::string_view in, std::size_t& at, int bytes, std::string_view& out) {
  if (in.size() - at < static_cast<std::size_t>(bytes)) return false;
  const std::uint64_t length = get(in, at, bytes);
  at += static_cast<std::size_t>(bytes);
  if (in.size() - at < length) return false;
  out = in.substr(at, static_cast<std::size_t>(length));
  at += static_cast<std::size_t>(length);
  return true;
}

}  // namespace

bool read_journal_messages(std::string_view payload,
                           const std::function<void(const journal_message&)>& each) {
  std::size_t at = 0;
  journal_message message;
  while (at < payload.size()) {
    if (payload.size() - at < 4) return false;
    const std::uint64_t paths = get(payload, at, 4);
    at += 4;
    message.paths.clear();
    for (std::uint64_t i = 0; i < paths; ++i) {
      std::string_view path;
      if (!take(payload, at, 4, path)) return false;
      message.paths.push_back(path);
    }
    if (!take(payload, at, 8, message.trace) || !take(payload, at, 8, message.message)) {
      return false;
    }
    each(message);
  }
  return true;
}

}  // namespace mailsim::store
