#include "client/defects/wire_proxy.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "protocol/frame.hpp"
#include "protocol/tap_connect.hpp"
#include "protocol/tap_message.hpp"

namespace tapharness::client {
namespace {

using protocol::Opcode;
constexpr auto kHoldFor = std::chrono::milliseconds(5);   // a frame's first bytes, at most
constexpr auto kTogether = std::chrono::milliseconds(10);  // ACKs this close count as due together

}  // namespace

WireProxy::WireProxy(asio::any_io_executor executor, DefectSet defects, Hooks hooks,
                     std::shared_ptr<NackedKeys> nacked_keys)
    : executor_(executor),
      defects_(defects),
      hooks_(std::move(hooks)),
      acceptor_(executor),
      feed_(executor),
      server_(executor),
      rewriter_(defects),
      hold_timer_(executor),
      up_signal_(executor),
      newest_timer_(executor),
      nacked_keys_(std::move(nacked_keys)) {}

Result<std::uint16_t, InputError> WireProxy::listen() {
  boost::system::error_code ec;
  const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(1, ec);
  if (ec) return InputError{"127.0.0.1", fmt::format("the defect proxy cannot listen: {}", ec.message())};
  return acceptor_.local_endpoint().port();
}

void WireProxy::start(tcp::socket server, std::function<void()> on_done) {
  server_ = std::move(server);
  on_done_ = std::move(on_done);
  asio::co_spawn(executor_, run(shared_from_this()), asio::detached);
}

void WireProxy::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  feed_.close(ignored);
  server_.close(ignored);
  hold_timer_.cancel();
  up_signal_.cancel();
  newest_timer_.cancel();
}

asio::awaitable<void> WireProxy::run(std::shared_ptr<WireProxy> self) {
  boost::system::error_code ec;
  feed_ = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
  acceptor_.close(ec);
  if (stopped_) co_return;
  running_ = 3;
  asio::co_spawn(executor_, down(self), asio::detached);
  asio::co_spawn(executor_, up(self), asio::detached);
  asio::co_spawn(executor_, write_up(self), asio::detached);
}

void WireProxy::finish_one() {
  if (--running_ == 0) {
    stop();
    if (on_done_) std::exchange(on_done_, nullptr)();
  }
}

asio::awaitable<void> WireProxy::down(std::shared_ptr<WireProxy> self) {
  std::array<std::uint8_t, 16 * 1024> buffer;
  protocol::Bytes out;
  const bool look = FrameRewriter::needed(defects_);
  bool feed_gone = false;
  while (!stopped_) {
    boost::system::error_code ec;
    const std::size_t n =
        co_await server_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    hold_timer_.cancel();
    out.clear();
    FrameRewriter::Notes notes;
    if (ec == asio::error::operation_aborted && !stopped_) {
      rewriter_.release(out);  // the rest of a frame's first bytes did not come soon
    } else if (look) {
      rewriter_.take(protocol::ByteView(buffer.data(), n), out, notes);
    } else {
      out.assign(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (ec && ec != asio::error::operation_aborted) rewriter_.release(out);  // a cut frame goes as it came
    if (!out.empty() && !feed_gone) {
      boost::system::error_code wec;
      co_await asio::async_write(feed_, asio::buffer(out), asio::redirect_error(asio::use_awaitable, wec));
      feed_gone = static_cast<bool>(wec);
    }
    for (const auto& [flags, expiry] : notes.deletions) hooks_.deletion(flags, expiry);
    for (auto& asked : notes.asked) asked_.push_back(std::move(asked));
    for (const auto& ack : notes.acks) send_ack_up(ack);
    if (notes.crash) {
      hooks_.crash(*notes.crash);
      stop();
      break;
    }
    if (notes.close) {  // it hangs up, cleanly, on both
      boost::system::error_code ignored;
      feed_.shutdown(tcp::socket::shutdown_send, ignored);
      server_.close(ignored);
      break;
    }
    if (ec == asio::error::operation_aborted) {
      if (stopped_) break;
      continue;
    }
    if (ec) {
      boost::system::error_code ignored;
      if (ec == asio::error::eof) {
        feed_.shutdown(tcp::socket::shutdown_send, ignored);  // the server's FIN, passed on
      } else {
        feed_.set_option(asio::socket_base::linger(true, 0), ignored);  // a reset, passed on
        feed_.close(ignored);
      }
      break;
    }
    if (rewriter_.holding()) {
      hold_timer_.expires_after(kHoldFor);
      hold_timer_.async_wait([this, self](const boost::system::error_code& e) {
        // The other direction may have closed the socket meanwhile: nothing to cancel then.
        boost::system::error_code not_open;
        if (!e && !stopped_) server_.cancel(not_open);
      });
    }
  }
  finish_one();
}

asio::awaitable<void> WireProxy::up([[maybe_unused]] std::shared_ptr<WireProxy> self) {
  std::array<std::uint8_t, 16 * 1024> buffer;
  protocol::Bytes pending;
  while (!stopped_) {
    boost::system::error_code ec;
    const std::size_t n =
        co_await feed_.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    pending.insert(pending.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    for (;;) {
      auto result = from_feed_decoder_.decode(pending);
      auto* decoded = std::get_if<protocol::Decoded>(&result);
      if (!decoded) break;
      from_feed(protocol::ByteView(pending.data(), decoded->consumed));
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(decoded->consumed));
    }
    if (ec) break;
  }
  flush_newest_ack();
  // The feed has closed. A client that stays connected after an error keeps the server's
  // side open (and reading) until the server closes.
  if (!defects_.has(Defect::stay_connected_after_error)) {
    up_closed_ = true;
    up_signal_.cancel();
  }
  finish_one();
}

asio::awaitable<void> WireProxy::write_up([[maybe_unused]] std::shared_ptr<WireProxy> self) {
  while (!stopped_) {
    while (!up_queue_.empty() && !stopped_) {
      const protocol::Bytes frame = std::move(up_queue_.front());
      up_queue_.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(server_, asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (up_closed_) {  // the feed has closed: so does the client's connection
      boost::system::error_code ignored;
      server_.close(ignored);
      break;
    }
    up_signal_.expires_at(std::chrono::steady_clock::time_point::max());
    boost::system::error_code ec;
    co_await up_signal_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  finish_one();
}

void WireProxy::send_up(protocol::ByteView frame) {
  up_queue_.emplace_back(frame.begin(), frame.end());
  up_signal_.cancel();
}

void WireProxy::send_ack_up(const protocol::AckRequest& ack) {
  const auto frame = protocol::tap_ack(ack.opcode, ack.opaque, protocol::Status::success);
  send_up(frame);
}

void WireProxy::flush_newest_ack() {
  if (!newest_ack_) return;
  send_ack_up(*newest_ack_);
  newest_ack_.reset();
}

// ignore_retransmit: the key of the frame this ACK answers (the first unanswered one with its
// opcode and opaque); a NACK remembers the key, and any later answer for a frame with a
// remembered key is dropped.
bool WireProxy::drop_retransmit_ack(const protocol::Header& ack, protocol::Status status) {
  const auto it = std::find_if(asked_.begin(), asked_.end(), [&](const FrameRewriter::AskedAck& a) {
    return a.ack.opcode == ack.opcode && a.ack.opaque == ack.opaque;
  });
  if (it == asked_.end()) return false;
  const std::string key = std::move(it->key);
  asked_.erase(asked_.begin(), it + 1);  // the feed answers in order: earlier ones are behind it
  if (nacked_keys_->contains(key)) return true;
  if (status == protocol::Status::etmpfail || status == protocol::Status::ebusy) nacked_keys_->insert(key);
  return false;
}

void WireProxy::from_feed(protocol::ByteView bytes) {
  protocol::Bytes frame(bytes.begin(), bytes.end());
  const protocol::Header h = protocol::read_header(frame.data());
  if (!connect_seen_ && h.opcode == Opcode::tap_connect) {
    connect_seen_ = true;
    if (defects_.has(Defect::wrong_connect_flags) && h.extlen == 4) {
      frame[protocol::kHeaderSize + 3] ^= static_cast<std::uint8_t>(protocol::TapConnectFlag::dump);
    }
    if (defects_.has(Defect::wrong_connect_name)) {
      // Another client's name: "x" before it, so every length grows by one.
      protocol::Bytes renamed(frame.begin(), frame.begin() + protocol::kHeaderSize + h.extlen);
      renamed.push_back('x');
      renamed.insert(renamed.end(), frame.begin() + protocol::kHeaderSize + h.extlen, frame.end());
      protocol::store_be16(renamed.data() + protocol::header_offset::keylen, static_cast<std::uint16_t>(h.keylen + 1));
      protocol::store_be32(renamed.data() + protocol::header_offset::bodylen, h.bodylen + 1);
      frame = std::move(renamed);
    }
    send_up(frame);
    return;
  }
  if (h.magic != protocol::Magic::response) {
    send_up(frame);
    return;
  }
  // An ACK.
  ++acks_seen_;
  if (defects_.has(Defect::never_ack)) return;
  if (defects_.has(Defect::skip_ack) && acks_seen_ == defects_.skip_ack_n) return;
  if (defects_.has(Defect::ignore_opaque_ack) && h.opcode == Opcode::tap_opaque) return;
  std::uint8_t* p = frame.data();
  namespace at = protocol::header_offset;
  if (defects_.has(Defect::ack_wrong_opaque)) protocol::store_be32(p + at::opaque, h.opaque + 1);
  if (defects_.has(Defect::ack_wrong_opcode)) {
    p[at::opcode] = static_cast<std::uint8_t>(h.opcode == Opcode::tap_mutation ? Opcode::tap_delete : Opcode::tap_mutation);
  }
  if (defects_.has(Defect::ack_wrong_status)) protocol::store_be16(p + at::vbucket, static_cast<std::uint16_t>(protocol::Status::einval));
  if (defects_.has(Defect::nack_all)) protocol::store_be16(p + at::vbucket, static_cast<std::uint16_t>(protocol::Status::etmpfail));
  if (defects_.has(Defect::ignore_retransmit) &&
      drop_retransmit_ack(h, static_cast<protocol::Status>(protocol::load_be16(p + at::vbucket)))) {
    return;
  }
  if (defects_.has(Defect::ack_newest_only)) {
    newest_ack_ = protocol::AckRequest{static_cast<Opcode>(p[at::opcode]), protocol::load_be32(p + at::opaque)};
    newest_timer_.expires_after(kTogether);
    newest_timer_.async_wait([this, self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !stopped_) flush_newest_ack();
    });
    return;
  }
  send_up(frame);
}

}  // namespace tapharness::client
