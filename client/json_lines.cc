#include "client/json_lines.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <cctype>

#include <nlohmann/json.hpp>

#include "client/json_text.hpp"
#include "protocol/bytes.hpp"

namespace tapharness::client {
namespace {

std::string json_string(std::string_view bytes) { return "\"" + protocol::escape_bytes(bytes) + "\""; }

// "active", "replica", "pending", "dead"; a state without a name is its number, unquoted.
std::string state_json(protocol::VBucketState state) {
  std::string name(protocol::name_of(state));
  if (name.empty()) return std::to_string(static_cast<std::uint32_t>(state));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "\"" + name + "\"";
}

// nlohmann decodes \u00XX into UTF-8; our keys are bytes, so map code points back.
Result<std::string, InputError> utf8_to_bytes(const std::string& utf8, std::string_view key) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xe0) == 0xc0 && i + 1 < utf8.size() &&
               (((c & 0x1f) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f)) <= 0xff) {
      out += static_cast<char>(((c & 0x1f) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f));
      ++i;
    } else {
      return InputError{fmt::format("\"{}\"", key), "has a character above \\u00ff"};
    }
  }
  return out;
}

}  // namespace

ReportedEnd report_of(const FeedEnd& end) {
  switch (end.reason) {
    case EndReason::eof: return {ReportedEnd::How::eof, {}};
    case EndReason::end_stream: return {ReportedEnd::How::end_stream, {}};
    case EndReason::closed: return {ReportedEnd::How::closed, {}};
    case EndReason::auth_failed:  // the server refused our credentials: an error, as a refused connect
    default: return {ReportedEnd::How::error, end.message()};
  }
}

namespace {

// Hand-written writers: tap_tail prints millions of events a second, and each would cost
// several allocations through fmt::format and temporaries. The bytes are the same.
// The writer's hot path: raw stores into room reserved up front (an event's line is bounded
// by its key and value), one size check per event instead of one per piece.
char* put(char* at, std::string_view text) {
  std::memcpy(at, text.data(), text.size());
  return at + text.size();
}

// Decimal digits two at a time from a table of pairs, written from the end once the length
// is known; most of an event's numbers are one digit (vbucket, datatype, expiry). By hand:
// std::to_chars cost some 115 instructions for a six-digit CAS, this about 40.
constexpr auto kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (std::size_t i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}();

constexpr auto kPowersOfTen = [] {
  std::array<std::uint64_t, 20> powers{};
  std::uint64_t p = 1;
  for (auto& power : powers) {
    power = p;
    p *= 10;
  }
  return powers;
}();

// The pairs from the end; 32-bit arithmetic while the number fits (most do), which is cheaper.
template <class U>
void put_digits_backwards(char* end, U n) {
  char* p = end;
  while (n >= 100) {
    const auto pair = static_cast<std::size_t>(n % 100) * 2;
    n /= 100;
    p -= 2;
    std::memcpy(p, kDigitPairs.data() + pair, 2);
  }
  if (n >= 10) {
    std::memcpy(p - 2, kDigitPairs.data() + static_cast<std::size_t>(n) * 2, 2);
  } else {
    p[-1] = static_cast<char>('0' + n);
  }
}

char* put_number(char* at, std::uint64_t n) {
  if (n < 10) {
    *at = static_cast<char>('0' + n);
    return at + 1;
  }
  // The digit count from the bit width (log10(2) ~ 1233/4096), corrected by one comparison.
  const auto guess = static_cast<std::size_t>((64 - __builtin_clzll(n)) * 1233) >> 12;
  char* end = at + guess + 1 - (n < kPowersOfTen[guess] ? 1 : 0);
  if (n <= UINT32_MAX) {
    put_digits_backwards(end, static_cast<std::uint32_t>(n));
  } else {
    put_digits_backwards(end, n);
  }
  return end;
}

}  // namespace

std::size_t event_json_bound(const protocol::TapEventView& e) {
  // The fixed text and numbers, a key escaped at worst 6 bytes to 1, the base64 value.
  return 256 + e.key.size() * 6 + (e.value.size() + 2) / 3 * 4;
}

namespace {

// `{"op":"mutation","vb":` for each kind, made once: the codec finds a name by searching.
const auto kLineOpenings = [] {
  std::array<std::string, 256> openings;
  for (const auto& kind : protocol::all_tap_event_kinds()) {
    openings[static_cast<std::uint8_t>(kind.value)] = fmt::format(R"({{"op":"{}","vb":)", kind.name);
  }
  return openings;
}();

}  // namespace

char* write_event_json(char* at, const protocol::TapEventView& e) {
  using protocol::TapEventKind;
  const std::string& opening = kLineOpenings[static_cast<std::uint8_t>(e.kind)];
  if (opening.empty()) {  // a kind the codec has no name for
    at = put(at, R"({"op":"","vb":)");
  } else {
    at = put(at, opening);
  }
  at = put_number(at, e.vbucket);
  switch (e.kind) {
    case TapEventKind::mutation:
      at = put(at, ",\"key\":\"");
      at = json_text::put_escaped(at, e.key);
      at = put(at, "\",\"value_b64\":\"");
      at = json_text::put_base64(at, e.value);
      at = put(at, "\",\"flags\":");
      at = put_number(at, e.flags);
      at = put(at, ",\"expiry\":");
      at = put_number(at, e.expiry);
      at = put(at, ",\"cas\":");
      at = put_number(at, e.cas);
      at = put(at, ",\"datatype\":");
      at = put_number(at, e.datatype);
      break;
    case TapEventKind::deletion:
      at = put(at, ",\"key\":\"");
      at = json_text::put_escaped(at, e.key);
      at = put(at, "\"");
      if (!e.value.empty()) {
        at = put(at, ",\"value_b64\":\"");
        at = json_text::put_base64(at, e.value);
        at = put(at, "\"");
      }
      at = put(at, ",\"cas\":");
      at = put_number(at, e.cas);
      at = put(at, ",\"datatype\":");
      at = put_number(at, e.datatype);
      // A deletion carries no item flags or expiry: a client that reports any (the reference
      // reads them from the rev seqno) says so, and a scenario fails it.
      if (e.flags != 0 || e.expiry != 0) {
        at = put(at, ",\"flags\":");
        at = put_number(at, e.flags);
        at = put(at, ",\"expiry\":");
        at = put_number(at, e.expiry);
      }
      break;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      at = put(at, ",\"checkpoint\":");
      at = put_number(at, e.checkpoint_id);
      break;
    case TapEventKind::vbucket_set:
      at = put(at, ",\"state\":");
      at = put(at, state_json(e.state));
      break;
    default:
      break;
  }
  *at++ = '}';
  return at;
}

void append_event_json(std::string& out, const protocol::TapEventView& e) {
  const std::size_t start = out.size();
  out.resize(start + event_json_bound(e));
  char* end = write_event_json(out.data() + start, e);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

std::string event_json(const protocol::TapEvent& e) {
  std::string out;
  append_event_json(out, protocol::view_of(e));
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4, '\0');
  json_text::put_base64(out.data(), bytes);
  return out;
}

std::string end_json(const ReportedEnd& end) {
  switch (end.how) {
    case ReportedEnd::How::eof: return R"({"end":"eof"})";
    case ReportedEnd::How::end_stream: return R"({"end":"end_stream"})";
    case ReportedEnd::How::closed: return R"({"end":"closed"})";
    case ReportedEnd::How::error:
      return fmt::format(R"({{"end":"error","error":{}}})", json_string(end.error));
  }
  return {};
}

std::string connection_json(const ReportedConnection& connection) {
  return fmt::format(R"({{"connection":{}}})", connection.number);
}

namespace {

// The lines tap_tail prints, read without a JSON library: the runner reads 100,000 of them per
// volume scenario. Exactly the canonical shape (keys in tap_tail's order, no spaces);
// anything else returns nothing and goes to the general parser, whose messages name what is
// wrong.
class CanonicalLine {
 public:
  explicit CanonicalLine(std::string_view line) : rest_(line) {}

  std::optional<ReportedItem> parse() {
    if (eat("{\"end\":\"")) return end();
    if (eat("{\"connection\":")) {
      ReportedConnection c;
      if (!number(c.number) || c.number == 0 || !eat("}") || !rest_.empty()) return std::nullopt;
      return ReportedItem(c);
    }
    protocol::TapEvent e;
    std::string_view op;
    if (!eat("{\"op\":\"") || !until_quote(op) || !eat(",\"vb\":") || !number(e.vbucket)) return std::nullopt;
    const auto kind = protocol::tap_event_kind_from_name(op);
    if (!kind) return std::nullopt;
    e.kind = *kind;
    using K = protocol::TapEventKind;
    switch (e.kind) {
      case K::mutation:
        if (!eat(",\"key\":\"") || !string(e.key) || !eat(",\"value_b64\":\"") || !base64(e.value) ||
            !eat(",\"flags\":") || !number(e.flags) || !eat(",\"expiry\":") || !number(e.expiry) ||
            !eat(",\"cas\":") || !number(e.cas) || !optional_number(",\"datatype\":", e.datatype)) {
          return std::nullopt;
        }
        break;
      case K::deletion:
        if (!eat(",\"key\":\"") || !string(e.key)) return std::nullopt;
        if (eat(",\"value_b64\":\"") && !base64(e.value)) return std::nullopt;
        if (!eat(",\"cas\":") || !number(e.cas) || !optional_number(",\"datatype\":", e.datatype) ||
            !optional_number(",\"flags\":", e.flags) || !optional_number(",\"expiry\":", e.expiry)) {
          return std::nullopt;
        }
        break;
      case K::checkpoint_start:
      case K::checkpoint_end:
        if (!eat(",\"checkpoint\":") || !number(e.checkpoint_id)) return std::nullopt;
        break;
      default:
        return std::nullopt;  // vbucket_set's names and the rest: the general parser
    }
    if (!eat("}") || !rest_.empty()) return std::nullopt;
    return ReportedItem(std::move(e));
  }

 private:
  std::optional<ReportedItem> end() {
    std::string_view how;
    if (!until_quote(how)) return std::nullopt;
    if (how == "error") {
      ReportedEnd end{ReportedEnd::How::error, {}};
      if (!eat(",\"error\":\"") || !string(end.error) || !eat("}") || !rest_.empty()) return std::nullopt;
      return ReportedItem(std::move(end));
    }
    if (!eat("}") || !rest_.empty()) return std::nullopt;
    if (how == "eof") return ReportedItem(ReportedEnd{ReportedEnd::How::eof, {}});
    if (how == "end_stream") return ReportedItem(ReportedEnd{ReportedEnd::How::end_stream, {}});
    if (how == "closed") return ReportedItem(ReportedEnd{ReportedEnd::How::closed, {}});
    return std::nullopt;
  }

  bool eat(std::string_view text) {
    if (!rest_.starts_with(text)) return false;
    rest_.remove_prefix(text.size());
    return true;
  }
  bool until_quote(std::string_view& out) {
    const auto quote = rest_.find('"');
    if (quote == std::string_view::npos) return false;
    out = rest_.substr(0, quote);
    rest_.remove_prefix(quote + 1);
    return true;
  }
  template <class T>
  bool number(T& out) {
    const auto [end, ec] = std::from_chars(rest_.data(), rest_.data() + rest_.size(), out);
    if (ec != std::errc() || end == rest_.data()) return false;
    rest_.remove_prefix(static_cast<std::size_t>(end - rest_.data()));
    return true;
  }
  template <class T>
  bool optional_number(std::string_view key, T& out) {
    return !eat(key) || number(out);
  }
  // A string's contents up to its closing quote: plain bytes, \" \\ and \u00XX only.
  bool string(std::string& out) {
    for (std::size_t i = 0; i < rest_.size(); ++i) {
      const char c = rest_[i];
      if (c == '"') {
        rest_.remove_prefix(i + 1);
        return true;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i + 1 >= rest_.size()) return false;
      const char next = rest_[++i];
      if (next == '"' || next == '\\') {
        out += next;
      } else if (next == 'u' && i + 4 < rest_.size() && rest_[i + 1] == '0' && rest_[i + 2] == '0') {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(rest_.data() + i + 3, rest_.data() + i + 5, value, 16);
        if (ec != std::errc() || end != rest_.data() + i + 5) return false;
        out += static_cast<char>(value);
        i += 4;
      } else {
        return false;
      }
    }
    return false;
  }
  bool base64(std::string& out) {
    std::string_view text;
    if (!until_quote(text)) return false;
    auto decoded = base64_decode(text);
    if (!decoded) return false;
    out = std::move(*decoded);
    return true;
  }

  std::string_view rest_;
};

}  // namespace

Result<ReportedItem, InputError> parse_json_line(std::string_view line) {
  if (auto fast = CanonicalLine(line).parse()) return std::move(*fast);
  const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return InputError{"", "not a JSON object"};

  auto field = [](const char* key, std::string what) { return InputError{fmt::format("\"{}\"", key), std::move(what)}; };
  auto text = [&](const char* key, std::string& out) -> std::optional<InputError> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return field(key, "must be a string");
    out = it->get<std::string>();
    return std::nullopt;
  };
  auto number = [&](const char* key, auto& out) -> std::optional<InputError> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_number_unsigned()) return field(key, "must be an unsigned number");
    const auto value = it->get<std::uint64_t>();
    using T = std::remove_reference_t<decltype(out)>;
    if (value > std::numeric_limits<T>::max()) return field(key, "is out of range");
    out = static_cast<T>(value);
    return std::nullopt;
  };
  // A field that older clients may leave out: absent is `otherwise`.
  auto optional_number = [&](const char* key, auto& out, auto otherwise) -> std::optional<InputError> {
    if (!json.contains(key)) {
      out = otherwise;
      return std::nullopt;
    }
    return number(key, out);
  };
  auto value_b64 = [&](std::string& out) -> std::optional<InputError> {
    std::string b64;
    if (auto error = text("value_b64", b64)) return error;
    auto value = base64_decode(b64);
    if (!value) return field("value_b64", "is not base64: " + value.error().message());
    out = std::move(*value);
    return std::nullopt;
  };
  auto bytes = [&](const char* key, std::string& out) -> std::optional<InputError> {
    std::string raw;
    if (auto error = text(key, raw)) return error;
    auto decoded = utf8_to_bytes(raw, key);
    if (!decoded) return decoded.error();
    out = std::move(*decoded);
    return std::nullopt;
  };

  if (json.contains("end")) {
    std::string how;
    if (auto error = text("end", how)) return *error;
    if (how == "eof") return ReportedItem(ReportedEnd{ReportedEnd::How::eof, {}});
    if (how == "end_stream") return ReportedItem(ReportedEnd{ReportedEnd::How::end_stream, {}});
    if (how == "closed") return ReportedItem(ReportedEnd{ReportedEnd::How::closed, {}});
    if (how != "error") return field("end", fmt::format("is \"{}\", not eof, end_stream, error or closed", how));
    ReportedEnd end{ReportedEnd::How::error, {}};
    if (auto error = bytes("error", end.error)) return *error;  // a refusal's body may be any bytes
    return ReportedItem(std::move(end));
  }

  if (json.contains("connection")) {
    ReportedConnection c;
    if (auto error = number("connection", c.number)) return *error;
    if (c.number == 0) return field("connection", "must be at least 1: connections count from 1");
    return ReportedItem(c);
  }

  std::string op;
  if (auto error = text("op", op)) return *error;
  auto kind = protocol::tap_event_kind_from_name(op);
  if (!kind) return field("op", fmt::format("is unknown: \"{}\"", op));
  protocol::TapEvent e;
  e.kind = *kind;
  if (auto error = number("vb", e.vbucket)) return *error;
  using protocol::TapEventKind;
  switch (e.kind) {
    case TapEventKind::mutation:
      if (auto error = bytes("key", e.key)) return *error;
      if (auto error = value_b64(e.value)) return *error;
      if (auto error = number("flags", e.flags)) return *error;
      if (auto error = number("expiry", e.expiry)) return *error;
      if (auto error = number("cas", e.cas)) return *error;
      if (auto error = optional_number("datatype", e.datatype, std::uint8_t{0})) return *error;
      break;
    case TapEventKind::deletion:
      if (auto error = bytes("key", e.key)) return *error;
      if (json.contains("value_b64")) {
        if (auto error = value_b64(e.value)) return *error;
      }
      if (auto error = number("cas", e.cas)) return *error;
      if (auto error = optional_number("datatype", e.datatype, std::uint8_t{0})) return *error;
      if (auto error = optional_number("flags", e.flags, std::uint32_t{0})) return *error;
      if (auto error = optional_number("expiry", e.expiry, std::uint32_t{0})) return *error;
      break;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      if (auto error = number("checkpoint", e.checkpoint_id)) return *error;
      break;
    case TapEventKind::vbucket_set: {
      if (auto it = json.find("state"); it != json.end() && it->is_number_unsigned()) {
        std::uint32_t raw = 0;
        if (auto error = number("state", raw)) return *error;
        e.state = static_cast<protocol::VBucketState>(raw);
        break;
      }
      std::string state;
      if (auto error = text("state", state)) return field("state", "must be a state's name or a number");
      auto value = protocol::vbucket_state_from_name(state);
      if (!value) return field("state", fmt::format("is unknown: \"{}\"", state));
      e.state = *value;
      break;
    }
    default:
      break;
  }
  return ReportedItem(std::move(e));
}

Result<std::string, InputError> base64_decode(std::string_view text) {
  auto at = [](std::size_t i, std::string what) { return InputError{fmt::format("character {}", i + 1), std::move(what)}; };
  if (text.size() % 4 != 0) return InputError{"", fmt::format("its length {} is not a multiple of 4", text.size())};
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t v = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i < text.size() - 2) return at(i, "padding '=' before the last two characters");
      ++padding;
      continue;
    }
    if (padding > 0) return at(i, "a character after the padding");
    const auto pos = json_text::kBase64Alphabet.find(c);
    if (pos == std::string_view::npos) return at(i, fmt::format("'{}' is outside the base64 alphabet", c));
    v = (v << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace tapharness::client
