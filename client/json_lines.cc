#include "client/json_lines.hpp"

#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace tapharness::client {
namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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
    default: return {ReportedEnd::How::error, end.message()};
  }
}

std::string event_json(const protocol::TapEvent& e) {
  using protocol::TapEventKind;
  std::string out = fmt::format("{{\"op\":\"{}\",\"vb\":{}", e.kind, e.vbucket);
  switch (e.kind) {
    case TapEventKind::mutation:
      out += fmt::format(",\"key\":{},\"value_b64\":\"{}\",\"flags\":{},\"expiry\":{},\"cas\":{},\"datatype\":{}",
                         json_string(e.key), base64_encode(e.value), e.flags, e.expiry, e.cas, e.datatype);
      break;
    case TapEventKind::deletion:
      out += fmt::format(",\"key\":{}", json_string(e.key));
      if (!e.value.empty()) out += fmt::format(",\"value_b64\":\"{}\"", base64_encode(e.value));
      out += fmt::format(",\"cas\":{},\"datatype\":{}", e.cas, e.datatype);
      // A deletion carries no item flags or expiry: a client that reports any (the reference
      // reads them from the rev seqno) says so, and a scenario fails it.
      if (e.flags != 0 || e.expiry != 0) out += fmt::format(",\"flags\":{},\"expiry\":{}", e.flags, e.expiry);
      break;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      out += fmt::format(",\"checkpoint\":{}", e.checkpoint_id);
      break;
    case TapEventKind::vbucket_set:
      out += fmt::format(",\"state\":{}", state_json(e.state));
      break;
    default:
      break;
  }
  return out + "}";
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

Result<ReportedItem, InputError> parse_json_line(std::string_view line) {
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

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kBase64[(v >> shift) & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kBase64[(v >> 18) & 0x3f];
    out += kBase64[(v >> 12) & 0x3f];
    out += rest == 2 ? kBase64[(v >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
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
    const auto pos = kBase64.find(c);
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
