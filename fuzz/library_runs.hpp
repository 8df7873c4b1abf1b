// Running a scenario of the library inside a fuzz target: picking it by name from the
// input, parsing it, and cutting its waits short so that one execution takes milliseconds.
//
//   auto scenario = short_library_scenario(in);   // reads "flush\n" (any text picks one)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "scenario/scenario.hpp"

namespace tapharness::fuzz {

// What shorten_waits() leaves of every wait, and of every repeat.
inline constexpr scenario::Duration kShortWait{3};
inline constexpr std::uint64_t kMaxRepeat = 3;

// The library scenario named `selector`; for any other text, one picked by its hash, so that
// every input runs something. Aborts if a library file does not parse.
std::shared_ptr<scenario::Scenario> library_scenario(std::string_view selector);

// The scenario timeout and every `within` to at most kShortWait, delays and byte gaps to 0,
// repeat counts to at most kMaxRepeat. Engine verdicts on timing change; what a client
// receives does not.
void shorten_waits(scenario::Scenario& scenario);

// The library scenario named by the input up to its first newline, its waits shortened.
std::shared_ptr<scenario::Scenario> short_library_scenario(FuzzInput& in);

}  // namespace tapharness::fuzz
