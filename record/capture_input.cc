#include "record/capture_input.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tapharness::record {

std::string conversation_list(const capture::Capture& capture) {
  std::string out;
  for (std::size_t i = 0; i < capture.conversations.size(); ++i) {
    const auto& c = capture.conversations[i];
    out += fmt::format("  {}  {}:{} -> {}:{}  {} bytes to the server, {} to the client\n", i + 1,
                       c.client.address, c.client.port, c.server.address, c.server.port,
                       c.bytes_to_server, c.bytes_to_client);
  }
  return out;
}

Result<const capture::Conversation*, RecordError> choose_conversation(
    const capture::Capture& capture, std::optional<std::size_t> n) {
  const auto& all = capture.conversations;
  auto error = [&](std::string what) {
    return RecordError{RecordError::Code::no_conversation, Direction::client_to_server, 0,
                       std::move(what)};
  };
  if (n) {
    if (*n == 0 || *n > all.size()) {
      return error(fmt::format("--connection {}: the capture has {} TCP conversations\n{}", *n,
                               all.size(), conversation_list(capture)));
    }
    return &all[*n - 1];
  }
  const capture::Conversation* only = nullptr;
  std::size_t with_bytes = 0;
  for (const auto& c : all) {
    if (c.bytes_to_server + c.bytes_to_client == 0) continue;
    ++with_bytes;
    only = &c;
  }
  if (with_bytes == 1) return only;
  if (with_bytes == 0) {
    return error(fmt::format(
        "the capture has no TCP conversation that carried bytes ({} packets, {} not TCP)",
        capture.packets, capture.skipped));
  }
  return error(fmt::format(
      "the capture has {} TCP conversations that carried bytes; pick one with --connection N\n{}",
      with_bytes, conversation_list(capture)));
}

std::optional<RecordError> feed_conversation(const capture::Conversation& conversation,
                                             Recorder& recorder) {
  std::uint64_t first_us = 0;
  bool first = true;
  for (const capture::Segment& s : conversation.segments) {
    const Direction d = s.direction == capture::Direction::to_server ? Direction::client_to_server
                                                                     : Direction::server_to_client;
    if (s.gap_before > 0) {
      // The recorder cannot frame across bytes it never saw; say where they went missing.
      return recorder.fail(RecordError{
          RecordError::Code::undecodable, d, s.offset - s.gap_before,
          fmt::format("{} bytes were never captured (packet {})", s.gap_before, s.packet)});
    }
    if (first) {
      first_us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.at_us));
      first = false;
    }
    const std::uint64_t at = static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.at_us));
    Chunk chunk{d, at < first_us ? 0 : at - first_us, s.payload,
                s.rst   ? Ending::rst
                : s.fin ? Ending::fin
                        : Ending::none};
    if (auto e = recorder.feed(chunk)) return e;
  }
  return std::nullopt;
}

}  // namespace tapharness::record
