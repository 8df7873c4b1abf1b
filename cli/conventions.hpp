// What every tool does the same way: --version, paths under `bazel run`, and the exit status
// of an interrupted run.
//
//   if (vm.count("version")) { fmt::print("{}\n", cli::version_text("tap_tail")); return 0; }
//   std::string path = cli::user_path(argument);   // the user's directory under `bazel run`
#pragma once

#include <string>
#include <string_view>

namespace tapharness::cli {

// The release every tool reports.
inline constexpr std::string_view kVersion = "1.0.0";

// "tap_tail (tapharness) 1.0.0"
std::string version_text(std::string_view tool);

// Stands for standard input (or output) where a file is named.
inline constexpr std::string_view kStdio = "-";

// `path` as the user meant it: under `bazel run` the working directory is the runfiles tree,
// so a relative path is taken from BUILD_WORKING_DIRECTORY, the user's own. "-" and
// absolute paths are left alone.
std::string user_path(std::string_view path);

// The exit status of a tool stopped by Ctrl-C (SIGINT), as a shell reports it: 128 + 2.
inline constexpr int kInterruptedStatus = 130;

}  // namespace tapharness::cli
