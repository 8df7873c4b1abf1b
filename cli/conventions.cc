#include "cli/conventions.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace tapharness::cli {

std::string version_text(std::string_view tool) { return fmt::format("{} (tapharness) {}", tool, kVersion); }

std::string user_path(std::string_view path) {
  if (path.empty() || path == kStdio || path.front() == '/') return std::string(path);
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");  // set by `bazel run`
  return dir && *dir ? fmt::format("{}/{}", dir, path) : std::string(path);
}

}  // namespace tapharness::cli
