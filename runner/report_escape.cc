#include "runner/report_escape.hpp"

#include <fmt/format.h>

namespace tapharness::runner {
namespace {

void escape_ascii(std::string& out, char c) {
  switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
  }
}

// The length of the UTF-8 sequence starting at text[at] (2 to 4), or 0 when it is not one
// (overlong forms, surrogates and values past U+10FFFF are not).
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  std::uint32_t value = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
    value = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    value = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    value = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return 0;
    value = (value << 6) | (byte(at + i) & 0x3f);
  }
  if ((length == 3 && value < 0x800) || (length == 4 && (value < 0x10000 || value > 0x10ffff))) return 0;
  if (value >= 0xd800 && value <= 0xdfff) return 0;
  return length;
}

}  // namespace

std::string html_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b >= 0x80) {
      if (const std::size_t n = utf8_length(text, i); n > 0) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
      out += fmt::format("\\x{:02x}", b);
    } else if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f) {
      out += fmt::format("\\x{:02x}", b);
    } else {
      escape_ascii(out, text[i]);
    }
    ++i;
  }
  return out;
}

std::string html_bytes(std::string_view bytes, std::size_t max) {
  std::string out;
  const std::size_t shown = std::min(max, bytes.size());
  for (std::size_t i = 0; i < shown; ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      escape_ascii(out, bytes[i]);
    } else {
      out += fmt::format("\\x{:02x}", b);
    }
  }
  if (shown < bytes.size()) out += fmt::format("... ({} more bytes)", bytes.size() - shown);
  return out;
}

std::string html_bytes(protocol::ByteView bytes, std::size_t max) {
  return html_bytes(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), max);
}

std::string script_json(const nlohmann::json& value) {
  const std::string text = value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  // "<" occurs only inside strings in JSON text, where \u003c means the same.
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace tapharness::runner
