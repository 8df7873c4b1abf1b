#include "client/defects/defective_client.hpp"

#include <fmt/format.h>

namespace tapharness::client {

using tcp = asio::ip::tcp;

namespace {

ReconnectPolicy policy_of(const FeedOptions& options, const DefectSet& defects) {
  ReconnectPolicy policy = options.reconnect;
  if (defects.has(Defect::no_reconnect)) policy.attempts = 0;
  return policy;
}

}  // namespace

DefectiveClient::DefectiveClient(asio::any_io_executor executor, std::string host, std::string port,
                                 FeedOptions options, DefectSet defects, Callbacks callbacks)
    : executor_(executor),
      host_(std::move(host)),
      port_(std::move(port)),
      options_(std::move(options)),
      defects_(defects),
      callbacks_(std::move(callbacks)),
      schedule_(policy_of(options_, defects_)),
      markers_(options_.reconnect.attempts > 0),
      backoff_timer_(executor) {
  if (defects_.has(Defect::no_idle_timeout)) options_.idle_timeout.reset();
}

std::shared_ptr<DefectiveClient> DefectiveClient::start(asio::any_io_executor executor, std::string host,
                                                        std::string port, FeedOptions options, DefectSet defects,
                                                        Callbacks callbacks) {
  std::shared_ptr<DefectiveClient> client(new DefectiveClient(executor, std::move(host), std::move(port),
                                                              std::move(options), defects, std::move(callbacks)));
  asio::co_spawn(executor, client->connect(client), asio::detached);
  return client;
}

asio::awaitable<void> DefectiveClient::connect(std::shared_ptr<DefectiveClient> self) {
  if (closed_) co_return end_closed();  // during the backoff
  ++connection_;
  events_ = 0;
  if (markers_) on_item(ReportedConnection{connection_});
  // Its own connect to the server, bounded as the feed's is; on failure the feed connects
  // directly, so the end it reports is the correct client's.
  tcp::socket server(executor_);
  asio::steady_timer timeout(executor_, options_.connect_timeout);
  timeout.async_wait([&server](const boost::system::error_code& ec) {
    boost::system::error_code ignored;
    if (!ec) server.close(ignored);
  });
  boost::system::error_code ec;
  tcp::resolver resolver(executor_);
  const auto endpoints = co_await resolver.async_resolve(host_, port_, asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await asio::async_connect(server, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  timeout.cancel();
  if (closed_) co_return end_closed();
  if (ec || !server.is_open()) co_return start_feed(host_, port_);
  // The proxy and the feed are the client's: what they call back holds it weakly, or each
  // would keep the other alive for ever (the caller holds the client while it runs).
  const std::weak_ptr<DefectiveClient> weak = self;
  proxy_ = std::make_shared<WireProxy>(
      executor_, defects_,
      WireProxy::Hooks{.crash =
                           [weak](const std::string& why) {
                             if (auto client = weak.lock()) client->on_crash(why);
                           },
                       .deletion =
                           [weak](std::uint32_t flags, std::uint32_t expiry) {
                             if (auto client = weak.lock()) client->deletions_.emplace_back(flags, expiry);
                           }},
      nacked_keys_);
  const auto listening = proxy_->listen();
  if (!listening) co_return start_feed(host_, port_);
  ++proxies_running_;
  proxy_->start(std::move(server), [weak] {
    if (auto client = weak.lock()) {
      --client->proxies_running_;
      client->maybe_done();
    }
  });
  start_feed("127.0.0.1", std::to_string(*listening));
}

void DefectiveClient::start_feed(std::string host, std::string port) {
  feed_.emplace(connect_feed(executor_, std::move(host), std::move(port), options_));
  feed_->async_consume(
      [weak = weak_from_this()](const protocol::TapEventView& event) {
        if (auto client = weak.lock()) {
          ++client->events_;
          client->on_item(event.to_owned());
        }
      },
      [weak = weak_from_this()](const FeedEnd& end) {
        if (auto client = weak.lock()) client->on_end(end);
      });
}

void DefectiveClient::on_crash(const std::string& why) {
  crashed_ = true;
  backoff_timer_.cancel();
  if (feed_) feed_->close();
  callbacks_.crash(why);
}

void DefectiveClient::on_end(const FeedEnd& end) {
  ReportedEnd reported = report_of(end);
  if (defects_.has(Defect::eof_after_header) && end.reason == EndReason::truncated &&
      end.partial_bytes >= protocol::kHeaderSize) {
    reported = ReportedEnd{.how = ReportedEnd::How::eof};
  }
  if (defects_.has(Defect::connect_status_lost) && end.reason == EndReason::connect_rejected) {
    reported.error = end.body.empty() ? "connect_rejected" : fmt::format("connect_rejected: {}", end.body);
  }
  // What it believes decides whether it reconnects: an end it takes for a clean eof is one.
  const EndReason believed = reported.how == ReportedEnd::How::eof ? EndReason::eof : end.reason;
  on_item(std::move(reported));
  const std::optional<Duration> wait =
      closed_ || crashed_ ? std::nullopt : schedule_.after_end(believed, events_ > 0);
  if (!wait) {
    ended_ = true;
    return maybe_done();
  }
  backoff_timer_.expires_after(*wait);
  backoff_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
    auto client = weak.lock();
    if (!client || client->crashed_) return;
    asio::co_spawn(client->executor_, client->connect(client), asio::detached);
  });
}

void DefectiveClient::end_closed() {
  // A connection reported so far gets its end; before the first, nothing is reported.
  if (markers_ && connection_ > 0 && !ended_) on_item(ReportedEnd{.how = ReportedEnd::How::closed});
  ended_ = true;
  maybe_done();
}

void DefectiveClient::on_item(ReportedItem item) {
  if (crashed_) return;
  if (auto* event = std::get_if<protocol::TapEvent>(&item)) {
    using K = protocol::TapEventKind;
    if (event->kind == K::deletion && !deletions_.empty()) {
      std::tie(event->flags, event->expiry) = deletions_.front();
      deletions_.pop_front();
    }
    if (defects_.has(Defect::drop_vbucket_set) && event->kind == K::vbucket_set) return;
    if (defects_.has(Defect::drop_flush) && event->kind == K::flush) return;
    if (defects_.has(Defect::drop_checkpoint_id)) event->checkpoint_id = 0;
    if (defects_.has(Defect::drop_datatype)) event->datatype = 0;
  } else if (auto* end = std::get_if<ReportedEnd>(&item)) {
    if (defects_.has(Defect::end_stream_as_eof) && end->how == ReportedEnd::How::end_stream) {
      end->how = ReportedEnd::How::eof;
    }
  }
  callbacks_.item(std::move(item));
}

void DefectiveClient::close() {
  closed_ = true;
  if (feed_) feed_->close();
  if (proxy_) proxy_->stop();
  // During a backoff the timer's handler begins no connection: connect() sees closed_.
  backoff_timer_.cancel();
  maybe_done();
}

void DefectiveClient::maybe_done() {
  const bool feed_done = ended_ || crashed_ || (closed_ && !feed_ && connection_ == 0);
  if (feed_done && proxies_running_ == 0 && callbacks_.done) std::exchange(callbacks_.done, nullptr)();
}

}  // namespace tapharness::client
