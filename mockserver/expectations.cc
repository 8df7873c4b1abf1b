#include "mockserver/expectations.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "protocol/frame_decoder.hpp"
#include "protocol/tap_constants.hpp"

namespace tapharness::mockserver {
namespace {

using protocol::TapConnectFlag;

std::string flags_text(std::uint32_t flags) { return protocol::tap_connect_flags_text(flags); }

std::string backfill_text(std::uint64_t value) {
  return value == protocol::kNoBackfill ? "none" : fmt::format("{:#x}", value);
}

}  // namespace

std::string match_connect(const ExpectConnect& e, const protocol::TapConnectRequest& r) {
  std::vector<std::string> out;
  if (e.name.kind == FieldMatcher<std::string>::Kind::exact && r.name != e.name.value) {
    out.push_back(fmt::format("name: expected \"{}\", got \"{}\"", e.name.value, r.name));
  }
  if (e.flags_exact && r.flags != *e.flags_exact) {
    out.push_back(fmt::format("flags: expected exactly {}, got {}", flags_text(*e.flags_exact),
                         flags_text(r.flags)));
  }
  if (const std::uint32_t missing = e.flags_present & ~r.flags) {
    out.push_back(fmt::format("flags: {} missing (got {})", flags_text(missing), flags_text(r.flags)));
  }
  if (const std::uint32_t present = e.flags_absent & r.flags) {
    out.push_back(fmt::format("flags: {} present but ruled out (got {})", flags_text(present),
                         flags_text(r.flags)));
  }
  switch (e.backfill.kind) {
    case FieldMatcher<std::uint64_t>::Kind::exact:
      if (r.backfill != e.backfill.value) {
        out.push_back(fmt::format("backfill: expected {}, got {}", backfill_text(e.backfill.value),
                             r.backfill ? backfill_text(*r.backfill) : "no BACKFILL flag"));
      }
      break;
    case FieldMatcher<std::uint64_t>::Kind::absent:
      if (r.backfill) out.push_back(fmt::format("backfill: expected none sent, got {}", backfill_text(*r.backfill)));
      break;
    case FieldMatcher<std::uint64_t>::Kind::any: break;
  }
  switch (e.vbuckets.kind) {
    case FieldMatcher<std::vector<std::uint16_t>>::Kind::exact:
      if (r.vbuckets != e.vbuckets.value) {
        out.push_back(fmt::format("vbuckets: expected {}, got {}", e.vbuckets.value,
                             r.vbuckets ? fmt::format("{}", *r.vbuckets) : "no LIST_VBUCKETS"));
      }
      break;
    case FieldMatcher<std::vector<std::uint16_t>>::Kind::absent:
      if (r.vbuckets) out.push_back(fmt::format("vbuckets: expected no list, got {}", *r.vbuckets));
      break;
    case FieldMatcher<std::vector<std::uint16_t>>::Kind::any: break;
  }
  return fmt::format("{}", fmt::join(out, "; "));
}

std::optional<std::string> judge_connect(const ExpectConnect& expected, protocol::ByteView bytes) {
  protocol::FrameDecoder decoder;
  const auto decoded = decoder.decode(bytes);
  const protocol::Frame& frame = std::get<protocol::Decoded>(decoded).frame;  // the inbox holds whole frames
  if (frame.header.opcode != protocol::Opcode::tap_connect) return describe_client_frame(frame.header);
  auto request = protocol::decode_tap_connect(frame);
  if (!request) return fmt::format("a TAP_CONNECT that does not decode: {}", request.error());
  if (auto mismatch = match_connect(expected, *request); !mismatch.empty()) {
    return fmt::format("{} ({})", *request, mismatch);
  }
  return std::nullopt;
}

std::string describe(const ExpectConnect& e) {
  std::vector<std::string> words;
  auto word = [&](std::string part) { words.push_back(std::move(part)); };
  if (e.name.kind == FieldMatcher<std::string>::Kind::exact) word(fmt::format("name=\"{}\"", e.name.value));
  if (e.flags_exact) word("flags=" + flags_text(*e.flags_exact));
  if (e.flags_present) word("has=" + flags_text(e.flags_present));
  if (e.flags_absent) word("lacks=" + flags_text(e.flags_absent));
  if (e.backfill.kind == FieldMatcher<std::uint64_t>::Kind::exact) {
    word("backfill=" + backfill_text(e.backfill.value));
  } else if (e.backfill.kind == FieldMatcher<std::uint64_t>::Kind::absent) {
    word("backfill=absent");
  }
  if (e.vbuckets.kind == FieldMatcher<std::vector<std::uint16_t>>::Kind::exact) {
    word(fmt::format("vbuckets={}", fmt::join(e.vbuckets.value, ",")));
  } else if (e.vbuckets.kind == FieldMatcher<std::vector<std::uint16_t>>::Kind::absent) {
    word("vbuckets=absent");
  }
  return words.empty() ? "any TAP_CONNECT" : fmt::format("TAP_CONNECT {}", fmt::join(words, " "));
}

bool matches(const AckTarget& t, const protocol::Header& h) {
  return h.magic == protocol::Magic::response && h.opaque == t.opaque &&
         (!t.opcode || h.opcode == *t.opcode) && (!t.status || h.status() == *t.status);
}

std::string describe(const AckTarget& t) {
  return fmt::format("ACK (response) {} opaque={:#010x} status={}",
                     t.opcode ? fmt::format("{}", *t.opcode) : "any opcode", t.opaque,
                     t.status ? fmt::format("{}", *t.status) : "any");
}

std::string describe_client_frame(const protocol::Header& h) {
  if (h.magic == protocol::Magic::response) {
    return fmt::format("response {} opaque={:#010x} status={}", h.opcode, h.opaque, h.status());
  }
  return fmt::format("{} {} opaque={:#010x} (bodylen {})", h.magic == protocol::Magic::request ? "request" : "frame",
                     h.opcode, h.opaque, h.bodylen);
}

std::string near_miss(const AckTarget& t, const protocol::Header& h) {
  if (h.magic != protocol::Magic::response) return "not a response (magic 0x80)";
  if (h.opaque != t.opaque) return fmt::format("opaque differs: {:#010x}", h.opaque);
  if (t.opcode && h.opcode != *t.opcode) return fmt::format("opcode differs: {}", h.opcode);
  if (t.status && h.status() != *t.status) return fmt::format("status differs: {}", h.status());
  return {};
}

}  // namespace tapharness::mockserver
