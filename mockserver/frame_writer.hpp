// How the engine writes to the client: every write bounded by the scenario's timeout (a
// client that stops reading, or vanishes without FIN or RST, would hold it forever), and
// under `writes coalesced` frames gathered into one write of up to kCoalesceLimit bytes.
//
//   FrameWriter<Stream> writer(stream, timeout, [&] { close_the_connection(); });
//   co_await writer.write(asio::buffer(bytes), ec, keep_alive);
//   render_into(writer.coalesced());
//   writer.end_frame();                      // one whole frame gathered
//   if (writer.coalesce_full()) co_await writer.flush(ec, keep_alive);
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "protocol/bytes.hpp"
#include "scenario/scenario.hpp"
#include "third_party/asio.hpp"

namespace tapharness::mockserver {

template <class Stream>
class FrameWriter {
 public:
  static constexpr std::size_t kCoalesceLimit = 256 * 1024;  // as much as the client reads at a time

  // `on_stall` runs when a write is not done in time; it must close the stream, which ends
  // the write with operation_aborted.
  FrameWriter(Stream& stream, scenario::Duration timeout, std::function<void()> on_stall)
      : stream_(stream), timeout_(timeout), on_stall_(std::move(on_stall)) {}

  // Writes all of `bytes`; `keep_alive` holds the owner while the guard timer may fire.
  // `deadline`: one bound for several writes of one frame (written in pieces), instead of
  // the timeout from now.
  asio::awaitable<std::size_t> write(asio::const_buffer bytes, boost::system::error_code& ec,
                                     std::shared_ptr<void> keep_alive,
                                     std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
    const std::uint64_t generation = ++generation_;
    asio::steady_timer guard(stream_.get_executor());
    if (deadline) {
      guard.expires_at(*deadline);
    } else {
      guard.expires_after(timeout_);
    }
    guard.async_wait([this, keep_alive, generation](boost::system::error_code expired) {
      if (expired || generation_ != generation) return;  // the write finished first
      stalled_ = true;
      on_stall_();
    });
    const std::size_t written = co_await asio::async_write(stream_, bytes, whole_buffer, asio::redirect_error(asio::use_awaitable, ec));
    ++generation_;
    co_return written;
  }

  // Why a write failed after `written` of its bytes, in words for a report.
  std::string failure(const boost::system::error_code& ec, std::size_t written) const {
    if (!stalled_) return ec.message();
    if (written == 0) return fmt::format("not done within {}ms: none of it went out (the client is not reading)", timeout_.count());
    return fmt::format("not done within {}ms: only {} bytes of it went out (the client reads too slowly, or stopped)",
                       timeout_.count(), written);
  }

  // `writes coalesced`: frames rendered here wait for one write; end_frame() marks where each
  // ends, so a write that fails part-way counts the frames that left whole. It grows without
  // zeroing: whoever grows it writes what it grew by.
  protocol::UninitializedBytes& coalesced() { return coalesced_; }
  void end_frame() { frame_ends_.push_back(coalesced_.size()); }
  std::vector<std::size_t>& frame_ends() { return frame_ends_; }  // for frames rendered in a run
  static constexpr std::size_t coalesce_limit() { return kCoalesceLimit; }
  bool coalesce_full() const { return coalesced_.size() >= kCoalesceLimit; }

  // What a flush put on the wire.
  struct Flushed {
    std::size_t size = 0;     // bytes gathered
    std::size_t written = 0;  // bytes written (all of them unless it failed)
    std::size_t frames = 0;   // frames written whole
  };

  // Writes what was gathered (if anything) and empties the buffer.
  asio::awaitable<Flushed> flush(boost::system::error_code& ec, std::shared_ptr<void> keep_alive) {
    Flushed out{coalesced_.size(), 0, 0};
    if (out.size > 0) out.written = co_await write(asio::buffer(coalesced_), ec, std::move(keep_alive));
    out.frames = static_cast<std::size_t>(
        std::upper_bound(frame_ends_.begin(), frame_ends_.end(), out.written) - frame_ends_.begin());
    coalesced_.clear();
    frame_ends_.clear();
    co_return out;
  }

 private:
  // A write's completion condition that offers the kernel all that is left at once: asio's
  // transfer_all offers 64 KiB per system call, four calls for each coalesced write.
  static std::size_t whole_buffer(const boost::system::error_code& ec, std::size_t) {
    return ec ? 0 : std::numeric_limits<std::size_t>::max();
  }

  Stream& stream_;
  scenario::Duration timeout_;
  std::function<void()> on_stall_;
  std::uint64_t generation_ = 0;  // bumped as each write starts and ends
  bool stalled_ = false;
  protocol::UninitializedBytes coalesced_;
  std::vector<std::size_t> frame_ends_;  // offsets in coalesced_ where a frame ends
};

}  // namespace tapharness::mockserver
