#include "runner/kill_matrix.hpp"

#include <filesystem>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace tapharness::runner {

std::vector<KillMatrix::Column> kill_matrix_columns() {
  std::vector<KillMatrix::Column> out;
  for (const auto& info : client::all_defects()) {
    client::DefectSet set;
    set.add(info.defect);
    out.push_back({std::string(info.name), set});
  }
  out.push_back({"reference", client::reference_defects()});
  return out;
}

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

// "kills: none (why)" (after the '#'), its reason, or nothing.
std::optional<std::string> kills_none_in(std::string_view comment) {
  comment = trim(comment);
  for (std::string_view word : {"kills:", "none"}) {
    if (!comment.starts_with(word)) return std::nullopt;
    comment = trim(comment.substr(word.size()));
  }
  if (comment.size() < 3 || comment.front() != '(' || comment.back() != ')') return std::nullopt;
  return std::string(comment.substr(1, comment.size() - 2));
}

}  // namespace

std::optional<std::string> kills_none_reason(std::string_view text) {
  // Only the header: the comment lines before the first statement.
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty()) continue;
    if (line[0] != '#') break;
    if (auto reason = kills_none_in(line.substr(1))) return reason;
  }
  return std::nullopt;
}

KillMatrix run_kill_matrix(const std::vector<std::string>& files, const RunOptions& options, std::size_t jobs) {
  KillMatrix m;
  m.columns = kill_matrix_columns();
  // A file is one row; a table's cases all run, and the row kills a defect when any does.
  struct Task {
    std::size_t row;
    std::shared_ptr<const scenario::Scenario> scenario;
    std::optional<std::size_t> column;  // none: the correct client
  };
  std::vector<Task> tasks;
  for (const auto& path : files) {
    auto text = scenario::read_scenario_file(path);
    auto cases = text ? scenario::parse_scenario_cases(*text, path)
                      : Result<std::vector<scenario::Scenario>, scenario::Diagnostic>(text.error());
    if (!cases) {
      m.invalid.push_back(cases.error().text());
      continue;
    }
    KillMatrix::Row row{.name = std::filesystem::path(path).stem().string(), .path = path};
    row.killed.assign(m.columns.size(), false);
    row.kills_none = kills_none_reason(*text);
    row.correct_passed = true;
    m.rows.push_back(std::move(row));
    const std::size_t r = m.rows.size() - 1;
    for (scenario::Scenario& one : *cases) {
      auto shared = std::make_shared<const scenario::Scenario>(std::move(one));
      tasks.push_back({r, shared, std::nullopt});
      for (std::size_t c = 0; c < m.columns.size(); ++c) tasks.push_back({r, shared, c});
    }
  }
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < tasks.size(); i = next++) {
      const Task& task = tasks[i];
      RunOptions run = options;
      if (task.column) run.defects = m.columns[*task.column].defects;
      const ScenarioResult result = run_scenario(task.scenario, run);
      std::lock_guard lock(mutex);
      KillMatrix::Row& row = m.rows[task.row];
      if (task.column) {
        if (result.verdict != Verdict::passed) row.killed[*task.column] = true;
      } else if (result.verdict != Verdict::passed && row.correct_passed) {
        row.correct_passed = false;
        row.correct_failure = first_failure_line(result);
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t j = 0; j < std::max<std::size_t>(1, jobs); ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return m;
}

std::string format_kill_matrix(const KillMatrix& m) {
  std::size_t width = 8;
  for (const auto& row : m.rows) width = std::max(width, row.name.size());
  std::string out = fmt::format("kill matrix: {} scenarios x {} defects (X: the scenario fails the defective client)\n",
                                m.rows.size(), m.columns.size());
  for (std::size_t c = 0; c < m.columns.size(); ++c) out += fmt::format("  {:>2} {}\n", c + 1, m.columns[c].name);
  out += fmt::format("{:<{}}  ok ", "", width);
  for (std::size_t c = 0; c < m.columns.size(); ++c) out += fmt::format("{}", (c + 1) / 10 ? std::to_string((c + 1) / 10) : " ");
  out += fmt::format("\n{:<{}}     ", "", width);
  for (std::size_t c = 0; c < m.columns.size(); ++c) out += fmt::format("{}", (c + 1) % 10);
  out += "  kills\n";
  for (const auto& row : m.rows) {
    std::size_t kills = 0;
    std::string cells;
    for (bool k : row.killed) {
      cells += k ? 'X' : '.';
      kills += k;
    }
    out += fmt::format("{:<{}}  {}  {}  {}{}\n", row.name, width, row.correct_passed ? "ok" : "!!", cells, kills,
                       row.kills_none ? fmt::format(" (kills: none, {})", *row.kills_none) : "");
  }
  out += "caught by:\n";
  for (std::size_t c = 0; c < m.columns.size(); ++c) {
    std::size_t by = 0;
    for (const auto& row : m.rows) by += row.killed[c];
    out += fmt::format("  {:<30} {:>3} of {}\n", m.columns[c].name, by, m.rows.size());
  }
  return out;
}

std::vector<std::string> kill_matrix_problems(const KillMatrix& m) {
  std::vector<std::string> out;
  for (const auto& invalid : m.invalid) out.push_back(fmt::format("invalid scenario: {}", invalid));
  for (const auto& row : m.rows) {
    if (!row.correct_passed) {
      out.push_back(fmt::format("{}: the correct client fails it: {}", row.name, row.correct_failure));
    }
    const bool kills = std::find(row.killed.begin(), row.killed.end(), true) != row.killed.end();
    if (!kills && !row.kills_none) {
      out.push_back(fmt::format("{}: catches no defect; add a check that does, or say why in its header "
                                "(# kills: none (why))",
                                row.name));
    }
  }
  for (std::size_t c = 0; c < m.columns.size(); ++c) {
    const bool caught = std::any_of(m.rows.begin(), m.rows.end(), [&](const auto& row) { return row.killed[c]; });
    if (!caught) out.push_back(fmt::format("{}: no scenario catches it", m.columns[c].name));
  }
  return out;
}

}  // namespace tapharness::runner
