#include "bench/report.hpp"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

namespace tapharness::bench {

void Report::print() const {
  fmt::print("\n{}\n", benchmark_);
  fmt::print("  {:<40} {:>16} {:<14} {}\n", "figure", "value", "unit", "target");
  for (const auto& f : figures_) {
    const std::string target =
        f.target ? fmt::format(">= {:.2f} {}", *f.target, f.met() ? "met" : "NOT MET") : "";
    fmt::print("  {:<40} {:>16.3f} {:<14} {}\n", f.name, f.value, f.unit, target);
    if (!f.met() && !f.why_not.empty()) fmt::print("    why: {}\n", f.why_not);
  }
}

void Report::append_json(const std::string& path) const {
  std::string lines;
  for (const auto& f : figures_) {
    lines += fmt::format(R"({{"benchmark":"{}","figure":"{}","value":{},"unit":"{}")", benchmark_, f.name, f.value, f.unit);
    if (f.target) lines += fmt::format(R"(,"target":{},"met":{})", *f.target, f.met());
    lines += fmt::format(R"(,"date":"{}","machine":"{}"}})", today(), machine_description());
    lines += "\n";
  }
  if (path == "-") {
    fmt::print("{}", lines);
    return;
  }
  std::ofstream(path, std::ios::app) << lines;
}

std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return fmt::format("{}, {} cores", model, std::thread::hardware_concurrency());
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d", std::gmtime(&now));
  return text;
}

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace tapharness::bench
