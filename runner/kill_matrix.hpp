// The kill matrix: every scenario run against the correct built-in client and against each
// defect (client/defects/defect.hpp), to show who catches whom. It holds when the correct
// client passes everything, every defect is caught by some scenario, and every scenario
// catches some defect or says in its header why it cannot:
//
//   # kills: none (it checks that a correct client survives a slow server; no defect is slower)
//
//   KillMatrix m = run_kill_matrix(files, options, /*jobs=*/16);
//   fmt::print("{}", format_kill_matrix(m));
//   for (const auto& problem : kill_matrix_problems(m)) ...
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "client/defects/defect.hpp"
#include "runner/scenario_run.hpp"

namespace tapharness::runner {

struct KillMatrix {
  struct Column {
    std::string name;  // a defect, or "reference"
    client::DefectSet defects;
  };
  struct Row {
    std::string name;
    std::string path;
    bool correct_passed = false;
    std::string correct_failure;        // how the correct client failed, when it did
    std::vector<bool> killed;           // per column: the scenario failed the defective client
    std::optional<std::string> kills_none;  // the header's reason, when it says "kills: none"
  };
  std::vector<Column> columns;
  std::vector<Row> rows;
  std::vector<std::string> invalid;  // files that do not parse, with their error
};

// Every defect on its own, then `reference`.
std::vector<KillMatrix::Column> kill_matrix_columns();

// `# kills: none (why)` in a scenario's leading comments: the why.
std::optional<std::string> kills_none_reason(std::string_view text);

// Runs every file against the correct client and each column, `jobs` runs at a time.
KillMatrix run_kill_matrix(const std::vector<std::string>& files, const RunOptions& options, std::size_t jobs);

// The matrix as a table (a row per scenario, a column per defect: X caught, . survived), then
// the totals per defect.
std::string format_kill_matrix(const KillMatrix& matrix);

// What keeps the matrix from holding, one line each; empty when it holds.
std::vector<std::string> kill_matrix_problems(const KillMatrix& matrix);

}  // namespace tapharness::runner
