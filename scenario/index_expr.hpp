// Arithmetic on the repeat index: `{n*2+1}`, `{n%4}`, `{(n+3)/2}`. Numbers and index names
// with + - * / % and parentheses, as usual (* / % before + -); a divisor must be a number
// above 0, so every value is defined. Compiled once to a postfix program, evaluated per
// iteration. In nested repeats (`repeat 4 as vb { repeat 100 as i { ... } }`) the outer
// names are bound to their iteration's value, so only the innermost index stays a variable.
//
//   auto e = IndexExpr::parse("n*2+1");    // or the error, naming what is wrong and where
//   e->eval(5) == 11;
//   auto f = IndexExpr::parse("vb*1000+i", {.index = "i", .bound = {{"vb", 2}}});
//   f->eval(7) == 2007;
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tapharness::scenario {

// An outer repeat's index, at the value of the iteration being read.
struct BoundIndex {
  std::string name;
  std::uint64_t value = 0;
};

// The names an expression may use: the index (empty: none, as outside a repeat body) and the
// outer repeats' bound ones.
struct IndexNames {
  std::string_view index = "n";
  std::span<const BoundIndex> bound;
};

class IndexExpr {
 public:
  struct Error {
    std::size_t offset = 0;  // in the text parsed
    std::string message;
  };

  static Result<IndexExpr, Error> parse(std::string_view text, IndexNames names = {});

  // Without the index in it (only numbers and bound names): its one value.
  std::optional<std::uint64_t> constant() const;

  // Wraps below 0 as unsigned arithmetic does; ValueReader checks the ends of its repeat.
  std::uint64_t eval(std::uint64_t n) const;
  // Whether some subtraction goes below 0 for this n.
  bool underflows(std::uint64_t n) const;
  // Just `n`.
  bool is_plain() const { return program_.size() == 1 && program_.front().op == Op::index; }

  friend bool operator==(const IndexExpr&, const IndexExpr&) = default;

  // The postfix program: operands pushed, operators applied to the top two.
  enum class Op : std::uint8_t { number, index, add, sub, mul, div, mod };
  struct Step {
    Op op = Op::number;
    std::uint64_t value = 0;
    friend bool operator==(const Step&, const Step&) = default;
  };

 private:
  std::uint64_t run(std::uint64_t n, bool* underflow) const;
  std::vector<Step> program_;
};

}  // namespace tapharness::scenario
