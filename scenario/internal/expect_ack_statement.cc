// `expect ack [opaque=N] [opcode=X] [status=X|any] [within=DUR]` (scenarios/README.md,
// "Expecting what the client sends").
#include "scenario/internal/fields.hpp"
#include "scenario/internal/statements.hpp"
#include "protocol/opcode.hpp"

namespace tapharness::scenario {
namespace {

bool read_opcode(ValueReader& values, const Field& field, ExpectAck& ack) {
  ack.opcode = values.name(*field.value, "opcode", protocol::all_opcodes(), Spelling::as_is, kMaxU8);
  return ack.opcode.has_value();
}

bool read_status(ValueReader& values, const Field& field, ExpectAck& ack) {
  if (protocol::iequals(field.value->text, "any")) {
    ack.status.reset();
    return true;
  }
  ack.status = values.name(*field.value, "status", protocol::all_statuses(), Spelling::as_is, kMaxU16);
  return ack.status.has_value();
}

constexpr FieldRule<ExpectAck> kExpectAckRules[] = {
    {"opaque", kEveryKind, Arity::value, &number_field<kMaxU32, &ExpectAck::opaque>},
    {"opcode", kEveryKind, Arity::value, &read_opcode},
    {"status", kEveryKind, Arity::value, &read_status},
    {"within", kEveryKind, Arity::value, &duration_field<true, &ExpectAck::within>},
};

}  // namespace

std::optional<ExpectAck> parse_expect_ack(ValueReader& values, std::span<const Word> words) {
  return parse_field_statement<ExpectAck>(values, words.subspan(2), kExpectAckRules, "expect ack");
}

}  // namespace tapharness::scenario
