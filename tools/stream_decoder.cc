#include "tools/stream_decoder.hpp"

#include <fmt/format.h>

#include "protocol/describe.hpp"
#include "protocol/header.hpp"

namespace tapharness::tools {

using namespace protocol;

bool StreamDecoder::feed(std::string_view when, ByteView bytes, std::string& out) {
  if (failed_ || stopped_) return !failed_;
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  ByteView rest = pending_;
  while (!rest.empty()) {
    auto result = decoder_.decode(rest);
    if (auto* d = std::get_if<Decoded>(&result)) {
      ++frames_;
      out += fmt::format("{} {} @{} {}", when, label_, d->frame.offset, describe_frame(d->frame));
      rest = rest.subspan(d->consumed);
    } else if (std::holds_alternative<NeedMore>(result)) {
      break;
    } else {
      out +=
          fmt::format("{} {} does not decode: {}\n", when, label_, std::get<DecodeError>(result));
      failed_ = true;
      break;
    }
  }
  pending_.erase(pending_.begin(), pending_.end() - static_cast<std::ptrdiff_t>(rest.size()));
  return !failed_;
}

void StreamDecoder::skip(std::string_view when, std::uint64_t length, std::string_view why,
                         std::string& out, bool whole_frame) {
  if (failed_ || stopped_) return;
  const std::uint64_t at = decoder_.offset();
  if (whole_frame && pending_.empty()) {
    out +=
        fmt::format("{} {} @{} a {}-byte frame not decoded: {}\n", when, label_, at, length, why);
    decoder_.reset(at + length);
    return;
  }
  // The rest of the frame being gathered: its header says how long it is.
  if (pending_.size() >= kHeaderSize) {
    const Header h = read_header(pending_.data());
    const std::uint64_t total = kHeaderSize + std::uint64_t{h.bodylen};
    if (pending_.size() + length == total) {
      out += fmt::format("{} {} @{} {} (its last {} bytes not decoded: {})\n", when, label_, at, h,
                         length, why);
      ++frames_;
      pending_.clear();
      decoder_.reset(at + total);
      return;
    }
  }
  out += fmt::format(
      "{} {} @{} {} bytes missing ({}): frame boundaries are lost, this direction is not decoded "
      "further\n",
      when, label_, at + pending_.size(), length, why);
  stopped_ = true;
}

bool StreamDecoder::finish(std::string& out) {
  if (failed_) return false;
  if (stopped_ || pending_.empty()) return true;
  out += fmt::format("{} stream ends inside a frame at offset {}: {} bytes of it present\n", label_,
                     decoder_.offset(), pending_.size());
  failed_ = true;
  return false;
}

}  // namespace tapharness::tools
