#include "mockserver/report.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tapharness::mockserver {

std::pair<std::string_view, std::size_t> Report::intern(std::string_view step) {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (*names_[i] == step) return {*names_[i], i};
  }
  names_.push_back(std::make_shared<const std::string>(step));
  return {*names_.back(), names_.size() - 1};
}

StepOutcome& Report::outcome(const SourceLocation& location, std::string_view step) {
  auto same = [&](const StepOutcome& o) { return o.location.line == location.line && o.step == step; };
  if (last_ < steps_.size() && same(steps_[last_])) return steps_[last_];
  if (last_ + 1 < steps_.size() && same(steps_[last_ + 1])) return steps_[++last_];  // the next body step
  const auto [name, id] = intern(step);
  const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(location.line)) << 32) | id;
  auto [it, inserted] = by_line_.try_emplace(key, steps_.size());
  if (inserted) steps_.push_back(StepOutcome{.location = location, .step = name});
  last_ = it->second;
  return steps_[it->second];
}

void Report::pass(const SourceLocation& location, std::string_view step, std::uint64_t times) {
  if (closed_) return;
  outcome(location, step).passed += times;
}

void Report::fail(const SourceLocation& location, std::string_view step, std::string expected,
                  std::string observed, std::optional<std::uint64_t> index) {
  if (closed_) return;
  auto& o = outcome(location, step);
  if (o.failed++ == 0) {
    o.failure = std::make_shared<const StepFailure>(StepFailure{std::move(expected), std::move(observed), index});
  }
}

void Report::absorb(const Report& other) {
  for (const StepOutcome& step : other.steps_) {
    StepOutcome& mine = outcome(step.location, step.step);
    if (mine.failed == 0 && step.failed > 0) mine.failure = step.failure;
    mine.passed += step.passed;
    mine.failed += step.failed;
  }
  frames_sent += other.frames_sent;
  bytes_sent += other.bytes_sent;
  frames_received += other.frames_received;
}

bool Report::passed() const { return first_failure() == nullptr; }

bool Report::has_failed_at(const SourceLocation& location) const {
  return std::any_of(steps_.begin(), steps_.end(),
                     [&](const StepOutcome& s) { return s.location.line == location.line && s.failed > 0; });
}

Report internal_failure(const scenario::Scenario& scenario, std::size_t connection, std::exception_ptr error) {
  std::string what = "an unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  Report report(scenario.name, connection);
  report.fail({scenario.path, 0, 0}, "engine", "a run to its end", fmt::format("an internal error: {}", what));
  return report;
}

const StepOutcome* Report::first_failure() const {
  for (const auto& s : steps_) {
    if (s.failed > 0) return &s;
  }
  return nullptr;
}

std::string format_report(const Report& r) {
  std::string out = fmt::format("{} {} (connection {}): {} steps, {} frames sent, {} received\n",
                                r.passed() ? "PASS" : "FAIL", r.scenario(), r.connection(),
                                r.steps().size(), r.frames_sent, r.frames_received);
  for (const auto& s : r.steps()) {
    if (s.failed == 0) continue;
    const SourceLocation& l = s.location;
    out += fmt::format("  {}:{}: {}", l.file(), l.line, s.step);
    if (s.failure->index) out += fmt::format(" (repeat index {})", *s.failure->index);
    if (s.failed > 1) out += fmt::format(" (failed {} times)", s.failed);
    out += fmt::format("\n    expected: {}\n    observed: {}\n", s.failure->expected, s.failure->observed);
  }
  return out;
}

}  // namespace tapharness::mockserver
