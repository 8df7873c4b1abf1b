#include "client/json_lines.hpp"

#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace tapharness::client {
namespace {

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string json_string(std::string_view bytes) { return "\"" + protocol::escape_bytes(bytes) + "\""; }

std::string state_name(protocol::VBucketState state) {
  std::string name(protocol::name_of(state));
  if (name.empty()) return std::to_string(static_cast<std::uint32_t>(state));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// nlohmann decodes \u00XX into UTF-8; our keys are bytes, so map code points back.
bool utf8_to_bytes(const std::string& utf8, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if ((c & 0xe0) == 0xc0 && i + 1 < utf8.size()) {
      const unsigned code = ((c & 0x1f) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f);
      if (code > 0xff) return false;
      out += static_cast<char>(code);
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

ReportedEnd report_of(const FeedEnd& end) {
  switch (end.reason) {
    case EndReason::eof: return {ReportedEnd::How::eof, {}};
    case EndReason::end_stream: return {ReportedEnd::How::end_stream, {}};
    default: return {ReportedEnd::How::error, end.message()};
  }
}

std::string event_json(const protocol::TapEvent& e) {
  using protocol::TapEventKind;
  std::string out = fmt::format("{{\"op\":\"{}\",\"vb\":{}", e.kind, e.vbucket);
  switch (e.kind) {
    case TapEventKind::mutation:
      out += fmt::format(",\"key\":{},\"value_b64\":\"{}\",\"flags\":{},\"expiry\":{},\"cas\":{}",
                         json_string(e.key), base64_encode(e.value), e.flags, e.expiry, e.cas);
      break;
    case TapEventKind::deletion:
      out += fmt::format(",\"key\":{},\"cas\":{}", json_string(e.key), e.cas);
      break;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      out += fmt::format(",\"checkpoint\":{}", e.checkpoint_id);
      break;
    case TapEventKind::vbucket_set:
      out += fmt::format(",\"state\":\"{}\"", state_name(e.state));
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
    case ReportedEnd::How::error:
      return fmt::format(R"({{"end":"error","error":{}}})", json_string(end.error));
  }
  return {};
}

std::variant<ReportedItem, std::string> parse_json_line(std::string_view line) {
  const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return std::string("not a JSON object");
  if (!json.is_object()) return std::string("not a JSON object");

  auto text = [&](const char* key, std::string& out) -> std::optional<std::string> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return fmt::format("\"{}\" must be a string", key);
    out = it->get<std::string>();
    return std::nullopt;
  };
  auto number = [&](const char* key, auto& out) -> std::optional<std::string> {
    auto it = json.find(key);
    if (it == json.end() || !it->is_number_unsigned()) {
      return fmt::format("\"{}\" must be an unsigned number", key);
    }
    const auto value = it->get<std::uint64_t>();
    using T = std::remove_reference_t<decltype(out)>;
    if (value > std::numeric_limits<T>::max()) return fmt::format("\"{}\" is out of range", key);
    out = static_cast<T>(value);
    return std::nullopt;
  };

  if (json.contains("end")) {
    std::string how;
    if (auto error = text("end", how)) return *error;
    if (how == "eof") return ReportedItem(ReportedEnd{ReportedEnd::How::eof, {}});
    if (how == "end_stream") return ReportedItem(ReportedEnd{ReportedEnd::How::end_stream, {}});
    if (how != "error") return fmt::format("\"end\" is \"{}\", not eof, end_stream or error", how);
    ReportedEnd end{ReportedEnd::How::error, {}};
    if (auto error = text("error", end.error)) return *error;
    return ReportedItem(std::move(end));
  }

  std::string op;
  if (auto error = text("op", op)) return *error;
  auto kind = protocol::tap_event_kind_from_name(op);
  if (!kind) return fmt::format("unknown \"op\" \"{}\"", op);
  protocol::TapEvent e;
  e.kind = *kind;
  if (auto error = number("vb", e.vbucket)) return *error;
  std::string raw;
  using protocol::TapEventKind;
  switch (e.kind) {
    case TapEventKind::mutation: {
      if (auto error = text("key", raw)) return *error;
      if (!utf8_to_bytes(raw, e.key)) return std::string("\"key\" has a character above \\u00ff");
      std::string b64;
      if (auto error = text("value_b64", b64)) return *error;
      if (!base64_decode(b64, e.value)) return std::string("\"value_b64\" is not base64");
      if (auto error = number("flags", e.flags)) return *error;
      if (auto error = number("expiry", e.expiry)) return *error;
      if (auto error = number("cas", e.cas)) return *error;
      break;
    }
    case TapEventKind::deletion:
      if (auto error = text("key", raw)) return *error;
      if (!utf8_to_bytes(raw, e.key)) return std::string("\"key\" has a character above \\u00ff");
      if (auto error = number("cas", e.cas)) return *error;
      break;
    case TapEventKind::checkpoint_start:
    case TapEventKind::checkpoint_end:
      if (auto error = number("checkpoint", e.checkpoint_id)) return *error;
      break;
    case TapEventKind::vbucket_set: {
      std::string state;
      if (auto error = text("state", state)) return *error;
      auto value = protocol::vbucket_state_from_name(state);
      if (!value) return fmt::format("unknown \"state\" \"{}\"", state);
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

bool base64_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) return false;
  std::uint32_t v = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      if (i < text.size() - 2) return false;
      ++padding;
      continue;
    }
    if (padding > 0) return false;
    const auto pos = kBase64.find(c);
    if (pos == std::string_view::npos) return false;
    v = (v << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return true;
}

}  // namespace tapharness::client
