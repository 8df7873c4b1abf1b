#include "scenario/table.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "scenario/internal/lexer.hpp"
#include "scenario/parser.hpp"

namespace tapharness::scenario {
namespace {

// A table's rows are cases, not a volume: a sweep of statuses by kinds is dozens.
constexpr std::size_t kMaxRows = 10'000;

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::size_t first_line = 0;  // 0-based, the `table` line
  std::size_t last_line = 0;   // the closing `}` (or the `table` line itself with `from`)
};

struct Lines {
  explicit Lines(std::string_view text) {
    std::size_t at = 0;
    while (at <= text.size()) {
      const std::size_t end = std::min(text.find('\n', at), text.size());
      all.push_back(text.substr(at, end - at));
      at = end + 1;
    }
  }
  std::vector<std::string_view> all;
};

Diagnostic error_at(const std::string& path, std::size_t line, int column, std::string message) {
  return Diagnostic{SourceLocation(path, static_cast<int>(line) + 1, column), std::move(message), {}};
}

// Reads rows from `lines` [begin, end) into `table`.
std::optional<Diagnostic> read_rows(const std::vector<std::string_view>& lines, std::size_t begin, std::size_t end,
                                    const std::string& path, Table& table, std::set<std::string>& names) {
  std::vector<Word> words;
  for (std::size_t i = begin; i < end; ++i) {
    const LineSplit split = split_words(lines[i], static_cast<int>(i) + 1, words);
    if (split.unterminated) {
      return error_at(path, i, static_cast<int>(*split.unterminated) + 1, "unterminated string in a table row");
    }
    if (words.empty()) continue;
    if (words.size() != table.columns.size()) {
      return error_at(path, i, words.front().column,
                      fmt::format("a row of {} words; the table has {} columns ({})", words.size(), table.columns.size(),
                                  fmt::join(table.columns, ", ")));
    }
    if (!is_label(words.front().text)) {
      return error_at(path, i, words.front().column,
                      fmt::format("a row's first word names its case: letters, digits, '_' and '-', got '{}'",
                                  words.front().text));
    }
    if (!names.insert(std::string(words.front().text)).second) {
      return error_at(path, i, words.front().column, fmt::format("duplicate row name '{}'", words.front().text));
    }
    if (table.rows.size() == kMaxRows) return error_at(path, i, 1, fmt::format("more than {} rows", kMaxRows));
    std::vector<std::string> row;
    for (const Word& w : words) row.emplace_back(w.text);
    table.rows.push_back(std::move(row));
  }
  return std::nullopt;
}

// The `table` statement, if the file has one.
Result<std::optional<Table>, Diagnostic> find_table(const std::vector<std::string_view>& lines, const std::string& path) {
  std::vector<Word> words;
  std::optional<Table> found;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    split_words(lines[i], static_cast<int>(i) + 1, words);
    if (words.empty() || words.front().text != "table") continue;
    if (found) {
      return error_at(path, i, words.front().column,
                      fmt::format("a file has one table; the first is at line {}", found->first_line + 1));
    }
    Table table;
    table.first_line = i;
    std::size_t at = 1;
    for (; at < words.size() && words[at].text != "{" && words[at].text != "from"; ++at) {
      const std::string_view column = words[at].text;
      if (!is_label(column) || column == "n") {
        return error_at(path, i, words[at].column,
                        fmt::format("a column name is letters, digits, '_' and '-' (and not 'n', the repeat index), "
                                    "got '{}'",
                                    column));
      }
      table.columns.emplace_back(column);
    }
    if (table.columns.empty()) {
      return error_at(path, i, words.front().column, "'table' needs its column names, as in table name status {");
    }
    std::set<std::string> names;
    if (at < words.size() && words[at].text == "from") {
      if (at + 1 >= words.size() || !words[at + 1].text.starts_with('"') || at + 2 != words.size()) {
        return error_at(path, i, words[at].column, "'from' takes one quoted path, as in from \"rows.table\"");
      }
      const std::string_view quoted = words[at + 1].text;
      const std::string relative(quoted.substr(1, quoted.size() - 2));
      const std::filesystem::path base = path == "-" ? std::filesystem::path() : std::filesystem::path(path).parent_path();
      const std::string rows_path = (base / relative).lexically_normal().string();
      auto rows_text = read_scenario_file(rows_path);
      if (!rows_text) {
        return error_at(path, i, words[at + 1].column,
                        fmt::format("cannot read the rows: {}", rows_text.error().text()));
      }
      const Lines rows(*rows_text);
      if (auto bad = read_rows(rows.all, 0, rows.all.size(), rows_path, table, names)) return *bad;
      table.last_line = i;
    } else {
      if (at >= words.size() || at + 1 != words.size()) {
        return error_at(path, i, words.back().column, "expected '{' or 'from \"FILE\"' at the end of the table line");
      }
      std::size_t close = i + 1;
      for (; close < lines.size(); ++close) {
        split_words(lines[close], static_cast<int>(close) + 1, words);
        if (!words.empty() && words.front().text == "}") break;
      }
      if (close == lines.size()) return error_at(path, i, 1, "'table' block is never closed; expected '}'");
      if (auto bad = read_rows(lines, i + 1, close, path, table, names)) return *bad;
      table.last_line = close;
    }
    if (table.rows.empty()) return error_at(path, i, 1, "the table has no rows");
    found = std::move(table);
  }
  return found;
}

// Whether `at` lies inside a quoted string of `line` (quotes not escaped by a backslash).
bool inside_string(std::string_view line, std::size_t at) {
  bool inside = false;
  for (std::size_t i = 0; i < at; ++i) {
    if (inside && line[i] == '\\') {
      ++i;
    } else if (line[i] == '"') {
      inside = !inside;
    }
  }
  return inside;
}

// A row's word where `{column}` stood: as written, or, inside a string, a quoted word's
// contents (so `match="status {status}: {text}"` takes `"not supported"` as its words).
std::string_view word_for(std::string_view word, bool in_string) {
  if (in_string && word.size() >= 2 && word.front() == '"' && word.back() == '"') return word.substr(1, word.size() - 2);
  return word;
}

// `line` with every `{column}` replaced by the row's word.
std::string substitute(std::string_view line, const Table& table, const std::vector<std::string>& row) {
  std::string out;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t open = line.find('{', at);
    if (open == std::string_view::npos) break;
    const std::size_t close = line.find('}', open);
    if (close == std::string_view::npos) break;
    const std::string_view name = line.substr(open + 1, close - open - 1);
    const auto column = std::find(table.columns.begin(), table.columns.end(), name);
    out.append(line.substr(at, open - at));
    if (column == table.columns.end()) {
      out.append(line.substr(open, close + 1 - open));
    } else {
      out += word_for(row[static_cast<std::size_t>(column - table.columns.begin())], inside_string(line, open));
    }
    at = close + 1;
  }
  out.append(line.substr(std::min(at, line.size())));
  return out;
}

}  // namespace

Result<std::vector<ScenarioCase>, Diagnostic> expand_table(std::string_view text, const std::string& path) {
  const Lines lines(text);
  auto table = find_table(lines.all, path);
  if (!table) return table.error();
  if (!*table) return std::vector<ScenarioCase>{ScenarioCase{"", std::string(text)}};
  // Every case is the file again: the cases together stay within one file's bound.
  if ((*table)->rows.size() * text.size() > kMaxFileSize) {
    return error_at(path, (*table)->first_line, 1,
                    fmt::format("{} rows of a {}-byte file expand to more than {} bytes; split the table",
                                (*table)->rows.size(), text.size(), kMaxFileSize));
  }
  std::vector<ScenarioCase> cases;
  for (const auto& row : (*table)->rows) {
    ScenarioCase one{row.front(), {}};
    one.text.reserve(text.size());
    for (std::size_t i = 0; i < lines.all.size(); ++i) {
      if (i > 0) one.text += '\n';
      // The table's own lines stay, blank, so every other line keeps its number.
      if (i >= (*table)->first_line && i <= (*table)->last_line) continue;
      one.text += substitute(lines.all[i], **table, row);
    }
    cases.push_back(std::move(one));
  }
  return cases;
}

}  // namespace tapharness::scenario
