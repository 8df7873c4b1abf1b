// An in-memory, Asio-compatible byte stream pair for tests: what one end writes, the other
// reads, with no socket. It models what a test needs from TCP: EOF after the peer's FIN
// (close or shutdown_send), ECONNRESET after the peer's reset, partial reads, and failure
// injection at the n-th I/O operation.
//
//   asio::io_context io;
//   auto [client, server] = make_memory_pipe(io.get_executor());
//   server.fail_operation(3, asio::error::connection_reset);   // 4th read or write fails
//   client.set_max_read(1);                                    // one byte per read
//   server.set_send_buffer(256 * 1024);                        // writes wait while 256 KiB are unread
//
// Both ends must be used from one thread at a time (run the io_context on one thread).
// Pending operations keep their end alive, so a stream may be moved at any time.
// Writes complete at once (the pipe buffers without bound, unless set_send_buffer bounds it:
// then a write takes what fits and waits, as a socket's does); reads wait for data.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "third_party/asio.hpp"

namespace tapharness::testing {

namespace detail {

// The bytes travelling one way, and the reader waiting for them.
struct PipeDirection {
  std::deque<std::uint8_t> bytes;
  bool fin = false;                 // the writer shut down: EOF once drained
  boost::system::error_code reset;  // the writer reset: reads fail at once
  std::function<void()> wake_reader;
  std::size_t capacity = static_cast<std::size_t>(-1);  // unread bytes the writer may leave
  std::function<void()> wake_writer;                    // a write waiting for room
  bool reader_gone = false;                             // the reading end closed or reset
  std::size_t total_written = 0;
  std::vector<std::size_t> write_sizes;  // every write, in order
};

struct PipeState {
  PipeDirection to[2];  // to[i]: bytes on their way to end i
};

}  // namespace detail

class MemoryStream {
 public:
  using executor_type = asio::any_io_executor;

  MemoryStream(executor_type executor, std::shared_ptr<detail::PipeState> pipe, int side)
      : end_(std::make_shared<End>(std::move(executor), std::move(pipe), side)) {}
  MemoryStream(MemoryStream&&) noexcept = default;
  MemoryStream& operator=(MemoryStream&& other) noexcept {
    if (this != &other) {
      if (end_) close();
      end_ = std::move(other.end_);
    }
    return *this;
  }
  // Like a socket: destruction closes, which aborts a pending read and sends FIN.
  ~MemoryStream() {
    if (end_) close();
  }

  executor_type get_executor() const { return end_->executor; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [end = end_](auto handler, const MutableBuffers& buffers) {
          end->start_read(buffers, std::move(handler));
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [end = end_](auto handler, const ConstBuffers& buffers) { end->start_write(buffers, std::move(handler)); },
        token, buffers);
  }

  // FIN to the peer, and this end's pending read ends with operation_aborted.
  void close() {
    boost::system::error_code ignored;
    close(ignored);
  }
  void close(boost::system::error_code& ec) {
    ec = {};
    if (!end_->open) return;
    end_->open = false;
    shutdown_send();
    end_->abort_pending_read();
    end_->abort_pending_write();
    end_->reader_left();
  }
  void cancel() { end_->abort_pending_read(); }
  void cancel(boost::system::error_code& ec) {
    ec = {};
    cancel();
  }
  bool is_open() const { return end_->open; }

  // FIN to the peer only: it reads EOF once it has drained what was sent; this end reads on.
  void shutdown_send() {
    auto& out = end_->outbound();
    out.fin = true;
    End::wake(out.wake_reader);
  }

  // Abortive close (SO_LINGER 0): the peer's reads fail with connection_reset at once.
  void reset() {
    auto& out = end_->outbound();
    out.reset = asio::error::connection_reset;
    out.bytes.clear();
    End::wake(out.wake_reader);
    end_->open = false;
    end_->abort_pending_read();
    end_->abort_pending_write();
    end_->reader_left();
  }

  // The n-th I/O operation on this end (reads and writes counted together, from 0) fails.
  void fail_operation(std::size_t n, boost::system::error_code ec) { end_->fail_at = {n, ec}; }

  // At most this many bytes per read (default: all that is available).
  void set_max_read(std::size_t n) { end_->max_read = n == 0 ? 1 : n; }
  // At most `n` bytes written by this end wait unread, as a socket's send buffer holds them:
  // a write takes what fits and waits while nothing does (so a writer's timeout can find a
  // slow reader); it fails with broken_pipe if the reader leaves meanwhile.
  void set_send_buffer(std::size_t n) { end_->outbound().capacity = n == 0 ? 1 : n; }

  std::size_t operations() const { return end_->operations; }
  // The size of every write the peer made, in order: how its bytes were cut.
  const std::vector<std::size_t>& peer_write_sizes() const { return end_->inbound().write_sizes; }
  // Expires once this end and every operation on it are gone: a leak check for tests.
  std::weak_ptr<const void> lifetime() const { return end_; }
  std::size_t bytes_read() const { return end_->bytes_read; }
  // Bytes the peer has written that this end has not read yet.
  std::size_t bytes_unread() const { return end_->inbound().bytes.size(); }
  // Bytes this end has written that the peer has not read yet.
  std::size_t bytes_unread_by_peer() const { return end_->outbound().bytes.size(); }

 private:
  // One end's state, shared with its pending operations so they survive a moved stream.
  struct End : std::enable_shared_from_this<End> {
    End(executor_type ex, std::shared_ptr<detail::PipeState> p, int s)
        : executor(std::move(ex)), pipe(std::move(p)), side(s) {}

    detail::PipeDirection& inbound() const { return pipe->to[side]; }
    detail::PipeDirection& outbound() const { return pipe->to[1 - side]; }

    // Runs the operation waiting in `slot`, if one is.
    static void wake(std::function<void()>& slot) {
      if (auto waiting = std::exchange(slot, nullptr)) waiting();
    }

    // Parks an operation until `wake_slot` runs (then `retry` gets its handler) or
    // `abort_slot` does (then it ends with operation_aborted). A parked operation is
    // outstanding work, as a pending socket operation is: the io_context does not run out of
    // work while it waits.
    template <class Handler, class Retry>
    void park(Handler handler, std::function<void()>& wake_slot, std::function<void()>& abort_slot, Retry retry) {
      auto shared = std::make_shared<Handler>(std::move(handler));
      auto self = this->shared_from_this();
      auto work = std::make_shared<executor_type>(asio::prefer(executor, asio::execution::outstanding_work.tracked));
      abort_slot = [self, shared, work] { self->complete(std::move(*shared), asio::error::operation_aborted, 0); };
      wake_slot = [shared, work, retry] { retry(std::move(*shared)); };
    }

    std::optional<boost::system::error_code> injected_failure() {
      const std::size_t index = operations++;
      if (fail_at && fail_at->first == index) return fail_at->second;
      return std::nullopt;
    }

    template <class Handler>
    void complete(Handler handler, boost::system::error_code ec, std::size_t n) {
      auto ex = asio::get_associated_executor(handler, executor);
      asio::post(ex, [handler = std::move(handler), ec, n]() mutable { handler(ec, n); });
    }

    template <class ConstBuffers, class Handler>
    void start_write(const ConstBuffers& buffers, Handler handler) {
      if (auto failure = injected_failure()) return complete(std::move(handler), *failure, 0);
      try_write(buffers, std::move(handler));
    }

    // Takes what fits of `buffers` and completes; parks the write while nothing fits.
    template <class ConstBuffers, class Handler>
    void try_write(const ConstBuffers& buffers, Handler handler) {
      if (!open) return complete(std::move(handler), asio::error::bad_descriptor, 0);
      auto& out = outbound();
      if (out.fin) return complete(std::move(handler), asio::error::broken_pipe, 0);
      const std::size_t room = out.capacity - std::min(out.capacity, out.bytes.size());
      if (room == 0 && asio::buffer_size(buffers) > 0) {
        if (out.reader_gone) return complete(std::move(handler), asio::error::broken_pipe, 0);
        return park(std::move(handler), out.wake_writer, pending_write_abort,
                    [self = this->shared_from_this(), buffers](Handler h) {
                      self->pending_write_abort = nullptr;
                      // Posted: the reader that made room is mid-read. Closed meanwhile, this
                      // end aborts the write, as it aborts one still waiting.
                      asio::post(self->executor, [self, buffers, h = std::move(h)]() mutable {
                        if (!self->open) return self->complete(std::move(h), asio::error::operation_aborted, 0);
                        self->try_write(buffers, std::move(h));
                      });
                    });
      }
      std::size_t n = 0;
      for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && n < room;
           ++it) {
        asio::const_buffer b(*it);
        const auto* p = static_cast<const std::uint8_t*>(b.data());
        const std::size_t take = std::min(b.size(), room - n);
        out.bytes.insert(out.bytes.end(), p, p + take);
        n += take;
      }
      out.total_written += n;
      out.write_sizes.push_back(n);
      wake(out.wake_reader);
      complete(std::move(handler), {}, n);
    }

    void abort_pending_write() {
      outbound().wake_writer = nullptr;
      if (auto abort = std::exchange(pending_write_abort, nullptr)) abort();
    }

    // This end reads no more: a peer's write waiting for room fails rather than waits.
    void reader_left() {
      inbound().reader_gone = true;
      wake(inbound().wake_writer);
    }

    template <class MutableBuffers, class Handler>
    void start_read(const MutableBuffers& buffers, Handler handler) {
      if (auto failure = injected_failure()) return complete(std::move(handler), *failure, 0);
      if (!open) return complete(std::move(handler), asio::error::bad_descriptor, 0);
      try_read(buffers, std::move(handler));
    }

    // Completes the read if data, EOF or a reset is there; otherwise parks it until the
    // peer writes, shuts down or resets, or this end closes.
    template <class MutableBuffers, class Handler>
    void try_read(const MutableBuffers& buffers, Handler handler) {
      auto& in = inbound();
      if (in.reset) return complete(std::move(handler), in.reset, 0);
      if (!in.bytes.empty()) {
        std::size_t n = 0;
        for (auto it = asio::buffer_sequence_begin(buffers);
             it != asio::buffer_sequence_end(buffers) && !in.bytes.empty() && n < max_read; ++it) {
          asio::mutable_buffer b(*it);
          const std::size_t take = std::min({b.size(), in.bytes.size(), max_read - n});
          std::copy_n(in.bytes.begin(), take, static_cast<std::uint8_t*>(b.data()));
          in.bytes.erase(in.bytes.begin(), in.bytes.begin() + static_cast<std::ptrdiff_t>(take));
          n += take;
        }
        bytes_read += n;
        wake(in.wake_writer);
        return complete(std::move(handler), {}, n);
      }
      if (in.fin) return complete(std::move(handler), asio::error::eof, 0);
      park(std::move(handler), in.wake_reader, pending_abort, [self = this->shared_from_this(), buffers](Handler h) {
        self->pending_abort = nullptr;
        self->try_read(buffers, std::move(h));
      });
    }

    void abort_pending_read() {
      inbound().wake_reader = nullptr;
      if (auto abort = std::exchange(pending_abort, nullptr)) abort();
    }

    executor_type executor;
    std::shared_ptr<detail::PipeState> pipe;
    int side = 0;
    bool open = true;
    std::size_t max_read = static_cast<std::size_t>(-1);
    std::size_t operations = 0;
    std::size_t bytes_read = 0;
    std::optional<std::pair<std::size_t, boost::system::error_code>> fail_at;
    std::function<void()> pending_abort;
    std::function<void()> pending_write_abort;
  };

  std::shared_ptr<End> end_;
};

// Two connected ends on `executor`: first is conventionally the client, second the server.
inline std::pair<MemoryStream, MemoryStream> make_memory_pipe(asio::any_io_executor executor) {
  auto state = std::make_shared<detail::PipeState>();
  return {MemoryStream(executor, state, 0), MemoryStream(executor, state, 1)};
}

}  // namespace tapharness::testing
