#include "scenario/internal/values.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>

#include <charconv>
#include <limits>

#include "protocol/hex.hpp"

namespace tapharness::scenario {
namespace {

enum class NumberSyntax { ok, not_a_number, too_large };

NumberSyntax parse_unsigned(std::string_view text, std::uint64_t& out) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  // from_chars accepts no sign for unsigned types, so digits are all it takes.
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  if (text.empty() || end != text.data() + text.size()) return NumberSyntax::not_a_number;
  if (error == std::errc::result_out_of_range) return NumberSyntax::too_large;
  return error == std::errc{} ? NumberSyntax::ok : NumberSyntax::not_a_number;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct DurationUnit {
  std::string_view suffix;
  std::int64_t milliseconds;
};
constexpr DurationUnit kDurationUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};

std::string bytes_forms() {
  return "a \"string\", x\"hex\", random(N), fill(N) / fill(N,BYTE) or file(\"PATH\")";
}

}  // namespace

std::nullopt_t ValueReader::fail_index_outside_repeat(const Word& at) {
  return errors_.fail(at, "'{n}' is the repeat index; it is allowed only inside a repeat body");
}

std::vector<std::string_view> ValueReader::index_names() const {
  std::vector<std::string_view> names;
  for (const BoundIndex& b : bound_) names.push_back(b.name);
  if (repeat_count_) names.push_back(index_name_);
  return names;
}

std::string ValueReader::bound_context() const {
  if (bound_.empty()) return "";
  std::string out;
  for (const BoundIndex& b : bound_) out += fmt::format("{}{}={}", out.empty() ? "" : " ", b.name, b.value);
  return fmt::format(" ({})", out);
}

std::optional<std::uint64_t> ValueReader::number(const Word& value, std::string_view what,
                                                 std::uint64_t max) {
  if (is_index_word(value.text)) {
    std::size_t length = 0;
    bool failed = false;
    const auto index = placeholder(value, what, max, length, failed);
    if (failed) return std::nullopt;
    if (index && index->constant) return *index->constant;
    return errors_.fail(value, fmt::format("'{}' needs a fixed number; '{}' is not allowed here", what, value.text));
  }
  std::uint64_t n = 0;
  switch (parse_unsigned(value.text, n)) {
    case NumberSyntax::ok: break;
    case NumberSyntax::not_a_number:
      return errors_.fail(value, fmt::format("expected a number for '{}' (decimal or 0x hex), got {}",
                                             what, quoted(value.text)));
    case NumberSyntax::too_large:
      return errors_.fail(value, fmt::format("'{}' is at most {}, got {}", what, max, quoted(value.text)));
  }
  if (n > max) return errors_.fail(value, fmt::format("'{}' is at most {}, got {}", what, max, n));
  return n;
}

// Whether `text` opens with `{...}` holding arithmetic on an index (`{n}`, `{n*2+1}`,
// `{vb*1000+i}`): the only braces the language gives a meaning inside a value. Braces around
// other words stay text, so "{json}" in a value is still itself.
std::size_t ValueReader::placeholder_length(std::string_view text) const {
  if (!text.starts_with('{')) return 0;
  const std::size_t close = text.find('}');
  if (close == std::string_view::npos || close == 1) return 0;
  const std::string_view inside = text.substr(1, close - 1);
  if (inside.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789+-*/%() ") != std::string_view::npos) return 0;
  auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  for (std::size_t i = 0; i < inside.size();) {
    if (!is_letter(inside[i])) {
      // An operator, or a number (with any letters glued to it, which make no name).
      const bool number = is_digit(inside[i]);
      ++i;
      while (number && i < inside.size() && (is_letter(inside[i]) || is_digit(inside[i]))) ++i;
      continue;
    }
    std::size_t end = i;
    while (end < inside.size() && (is_letter(inside[end]) || is_digit(inside[end]))) ++end;
    const std::string_view name = inside.substr(i, end - i);
    if (name == "n" || (repeat_count_ && name == index_name_) ||
        std::any_of(bound_.begin(), bound_.end(), [&](const BoundIndex& b) { return b.name == name; })) {
      return close + 1;
    }
    i = end;
  }
  return 0;
}

std::optional<ValueReader::Placeholder> ValueReader::placeholder(const Word& at, std::string_view what,
                                                                 std::uint64_t max, std::size_t& length,
                                                                 bool& failed) {
  failed = false;
  length = placeholder_length(at.text);
  if (length == 0) return std::nullopt;
  failed = true;
  if (!repeat_count_ && bound_.empty()) return fail_index_outside_repeat(at);
  const std::string_view written = at.text.substr(0, length);
  auto parsed = IndexExpr::parse(at.text.substr(1, length - 2),
                                 {.index = repeat_count_ ? std::string_view(index_name_) : std::string_view(),
                                  .bound = bound_});
  if (!parsed) {
    return errors_.fail(at.part(1 + parsed.error().offset),
                        fmt::format("in '{}': {}", written, parsed.error().message));
  }
  if (const auto constant = parsed->constant()) {
    if (parsed->underflows(0)) return errors_.fail(at, fmt::format("'{}' goes below 0{}", written, bound_context()));
    if (*constant > max) {
      return errors_.fail(at, fmt::format("'{}' is at most {}, but '{}' is {}{}", what, max, written, *constant,
                                          bound_context()));
    }
    failed = false;
    return Placeholder{.constant = constant};
  }
  const std::uint64_t last = *repeat_count_ - 1;
  for (const std::uint64_t n : {std::uint64_t{0}, last}) {
    if (parsed->underflows(n)) {
      return errors_.fail(at, fmt::format("'{}' goes below 0 at {{{}}}={}{}", written, index_name_, n, bound_context()));
    }
    const std::uint64_t value = parsed->eval(n);
    if (value > max) {
      return errors_.fail(at, fmt::format("'{}' is at most {}, but '{}' reaches {} in this repeat{}", what, max,
                                          written, value, bound_context()));
    }
  }
  failed = false;
  if (parsed->is_plain()) return Placeholder{};
  return Placeholder{.expr = std::move(*parsed)};
}

std::optional<NumberValue> ValueReader::number_or_index(const Word& value, std::string_view what,
                                                        std::uint64_t max) {
  std::size_t length = 0;
  bool failed = false;
  auto index = placeholder(value, what, max, length, failed);
  if (failed) return std::nullopt;
  if (!index || length != value.text.size()) {
    const auto n = number(value, what, max);
    if (!n) return std::nullopt;
    return NumberValue{*n, false};
  }
  if (index->constant) return NumberValue{*index->constant, false};
  return NumberValue{0, true, std::move(index->expr)};
}

std::optional<BytesValue> ValueReader::bytes(const Word& value, std::string_view what) {
  const std::string_view text = value.text;
  if (text.starts_with('"')) {
    BytesValue out;
    if (!decode_string(value, &out)) return std::nullopt;
    return out;
  }
  if (text.starts_with("x\"")) {
    const std::size_t close = text.find('"', 2);
    if (close == std::string_view::npos) {
      return errors_.fail(value, fmt::format("unterminated hex string for '{}'", what));
    }
    auto hex = protocol::parse_hex(text.substr(2, close - 2));
    if (!hex) {
      const protocol::DecodeError& error = hex.error();
      const char c = static_cast<char>(error.value);
      const std::string reason = error.code == protocol::DecodeErrorCode::hex_not_a_digit
                                     ? fmt::format("'{}' is not a hex digit", c)
                                 : hex_digit(c) < 0 ? "a byte needs two hex digits"
                                                    : "odd number of hex digits";
      return errors_.fail(value.part(2 + error.offset), fmt::format("bad hex in '{}': {}", what, reason));
    }
    if (close + 1 != text.size()) {
      return errors_.fail(value.part(close + 1), fmt::format("unexpected {} after the hex string",
                                                             quoted(text.substr(close + 1))));
    }
    return BytesValue{.kind = BytesValue::Kind::hex, .hex = std::move(*hex)};
  }
  if (text.starts_with("random(") || text.starts_with("fill(")) return generated(value, what);
  if (text.starts_with("file(")) return from_file(value, what);
  return errors_.fail(value, fmt::format("expected bytes for '{}': {}; got {}", what, bytes_forms(),
                                         quoted(text)));
}

// `file("value.bin")`: a file's exact bytes, relative to the scenario's directory, for values
// too long for a line (up to the value limit).
std::optional<BytesValue> ValueReader::from_file(const Word& value, std::string_view what) {
  const std::string_view text = value.text;
  if (!text.ends_with(")") || text.size() < 8 || text[5] != '"' || text[text.size() - 2] != '"') {
    return errors_.fail(value, fmt::format("expected file(\"PATH\") for '{}', got {}", what, quoted(text)));
  }
  const std::string relative(text.substr(6, text.size() - 8));
  const std::string& scenario = errors_.path();
  const std::filesystem::path base =
      scenario == "-" ? std::filesystem::path() : std::filesystem::path(scenario).parent_path();
  const std::string path = (base / relative).lexically_normal().string();
  const std::string_view shown = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return errors_.fail(value.part(5), fmt::format("cannot read {} for '{}'", quoted(shown), what));
  BytesValue out{.kind = BytesValue::Kind::hex};
  std::array<char, 64 * 1024> buffer;
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    if (out.hex.size() + static_cast<std::size_t>(in.gcount()) > kMaxGeneratedBytes) {
      return errors_.fail(value.part(5), fmt::format("{} is longer than the {} bytes a value may be", quoted(shown),
                                                     kMaxGeneratedBytes));
    }
    out.hex.insert(out.hex.end(), buffer.data(), buffer.data() + in.gcount());
  }
  return out;
}

std::optional<BytesValue> ValueReader::generated(const Word& value, std::string_view what) {
  const bool is_fill = value.text.starts_with("fill(");
  const std::size_t open = value.text.find('(');
  if (!value.text.ends_with(')')) {
    return errors_.fail(value.part(value.text.size()),
                        fmt::format("expected ')' to close {} for '{}'", quoted(value.text.substr(0, open + 1)), what));
  }
  const Word arguments = value.part(open + 1, value.text.size() - open - 2);
  const std::size_t comma = arguments.text.find(',');
  if (!is_fill && comma != std::string_view::npos) {
    return errors_.fail(arguments.part(comma), "random(N) takes one argument, the length");
  }
  const Word length_word = arguments.part(0, comma);
  const auto length = number(length_word, is_fill ? "fill length" : "random length", kMaxGeneratedBytes);
  if (!length) return std::nullopt;
  BytesValue out{.kind = is_fill ? BytesValue::Kind::fill : BytesValue::Kind::random,
                 .length = static_cast<std::size_t>(*length)};
  if (comma != std::string_view::npos) {
    const auto byte = number(arguments.part(comma + 1), "fill byte", 0xff);
    if (!byte) return std::nullopt;
    out.fill_byte = static_cast<std::uint8_t>(*byte);
  }
  return out;
}

std::optional<std::string> ValueReader::string(const Word& value, std::string_view what) {
  if (!value.text.starts_with('"')) {
    return errors_.fail(value, fmt::format("expected a quoted string for '{}', got {}", what, quoted(value.text)));
  }
  return decode_string(value, nullptr);
}

// Decodes a quoted string that starts the word. With `pieces`, `{n}` splits the text into
// BytesValue pieces; without, `{n}` is an error. Returns the whole text on success.
std::optional<std::string> ValueReader::decode_string(const Word& value, BytesValue* pieces) {
  const std::string_view text = value.text;
  std::string current;
  std::size_t i = 1;
  while (i < text.size() && text[i] != '"') {
    if (const std::size_t length = placeholder_length(text.substr(i)); length > 0) {
      std::size_t ignored = 0;
      bool failed = false;
      auto index = placeholder(value.part(i), "a value", std::numeric_limits<std::uint64_t>::max(), ignored, failed);
      if (failed) return std::nullopt;
      if (index->constant) {  // an outer repeat's bound index: its digits are text
        current += std::to_string(*index->constant);
        i += length;
        continue;
      }
      // Plain strings (names, error texts) belong to statements that cannot repeat.
      if (!pieces) return fail_index_outside_repeat(value.part(i));
      pieces->placeholders.push_back(index->expr ? std::move(*index->expr) : IndexExpr::parse("n").value());
      pieces->pieces.push_back(std::move(current));
      current.clear();
      i += length;
      continue;
    }
    if (text[i] != '\\') {
      current += text[i++];
      continue;
    }
    const char escape = i + 1 < text.size() ? text[i + 1] : '\0';
    switch (escape) {
      case '\\': current += '\\'; break;
      case '"': current += '"'; break;
      case 'n': current += '\n'; break;
      case 'r': current += '\r'; break;
      case 't': current += '\t'; break;
      case 'x': {
        const int high = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        const int low = i + 3 < text.size() ? hex_digit(text[i + 3]) : -1;
        if (high < 0 || low < 0) {
          return errors_.fail(value.part(i), "'\\x' needs two hex digits, as in \\x0a");
        }
        current += static_cast<char>(high << 4 | low);
        i += 2;
        break;
      }
      default:
        return errors_.fail(value.part(i), fmt::format("unknown escape {}; expected one of \\\\ \\\" \\n \\r \\t \\xHH",
                                                       quoted(text.substr(i, 2))));
    }
    i += 2;
  }
  if (i >= text.size()) return errors_.fail(value, "unterminated string; expected a closing '\"'");
  if (i + 1 != text.size()) {
    return errors_.fail(value.part(i + 1), fmt::format("unexpected {} after the closing quote",
                                                       quoted(text.substr(i + 1))));
  }
  if (pieces) {
    pieces->pieces.push_back(current);
    // All `{n}`: the fast path renders the index's digits once for every placeholder.
    if (std::all_of(pieces->placeholders.begin(), pieces->placeholders.end(),
                    [](const IndexExpr& e) { return e.is_plain(); })) {
      pieces->placeholders.clear();
    }
  }
  return current;
}

std::optional<Duration> ValueReader::duration(const Word& value, std::string_view what) {
  const std::string_view text = value.text;
  const std::size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  const std::string_view suffix = text.substr(digits);
  if (digits == 0) {
    return errors_.fail(value, fmt::format("expected a duration for '{}' such as 250ms, 2s, 1m or 1h, got {}",
                                           what, quoted(text)));
  }
  if (suffix.starts_with('.')) {
    return errors_.fail(value, fmt::format("a duration for '{}' is a whole number of ms, s, m or h (1500ms, not "
                                           "1.5s); got {}",
                                           what, quoted(text)));
  }
  for (const auto& unit : kDurationUnits) {
    if (suffix != unit.suffix) continue;
    const auto n = number(value.part(0, digits), what, std::numeric_limits<std::uint64_t>::max());
    if (!n) return std::nullopt;
    if (*n > static_cast<std::uint64_t>(kMaxDuration.count() / unit.milliseconds)) {
      return errors_.fail(value, fmt::format("'{}' is at most 24h ({}ms), got {}", what, kMaxDuration.count(),
                                             quoted(text)));
    }
    return Duration{static_cast<std::int64_t>(*n) * unit.milliseconds};
  }
  return errors_.fail(value.part(digits),
                      fmt::format("a duration for '{}' needs a unit: ms, s, m or h; got {}", what,
                                  quoted(suffix.empty() ? text : suffix)));
}

}  // namespace tapharness::scenario
