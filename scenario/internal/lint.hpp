// Warnings for a valid scenario: lines that parse but probably do not say what their author
// meant (scenarios/README.md, "Errors"). `--check` prints them; a run does not stop for them.
//
//   ErrorSink sink(path, kMaxErrors);
//   lint(scenario, sink);
//   for (const Diagnostic& w : sink.take_warnings()) ...   // "x.scenario:7:1: warning: ..."
#pragma once

#include "scenario/internal/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::scenario {

// More than this in one repeat is a volume run: it belongs in bench/, not the library.
inline constexpr std::uint64_t kMaxRepeatBytes = std::uint64_t{1} << 30;

void lint(const Scenario& scenario, ErrorSink& sink);

}  // namespace tapharness::scenario
