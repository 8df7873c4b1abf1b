// `send KIND [field=value]... [fault]...` (scenarios/README.md, "Sending frames").
#include <algorithm>

#include "scenario/internal/fields.hpp"
#include "scenario/internal/statements.hpp"
#include "protocol/opcode.hpp"
#include "protocol/tap_constants.hpp"

namespace tapharness::scenario {
namespace {

// A send while it is parsed, with where its faults were written: the frame's length, known
// only once every field is read, may rule them out.
struct SendDraft {
  Send send;
  std::vector<Word> split;    // one word per offset
  std::vector<Word> corrupt;  // one word per OFFSET:BYTE
  std::optional<Word> truncate;
  std::optional<Word> split_field;
  std::optional<Word> bytewise;
  std::optional<Word> gap;
};

using K = FrameKind;
constexpr std::uint32_t kTapMessages = kind_bits(K::mutation, K::deletion, K::flush, K::opaque,
                                                 K::vbucket_set, K::checkpoint_start, K::checkpoint_end);
constexpr std::uint32_t kHeaderFrames = kTapMessages | kind_bits(K::noop, K::connect_error);  // not raw
constexpr std::uint32_t kEveryFrame = kHeaderFrames | kind_bits(K::raw);
constexpr std::uint32_t kItems = kind_bits(K::mutation, K::deletion);
constexpr std::uint32_t kCheckpoints = kind_bits(K::checkpoint_start, K::checkpoint_end);

template <std::uint64_t Max, auto Member>
bool frame_number(ValueReader& values, const Field& field, SendDraft& draft) {
  return number_field<Max, &SendDraft::send, &Send::frame, Member>(values, field, draft);
}

// A bytes field; a fixed length over MaxLength does not fit its length field.
template <auto Member, std::size_t MaxLength = kMaxU64>
bool frame_bytes(ValueReader& values, const Field& field, SendDraft& draft) {
  if (!bytes_field<&SendDraft::send, &Send::frame, Member>(values, field, draft)) return false;
  const auto length = (draft.send.frame.*Member)->fixed_length();
  if (length && *length > MaxLength) {
    values.errors().fail(*field.value, fmt::format("'{}' is at most {} bytes, got {}", field.name.text,
                                                   MaxLength, *length));
    return false;
  }
  return true;
}

void add_tap_flags(FrameSpec& frame, std::uint16_t bits) {
  frame.tap_flags = static_cast<std::uint16_t>(frame.tap_flags.value_or(0) | bits);
}

bool read_tap_flags(ValueReader& values, const Field& field, SendDraft& draft) {
  std::uint16_t bits = 0;
  const bool ok = values.each_item(*field.value, field.name.text, [&](const Word& item) {
    const auto flag = values.name(item, "TAP flag", protocol::all_tap_flags(), Spelling::lower, kMaxU16);
    if (flag) bits = static_cast<std::uint16_t>(bits | static_cast<std::uint16_t>(*flag));
    return flag.has_value();
  });
  if (ok) add_tap_flags(draft.send.frame, bits);
  return ok;
}

template <protocol::TapFlag Flag>
bool read_tap_flag_word(ValueReader&, const Field&, SendDraft& draft) {
  add_tap_flags(draft.send.frame, static_cast<std::uint16_t>(Flag));
  return true;
}

bool read_code(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto code = values.name(*field.value, "opaque code", protocol::all_tap_opaque_codes(),
                                Spelling::as_is, kMaxU32);
  if (code) draft.send.frame.code = static_cast<std::uint32_t>(*code);
  return code.has_value();
}

bool read_state(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto state = values.name(*field.value, "vbucket state", protocol::all_vbucket_states(),
                                 Spelling::lower, kMaxU32);
  if (state) draft.send.frame.state = static_cast<std::uint32_t>(*state);
  return state.has_value();
}

bool read_status(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto status = values.name(*field.value, "status", protocol::all_statuses(), Spelling::as_is, kMaxU16);
  if (status) draft.send.frame.status = *status;
  return status.has_value();
}

bool read_opcode(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto opcode = values.name(*field.value, "opcode", protocol::all_opcodes(), Spelling::as_is, kMaxU8);
  if (opcode) draft.send.frame.opcode = static_cast<std::uint8_t>(*opcode);
  return opcode.has_value();
}

bool read_split(ValueReader& values, const Field& field, SendDraft& draft) {
  draft.split_field = field.name;
  auto& offsets = draft.send.fault.split;
  return values.each_item(*field.value, "split", [&](const Word& item) {
    const auto offset = values.number(item, "split", kMaxU64);
    if (!offset) return false;
    if (*offset == 0) {
      values.errors().fail(item, "split offsets start at 1: a write of 0 bytes is no write");
      return false;
    }
    if (!offsets.empty() && *offset <= offsets.back()) {
      values.errors().fail(item, fmt::format("split offsets must ascend; {} follows {}", *offset, offsets.back()));
      return false;
    }
    offsets.push_back(*offset);
    draft.split.push_back(item);
    return true;
  });
}

bool read_bytewise(ValueReader&, const Field& field, SendDraft& draft) {
  draft.send.fault.bytewise = true;
  draft.bytewise = field.name;
  return true;
}

bool read_gap(ValueReader& values, const Field& field, SendDraft& draft) {
  draft.gap = field.name;
  return duration_field<false, &SendDraft::send, &Send::fault, &FaultPlan::gap>(values, field, draft);
}

bool read_truncate(ValueReader& values, const Field& field, SendDraft& draft) {
  draft.truncate = *field.value;
  return number_field<kMaxU64, &SendDraft::send, &Send::fault, &FaultPlan::truncate>(values, field, draft);
}

bool read_corrupt(ValueReader& values, const Field& field, SendDraft& draft) {
  return values.each_item(*field.value, "corrupt", [&](const Word& item) {
    const std::size_t colon = item.text.find(':');
    if (colon == std::string_view::npos) {
      values.errors().fail(item, fmt::format("expected OFFSET:BYTE in 'corrupt', got {}", quoted(item.text)));
      return false;
    }
    const auto offset = values.number(item.part(0, colon), "corrupt offset", kMaxU64);
    if (!offset) return false;
    const auto byte = values.number(item.part(colon + 1), "corrupt byte", kMaxU8);
    if (!byte) return false;
    draft.send.fault.corrupt.push_back({*offset, static_cast<std::uint8_t>(*byte)});
    draft.corrupt.push_back(item);
    return true;
  });
}

constexpr FieldRule<SendDraft> kSendRules[] = {
    {"vb", kTapMessages | kind_bits(K::noop), Arity::value, &frame_number<kMaxU16, &FrameSpec::vbucket>},
    {"vbucket", kTapMessages | kind_bits(K::noop), Arity::value,
     &frame_number<kMaxU16, &FrameSpec::vbucket>, "vb"},
    {"opaque", kHeaderFrames, Arity::value, &frame_number<kMaxU32, &FrameSpec::opaque>},
    {"cas", kHeaderFrames, Arity::value, &frame_number<kMaxU64, &FrameSpec::cas>},
    {"datatype", kHeaderFrames, Arity::value, &frame_number<kMaxU8, &FrameSpec::datatype>},
    {"ttl", kTapMessages, Arity::value, &frame_number<kMaxU8, &FrameSpec::ttl>},
    {"tap_flags", kTapMessages, Arity::value, &read_tap_flags},
    {"ack", kTapMessages, Arity::bare, &read_tap_flag_word<protocol::TapFlag::ack>},
    {"no_value", kTapMessages, Arity::bare, &read_tap_flag_word<protocol::TapFlag::no_value>},
    {"engine", kTapMessages, Arity::value, &frame_bytes<&FrameSpec::engine, kMaxU16>},
    {"key", kItems, Arity::value, &frame_bytes<&FrameSpec::key, kMaxU16>},
    {"value", kItems, Arity::value, &frame_bytes<&FrameSpec::value>},
    {"flags", kind_bits(K::mutation), Arity::value, &frame_number<kMaxU32, &FrameSpec::flags>},
    {"expiry", kind_bits(K::mutation), Arity::value, &frame_number<kMaxU32, &FrameSpec::expiry>},
    {"rev_seqno", kItems, Arity::value, &frame_number<kMaxU64, &FrameSpec::rev_seqno>},
    {"nru", kind_bits(K::mutation), Arity::value, &frame_number<kMaxU8, &FrameSpec::nru>},
    {"code", kind_bits(K::opaque), Arity::value, &read_code},
    {"state", kind_bits(K::vbucket_set), Arity::value, &read_state},
    {"checkpoint", kCheckpoints, Arity::value, &frame_number<kMaxU64, &FrameSpec::checkpoint>},
    {"status", kind_bits(K::connect_error), Arity::value, &read_status},
    {"body", kind_bits(K::connect_error), Arity::value, &frame_bytes<&FrameSpec::body>},
    // Lies, written over the encoded frame.
    {"magic", kHeaderFrames, Arity::value, &frame_number<kMaxU8, &FrameSpec::magic>},
    {"opcode", kHeaderFrames, Arity::value, &read_opcode},
    {"keylen", kHeaderFrames, Arity::value, &frame_number<kMaxU16, &FrameSpec::keylen>},
    {"extlen", kHeaderFrames, Arity::value, &frame_number<kMaxU8, &FrameSpec::extlen>},
    {"bodylen", kHeaderFrames, Arity::value, &frame_number<kMaxU32, &FrameSpec::bodylen>},
    {"engine_length", kTapMessages, Arity::value, &frame_number<kMaxU16, &FrameSpec::engine_length>},
    // Faults.
    {"split", kEveryFrame, Arity::value, &read_split},
    {"bytewise", kEveryFrame, Arity::bare, &read_bytewise},
    {"gap", kEveryFrame, Arity::value, &read_gap},
    {"truncate", kEveryFrame, Arity::value, &read_truncate},
    {"corrupt", kEveryFrame, Arity::value, &read_corrupt},
};

// The checks between faults, and against the frame's length when it is known.
bool check_faults(ErrorSink& errors, const SendDraft& draft) {
  const FaultPlan& fault = draft.send.fault;
  if (draft.gap && !fault.bytewise) {
    errors.fail(*draft.gap, "'gap' is the pause of 'bytewise'; add 'bytewise' or drop 'gap'");
    return false;
  }
  if (draft.bytewise && draft.split_field) {
    const Word& later = std::max(*draft.bytewise, *draft.split_field,
                                 [](const Word& a, const Word& b) { return a.column < b.column; });
    errors.fail(later, "'split' and 'bytewise' exclude each other: a frame is written one way");
    return false;
  }
  const auto length = draft.send.frame.fixed_length();
  if (!length) return true;  // it depends on `{n}`: checked when the frame is built
  for (std::size_t i = 0; i < fault.corrupt.size(); ++i) {
    if (fault.corrupt[i].offset >= *length) {
      errors.fail(draft.corrupt[i], fmt::format("corrupt offset {} is beyond the frame, which is {} bytes",
                                                fault.corrupt[i].offset, *length));
      return false;
    }
  }
  if (fault.truncate && *fault.truncate > *length) {
    errors.fail(*draft.truncate, fmt::format("truncate={} is beyond the frame, which is {} bytes",
                                             *fault.truncate, *length));
    return false;
  }
  const std::size_t written = fault.truncate.value_or(*length);
  for (std::size_t i = 0; i < fault.split.size(); ++i) {
    if (fault.split[i] >= written) {
      errors.fail(draft.split[i], fmt::format("split offset {} is not inside the {} bytes written{}",
                                              fault.split[i], written, fault.truncate ? " (truncate)" : ""));
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<Send> parse_send(ValueReader& values, std::span<const Word> words) {
  ErrorSink& errors = values.errors();
  const std::vector<std::string_view> kind_names = names_of(all_frame_kinds());
  if (words.size() < 2) {
    return errors.fail(words[0].line, words[0].end_column(),
                       fmt::format("'send' needs a frame kind; expected one of {}", word_list(kind_names)));
  }
  const auto kind = values.name(words[1], "frame kind", all_frame_kinds(), Spelling::as_is);
  if (!kind) return std::nullopt;
  SendDraft draft;
  draft.send.frame.kind = *kind;
  std::size_t first_field = 2;
  if (*kind == FrameKind::raw) {
    if (words.size() < 3) {
      return errors.fail(words[1].line, words[1].end_column(),
                         "'send raw' needs the bytes to send, as in send raw x\"80 0a 00 00 ...\"");
    }
    auto raw = values.bytes(words[2], "raw");
    if (!raw) return std::nullopt;
    draft.send.frame.raw = std::move(*raw);
    first_field = 3;
  }
  const std::string statement = fmt::format("send {}", name_of(*kind));
  const StatementShape shape{statement, kind_bits(*kind), "send", kind_names};
  if (!parse_fields(values, words.subspan(first_field), kSendRules, shape, draft)) {
    return std::nullopt;
  }
  if (!check_faults(errors, draft)) return std::nullopt;
  return std::move(draft.send);
}

}  // namespace tapharness::scenario
