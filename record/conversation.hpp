// One TCP conversation as the recorder reads it: the bytes each side sent, in the order they
// were seen, with when they were seen and how each side ended. A capture reader (pcap) and
// the live proxy (record/proxy.hpp) both produce it, a chunk at a time, so a conversation of
// any length is never held whole.
//
//   Chunk c{Direction::server_to_client, /*time_us=*/1200, bytes};   // one segment or read
//   Chunk end{Direction::server_to_client, 1300, {}, Ending::fin};     // the server's FIN
//   recorder.feed(c);
#pragma once

#include <cstdint>
#include <string_view>

#include "protocol/bytes.hpp"

namespace tapharness::record {

enum class Direction : std::uint8_t {
  client_to_server,  // TAP_CONNECT, SASL requests, ACKs
  server_to_client,  // the TAP stream, SASL replies, a refusal
};

// "client" or "server": the side that sent bytes of `d`.
constexpr std::string_view sender_of(Direction d) {
  return d == Direction::client_to_server ? "client" : "server";
}

// How a side stopped sending, if it did with this chunk.
enum class Ending : std::uint8_t {
  none,  // it goes on
  fin,   // it closed (FIN): a clean close, or half of one
  rst,   // it reset the connection (RST): nothing more either way
};

// The bytes one side sent at one moment: a TCP segment's payload in a capture, one read in
// the proxy. `bytes` is a view the caller keeps valid for the call it is given to. A chunk
// may carry no bytes and only an ending.
struct Chunk {
  Direction direction = Direction::server_to_client;
  std::uint64_t time_us = 0;  // microseconds, from any fixed origin; never decreasing
  protocol::ByteView bytes;
  Ending ending = Ending::none;
};

}  // namespace tapharness::record
