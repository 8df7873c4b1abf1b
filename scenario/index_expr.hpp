// Arithmetic on the repeat index: `{n*2+1}`, `{n%4}`, `{(n+3)/2}`. Numbers and `n` with
// + - * / % and parentheses, as usual (* / % before + -); a divisor must be a number above 0,
// so every value is defined. Compiled once to a postfix program, evaluated per iteration.
//
//   auto e = IndexExpr::parse("n*2+1");    // or the error, naming what is wrong and where
//   e->eval(5) == 11;
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tapharness::scenario {

class IndexExpr {
 public:
  struct Error {
    std::size_t offset = 0;  // in the text parsed
    std::string message;
  };

  static Result<IndexExpr, Error> parse(std::string_view text);

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
