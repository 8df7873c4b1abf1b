// What the client sends, collected by protocol framing while the engine runs its script: a
// reader coroutine decodes the client's frames into a bounded inbox, and the engine takes
// them in order, waiting (with a deadline) when there is none yet.
//
//   ClientInbox<Stream> inbox(stream, limits, on_frame);
//   co_spawn(executor, inbox.read_loop(keep_alive), detached);
//   co_await inbox.wait(deadline);
//   if (!inbox.empty()) judge(inbox.take());
//   else report(inbox.silence(waited));
//
// Bounded in bytes against any client: up to the TAP_CONNECT, frames may be as large as a
// TAP_CONNECT needs (`connect_limits`); after it a client sends ACKs, and `ack_limits` keeps
// them small, so a large frame is garbage at once. A client that floods while the script
// delays meets TCP backpressure: the reader pauses once kMaxBytes wait, and resumes when the
// engine takes a frame. kMaxBytes holds far more ACKs than any ep-engine ACK window keeps
// in flight, so a correct client never waits on it.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "protocol/frame_buffer.hpp"
#include "protocol/frame_decoder.hpp"
#include "scenario/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

template <class Stream>
class ClientInbox {
 public:
  using Clock = std::chrono::steady_clock;

  struct Frame {
    protocol::Header header;
    protocol::Bytes bytes;  // the whole frame
  };

  enum class State { open, eof, error, garbage };

  // The bytes of frames the engine has not taken yet, at most this many: kMaxHeldAcks ACKs
  // of 24 bytes, and room for one largest later frame.
  static constexpr std::size_t kMaxHeldAcks = 65536;
  static constexpr std::size_t kMaxBytes = kMaxHeldAcks * protocol::kHeaderSize + 64 * 1024;

  // `on_frame` sees each frame as it arrives, `on_end` how the client stopped (for traces).
  ClientInbox(Stream& stream, protocol::Limits connect_limits, protocol::Limits ack_limits,
              std::function<void(const Frame&)> on_frame, std::function<void(const std::string&)> on_end)
      : stream_(stream),
        decoder_(connect_limits),
        ack_limits_(ack_limits),
        signal_(stream.get_executor()),
        room_(stream.get_executor()),
        on_frame_(std::move(on_frame)),
        on_end_(std::move(on_end)) {}

  // Reads until the client stops or stop() is called; `keep_alive` holds the owner.
  asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<void> keep_alive) {
    protocol::FrameBuffer buffer(16 * 1024);
    std::size_t need = protocol::kHeaderSize;
    while (state_ == State::open && !stopped_) {
      if (bytes_ >= kMaxBytes) {
        co_await wait_for_room();
        continue;
      }
      auto space = buffer.prepare(need);
      boost::system::error_code ec;
      const std::size_t n = co_await stream_.async_read_some(asio::buffer(space.data(), space.size()),
                                                             asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      need = decode_all(buffer);
      if (ec && state_ == State::open && !stopped_) {
        if (ec == asio::error::eof) {
          state_ = State::eof;
          detail_ = buffer.empty() ? "the client closed the connection"
                                   : fmt::format("the client closed the connection inside a frame ({} bytes)",
                                                 buffer.size());
        } else {
          state_ = State::error;
          detail_ = fmt::format("the connection failed: {}", ec.message());
        }
      }
      if (state_ != State::open) on_end_(detail_);
      signal_.cancel();
    }
  }

  bool empty() const { return frames_.empty(); }

  // The oldest frame; the reader resumes if it had paused for room.
  Frame take() {
    Frame frame = std::move(frames_.front());
    frames_.pop_front();
    bytes_ -= frame.bytes.size();
    if (waiting_for_room_ && bytes_ < kMaxBytes) room_.cancel();
    return frame;
  }

  // Waits until a frame is there, the client is done, reading stopped, or `deadline`.
  asio::awaitable<void> wait(Clock::time_point deadline) {
    while (frames_.empty() && state_ == State::open && !stopped_ && Clock::now() < deadline) {
      signal_.expires_at(deadline);
      boost::system::error_code ec;
      co_await signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // Stops reading (the server closed); pending waits return.
  void stop() {
    stopped_ = true;
    signal_.cancel();
    room_.cancel();
  }

  State state() const { return state_; }
  bool open() const { return state_ == State::open; }
  bool stopped() const { return stopped_; }
  // How the client stopped: "the client closed the connection", ...
  const std::string& detail() const { return detail_; }

  // What a wait that found nothing saw.
  std::string silence(scenario::Duration waited) const {
    if (state_ != State::open) return detail_;
    if (stopped_) return "nothing before the server stopped reading";
    if (partial_ > 0) {
      return fmt::format("no whole frame within {}ms: {} bytes of one arrived", waited.count(), partial_);
    }
    return fmt::format("nothing within {}ms", waited.count());
  }

 private:
  // Decodes every whole frame in `buffer` into the inbox; the bytes the next one needs.
  std::size_t decode_all(protocol::FrameBuffer& buffer) {
    for (;;) {
      auto result = decoder_.decode(buffer.data());
      if (auto* d = std::get_if<protocol::Decoded>(&result)) {
        Frame frame{d->frame.header, protocol::Bytes(buffer.data().begin(), buffer.data().begin() + d->consumed)};
        // After its TAP_CONNECT a client sends only ACKs: small frames.
        if (frame.header.opcode == protocol::Opcode::tap_connect) decoder_.set_limits(ack_limits_);
        on_frame_(frame);
        bytes_ += frame.bytes.size();
        frames_.push_back(std::move(frame));
        buffer.consume(d->consumed);
      } else if (auto* more = std::get_if<protocol::NeedMore>(&result)) {
        partial_ = buffer.size();
        return more->bytes;
      } else {
        state_ = State::garbage;
        detail_ = fmt::format("the client sent bytes that do not decode: {}", std::get<protocol::DecodeError>(result));
        return protocol::kHeaderSize;
      }
    }
  }

  asio::awaitable<void> wait_for_room() {
    waiting_for_room_ = true;
    room_.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await room_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    waiting_for_room_ = false;
  }

  Stream& stream_;
  protocol::FrameDecoder decoder_;
  protocol::Limits ack_limits_;
  asio::steady_timer signal_;  // cancelled whenever a frame arrives or the client's state changes
  asio::steady_timer room_;    // the paused reader's wait, cancelled when a frame is taken
  std::function<void(const Frame&)> on_frame_;
  std::function<void(const std::string&)> on_end_;
  std::deque<Frame> frames_;
  std::size_t bytes_ = 0;    // of frames_
  std::size_t partial_ = 0;  // bytes of a frame not whole yet
  bool waiting_for_room_ = false;
  bool stopped_ = false;
  State state_ = State::open;
  std::string detail_;
};

}  // namespace tapharness::mockserver
