#include "scenario/scenario.hpp"

#include <array>
#include <bit>
#include <mutex>
#include <unordered_set>
#include <initializer_list>
#include <string>
#include <vector>

#include "protocol/header.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::scenario {
namespace {

constexpr std::array kFrameKinds{
    protocol::NamedValue<FrameKind>{FrameKind::mutation, "mutation"},
    protocol::NamedValue<FrameKind>{FrameKind::deletion, "deletion"},
    protocol::NamedValue<FrameKind>{FrameKind::flush, "flush"},
    protocol::NamedValue<FrameKind>{FrameKind::opaque, "opaque"},
    protocol::NamedValue<FrameKind>{FrameKind::vbucket_set, "vbucket_set"},
    protocol::NamedValue<FrameKind>{FrameKind::checkpoint_start, "checkpoint_start"},
    protocol::NamedValue<FrameKind>{FrameKind::checkpoint_end, "checkpoint_end"},
    protocol::NamedValue<FrameKind>{FrameKind::noop, "noop"},
    protocol::NamedValue<FrameKind>{FrameKind::connect_error, "connect_error"},
    protocol::NamedValue<FrameKind>{FrameKind::raw, "raw"},
};

constexpr std::array kCloseForms{
    protocol::NamedValue<Close::How>{Close::How::fin, "fin"},
    protocol::NamedValue<Close::How>{Close::How::rst, "rst"},
    protocol::NamedValue<Close::How>{Close::How::half_close, "half_close"},
    protocol::NamedValue<Close::How>{Close::How::stall, "stall"},
    protocol::NamedValue<Close::How>{Close::How::wait, "wait"},
};

// The engine-specific sizes ep-engine sends (protocol.md section 4.2).
constexpr std::size_t kMutationEngineSize = 9;  // rev seqno u64 + NRU u8
constexpr std::size_t kRevSeqnoSize = 8;
constexpr std::size_t kEngineCodeSize = 4;      // opaque sub-code, vbucket state
constexpr std::size_t kCheckpointIdSize = 8;    // the value of CHECKPOINT_START / _END

// Sums parts whose sizes may be unknown; unknown if any is.
std::optional<std::size_t> sum(std::initializer_list<std::optional<std::size_t>> parts) {
  std::size_t total = 0;
  for (const auto& part : parts) {
    if (!part) return std::nullopt;
    total += *part;
  }
  return total;
}

std::optional<std::size_t> length_or(const BytesValue* value, std::size_t otherwise) {
  return value ? value->fixed_length() : otherwise;
}

// Paths, each held once for the process: a location points at its path. (A run opens a
// bounded number of files; the set outlives them.)
const std::string* intern_path(std::string_view path) {
  static std::mutex mutex;
  static std::unordered_set<std::string> paths;
  std::lock_guard lock(mutex);
  return &*paths.emplace(path).first;
}

// The place of field `bit` among the set ones of `mask`.
std::size_t rank(std::uint32_t mask, unsigned bit) { return static_cast<std::size_t>(std::popcount(mask & ((1u << bit) - 1))); }

}  // namespace

const std::string SourceLocation::kNoFile;

SourceLocation::SourceLocation(std::string_view file, int line, int column)
    : line(line), column(column), file_(file.empty() ? &kNoFile : intern_path(file)) {}

const NumberValue* FrameSpec::find(SendField field) const {
  const auto bit = static_cast<unsigned>(field);
  if (!(numbers_set_ & (1u << bit))) return nullptr;
  return &numbers_[rank(numbers_set_, bit)];
}

const BytesValue* FrameSpec::find(SendBytes field) const {
  const auto bit = static_cast<unsigned>(field);
  if (!(bytes_set_ & (1u << bit))) return nullptr;
  return &bytes_[rank(bytes_set_, bit)];
}

std::optional<NumberValue> FrameSpec::get(SendField field) const {
  const NumberValue* v = find(field);
  return v ? std::optional<NumberValue>(*v) : std::nullopt;
}

std::optional<BytesValue> FrameSpec::get(SendBytes field) const {
  const BytesValue* v = find(field);
  return v ? std::optional<BytesValue>(*v) : std::nullopt;
}

void FrameSpec::set(SendField field, NumberValue value) {
  const auto bit = static_cast<unsigned>(field);
  const auto at = numbers_.begin() + static_cast<std::ptrdiff_t>(rank(numbers_set_, bit));
  if (numbers_set_ & (1u << bit)) {
    *at = value;
  } else {
    numbers_.insert(at, value);
    numbers_set_ |= 1u << bit;
  }
}

void FrameSpec::set(SendBytes field, BytesValue value) {
  const auto bit = static_cast<unsigned>(field);
  const auto at = bytes_.begin() + static_cast<std::ptrdiff_t>(rank(bytes_set_, bit));
  if (bytes_set_ & (1u << bit)) {
    *at = std::move(value);
  } else {
    bytes_.insert(at, std::move(value));
    bytes_set_ = static_cast<std::uint8_t>(bytes_set_ | (1u << bit));
  }
}

std::string_view name_of(FrameKind kind) { return protocol::find_name(all_frame_kinds(), kind); }

std::span<const protocol::NamedValue<FrameKind>> all_frame_kinds() { return kFrameKinds; }

std::string_view send_statement(FrameKind kind) {
  // Made once: reports name the step of every frame a volume scenario sends.
  static const auto statements = [] {
    std::vector<std::string> out;
    for (const auto& entry : kFrameKinds) out.push_back("send " + std::string(entry.name));
    return out;
  }();
  return statements[static_cast<std::size_t>(kind)];
}

std::string_view name_of(Close::How how) { return protocol::find_name(all_close_forms(), how); }

std::span<const protocol::NamedValue<Close::How>> all_close_forms() { return kCloseForms; }

std::optional<std::size_t> BytesValue::fixed_length() const {
  switch (kind) {
    case Kind::text:
      if (has_index()) return std::nullopt;
      return pieces.empty() ? 0 : pieces.front().size();
    case Kind::hex: return hex.size();
    case Kind::random:
    case Kind::fill: return length;
  }
  return std::nullopt;
}

bool FrameSpec::wants_ack() const {
  const NumberValue* flags = find(SendField::tap_flags);
  return flags && protocol::has_flag(static_cast<std::uint16_t>(flags->value), protocol::TapFlag::ack);
}

std::optional<std::size_t> FrameSpec::fixed_length() const {
  using protocol::kHeaderSize;
  using protocol::kTapExtrasSize;
  using protocol::kTapItemExtrasSize;
  constexpr std::string_view kStartKey = "checkpoint_start";
  constexpr std::string_view kEndKey = "checkpoint_end";
  const BytesValue* engine = find(SendBytes::engine);
  const BytesValue* key = find(SendBytes::key);
  const BytesValue* value = find(SendBytes::value);
  switch (kind) {
    case FrameKind::mutation:
      return sum({kHeaderSize, kTapItemExtrasSize, length_or(engine, kMutationEngineSize),
                  length_or(key, 0), length_or(value, 0)});
    case FrameKind::deletion:
      return sum({kHeaderSize, kTapExtrasSize, length_or(engine, kRevSeqnoSize), length_or(key, 0),
                  length_or(value, 0)});
    case FrameKind::flush: return sum({kHeaderSize, kTapExtrasSize, length_or(engine, 0)});
    case FrameKind::opaque:
    case FrameKind::vbucket_set:
      return sum({kHeaderSize, kTapExtrasSize, length_or(engine, kEngineCodeSize)});
    case FrameKind::checkpoint_start:
      return sum({kHeaderSize, kTapItemExtrasSize, length_or(engine, kRevSeqnoSize), kStartKey.size(),
                  kCheckpointIdSize});
    case FrameKind::checkpoint_end:
      return sum({kHeaderSize, kTapItemExtrasSize, length_or(engine, 0), kEndKey.size(),
                  kCheckpointIdSize});
    case FrameKind::noop: return kHeaderSize;
    case FrameKind::connect_error: return sum({kHeaderSize, length_or(find(SendBytes::body), 0)});
    case FrameKind::raw: return length_or(find(SendBytes::raw), 0);
  }
  return std::nullopt;
}

}  // namespace tapharness::scenario
