// How the scenario parser reports errors: the first error of each statement, with its
// position, a message saying what was expected there, and for a misspelt word the closest
// valid one; up to a cap (one, when only the first error matters). And warnings.
//
//   ErrorSink errors("x.scenario");
//   std::array<std::string_view, 2> kinds{"mutation", "deletion"};
//   fail_unknown(errors, word, "frame kind", kinds);
//   // x.scenario:4:6: unknown frame kind 'mutaton'; expected one of mutation, deletion;
//   //                 did you mean 'mutation'?
//
// Functions that fail return std::nullopt (an empty std::optional of any type), so a reader
// can write `return errors.fail(word, "...");`.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "scenario/diagnostic.hpp"
#include "scenario/internal/word.hpp"
#include "protocol/named_value.hpp"

namespace tapharness::scenario {

class ErrorSink {
 public:
  // Keeps up to `max_errors` errors and counts the rest, or with one (the default) stops at it.
  explicit ErrorSink(std::string path, std::size_t max_errors = 1) : path_(std::move(path)), max_(max_errors) {}

  // Records an error unless the statement has one already: later errors in it are usually
  // consequences of the first.
  std::nullopt_t fail(int line, int column, std::string message, std::string suggestion = {});
  std::nullopt_t fail(const Word& at, std::string message, std::string suggestion = {}) {
    return fail(at.line, at.column, std::move(message), std::move(suggestion));
  }
  void warn(int line, int column, std::string message);

  // A new statement (a line, or the checks at the end) may report its own error.
  void next_statement() { statement_failed_ = false; }

  bool failed() const { return !errors_.empty() || dropped_ > 0; }
  // Whether reading on can change nothing: only the first error is wanted, and it came.
  bool done() const { return max_ == 1 && !errors_.empty(); }
  Diagnostic take() { return std::move(errors_.front()); }  // the first
  std::vector<Diagnostic> take_errors() { return std::move(errors_); }
  std::vector<Diagnostic> take_warnings() { return std::move(warnings_); }
  std::size_t dropped() const { return dropped_; }
  const std::string& path() const { return path_; }
  // The file later errors are in (an `include`d one, then back).
  void set_path(std::string path) { path_ = std::move(path); }

 private:
  std::string path_;
  std::size_t max_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
  std::set<std::tuple<std::string, int, int, std::string>> warned_;
  std::size_t dropped_ = 0;
  bool statement_failed_ = false;
};

// How a list of valid words is shown: the scenario language writes some of the codec's
// upper-case names in lower case (flags, states).
enum class Spelling { as_is, lower };

// `word` in single quotes for a message; unprintable bytes become \xHH and a long word is cut.
std::string quoted(std::string_view word);

// "a, b, c" (at most 32, then "..."), in the given spelling.
std::string word_list(std::span<const std::string_view> words, Spelling spelling = Spelling::as_is);

// Fails with "unknown WHAT 'word'; expected one of CANDIDATES[ALTERNATIVE]" and the closest
// candidate as the suggestion. `alternative` is appended as is, e.g. " or a number".
std::nullopt_t fail_unknown(ErrorSink& errors, const Word& word, std::string_view what,
                            std::span<const std::string_view> candidates,
                            Spelling spelling = Spelling::as_is, std::string_view alternative = {});

// The names of an enum table, in table order.
template <class E>
std::vector<std::string_view> names_of(std::span<const protocol::NamedValue<E>> table) {
  std::vector<std::string_view> names;
  names.reserve(table.size());
  for (const auto& entry : table) names.push_back(entry.name);
  return names;
}

}  // namespace tapharness::scenario
