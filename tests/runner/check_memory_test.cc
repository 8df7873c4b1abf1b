// `tap_scenario --check` on generated files: parser memory is a small multiple of the file,
// whatever its lines. (Before steps were made small, 6 MB of `send noop` took 871 MB.)
#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/support/child_process.hpp"

namespace tapharness::testing {
namespace {

constexpr std::size_t kFileBytes = 6'000'000;
// At most this many bytes of memory per byte of scenario, above a run's fixed cost.
constexpr long kMaxBytesPerFileByte = 16;

std::string write_file(const std::string& name, const auto& line_for) {
  const std::string path = fmt::format("{}/{}", std::getenv("TEST_TMPDIR"), name);
  std::ofstream out(path);
  std::size_t written = 0;
  for (std::size_t i = 0; written < kFileBytes; ++i) {
    const std::string line = line_for(i);
    out << line;
    written += line.size();
  }
  return path;
}

// The peak memory of `tap_scenario --check FILE`, in KiB.
long check_peak_kib(const std::string& path) {
  ChildProcess check("runner/tap_scenario", {"--check", path});
  const ChildProcess::Exit exit = check.wait(std::chrono::seconds(120));
  EXPECT_EQ(exit.status, 0) << exit.out << exit.err;
  return exit.peak_resident_kib;
}

::testing::AssertionResult SmallMultipleOfTheFile(const std::string& path, long fixed_kib) {
  const long peak_kib = check_peak_kib(path);
  const long per_byte = (peak_kib - fixed_kib) * 1024 / static_cast<long>(kFileBytes);
  fmt::print("{}: {} KiB at peak, {} above a file of comments: {} bytes per file byte\n", path, peak_kib,
             peak_kib - fixed_kib, per_byte);
  if (per_byte <= kMaxBytesPerFileByte * kSanitizerMemoryFactor) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << fmt::format("{} took {} KiB ({} bytes per file byte) for {} bytes",
                                                     path, peak_kib, per_byte, kFileBytes);
}

class CheckMemory : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The binary, its libraries and the file's text: a file of comments holds nothing else.
    const std::string comments = write_file("comments.scenario", [](std::size_t i) {
      return std::string(i == 0 ? "send noop\n" : "# x\n");
    });
    fixed_kib_ = check_peak_kib(comments);
  }
  static inline long fixed_kib_ = 0;
};

TEST_F(CheckMemory, TheShortestSendLines) {
  const auto path = write_file("noops.scenario", [](std::size_t) { return std::string("send noop\n"); });
  EXPECT_TRUE(SmallMultipleOfTheFile(path, fixed_kib_));
}

TEST_F(CheckMemory, EveryLineDifferent) {
  const auto path = write_file("mutations.scenario", [](std::size_t i) {
    return fmt::format("send mutation vb={} key=\"key-{}\" value=\"v{}\" cas={}\n", i % 1024, i, i, i);
  });
  EXPECT_TRUE(SmallMultipleOfTheFile(path, fixed_kib_));
}

TEST_F(CheckMemory, RepeatBodiesAndExpectations) {
  const auto path = write_file("mixed.scenario", [](std::size_t i) {
    return fmt::format("repeat 2 {{\n  send opaque code=1 ack\n}}\nexpect ack within=5s\nexpect ack\ndelay {}ms\n",
                       i % 100);
  });
  EXPECT_TRUE(SmallMultipleOfTheFile(path, fixed_kib_));
}

}  // namespace
}  // namespace tapharness::testing
