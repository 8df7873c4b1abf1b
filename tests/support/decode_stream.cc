#include "tests/support/decode_stream.hpp"

#include <numeric>

#include "protocol/hex.hpp"

namespace tapharness::testing {

using protocol::ByteView;
using protocol::Bytes;

namespace {

Bytes copy(ByteView v) { return Bytes(v.begin(), v.end()); }

}  // namespace

StreamOutcome decode_stream(ByteView stream, const std::vector<std::size_t>& cuts,
                            protocol::Limits limits) {
  protocol::FrameDecoder decoder(limits);
  StreamOutcome outcome;
  Bytes buffer;
  std::size_t delivered = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(stream.size());
  for (std::size_t end : ends) {
    buffer.insert(buffer.end(), stream.begin() + delivered, stream.begin() + end);
    delivered = end;
    while (!outcome.error) {
      auto result = decoder.decode(buffer);
      if (auto* d = std::get_if<protocol::Decoded>(&result)) {
        const auto& f = d->frame;
        outcome.frames.push_back(OwnedFrame{f.header, f.offset, copy(f.extras),
                                            copy(f.engine_specific), copy(f.key), copy(f.value)});
        outcome.steps.push_back(fmt::format("{}", protocol::map_feed_frame(f, protocol::position_of(f))));
        buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(d->consumed));
      } else if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
        outcome.need_more = more->bytes;
        break;
      } else {
        outcome.error = std::get<protocol::DecodeError>(result);
      }
    }
    if (outcome.error) break;
  }
  if (outcome.error) outcome.need_more = 0;  // what earlier chunks waited for is moot
  outcome.pending = outcome.error ? 0 : buffer.size();
  return outcome;
}

::testing::AssertionResult same_at_every_split(ByteView stream, StreamOutcome* whole,
                                               protocol::Limits limits) {
  const StreamOutcome expected = decode_stream(stream, {}, limits);
  if (whole) *whole = expected;
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    StreamOutcome split = decode_stream(stream, {cut}, limits);
    if (!(split == expected)) {
      return ::testing::AssertionFailure()
             << "split at offset " << cut << " gave\n  " << fmt::format("{}", split)
             << "\nbut whole gave\n  " << fmt::format("{}", expected);
    }
  }
  std::vector<std::size_t> every_byte(stream.empty() ? 0 : stream.size() - 1);
  std::iota(every_byte.begin(), every_byte.end(), std::size_t{1});
  StreamOutcome bytewise = decode_stream(stream, every_byte, limits);
  if (!(bytewise == expected)) {
    return ::testing::AssertionFailure()
           << "one byte at a time gave\n  " << fmt::format("{}", bytewise) << "\nbut whole gave\n  "
           << fmt::format("{}", expected);
  }
  return ::testing::AssertionSuccess();
}

FormatOut describe_to(FormatOut out, const OwnedFrame& f) {
  using protocol::to_hex;
  return fmt::format_to(out, "@{} {} extras={} engine={} key={} value={}", f.offset, f.header,
                        to_hex(f.extras), to_hex(f.engine_specific), to_hex(f.key), to_hex(f.value));
}

FormatOut describe_to(FormatOut out, const StreamOutcome& o) {
  out = fmt::format_to(out, "{} frames", o.frames.size());
  for (std::size_t i = 0; i < o.frames.size(); ++i) {
    out = fmt::format_to(out, "\n    {} -> {}", o.frames[i], o.steps[i]);
  }
  if (o.error) return fmt::format_to(out, "\n    then error: {}", *o.error);
  return fmt::format_to(out, "\n    then {} bytes pending, need {} more", o.pending, o.need_more);
}

}  // namespace tapharness::testing
