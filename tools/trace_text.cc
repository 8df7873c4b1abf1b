#include "tools/trace_text.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "protocol/hex.hpp"

namespace tapharness::tools {
namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// "[   0.000123s] line 12   " and what follows it, or nothing.
struct RecordHead {
  std::int64_t at_us = 0;
  int line = 0;
  std::string_view rest;
};
std::optional<RecordHead> record_head(std::string_view s) {
  if (s.size() < 16 || s[0] != '[') return std::nullopt;
  const auto close = s.find("s] line ");
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view stamp = trim_left(s.substr(1, close - 1));
  const auto dot = stamp.find('.');
  if (dot == std::string_view::npos || stamp.size() - dot - 1 != 6) return std::nullopt;
  auto seconds = number(stamp.substr(0, dot)), micros = number(stamp.substr(dot + 1));
  std::string_view after = s.substr(close + 8);
  const auto space = after.find(' ');
  auto line = number(after.substr(0, space));
  if (!seconds || !micros || !line || space == std::string_view::npos) return std::nullopt;
  return RecordHead{static_cast<std::int64_t>(*seconds * 1'000'000 + *micros),
                    static_cast<int>(*line), trim_left(after.substr(space))};
}

}  // namespace

bool looks_like_trace(std::string_view text) {
  const auto end = text.find('\n');
  return record_head(text.substr(0, end)).has_value();
}

Result<std::vector<TraceEntry>, InputError> parse_trace(std::string_view text) {
  std::vector<TraceEntry> entries;
  std::size_t line_no = 0, at = 0;
  // Rows of the record being read: block 0 is the frame as planned (or received), block 1
  // the bytes written after faults; each has its own offsets.
  struct Block {
    protocol::Bytes bytes;
    std::uint64_t next = 0;  // the offset the next row must have
    std::uint64_t size = 0;
    bool whole = true;
  } blocks[2];
  int block = 0;
  auto fail = [&](std::string what) {
    return InputError{fmt::format("line {} (byte {})", line_no, at), std::move(what)};
  };
  auto close_record = [&]() -> std::optional<InputError> {
    if (entries.empty() || entries.back().kind == TraceEntry::Kind::note) return std::nullopt;
    TraceEntry& e = entries.back();
    Block& b = blocks[block];
    if (block == 1) e.size = b.size;
    if (b.whole && b.bytes.size() != e.size) {
      return InputError{
          fmt::format("line {}", e.text_line),
          fmt::format("the record says {} bytes, its hex rows hold {}", e.size, b.bytes.size())};
    }
    e.bytes = std::move(b.bytes);
    e.whole = b.whole;
    return std::nullopt;
  };
  while (at < text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const std::string_view s = text.substr(at, end - at);
    ++line_no;
    if (auto head = record_head(s)) {
      if (auto error = close_record()) return *error;
      blocks[0] = blocks[1] = Block{};
      block = 0;
      TraceEntry e{.at_us = head->at_us, .line = head->line, .text_line = line_no};
      const std::string_view rest = head->rest;
      if (rest.starts_with("-> server, ") || rest.starts_with("<- client, ")) {
        e.kind = rest[0] == '-' ? TraceEntry::Kind::from_server : TraceEntry::Kind::from_client;
        const std::string_view count = rest.substr(11, rest.find(' ', 11) - 11);
        auto n = number(count);
        if (!n) return fail(fmt::format("'{}' is not a byte count", count));
        e.size = *n;
      } else if (rest.starts_with("-- ")) {
        e.note = std::string(rest.substr(3));
      } else {
        return fail(fmt::format(
            "a record that is neither '-> server', '<- client' nor '-- note': '{}'", rest));
      }
      entries.push_back(std::move(e));
    } else if (s.starts_with("-- ")) {  // the writer's last word past its limit
      if (auto error = close_record()) return *error;
      TraceEntry e{.at_us = entries.empty() ? 0 : entries.back().at_us, .text_line = line_no};
      e.note = std::string(s.substr(3));
      entries.push_back(std::move(e));
    } else if (entries.empty()) {
      if (!s.empty())
        return fail("not a transcript: it starts with no '[   0.000000s] line N' record");
    } else if (s.starts_with("    ... ") && s.ends_with(" bytes not shown ...")) {
      auto n = number(s.substr(8, s.size() - 8 - 20));
      if (!n) return fail("an elision without a byte count");
      blocks[block].whole = false;
      blocks[block].next += *n;
    } else if (s.starts_with("  written after faults (")) {
      auto n = number(s.substr(24, s.find(' ', 24) - 24));
      if (!n) return fail("'written after faults' without a byte count");
      block = 1;
      blocks[1].size = *n;
    } else if (s.starts_with("    ") && !trim_left(s).empty() && trim_left(s)[0] >= '0' &&
               trim_left(s)[0] <= '9' && entries.back().kind != TraceEntry::Kind::note) {
      const std::string_view row = trim_left(s);
      const auto space = row.find(' ');
      auto offset = number(row.substr(0, space));
      if (!offset || space == std::string_view::npos)
        return fail("a hex row that is not 'OFFSET HEX'");
      if (*offset != blocks[block].next) {
        return fail(
            fmt::format("a hex row at offset {} where {} comes next", *offset, blocks[block].next));
      }
      auto bytes = protocol::parse_hex(row.substr(space + 1));
      if (!bytes) return fail(fmt::format("a hex row that does not parse: {}", bytes.error()));
      if (blocks[block].whole)
        blocks[block].bytes.insert(blocks[block].bytes.end(), bytes->begin(), bytes->end());
      blocks[block].next += bytes->size();
    }
    // Other indented lines describe the frame (describe_frame, "in N writes"): not needed.
    at = end + 1;
  }
  if (auto error = close_record()) return *error;
  return entries;
}

}  // namespace tapharness::tools
