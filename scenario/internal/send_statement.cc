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
  FrameSpec frame;
  FaultPlan fault;
  std::vector<Word> split;    // one word per offset
  std::vector<Word> corrupt;  // one word per OFFSET:BYTE
  std::optional<Word> truncate;
  std::optional<Word> split_field;
  std::optional<Word> bytewise;
  std::optional<Word> chunks;
  std::optional<Word> gap;
  std::uint32_t retransmit = 0;
  std::optional<Word> retransmit_field;
};

using K = FrameKind;
using F = SendField;
constexpr std::uint32_t kTapMessages = kind_bits(K::mutation, K::deletion, K::flush, K::opaque,
                                                 K::vbucket_set, K::checkpoint_start, K::checkpoint_end);
constexpr std::uint32_t kHeaderFrames = kTapMessages | kind_bits(K::noop, K::connect_error);  // not raw
constexpr std::uint32_t kEveryFrame = kHeaderFrames | kind_bits(K::raw);
constexpr std::uint32_t kItems = kind_bits(K::mutation, K::deletion);
constexpr std::uint32_t kCheckpoints = kind_bits(K::checkpoint_start, K::checkpoint_end);

// A number up to Max, or `{n}`: fields that vary per repeat iteration.
template <std::uint64_t Max, SendField Which>
bool frame_number(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto n = values.number_or_index(*field.value, field.name.text, Max);
  if (n) draft.frame.set(Which, *n);
  return n.has_value();
}

// A number up to Max, never `{n}`: the lies, which are fixed bytes.
template <std::uint64_t Max, SendField Which>
bool frame_constant(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto n = values.number(*field.value, field.name.text, Max);
  if (n) draft.frame.set(Which, NumberValue{*n});
  return n.has_value();
}

// A bytes field; a fixed length over MaxLength does not fit its length field.
template <SendBytes Which, std::size_t MaxLength = kMaxU64>
bool frame_bytes(ValueReader& values, const Field& field, SendDraft& draft) {
  auto bytes = values.bytes(*field.value, field.name.text);
  if (!bytes) return false;
  const auto length = bytes->fixed_length();
  if (length && *length > MaxLength) {
    values.errors().fail(*field.value, fmt::format("'{}' is at most {} bytes, got {}", field.name.text,
                                                   MaxLength, *length));
    return false;
  }
  draft.frame.set(Which, std::move(*bytes));
  return true;
}

void add_tap_flags(FrameSpec& frame, std::uint16_t bits) {
  frame.set(F::tap_flags, NumberValue{frame.number_or<std::uint64_t>(F::tap_flags, 0, 0) | bits});
}

bool read_tap_flags(ValueReader& values, const Field& field, SendDraft& draft) {
  std::uint16_t bits = 0;
  const bool ok = values.each_item(*field.value, field.name.text, [&](const Word& item) {
    const auto flag = values.name(item, "TAP flag", protocol::all_tap_flags(), Spelling::lower, kMaxU16);
    if (flag) bits = static_cast<std::uint16_t>(bits | static_cast<std::uint16_t>(*flag));
    return flag.has_value();
  });
  if (ok) add_tap_flags(draft.frame, bits);
  return ok;
}

template <protocol::TapFlag Flag>
bool read_tap_flag_word(ValueReader&, const Field&, SendDraft& draft) {
  add_tap_flags(draft.frame, static_cast<std::uint16_t>(Flag));
  return true;
}

// A field that takes a protocol name or a number up to Max (`code=`, `state=`, ...).
template <SendField Which, auto AllNames, std::uint64_t Max>
bool frame_name(ValueReader& values, const Field& field, SendDraft& draft, std::string_view what,
                Spelling spelling) {
  const auto value = values.name(*field.value, what, AllNames(), spelling, Max);
  if (value) draft.frame.set(Which, NumberValue{static_cast<std::uint64_t>(*value)});
  return value.has_value();
}

bool read_code(ValueReader& values, const Field& field, SendDraft& draft) {
  return frame_name<F::code, &protocol::all_tap_opaque_codes, kMaxU32>(values, field, draft, "opaque code",
                                                                      Spelling::as_is);
}

bool read_state(ValueReader& values, const Field& field, SendDraft& draft) {
  return frame_name<F::state, &protocol::all_vbucket_states, kMaxU32>(values, field, draft, "vbucket state",
                                                                     Spelling::lower);
}

bool read_status(ValueReader& values, const Field& field, SendDraft& draft) {
  return frame_name<F::status, &protocol::all_statuses, kMaxU16>(values, field, draft, "status",
                                                                Spelling::as_is);
}

bool read_opcode(ValueReader& values, const Field& field, SendDraft& draft) {
  return frame_name<F::opcode, &protocol::all_opcodes, kMaxU8>(values, field, draft, "opcode", Spelling::as_is);
}

bool read_split(ValueReader& values, const Field& field, SendDraft& draft) {
  draft.split_field = field.name;
  auto& offsets = draft.fault.split;
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
  draft.fault.bytewise = true;
  draft.bytewise = field.name;
  return true;
}

bool read_chunks(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto size = values.number(*field.value, "chunks", kMaxU32);
  if (!size) return false;
  if (*size == 0) {
    values.errors().fail(*field.value, "'chunks' is the size of each write, at least 1 byte");
    return false;
  }
  draft.fault.chunk = static_cast<std::size_t>(*size);
  draft.chunks = field.name;
  return true;
}

bool read_gap(ValueReader& values, const Field& field, SendDraft& draft) {
  draft.gap = field.name;
  return duration_field<false, &SendDraft::fault, &FaultPlan::gap>(values, field, draft);
}

bool read_truncate(ValueReader& values, const Field& field, SendDraft& draft) {
  draft.truncate = *field.value;
  return number_field<kMaxU64, &SendDraft::fault, &FaultPlan::truncate>(values, field, draft);
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
    draft.fault.corrupt.push_back({*offset, static_cast<std::uint8_t>(*byte)});
    draft.corrupt.push_back(item);
    return true;
  });
}

bool read_retransmit(ValueReader& values, const Field& field, SendDraft& draft) {
  const auto n = values.number(*field.value, "retransmit", 1000);
  if (!n) return false;
  draft.retransmit = static_cast<std::uint32_t>(*n);
  draft.retransmit_field = field.name;
  return true;
}

constexpr FieldRule<SendDraft> kSendRules[] = {
    {"vb", kTapMessages | kind_bits(K::noop), Arity::value, &frame_number<kMaxU16, F::vbucket>},
    {"vbucket", kTapMessages | kind_bits(K::noop), Arity::value,
     &frame_number<kMaxU16, F::vbucket>, "vb"},
    {"opaque", kHeaderFrames, Arity::value, &frame_number<kMaxU32, F::opaque>},
    {"cas", kHeaderFrames, Arity::value, &frame_number<kMaxU64, F::cas>},
    {"datatype", kHeaderFrames, Arity::value, &frame_number<kMaxU8, F::datatype>},
    {"ttl", kTapMessages, Arity::value, &frame_number<kMaxU8, F::ttl>},
    {"tap_flags", kTapMessages, Arity::value, &read_tap_flags},
    {"ack", kTapMessages, Arity::bare, &read_tap_flag_word<protocol::TapFlag::ack>},
    {"no_value", kTapMessages, Arity::bare, &read_tap_flag_word<protocol::TapFlag::no_value>},
    {"engine", kTapMessages, Arity::value, &frame_bytes<SendBytes::engine, kMaxU16>},
    {"key", kItems, Arity::value, &frame_bytes<SendBytes::key, kMaxU16>},
    {"value", kItems, Arity::value, &frame_bytes<SendBytes::value>},
    {"flags", kind_bits(K::mutation), Arity::value, &frame_number<kMaxU32, F::flags>},
    {"expiry", kind_bits(K::mutation), Arity::value, &frame_number<kMaxU32, F::expiry>},
    {"rev_seqno", kItems, Arity::value, &frame_number<kMaxU64, F::rev_seqno>},
    {"nru", kind_bits(K::mutation), Arity::value, &frame_number<kMaxU8, F::nru>},
    {"code", kind_bits(K::opaque), Arity::value, &read_code},
    {"state", kind_bits(K::vbucket_set), Arity::value, &read_state},
    {"checkpoint", kCheckpoints, Arity::value, &frame_number<kMaxU64, F::checkpoint>},
    {"status", kind_bits(K::connect_error), Arity::value, &read_status},
    {"body", kind_bits(K::connect_error), Arity::value, &frame_bytes<SendBytes::body>},
    // Lies, written over the encoded frame.
    {"magic", kHeaderFrames, Arity::value, &frame_constant<kMaxU8, F::magic>},
    {"opcode", kHeaderFrames, Arity::value, &read_opcode},
    {"keylen", kHeaderFrames, Arity::value, &frame_constant<kMaxU16, F::keylen>},
    {"extlen", kHeaderFrames, Arity::value, &frame_constant<kMaxU8, F::extlen>},
    {"bodylen", kHeaderFrames, Arity::value, &frame_constant<kMaxU32, F::bodylen>},
    {"engine_length", kTapMessages, Arity::value, &frame_constant<kMaxU16, F::engine_length>},
    // Faults.
    {"split", kEveryFrame, Arity::value, &read_split},
    {"bytewise", kEveryFrame, Arity::bare, &read_bytewise},
    {"chunks", kEveryFrame, Arity::value, &read_chunks},
    {"gap", kEveryFrame, Arity::value, &read_gap},
    {"truncate", kEveryFrame, Arity::value, &read_truncate},
    {"corrupt", kEveryFrame, Arity::value, &read_corrupt},
    // What a NACK of its ACK does.
    {"retransmit", kTapMessages, Arity::value, &read_retransmit},
};

// The checks between faults, and against the frame's length when it is known.
bool check_faults(ErrorSink& errors, const SendDraft& draft) {
  const FaultPlan& fault = draft.fault;
  if (draft.retransmit_field && !draft.frame.wants_ack()) {
    errors.fail(*draft.retransmit_field, "'retransmit' answers a NACK of the frame's ACK; the send needs 'ack'");
    return false;
  }
  if (draft.retransmit_field && !fault.empty()) {
    errors.fail(*draft.retransmit_field, "'retransmit' re-sends a whole frame; it cannot go with a fault");
    return false;
  }
  if (draft.gap && !fault.bytewise && !draft.chunks) {
    errors.fail(*draft.gap, "'gap' is the pause of 'bytewise' or 'chunks='; add one or drop 'gap'");
    return false;
  }
  // split, bytewise and chunks each say how the frame is cut: one of them at most.
  std::vector<std::pair<Word, std::string_view>> cuts;
  if (draft.split_field) cuts.emplace_back(*draft.split_field, "split");
  if (draft.bytewise) cuts.emplace_back(*draft.bytewise, "bytewise");
  if (draft.chunks) cuts.emplace_back(*draft.chunks, "chunks");
  if (cuts.size() > 1) {
    std::sort(cuts.begin(), cuts.end(), [](const auto& a, const auto& b) { return a.first.column < b.first.column; });
    errors.fail(cuts[1].first, fmt::format("'{}' and '{}' exclude each other: a frame is written one way",
                                           cuts[0].second, cuts[1].second));
    return false;
  }
  const auto length = draft.frame.fixed_length();
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
  draft.frame.kind = *kind;
  std::size_t first_field = 2;
  if (*kind == FrameKind::raw) {
    if (words.size() < 3) {
      return errors.fail(words[1].line, words[1].end_column(),
                         "'send raw' needs the bytes to send, as in send raw x\"80 0a 00 00 ...\"");
    }
    auto raw = values.bytes(words[2], "raw");
    if (!raw) return std::nullopt;
    draft.frame.set(SendBytes::raw, std::move(*raw));
    first_field = 3;
  }
  const std::string statement = fmt::format("send {}", name_of(*kind));
  const StatementShape shape{statement, kind_bits(*kind), "send", kind_names};
  if (!parse_fields(values, words.subspan(first_field), kSendRules, shape, draft)) {
    return std::nullopt;
  }
  if (!check_faults(errors, draft)) return std::nullopt;
  return Send(std::move(draft.frame), std::move(draft.fault), draft.retransmit);
}

}  // namespace tapharness::scenario
