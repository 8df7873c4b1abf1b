// How the scenario parser reports errors: the first error wins, with its position, a message
// saying what was expected there, and for a misspelt word the closest valid one.
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
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/diagnostic.hpp"
#include "scenario/internal/word.hpp"
#include "protocol/named_value.hpp"

namespace tapharness::scenario {

class ErrorSink {
 public:
  explicit ErrorSink(std::string path) : path_(std::move(path)) {}

  // Records an error unless one is recorded already: later errors are usually consequences
  // of the first.
  std::nullopt_t fail(int line, int column, std::string message, std::string suggestion = {});
  std::nullopt_t fail(const Word& at, std::string message, std::string suggestion = {}) {
    return fail(at.line, at.column, std::move(message), std::move(suggestion));
  }

  bool failed() const { return error_.has_value(); }
  Diagnostic take() { return std::move(*error_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::optional<Diagnostic> error_;
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
