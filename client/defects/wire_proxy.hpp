// The wire defects between the feed and the server: a proxy on loopback that the feed
// connects to, forwarding both ways, rewriting the server's frames (frame_rewriter.hpp) and
// the ACKs and TAP_CONNECT the feed sends, as one defective client would.
//
//   auto proxy = std::make_shared<WireProxy>(executor, defects, hooks);
//   auto port = proxy->listen();          // 127.0.0.1, an ephemeral port
//   proxy->start(std::move(server_socket), on_done);
//   connect_feed(executor, "127.0.0.1", std::to_string(*port), options);
//
// Memory is bounded by one read each way and the ACKs waiting to go up (each a 24-byte
// frame, at most one per frame the server sent); with ignore_retransmit also by the keys of
// the frames the feed has not acknowledged yet (the feed's queue bounds them) and the keys
// it NACKed.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "client/defects/defect.hpp"
#include "client/defects/frame_rewriter.hpp"
#include "protocol/bytes.hpp"
#include "protocol/frame_decoder.hpp"
#include "third_party/asio.hpp"

namespace tapharness::client {

class WireProxy : public std::enable_shared_from_this<WireProxy> {
 public:
  using tcp = asio::ip::tcp;

  struct Hooks {
    std::function<void(const std::string& why)> crash;                       // the client crashes
    std::function<void(std::uint32_t flags, std::uint32_t expiry)> deletion;  // a deletion misread
  };

  // The keys the client has NACKed (ignore_retransmit), shared by the proxies of one client's
  // connections: a retransmit after a reconnect is one too.
  using NackedKeys = std::set<std::string, std::less<>>;

  WireProxy(asio::any_io_executor executor, DefectSet defects, Hooks hooks,
            std::shared_ptr<NackedKeys> nacked_keys = std::make_shared<NackedKeys>());

  // Listens for the feed on 127.0.0.1; the port, or why not.
  Result<std::uint16_t, InputError> listen();
  // Takes one connection from the feed, then forwards both ways until both are done.
  void start(tcp::socket server, std::function<void()> on_done);
  // Closes everything.
  void stop();

 private:
  asio::awaitable<void> run(std::shared_ptr<WireProxy> self);
  asio::awaitable<void> down(std::shared_ptr<WireProxy> self);  // server -> feed
  asio::awaitable<void> up(std::shared_ptr<WireProxy> self);    // feed -> server
  asio::awaitable<void> write_up(std::shared_ptr<WireProxy> self);

  // A frame from the feed, as the defective client sends it.
  void from_feed(protocol::ByteView frame);
  void send_up(protocol::ByteView frame);
  void send_ack_up(const protocol::AckRequest& ack);
  void flush_newest_ack();
  void finish_one();
  bool drop_retransmit_ack(const protocol::Header& ack, protocol::Status status);

  asio::any_io_executor executor_;
  DefectSet defects_;
  Hooks hooks_;
  tcp::acceptor acceptor_;
  tcp::socket feed_;
  tcp::socket server_;
  FrameRewriter rewriter_;
  protocol::FrameDecoder from_feed_decoder_;
  asio::steady_timer hold_timer_;   // releases a frame's held first bytes
  asio::steady_timer up_signal_;    // wakes the writer
  asio::steady_timer newest_timer_;  // ack_newest_only: the ACKs due together
  std::deque<protocol::Bytes> up_queue_;
  std::optional<protocol::AckRequest> newest_ack_;
  std::deque<FrameRewriter::AskedAck> asked_;  // ignore_retransmit: frames passed down, not yet acked
  std::shared_ptr<NackedKeys> nacked_keys_;
  std::uint64_t acks_seen_ = 0;
  bool connect_seen_ = false;
  bool up_closed_ = false;  // nothing more goes to the server
  bool stopped_ = false;
  int running_ = 0;  // pumps still running
  std::function<void()> on_done_;
};

}  // namespace tapharness::client
