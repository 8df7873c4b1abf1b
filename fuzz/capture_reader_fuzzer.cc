// Fuzz target: reading a packet capture (capture/capture_reader.hpp) from arbitrary bytes.
//
// Input: [limits] + the file. limits: bit 0 picks tight limits (4 conversations, 256 payload
// bytes, 64 held, 128-byte packets) instead of the defaults, so the limits are reached too.
//
// Checked:
// - the reader returns a capture or a CaptureError, never crashes (ASan/UBSan watch it);
// - an error names an offset inside the file and says what is wrong;
// - a capture keeps within its limits: no more conversations than allowed, no more payload;
// - each direction's segments tile its stream: a segment starts where the one before ended
//   plus the bytes never captured (gap_before), brings bytes unless it is a FIN or RST, and
//   nothing follows a FIN; the kept byte counts add up; packets are numbered within those read.
#include <fmt/format.h>

#include <cstddef>
#include <cstdint>

#include "capture/capture_reader.hpp"
#include "fuzz/fuzz_check.hpp"

namespace tapharness::fuzz {
namespace {

void check(protocol::ByteView file, const capture::ReadLimits& limits) {
  auto read = capture::read_capture(file, limits);
  if (!read) {
    FUZZ_CHECK(read.error().offset <= file.size(), "error offset {} beyond the file's {} bytes",
               read.error().offset, file.size());
    FUZZ_CHECK(!read.error().what.empty(), "an error without a reason at byte {}",
               read.error().offset);
    return;
  }
  FUZZ_CHECK(read->conversations.size() <= limits.max_conversations,
             "{} conversations over the limit {}", read->conversations.size(),
             limits.max_conversations);
  std::uint64_t payload = 0;
  for (const capture::Conversation& c : read->conversations) {
    std::uint64_t next[2] = {0, 0}, kept[2] = {0, 0};
    bool fin[2] = {false, false};
    for (const capture::Segment& s : c.segments) {
      const int d = s.direction == capture::Direction::to_server ? 0 : 1;
      FUZZ_CHECK(s.packet >= 1 && s.packet <= read->packets, "packet {} of {}", s.packet,
                 read->packets);
      FUZZ_CHECK(!s.payload.empty() || s.fin || s.rst, "an empty segment at packet {}", s.packet);
      if (s.rst) continue;
      FUZZ_CHECK(!fin[d], "bytes after a FIN at packet {}", s.packet);
      FUZZ_CHECK(s.offset == next[d] + s.gap_before,
                 "a segment at offset {} after {} with a gap of {}", s.offset, next[d],
                 s.gap_before);
      next[d] = s.offset + s.payload.size();
      kept[d] += s.payload.size();
      fin[d] = s.fin;
    }
    FUZZ_CHECK(kept[0] == c.bytes_to_server && kept[1] == c.bytes_to_client,
               "byte counts {}/{} vs {}/{}", kept[0], kept[1], c.bytes_to_server,
               c.bytes_to_client);
    payload += kept[0] + kept[1];
  }
  FUZZ_CHECK(payload <= limits.max_payload, "{} payload bytes over the limit {}", payload,
             limits.max_payload);
}

}  // namespace
}  // namespace tapharness::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  tapharness::capture::ReadLimits limits;
  if (data[0] & 1)
    limits = {.max_conversations = 4, .max_payload = 256, .max_held = 64, .max_packet = 128};
  tapharness::fuzz::check(tapharness::protocol::ByteView(data + 1, size - 1), limits);
  return 0;
}
