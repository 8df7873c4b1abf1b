// Test helper: runs a byte stream through FrameDecoder the way a reader does, delivered in
// chunks, and records everything that came out, so outcomes at different chunkings can be
// compared for equality.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "protocol/bytes.hpp"
#include "protocol/frame_decoder.hpp"
#include "protocol/tap_event.hpp"
#include "testing/printers.hpp"

namespace tapharness::testing {

// A decoded frame with its parts copied out of the decoder's buffer.
struct OwnedFrame {
  protocol::Header header;
  std::uint64_t offset = 0;
  protocol::Bytes extras, engine_specific, key, value;
  friend bool operator==(const OwnedFrame&, const OwnedFrame&) = default;
};

// Everything a stream produced: frames (and what the feed would do with each), then
// either a decode error or the bytes left waiting for more.
struct StreamOutcome {
  std::vector<OwnedFrame> frames;
  std::vector<std::string> steps;            // fmt of map_feed_frame for each frame
  std::optional<protocol::DecodeError> error;
  std::size_t pending = 0;                   // undecoded bytes at the end of the stream
  std::size_t need_more = 0;                 // what the last NeedMore asked for
  friend bool operator==(const StreamOutcome&, const StreamOutcome&) = default;
};

// Feeds `stream` to a fresh decoder in chunks ending at each of `cuts` (ascending offsets
// inside the stream) and at its end, decoding as far as possible after every chunk.
StreamOutcome decode_stream(protocol::ByteView stream, const std::vector<std::size_t>& cuts,
                            protocol::Limits limits = {});

// Decodes `stream` whole, split in two at every offset, and one byte at a time, and checks
// that every run gives the whole run's outcome. Returns that outcome through `whole`.
::testing::AssertionResult same_at_every_split(protocol::ByteView stream, StreamOutcome* whole,
                                               protocol::Limits limits = {});

FormatOut describe_to(FormatOut out, const OwnedFrame& frame);
FormatOut describe_to(FormatOut out, const StreamOutcome& outcome);

}  // namespace tapharness::testing

TAPHARNESS_FMT_PRINTER(tapharness::testing)
