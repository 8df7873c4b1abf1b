// Benchmark figures: a table for people and one JSON line per figure for comparing runs.
//
//   Report report("feed_throughput");
//   report.add("client_100B", "events_per_s", 2.1e6);
//   report.add_ratio("client_100B_vs_raw", 0.62, 0.5);   // measured, target
//   report.add_ratio("x_vs_y", 0.4, 0.5, "what was measured that says why");
//   report.print();          // the table on stdout
//   report.append_json(path) // one line per figure
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tapharness::bench {

struct Figure {
  std::string name;
  std::string unit;
  double value = 0;
  std::optional<double> target;  // ratios: the value it must reach
  std::string why_not;           // printed under the figure when its target is not met

  bool met() const { return !target || value >= *target; }
};

class Report {
 public:
  explicit Report(std::string benchmark) : benchmark_(std::move(benchmark)) {}
  void add(std::string name, std::string unit, double value) { figures_.push_back({name, unit, value, {}}); }
  void add_ratio(std::string name, double value, double target, std::string why_not = {}) {
    figures_.push_back({name, "ratio", value, target, std::move(why_not)});
  }
  void print() const;
  // Appends one JSON object per figure to `path` (or stdout for "-").
  void append_json(const std::string& path) const;
  const std::vector<Figure>& figures() const { return figures_; }

 private:
  std::string benchmark_;
  std::vector<Figure> figures_;
};

// The machine and the date, for the JSON lines and the README table.
std::string machine_description();
std::string today();

// Resident memory of this process, in KiB (from /proc/self/status).
long resident_kib();

}  // namespace tapharness::bench
