// tap_tail against servers that attack it on purpose, over loopback: its memory stays
// bounded and its reading stops when it should. Every run is bounded in bytes and time.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "protocol/tap_message.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/loopback_server.hpp"

namespace tapharness::client {
namespace {

using asio::ip::tcp;
using tapharness::testing::ChildProcess;
using tapharness::testing::LoopbackServer;
using tapharness::testing::read_exactly;

constexpr const char* kTapTail = "client/tap_tail";

struct Flood {
  std::atomic<std::size_t> written{0};
  std::atomic<bool> blocked{false};  // a write could not proceed for kStall: the client stopped reading
  std::atomic<bool> release{false};  // the test has looked: the server may close
};

constexpr auto kStall = std::chrono::milliseconds(1500);
void flood_until_blocked(tcp::socket& s, protocol::ByteView frame, Flood& result);
constexpr std::size_t kMaxFlood = 512 * 1024 * 1024;  // what a client that never stops would take

// Writes `frame` again and again, never reading, until kMaxFlood bytes are out or a write
// cannot proceed for kStall; then holds the connection open until the test has looked.
void flood(tcp::socket& s, protocol::ByteView frame, Flood& result) {
  flood_until_blocked(s, frame, result);
  for (int i = 0; i < 3000 && !result.release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void flood_until_blocked(tcp::socket& s, protocol::ByteView frame, Flood& result) {
  read_exactly(s, 36);  // the client's TAP_CONNECT
  protocol::Bytes batch;
  while (batch.size() < 64 * 1024) protocol::append(batch, frame);
  s.non_blocking(true);
  std::size_t at = 0;
  while (result.written < kMaxFlood) {
    boost::system::error_code ec;
    const std::size_t n = s.write_some(asio::buffer(batch.data() + at, batch.size() - at), ec);
    if (ec == asio::error::would_block) {
      pollfd p{s.native_handle(), POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(kStall.count())) == 0) {
        result.blocked = true;
        return;
      }
      continue;
    }
    if (ec) return;
    result.written += n;
    at = (at + n) % batch.size();
  }
}

// A producer that asks for an ACK on every frame (TAP_OPAQUE with an ignored sub-code: no
// event, so the event queue's bound alone would never stop the reader) and never reads the
// ACKs: the client's unwritten ACKs count against its byte bound, so it stops reading once
// the bound (8 MiB by default) and the socket buffers are full.
TEST(HostileServer, AServerThatNeverReadsItsAcksCannotGrowTheClient) {
  protocol::ep_engine::Scratch scratch;
  const protocol::Bytes ack_request = protocol::encode(
      protocol::ep_engine::opaque(0, protocol::TapOpaqueCode{9}, 7, static_cast<std::uint16_t>(protocol::TapFlag::ack),
                                  scratch));
  Flood result;
  LoopbackServer server([&](tcp::socket& s) { flood(s, ack_request, result); });
  ChildProcess tail(kTapTail, {"--addr", "127.0.0.1:" + server.port(), "--ack"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!result.blocked && result.written < kMaxFlood && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const long rss = tail.resident_kib();
  if (rss < 0) {
    const auto exit = tail.wait();
    ADD_FAILURE() << "tap_tail is gone (status " << exit.status << "): " << exit.out << exit.err;
  }
  EXPECT_TRUE(result.blocked) << "the client read all " << result.written << " bytes the server wrote";
  // Frames are 36 bytes and ACKs 24: 8 MiB of ACKs stand for 12 MiB of frames, plus what the
  // socket buffers hold on both sides.
  EXPECT_LT(result.written.load(), 64u * 1024 * 1024);
  EXPECT_GT(rss, 0);
  EXPECT_LT(rss, 48 * 1024 * tapharness::testing::kSanitizerMemoryFactor) << "tap_tail's resident memory in KiB";
  RecordProperty("flood_written_bytes", std::to_string(result.written.load()));
  RecordProperty("tap_tail_rss_kib", std::to_string(rss));
  std::printf("the server wrote %zu bytes before the client stopped reading; tap_tail resident: %ld KiB\n",
              result.written.load(), rss);
  result.release = true;
  tail.send_signal(SIGKILL);
  server.join();
}

}  // namespace
}  // namespace tapharness::client
