// Fuzz target: the scenario parser on arbitrary text.
//
// Input: the text of a scenario file. The parser must return either a Diagnostic at a real
// position (a line of the text, a column on that line or just past its end, with a message)
// or a Scenario, and never throw (an exception escaping is a crash here).
//
// A Scenario must then be one the engine can run as parsed:
// - every step points at a line of the text;
// - every frame renders, and when the parser knew its length (FrameSpec::fixed_length(),
//   which it used to validate the faults) the rendered frame has exactly that length;
// - every fault plan of a fixed-length frame fits it (plan_writes succeeds: the parser
//   promised so), and every plan that succeeds covers the written bytes in order, with
//   non-empty writes.
// Frames are rendered for the first and the last repeat index; frames that could be larger
// than 64 KiB are not rendered (the parser bounds each value at 16 MiB; rendering that much
// per input would slow the fuzzer a hundredfold).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "scenario/faults.hpp"
#include "scenario/render.hpp"
#include "scenario/parser.hpp"

namespace tapharness::fuzz {
namespace {

using scenario::BytesValue;
using scenario::FrameSpec;

constexpr std::string_view kPath = "fuzz.scenario";
constexpr std::size_t kMaxRendered = 64 * 1024;

// The length of line `number` (1-based) of `text`, or nothing when there is no such line.
std::optional<std::size_t> line_length(std::string_view text, int number) {
  std::size_t start = 0;
  for (int line = 1; line < number; ++line) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return std::nullopt;
    ++start;
  }
  if (start > text.size()) return std::nullopt;
  return std::min(text.find('\n', start), text.size()) - start;
}

void check_error(std::string_view text, const scenario::Diagnostic& error) {
  const auto& where = error.location;
  FUZZ_CHECK(where.file() == kPath, "error in file '{}': {}", where.file(), error.text());
  if (where.line == 0) {  // the file as a whole: only an empty one
    FUZZ_CHECK(where.column == 0 && error.message.starts_with("the scenario is empty"), "a whole-file error: {}",
               error.text());
    return;
  }
  const auto length = where.line >= 1 ? line_length(text, where.line) : std::nullopt;
  FUZZ_CHECK(length.has_value(), "error on line {}, which the text does not have: {}", where.line, error.text());
  FUZZ_CHECK(where.column >= 1 && static_cast<std::size_t>(where.column) <= *length + 1,
             "error at column {} of a {}-byte line: {}", where.column, *length, error.text());
  FUZZ_CHECK(!error.message.empty(), "error without a message at {}", where);
}

// An upper bound of a bytes value's rendered length.
std::size_t bound(const BytesValue* value) {
  if (!value) return 0;
  switch (value->kind) {
    case BytesValue::Kind::text: {
      std::size_t n = 20 * value->pieces.size();  // each `{n}` renders as at most 20 digits
      for (const auto& piece : value->pieces) n += piece.size();
      return n;
    }
    case BytesValue::Kind::hex: return value->hex.size();
    case BytesValue::Kind::random:
    case BytesValue::Kind::fill: return value->length;
  }
  return 0;
}

std::size_t bound(const FrameSpec& spec) {
  std::size_t n = 64;
  for (std::size_t b = 0; b < scenario::kSendBytes; ++b) n += bound(spec.find(static_cast<scenario::SendBytes>(b)));
  return n;
}

void check_send(const scenario::Send& send, std::uint64_t index, std::uint64_t seed) {
  if (bound(send.frame()) > kMaxRendered) return;
  scenario::ScenarioRandom random(seed);
  const auto frame = scenario::render_frame(send.frame(), index, random, 1);
  const auto fixed = send.frame().fixed_length();
  FUZZ_CHECK(!fixed || *fixed == frame.bytes.size(), "a {} frame rendered to {} bytes; the parser expected {}",
             send.frame().kind, frame.bytes.size(), *fixed);
  const auto planned = scenario::plan_writes(frame.bytes, send.fault(), {});
  if (!planned) {
    FUZZ_CHECK(!fixed, "the parser accepted a fault plan that does not fit its {}-byte {} frame: {}", *fixed,
               send.frame().kind, planned.error().message);
    return;
  }
  const auto& writes = *planned;
  FUZZ_CHECK(writes.bytes.size() == send.fault().truncate.value_or(frame.bytes.size()),
             "{} bytes planned for a {}-byte frame", writes.bytes.size(), frame.bytes.size());
  std::size_t at = 0;
  for (const auto& chunk : writes.chunks) {
    FUZZ_CHECK(chunk.begin == at && chunk.end > chunk.begin, "write [{}, {}) after {} bytes", chunk.begin,
               chunk.end, at);
    at = chunk.end;
  }
  FUZZ_CHECK(at == writes.bytes.size(), "the writes cover {} of {} bytes", at, writes.bytes.size());
}

void check_step(std::string_view text, const scenario::Step& step, const scenario::Scenario& scenario,
                std::uint64_t index) {
  FUZZ_CHECK(step.location.file() == kPath && line_length(text, step.location.line).has_value(),
             "a step at {}, outside the text", step.location);
  if (const auto* send = std::get_if<scenario::Send>(&step.action)) check_send(*send, index, scenario.seed);
}

void check_scenario(std::string_view text, const scenario::Scenario& scenario) {
  FUZZ_CHECK(scenario.name == "fuzz" && scenario.path == kPath, "scenario '{}' from '{}'", scenario.name,
             scenario.path);
  for (const auto& step : scenario.steps) {
    check_step(text, step, scenario, 0);
    const auto* repeat = std::get_if<scenario::Repeat>(&step.action);
    if (!repeat) continue;
    for (const auto& inner : repeat->body) {
      FUZZ_CHECK(!std::holds_alternative<scenario::Repeat>(inner.action), "a repeat inside a repeat at {}",
                 inner.location);
      check_step(text, inner, scenario, 0);
      if (repeat->count > 1) check_step(text, inner, scenario, repeat->count - 1);
    }
  }
}

}  // namespace
}  // namespace tapharness::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tapharness;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = scenario::parse_scenario(text, std::string(fuzz::kPath));
  if (!parsed) {
    fuzz::check_error(text, parsed.error());
  } else {
    fuzz::check_scenario(text, *parsed);
  }
  return 0;
}
