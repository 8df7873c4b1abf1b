// The deliberately wrong scenarios in tests/runner/wrong/ say in their header what the
// runner must report: each "# expect: TEXT" line is a piece of its output.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace tapharness::runner::testing {

inline std::vector<std::string> expected_output(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  const std::string tag = "# expect: ";
  while (std::getline(in, line)) {
    if (line.rfind(tag, 0) == 0) out.push_back(line.substr(tag.size()));
  }
  return out;
}

}  // namespace tapharness::runner::testing
