// Text from the wire and from files made safe for the HTML report (runner/report_html.hpp).
// Every byte that reaches the page goes through one of these: keys and values are arbitrary
// bytes, and a scenario's name, path or failure text is whatever its file says.
//
//   html_text("a<b")                    // "a&lt;b"
//   html_bytes(key)                     // printable ASCII as is, every other byte as \xNN
//   script_json(json)                   // JSON that cannot end its <script> element
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/bytes.hpp"

namespace tapharness::runner {

// Text for an element or an attribute: & < > " ' escaped; control characters (but newline
// and tab) and bytes that are not UTF-8 written as \xNN, so any text shows as what it was.
std::string html_text(std::string_view text);

// Wire bytes for people: printable ASCII as is (HTML-escaped), every other byte as \xNN;
// beyond `max` bytes, "... (N more bytes)".
std::string html_bytes(protocol::ByteView bytes, std::size_t max = 64);
std::string html_bytes(std::string_view bytes, std::size_t max = 64);

// JSON for inside <script type="application/json">: non-ASCII as \uXXXX (so U+2028 and
// U+2029 too), invalid UTF-8 replaced, and "<" written \u003c so no "</script>" or "<!--"
// can appear in it.
std::string script_json(const nlohmann::json& value);

}  // namespace tapharness::runner
