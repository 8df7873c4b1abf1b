// Durations read from command lines: every tool takes them the same way, and refuses the
// same mistakes with the same words.
//
//   auto timeout = seconds_option("--timeout", 2.5);   // 2500ms
//   seconds_option("--timeout", 1e10).error().message();
//   // "--timeout: 10000000000 seconds is over the longest wait, 86400 seconds (24 hours)"
#pragma once

#include <chrono>
#include <string_view>

#include "protocol/result.hpp"

namespace tapharness::cli {

// The longest wait an option may ask for: a day. Longer is a typo, and far longer
// overflows a clock's arithmetic. (The scenario language has the same bound.)
inline constexpr std::chrono::milliseconds kMaxWait{24 * 60 * 60 * 1000};

// `seconds` (a number of seconds, fractions allowed) as milliseconds. Refuses what is not a
// finite number, not positive, over kMaxWait, or more than 0 but under a millisecond (it
// would round to no wait at all).
Result<std::chrono::milliseconds, InputError> seconds_option(std::string_view option, double seconds);

}  // namespace tapharness::cli
