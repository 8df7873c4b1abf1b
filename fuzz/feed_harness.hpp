// What the client-feed fuzz targets share: the feed over an in-memory pipe whose client end
// records every byte the feed read and wrote, an eager consumer that enforces "nothing after
// the end", and the oracle that says, from the bytes the feed read alone, which events,
// ACKs and end it must have produced.
//
//   auto log = std::make_shared<StreamLog>();
//   auto [client, server] = make_memory_pipe(io.get_executor());
//   client::BasicTapFeed<RecordingStream> feed(RecordingStream(std::move(client), log), options);
//   Consumer consumer(feed);
//   feed.start();
//   consumer.start();
//   ... the server end writes, the io_context runs ...
//   check_feed(consumer.observed(), *log, options);   // aborts on any violation
//
// The oracle is derived independently of the feed: FrameDecoder and map_feed_frame over the
// recorded bytes, in one pass, with none of the feed's buffering, queueing or I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "client/feed_end.hpp"
#include "client/feed_options.hpp"
#include "client/tap_feed.hpp"
#include "protocol/bytes.hpp"
#include "protocol/tap_event.hpp"
#include "tests/support/memory_stream.hpp"
#include "third_party/asio.hpp"

namespace tapharness::fuzz {

using tapharness::testing::MemoryStream;

// Everything that crossed the client end of the pipe.
struct StreamLog {
  protocol::Bytes read;                                // every byte the feed read, in order
  std::optional<boost::system::error_code> read_end;   // how its last read failed, if one did
  protocol::Bytes written;                             // every byte it wrote successfully
  bool write_failed = false;
};

// A MemoryStream that copies what passes through it into a StreamLog. Completion handlers
// keep their associated executor (the feed's strand).
class RecordingStream {
 public:
  using executor_type = MemoryStream::executor_type;

  RecordingStream(MemoryStream inner, std::shared_ptr<StreamLog> log)
      : inner_(std::move(inner)), log_(std::move(log)) {}

  executor_type get_executor() const { return inner_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& buffers) {
          inner_.async_read_some(buffers, logged(std::move(handler), buffers,
                                                 [log = log_](boost::system::error_code ec, protocol::ByteView bytes) {
                                                   protocol::append(log->read, bytes);
                                                   if (ec) log->read_end = ec;
                                                 }));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& buffers) {
          inner_.async_write_some(buffers, logged(std::move(handler), buffers,
                                                  [log = log_](boost::system::error_code ec, protocol::ByteView bytes) {
                                                    protocol::append(log->written, bytes);
                                                    if (ec) log->write_failed = true;
                                                  }));
        },
        token, buffers);
  }

  void close(boost::system::error_code& ec) { inner_.close(ec); }
  void cancel(boost::system::error_code& ec) { inner_.cancel(ec); }

 private:
  // `handler`, preceded by `record(ec, the bytes the operation moved)`, on the handler's own
  // executor.
  template <class Handler, class Buffers, class Record>
  auto logged(Handler handler, const Buffers& buffers, Record record) {
    auto executor = asio::get_associated_executor(handler, inner_.get_executor());
    return asio::bind_executor(executor, [buffers, record, handler = std::move(handler)](
                                             boost::system::error_code ec, std::size_t n) mutable {
      protocol::Bytes moved(n);
      asio::buffer_copy(asio::buffer(moved), buffers, n);
      record(ec, protocol::ByteView(moved));
      std::move(handler)(ec, n);
    });
  }

  MemoryStream inner_;
  std::shared_ptr<StreamLog> log_;
};

using RecordedFeed = client::BasicTapFeed<RecordingStream>;

// What the consumer received.
struct Observed {
  std::vector<protocol::TapEvent> events;
  std::optional<client::FeedEnd> end;
  bool closed_by_consumer = false;  // close() was called before the end arrived
};

// Takes items as fast as the feed offers them. Aborts when an event follows the end or a
// later call returns a different end (the feed repeats its one end to later calls).
class Consumer {
 public:
  // With `close_after`, calls close() on taking that many events. With `batch`, pulls with
  // async_next_batch(batch) instead of async_next.
  explicit Consumer(RecordedFeed& feed, std::optional<std::size_t> close_after = std::nullopt,
                    std::size_t batch = 0)
      : feed_(feed), close_after_(close_after), batch_(batch) {}

  void start() { ask(); }
  // close() from outside the consumer (the feed must then end with `closed`).
  void close();
  const Observed& observed() const { return observed_; }

 private:
  void ask();
  void on_batch(std::vector<client::FeedItem> items);
  // Records one item; false once nothing more should be asked for. `closed_before`: close()
  // had been called when the item's handler began.
  bool take(client::FeedItem item, bool closed_before);

  RecordedFeed& feed_;
  std::optional<std::size_t> close_after_;
  std::size_t batch_ = 0;
  Observed observed_;
};

// What a feed must report for the bytes it read, from decoding them in one pass.
struct ExpectedFeed {
  std::vector<protocol::TapEvent> events;
  std::vector<protocol::AckRequest> acks;  // in frame order: the order they must be written
  // The end the bytes themselves cause (end_stream, connect_rejected, protocol_error), with
  // its offset; unset when they run out first.
  std::optional<client::FeedEnd> terminal;
  std::uint64_t offset = 0;   // bytes of whole frames up to the end
  std::size_t leftover = 0;   // bytes after the last whole frame (no terminal)
};

ExpectedFeed expect_feed(protocol::ByteView read, const protocol::Limits& limits);

// Checks everything the feed did against the oracle:
// - the feed wrote its TAP_CONNECT, then only ACKs, each exactly tap_ack(opcode, opaque);
// - it ended exactly as the bytes it read and the way its reads ended require: the terminal
//   frame's end, else eof or truncated (EOF), io_error (a failed read), idle_timeout (a read
//   cancelled by the idle timer, with `idle_timeout` set), or closed (close() was called);
// - it delivered exactly the expected events and wrote exactly the expected ACKs, in order,
//   where the end leaves the connection writable; only a prefix of them when it does not
//   (io_error, closed, a failed write).
void check_feed(const Observed& observed, const StreamLog& log, const client::FeedOptions& options);

}  // namespace tapharness::fuzz
