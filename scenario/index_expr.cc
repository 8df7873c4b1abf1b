#include "scenario/index_expr.hpp"

#include <array>
#include <cctype>
#include <fmt/format.h>

namespace tapharness::scenario {
namespace {

// A short expression: the evaluation stack is bounded by its length.
constexpr std::size_t kMaxLength = 256;

// Recursive descent over: expr := term (('+'|'-') term)*; term := factor (('*'|'/'|'%') factor)*;
// factor := number | name | '(' expr ')'. Hand-written: three rules, no dependency does this.
// A bound name compiles to its number, so the program holds at most one variable.
class Parser {
 public:
  using Op = IndexExpr::Op;
  using Step = IndexExpr::Step;

  Parser(std::string_view text, IndexNames names, std::vector<Step>& out) : text_(text), names_(names), out_(out) {}

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
    if (at_ >= text_.size()) return fail(fmt::format("expected {}, a number or '('", expected_name()));
    if (depth > 16) return fail("parentheses nest too deep");
    const char c = text_[at_];
    if (is_name_start(c)) return name();
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
    return fail(fmt::format("expected {}, a number or '(', got '{}'", expected_name(), c));
  }

  static bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
  static bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

  bool name() {
    const std::size_t begin = at_;
    while (at_ < text_.size() && is_name_char(text_[at_])) ++at_;
    const std::string_view word = text_.substr(begin, at_ - begin);
    if (!names_.index.empty() && word == names_.index) {
      out_.push_back(Step{Op::index, 0});
      return true;
    }
    for (const BoundIndex& bound : names_.bound) {
      if (bound.name == word) {
        out_.push_back(Step{Op::number, bound.value});
        return true;
      }
    }
    at_ = begin;
    return fail(fmt::format("unknown name '{}'; {}", word, names_in_scope()));
  }

  std::string expected_name() const {
    return names_.index.empty() && names_.bound.empty() ? std::string("n")
           : names_.index.empty()                       ? std::string(names_.bound.back().name)
                                                        : std::string(names_.index);
  }

  std::string names_in_scope() const {
    std::string out;
    if (!names_.index.empty()) out = fmt::format("this repeat's index is '{}'", names_.index);
    for (const BoundIndex& bound : names_.bound) {
      out += fmt::format("{}'{}' is an outer repeat's", out.empty() ? "" : ", ", bound.name);
    }
    return out.empty() ? "no repeat index is in scope here" : out;
  }

  std::string_view text_;
  IndexNames names_;
  std::vector<Step>& out_;
  std::size_t at_ = 0;
  std::size_t error_at_ = 0;
  std::string error_;
};

}  // namespace

Result<IndexExpr, IndexExpr::Error> IndexExpr::parse(std::string_view text, IndexNames names) {
  if (text.size() > kMaxLength) return Error{0, fmt::format("longer than {} characters", kMaxLength)};
  IndexExpr out;
  Parser parser(text, names, out.program_);
  if (!parser.parse()) return parser.error();
  return out;
}

std::optional<std::uint64_t> IndexExpr::constant() const {
  for (const Step& s : program_) {
    if (s.op == Op::index) return std::nullopt;
  }
  return eval(0);
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
