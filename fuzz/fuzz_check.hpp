// The invariant check of the fuzz targets: a violated invariant prints what was expected
// against what happened and aborts, which libFuzzer records as a crash and the replay test
// reports as a failure. Plain assert() would vanish under NDEBUG; gtest does not belong in a
// libFuzzer binary.
//
//   FUZZ_CHECK(chunked == whole, "chunked decoding gave {} frames, whole gave {}", a, b);
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace tapharness::fuzz::detail {

[[noreturn]] inline void check_failed(const char* file, int line, const char* condition,
                                      const std::string& message) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n  %s\n", file, line, condition, message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tapharness::fuzz::detail

// `...` is a fmt format string and its arguments, evaluated only on failure.
#define FUZZ_CHECK(condition, ...)                                                           \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      ::tapharness::fuzz::detail::check_failed(__FILE__, __LINE__, #condition,               \
                                               fmt::format(__VA_ARGS__));                    \
    }                                                                                        \
  } while (false)
