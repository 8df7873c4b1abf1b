// tap_mockserver against clients that attack it on purpose, over loopback: whatever they
// send while the script delays, the server's memory stays bounded. Every run is bounded in
// bytes and time.
#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mockserver/client_inbox.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"
#include "tests/support/temp_files.hpp"
#include "tests/support/child_process.hpp"

namespace tapharness::mockserver {
namespace {

using asio::ip::tcp;
using tapharness::testing::ChildProcess;

constexpr const char* kBinary = "mockserver/tap_mockserver";
constexpr std::size_t kMaxFlood = 512 * 1024 * 1024;
constexpr auto kStall = std::chrono::milliseconds(1000);

// Sends TAP_CONNECT, then `frame` again and again until kMaxFlood bytes are out or a write
// cannot proceed for kStall (the server stopped reading). Returns the bytes sent after the
// connect.
std::size_t flood(tcp::socket& s, protocol::ByteView frame) {
  protocol::Bytes connect;
  protocol::encode_tap_connect(connect, {.client_name = "hostile"});
  asio::write(s, asio::buffer(connect));
  protocol::Bytes batch;
  while (batch.size() < 64 * 1024) protocol::append(batch, frame);
  s.non_blocking(true);
  std::size_t written = 0, at = 0;
  while (written < kMaxFlood) {
    boost::system::error_code ec;
    const std::size_t n = s.write_some(asio::buffer(batch.data() + at, batch.size() - at), ec);
    if (ec == asio::error::would_block) {
      pollfd p{s.native_handle(), POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(kStall.count())) == 0) break;
      continue;
    }
    if (ec) break;
    written += n;
    at = (at + n) % batch.size();
  }
  return written;
}

struct Attack {
  std::size_t connections = 1;
  protocol::Bytes frame;
};

struct Outcome {
  std::vector<std::size_t> written;  // per connection
  long server_kib = 0;               // the server's resident memory while the clients hold on
};

Outcome attack(const Attack& how) {
  const std::string path = tapharness::testing::write_temp_file(
      "hostile_client.scenario", "send noop\ndelay 10s\nsend noop\n");
  ChildProcess server(kBinary, {"--scenario", path, "--connections", std::to_string(how.connections)});
  const auto listening = server.read_line();
  EXPECT_TRUE(listening && listening->starts_with("listening 127.0.0.1:")) << listening.value_or("no line");
  const std::string port = listening ? listening->substr(listening->rfind(':') + 1) : "0";
  asio::io_context io;
  std::vector<tcp::socket> sockets;
  for (std::size_t i = 0; i < how.connections; ++i) {
    sockets.emplace_back(io);
    sockets.back().connect({asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(std::stoi(port))});
  }
  Outcome out;
  out.written.resize(how.connections);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < how.connections; ++i) {
    clients.emplace_back([&, i] { out.written[i] = flood(sockets[i], how.frame); });
  }
  for (auto& c : clients) c.join();
  out.server_kib = server.resident_kib();
  server.send_signal(SIGKILL);
  return out;
}

// A frame shaped like an ACK but claiming a 1 MiB body, as a client may send during a
// `delay`: refused at its header (a client's frames after TAP_CONNECT are ACKs), so the
// server reads none of it. It used to take 1 MiB per frame into its inbox, for 1,024 frames.
TEST(HostileClient, LargeFramesAfterTheConnectAreRefusedAndNotBuffered) {
  protocol::Bytes large(24 + (1 << 20), 0);
  const auto ack = protocol::tap_ack(protocol::Opcode::tap_mutation, 1);
  std::copy(ack.begin(), ack.end(), large.begin());
  protocol::store_be32(large.data() + protocol::header_offset::bodylen, 1 << 20);
  const Outcome out = attack({.connections = 3, .frame = large});
  for (std::size_t written : out.written) EXPECT_LT(written, 32u * 1024 * 1024) << "the server read on";
  EXPECT_GT(out.server_kib, 0);
  EXPECT_LT(out.server_kib, 32 * 1024 * tapharness::testing::kSanitizerMemoryFactor) << "the server's resident memory in KiB, three attackers";
  std::printf("large frames: %zu, %zu, %zu bytes sent; server resident %ld KiB\n", out.written[0], out.written[1],
              out.written[2], out.server_kib);
}

// A flood of small ACKs during a `delay`: the inbox holds every ACK the largest window
// allows, then the server stops reading (TCP backpressure) until the script goes on.
TEST(HostileClient, AFloodOfAcksMeetsBackpressureAtTheInboxBound) {
  const auto ack = protocol::tap_ack(protocol::Opcode::tap_mutation, 1);
  const Outcome out = attack({.connections = 3, .frame = protocol::Bytes(ack.begin(), ack.end())});
  for (std::size_t written : out.written) {
    EXPECT_GE(written, ClientInbox<tcp::socket>::kMaxBytes) << "the inbox holds a whole window";
    EXPECT_LT(written, 64u * 1024 * 1024) << "the server read on";
  }
  EXPECT_GT(out.server_kib, 0);
  EXPECT_LT(out.server_kib, 64 * 1024 * tapharness::testing::kSanitizerMemoryFactor) << "the server's resident memory in KiB, three attackers";
  std::printf("ack flood: %zu, %zu, %zu bytes sent; server resident %ld KiB\n", out.written[0], out.written[1],
              out.written[2], out.server_kib);
}

}  // namespace
}  // namespace tapharness::mockserver
