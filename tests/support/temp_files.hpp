// Files a test writes and reads back under $TEST_TMPDIR (scenario files, trace directories).
//
//   const std::string path = write_temp_file("backfill.scenario", "send noop\n");
//   const auto traces = fresh_temp_dir("traces");   // empty, and not yet made
//   std::string text = read_text_file(traces / "backfill.1.trace");
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace tapharness::testing {

inline std::filesystem::path temp_dir() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return tmp ? tmp : "/tmp";
}

// Writes `text` to $TEST_TMPDIR/`name` and returns the path.
inline std::string write_temp_file(std::string_view name, std::string_view text) {
  const auto path = temp_dir() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path.string();
}

// $TEST_TMPDIR/`name`, removed with everything in it: the code under test makes it.
inline std::filesystem::path fresh_temp_dir(std::string_view name) {
  const auto dir = temp_dir() / name;
  std::filesystem::remove_all(dir);
  return dir;
}

// The whole file; empty when it cannot be read.
inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tapharness::testing
