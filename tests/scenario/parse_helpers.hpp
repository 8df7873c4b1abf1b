// Helpers for the scenario parser's tests: parse inline text and get the Scenario, the one
// step of a one-step scenario, or the Diagnostic, failing the test with the error's text (or
// the surprise success) when the other comes out. Include after <gtest/gtest.h>.
//
//   const Send send = only_step<Send>("send mutation key=\"k\"");
//   EXPECT_TRUE(fails_at("send mutaton", 1, 6, "unknown frame kind ...", "mutation"));
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include <gtest/gtest.h>

#include "scenario/parser.hpp"
#include "protocol/hex.hpp"
#include "testing/printers.hpp"

namespace tapharness::scenario {

inline void PrintTo(const NumberValue& v, std::ostream* os) {
  *os << (v.is_index ? std::string("{n}") : std::to_string(v.value));
}

inline void PrintTo(const BytesValue& v, std::ostream* os) {
  switch (v.kind) {
    case BytesValue::Kind::text:
      *os << "text";
      for (const auto& piece : v.pieces) *os << " \"" << piece << "\"";
      break;
    case BytesValue::Kind::hex: *os << "hex " << protocol::to_hex(v.hex); break;
    case BytesValue::Kind::random: *os << "random(" << v.length << ")"; break;
    case BytesValue::Kind::fill: *os << "fill(" << v.length << "," << int{v.fill_byte} << ")"; break;
  }
}

}  // namespace tapharness::scenario

TAPHARNESS_FMT_PRINTER(tapharness::mockserver)

namespace tapharness::scenario::testing {

inline constexpr std::string_view kPath = "x.scenario";

// scenarios/README.md's first example, verbatim.
inline constexpr std::string_view kReadmeFirstExample = R"(# Backfill of vbucket 0 to a client that supports acks.
expect connect name="replica-1" has=backfill,support_ack
send opaque vb=0 code=INITIAL_VBUCKET_STREAM ack
expect ack
send mutation vb=0 key="a" value="hello" flags=18 expiry=300 cas=7
send deletion vb=0 key="b" cas=8
send opaque vb=0 code=CLOSE_BACKFILL ack
expect ack
close fin

client args name="replica-1" backfill=0 ack
client event begin_backfill vb=0
client event mutation vb=0 key="a" value="hello" flags=18 expiry=300 cas=7
client event deletion vb=0 key="b" cas=8
client event end_backfill vb=0
client end eof
)";

inline Result<Scenario, Diagnostic> parse(std::string_view text) { return parse_scenario(text, std::string(kPath)); }

inline Scenario parsed(std::string_view text) {
  auto result = parse(text);
  if (!result) {
    ADD_FAILURE() << "unexpected parse error: " << result.error().text();
    return {};
  }
  return std::move(result).value();
}

inline Diagnostic parse_error(std::string_view text) {
  auto result = parse(text);
  if (!result) return result.error();
  ADD_FAILURE() << "expected a parse error for:\n" << text;
  return {};
}

// The action of the only step of `text`.
template <class Action>
Action only_step(std::string_view text) {
  const Scenario scenario = parsed(text);
  if (scenario.steps.size() != 1) {
    ADD_FAILURE() << "expected one step, got " << scenario.steps.size() << " for: " << text;
    return {};
  }
  const auto* action = std::get_if<Action>(&scenario.steps[0].action);
  if (!action) {
    ADD_FAILURE() << "the step is another kind of action (index " << scenario.steps[0].action.index() << ")";
    return {};
  }
  return *action;
}

// Whether `text` fails at line:column with exactly `message` and `suggestion`.
inline ::testing::AssertionResult fails_at(std::string_view text, int line, int column,
                                           std::string_view message, std::string_view suggestion = {}) {
  auto result = parse(text);
  if (result) return ::testing::AssertionFailure() << "parsed without an error";
  const Diagnostic* error = &result.error();
  if (error->location != SourceLocation{std::string(kPath), line, column} || error->message != message ||
      error->suggestion != suggestion) {
    return ::testing::AssertionFailure() << "got      " << error->text() << "\nexpected "
                                         << fmt::format("{}:{}:{}: {}", kPath, line, column, message)
                                         << (suggestion.empty() ? "" : "; did you mean '")
                                         << suggestion << (suggestion.empty() ? "" : "'?");
  }
  return ::testing::AssertionSuccess();
}

inline BytesValue text_bytes(std::string text) { return BytesValue{.pieces = {std::move(text)}}; }
inline NumberValue number(std::uint64_t value) { return NumberValue{value, false}; }
inline constexpr NumberValue kIndex{0, true};

using F = SendField;
using B = SendBytes;
// A number field as its line set it; nullopt when left to its default.
inline std::optional<std::uint64_t> value_of(const FrameSpec& frame, SendField field) {
  const NumberValue* v = frame.find(field);
  return v ? std::optional<std::uint64_t>(v->value) : std::nullopt;
}

}  // namespace tapharness::scenario::testing
