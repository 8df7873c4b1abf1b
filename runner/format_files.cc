#include "runner/format_files.hpp"

#include <algorithm>
#include <fstream>

#include <fmt/format.h>

#include "scenario/formatter.hpp"
#include "scenario/parser.hpp"

namespace tapharness::runner {
namespace {

// The 1-based line where two texts first differ.
std::size_t first_different_line(const std::string& a, const std::string& b) {
  const auto [at, _] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return 1 + static_cast<std::size_t>(std::count(a.begin(), at, '\n'));
}

}  // namespace

int format_files(const std::vector<std::string>& files, bool check, std::string& report) {
  int status = 0;
  for (const std::string& path : files) {
    auto text = scenario::read_scenario_file(path);
    if (!text) {
      report += fmt::format("{}\n", text.error().text());
      status = 2;
      continue;
    }
    if (auto cases = scenario::parse_scenario_cases(*text, path); !cases) {
      report += fmt::format("{} (not formatted: it does not parse)\n", cases.error().text());
      status = 2;
      continue;
    }
    const std::string tidy = scenario::format_scenario(*text);
    if (tidy == *text) continue;
    if (check) {
      report += fmt::format("{}:{}: not formatted (tap_scenario --fmt {} rewrites it)\n", path,
                            first_different_line(*text, tidy), path);
      status = std::max(status, 1);
      continue;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << tidy;
    if (!out) {
      report += fmt::format("{}: cannot write the formatted file\n", path);
      status = 2;
      continue;
    }
    report += fmt::format("formatted {}\n", path);
  }
  return status;
}

}  // namespace tapharness::runner
