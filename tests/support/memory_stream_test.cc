// The memory pipe's send buffer, which the fuzzers rely on to model a socket: a write takes
// what fits and waits for the reader; it fails when the reader leaves, and ends with
// operation_aborted when its own end closes.
#include "tests/support/memory_stream.hpp"

#include <optional>
#include <vector>

#include <gtest/gtest.h>

namespace tapharness::testing {
namespace {

struct Done {
  boost::system::error_code ec;
  std::size_t n = 0;
};

// Runs what is ready, never blocking (nothing here waits on time).
void run_ready(asio::io_context& io) {
  io.restart();
  io.poll();
}

TEST(MemoryStreamSendBuffer, AWriteTakesWhatFitsAndTheNextWaitsForTheReader) {
  asio::io_context io;
  auto [client, server] = make_memory_pipe(io.get_executor());
  server.set_send_buffer(10);
  const std::vector<std::uint8_t> bytes(25, 'x');
  std::optional<Done> first, second;
  server.async_write_some(asio::buffer(bytes), [&](auto ec, std::size_t n) { first = Done{ec, n}; });
  run_ready(io);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->ec);
  EXPECT_EQ(first->n, 10u);  // what fits, not all 25
  server.async_write_some(asio::buffer(bytes.data() + 10, 15), [&](auto ec, std::size_t n) { second = Done{ec, n}; });
  run_ready(io);
  EXPECT_FALSE(second) << "the buffer is full: the write waits";
  std::vector<std::uint8_t> in(4);
  client.async_read_some(asio::buffer(in), [](auto, std::size_t) {});
  run_ready(io);
  ASSERT_TRUE(second) << "reading made room";
  EXPECT_FALSE(second->ec);
  EXPECT_EQ(second->n, 4u);  // as much as the read freed
  EXPECT_EQ(client.bytes_unread(), 10u);
}

TEST(MemoryStreamSendBuffer, AWaitingWriteFailsWhenTheReaderLeavesAndAbortsWhenItsEndCloses) {
  const std::vector<std::uint8_t> bytes(8, 'x');
  for (const bool reader_leaves : {true, false}) {
    asio::io_context io;
    auto [client, server] = make_memory_pipe(io.get_executor());
    server.set_send_buffer(8);
    server.async_write_some(asio::buffer(bytes), [](auto, std::size_t) {});
    std::optional<Done> waiting;
    server.async_write_some(asio::buffer(bytes), [&](auto ec, std::size_t n) { waiting = Done{ec, n}; });
    run_ready(io);
    ASSERT_FALSE(waiting);
    if (reader_leaves) {
      client.close();
    } else {
      server.close();
    }
    run_ready(io);
    ASSERT_TRUE(waiting) << "a waiting write ends when either end goes";
    EXPECT_EQ(waiting->ec, reader_leaves ? asio::error::broken_pipe : asio::error::operation_aborted);
    EXPECT_EQ(waiting->n, 0u);
  }
}

}  // namespace
}  // namespace tapharness::testing
