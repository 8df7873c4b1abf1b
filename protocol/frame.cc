#include "protocol/frame.hpp"

#include <cstring>
#include <limits>

#include "protocol/hex.hpp"

namespace tapharness::protocol {

std::size_t encode_frame(Bytes& out, const FrameFields& f) {
  const std::uint64_t bodylen = std::uint64_t{f.extras.size()} + f.engine_specific.size() +
                                f.key.size() + f.value.size();
  if (f.extras.size() > std::numeric_limits<std::uint8_t>::max() ||
      f.key.size() > std::numeric_limits<std::uint16_t>::max() ||
      bodylen > std::numeric_limits<std::uint32_t>::max()) {
    return 0;
  }
  Header h;
  h.magic = f.magic;
  h.opcode = f.opcode;
  h.keylen = static_cast<std::uint16_t>(f.key.size());
  h.extlen = static_cast<std::uint8_t>(f.extras.size());
  h.datatype = f.datatype;
  h.vbucket_or_status = f.vbucket_or_status;
  h.bodylen = static_cast<std::uint32_t>(bodylen);
  h.opaque = f.opaque;
  h.cas = f.cas;

  // One resize, then plain copies: encoders run once per frame in volume scenarios.
  const std::size_t start = out.size();
  out.resize(start + kHeaderSize + bodylen);
  std::uint8_t* p = out.data() + start;
  write_header(p, h);
  p += kHeaderSize;
  // Part by part (not a loop over a list of spans, which is copied through memory first).
  auto put = [&p](ByteView part) {
    if (!part.empty()) std::memcpy(p, part.data(), part.size());
    p += part.size();
  };
  put(f.extras);
  put(f.engine_specific);
  put(f.key);
  put(f.value);
  return out.size() - start;
}

}  // namespace tapharness::protocol

auto fmt::formatter<tapharness::protocol::Frame>::format(const tapharness::protocol::Frame& f,
                                                         fmt::format_context& ctx) const
    -> decltype(ctx.out()) {
  using tapharness::protocol::to_hex;
  auto out = fmt::format_to(ctx.out(), "{} extras={} ", f.header, to_hex(f.extras));
  if (!f.engine_specific.empty()) out = fmt::format_to(out, "engine={} ", to_hex(f.engine_specific));
  return fmt::format_to(out, "key={} value={}", to_hex(f.key), to_hex(f.value));
}
