#include "scenario/index_expr.hpp"

#include <array>
#include <cctype>
#include <fmt/format.h>

namespace tapharness::scenario {
namespace {

// A short expression: the evaluation stack is bounded by its length.
constexpr std::size_t kMaxLength = 256;

// Recursive descent over: expr := term (('+'|'-') term)*; term := factor (('*'|'/'|'%') factor)*;
// factor := number | 'n' | '(' expr ')'. Hand-written: three rules, no dependency does this.
class Parser {
 public:
  using Op = IndexExpr::Op;
  using Step = IndexExpr::Step;

  Parser(std::string_view text, std::vector<Step>& out) : text_(text), out_(out) {}

  bool parse() {
    if (!expr(0)) return false;
    skip();
    if (at_ < text_.size()) return fail(fmt::format("unexpected '{}'", text_[at_]));
    return true;
  }

  IndexExpr::Error error() const { return {error_at_, error_}; }

 private:
  void skip() {
    while (at_ < text_.size() && text_[at_] == ' ') ++at_;
  }
  bool fail(std::string message) {
    error_at_ = at_;
    error_ = std::move(message);
    return false;
  }

  bool expr(int depth) {
    if (!term(depth)) return false;
    for (skip(); at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-'); skip()) {
      const Op op = text_[at_++] == '+' ? Op::add : Op::sub;
      if (!term(depth)) return false;
      out_.push_back(Step{op, 0});
    }
    return true;
  }

  bool term(int depth) {
    if (!factor(depth)) return false;
    for (skip(); at_ < text_.size() && (text_[at_] == '*' || text_[at_] == '/' || text_[at_] == '%'); skip()) {
      const char c = text_[at_++];
      const Op op = c == '*' ? Op::mul : c == '/' ? Op::div : Op::mod;
      const std::size_t divisor_at = out_.size();
      if (!factor(depth)) return false;
      if (op != Op::mul && (out_.size() != divisor_at + 1 || out_.back().op != Op::number || out_.back().value == 0)) {
        return fail(fmt::format("a divisor ('{}') must be a number above 0", c));
      }
      out_.push_back(Step{op, 0});
    }
    return true;
  }

  bool factor(int depth) {
    skip();
    if (at_ >= text_.size()) return fail("expected n, a number or '('");
    if (depth > 16) return fail("parentheses nest too deep");
    const char c = text_[at_];
    if (c == 'n') {
      ++at_;
      out_.push_back(Step{Op::index, 0});
      return true;
    }
    if (c == '(') {
      ++at_;
      if (!expr(depth + 1)) return false;
      skip();
      if (at_ >= text_.size() || text_[at_] != ')') return fail("expected ')'");
      ++at_;
      return true;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      std::uint64_t value = 0;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) {
        const auto digit = static_cast<std::uint64_t>(text_[at_++] - '0');
        if (value > (UINT64_MAX - digit) / 10) return fail("a number beyond 64 bits");
        value = value * 10 + digit;
      }
      out_.push_back(Step{Op::number, value});
      return true;
    }
    return fail(fmt::format("expected n, a number or '(', got '{}'", c));
  }

  std::string_view text_;
  std::vector<Step>& out_;
  std::size_t at_ = 0;
  std::size_t error_at_ = 0;
  std::string error_;
};

}  // namespace

Result<IndexExpr, IndexExpr::Error> IndexExpr::parse(std::string_view text) {
  if (text.size() > kMaxLength) return Error{0, fmt::format("longer than {} characters", kMaxLength)};
  IndexExpr out;
  Parser parser(text, out.program_);
  if (!parser.parse()) return parser.error();
  return out;
}

std::uint64_t IndexExpr::eval(std::uint64_t n) const { return run(n, nullptr); }

bool IndexExpr::underflows(std::uint64_t n) const {
  bool underflow = false;
  run(n, &underflow);
  return underflow;
}

std::uint64_t IndexExpr::run(std::uint64_t n, bool* underflow) const {
  std::array<std::uint64_t, kMaxLength> stack;  // each operand is one character at least
  std::size_t top = 0;
  for (const Step& s : program_) {
    if (s.op == Op::number || s.op == Op::index) {
      stack[top++] = s.op == Op::number ? s.value : n;
      continue;
    }
    const std::uint64_t b = stack[--top];
    std::uint64_t& a = stack[top - 1];
    switch (s.op) {
      case Op::add: a += b; break;
      case Op::sub:
        if (underflow && b > a) *underflow = true;
        a -= b;
        break;
      case Op::mul: a *= b; break;
      case Op::div: a /= b; break;  // b > 0: only numbers above 0 divide
      case Op::mod: a %= b; break;
      default: break;
    }
  }
  return top > 0 ? stack[0] : 0;
}

}  // namespace tapharness::scenario
