#include "cli/duration.hpp"

#include <cmath>

#include <fmt/format.h>

namespace tapharness::cli {

Result<std::chrono::milliseconds, InputError> seconds_option(std::string_view option, double seconds) {
  auto refuse = [&](std::string what) { return InputError{std::string(option), std::move(what)}; };
  if (!std::isfinite(seconds)) return refuse(fmt::format("{} is not a number of seconds", seconds));
  if (seconds <= 0) return refuse(fmt::format("must be a positive number of seconds, not {}", seconds));
  const double max_seconds = static_cast<double>(kMaxWait.count()) / 1000;
  if (seconds > max_seconds) {
    return refuse(fmt::format("{} seconds is over the longest wait, {} seconds (24 hours)", seconds, max_seconds));
  }
  const auto milliseconds = static_cast<std::int64_t>(std::llround(seconds * 1000));
  if (milliseconds == 0) {
    return refuse(fmt::format("{} seconds rounds to 0 milliseconds; the shortest wait is 0.001", seconds));
  }
  return std::chrono::milliseconds(milliseconds);
}

}  // namespace tapharness::cli
