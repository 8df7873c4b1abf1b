#include "record/proxy.hpp"

#include <fmt/format.h>

namespace tapharness::record {

using asio::ip::tcp;
using boost::system::error_code;

class RecordingProxy::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(RecordingProxy& proxy, tcp::socket client, std::size_t number,
          std::unique_ptr<Recorder> recorder)
      : proxy_(proxy),
        client_(std::move(client)),
        upstream_(proxy.io_),
        resolver_(proxy.io_),
        timer_(proxy.io_),
        number_(number),
        recorder_(std::move(recorder)),
        began_(std::chrono::steady_clock::now()) {}

  void start() {
    const auto& o = proxy_.options_;
    target_ = fmt::format("{}:{}", o.upstream_host, o.upstream_port);
    timer_.expires_after(o.connect_timeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->connected_) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      error_code ignored;
      self->upstream_.close(ignored);
    });
    resolver_.async_resolve(
        o.upstream_host, o.upstream_port,
        [self = shared_from_this()](const error_code& ec, tcp::resolver::results_type results) {
          if (ec) return self->not_connected(ec);
          asio::async_connect(self->upstream_, results,
                              [self](const error_code& ec2, const tcp::endpoint&) {
                                if (ec2) return self->not_connected(ec2);
                                self->connected();
                              });
        });
  }

  // Ctrl-C: both sockets close; each pump ends without an ending of its side.
  void interrupt() {
    interrupted_ = true;
    timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

 private:
  struct Pump {
    tcp::socket* from;
    tcp::socket* to;
    Direction direction;
    std::array<std::uint8_t, kChunk> buffer{};
    bool done = false;
  };

  std::uint64_t now_us() const {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - began_)
                                          .count());
  }

  void not_connected(const error_code& ec) {
    timer_.cancel();
    error_code ignored;
    client_.close(ignored);
    SessionResult result{number_, std::nullopt, std::nullopt};
    if (interrupted_) {
      result.failure = fmt::format("interrupted while connecting to {}", target_);
    } else if (timed_out_) {
      result.failure = fmt::format("no connection to {} within {}ms", target_,
                                   proxy_.options_.connect_timeout.count());
    } else {
      result.failure = fmt::format("connecting to {}: {}", target_, ec.message());
    }
    proxy_.ended(this, std::move(result));
  }

  void connected() {
    connected_ = true;
    timer_.cancel();
    error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);  // forward each read as it came
    upstream_.set_option(tcp::no_delay(true), ignored);
    to_server_ = std::make_unique<Pump>(Pump{&client_, &upstream_, Direction::client_to_server});
    to_client_ = std::make_unique<Pump>(Pump{&upstream_, &client_, Direction::server_to_client});
    read(*to_server_);
    read(*to_client_);
  }

  void read(Pump& p) {
    p.from->async_read_some(asio::buffer(p.buffer),
                            [self = shared_from_this(), &p](const error_code& ec, std::size_t n) {
                              self->on_read(p, ec, n);
                            });
  }

  void on_read(Pump& p, const error_code& ec, std::size_t n) {
    if (n > 0) {
      recorder_->feed(Chunk{p.direction, now_us(), protocol::ByteView(p.buffer.data(), n)});
      // No read until these bytes are on: a slow reader slows its peer, nothing piles up.
      asio::async_write(*p.to, asio::buffer(p.buffer.data(), n),
                        [self = shared_from_this(), &p](const error_code& wec, std::size_t) {
                          if (wec)
                            return self->finish_pump(p);  // the other side went; its read says how
                          self->read(p);
                        });
      return;
    }
    if (ec == asio::error::operation_aborted || interrupted_) return finish_pump(p);
    if (ec == asio::error::eof) {
      recorder_->feed(Chunk{p.direction, now_us(), {}, Ending::fin});
      error_code ignored;
      p.to->shutdown(tcp::socket::shutdown_send, ignored);  // the FIN goes on, half-closing
    } else {
      // A reset (or any failure) goes on as a reset: no linger, so close sends RST.
      recorder_->feed(Chunk{p.direction, now_us(), {}, Ending::rst});
      error_code ignored;
      p.to->set_option(asio::socket_base::linger(true, 0), ignored);
      p.to->close(ignored);
      p.from->close(ignored);
    }
    finish_pump(p);
  }

  void finish_pump(Pump& p) {
    if (p.done) return;
    p.done = true;
    if (!to_server_->done || !to_client_->done) return;
    error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
    proxy_.ended(this, SessionResult{number_, recorder_->finish(), std::nullopt});
  }

  RecordingProxy& proxy_;
  tcp::socket client_, upstream_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::size_t number_;
  std::unique_ptr<Recorder> recorder_;
  std::chrono::steady_clock::time_point began_;
  std::string target_;
  std::unique_ptr<Pump> to_server_, to_client_;
  bool connected_ = false, timed_out_ = false, interrupted_ = false;
};

RecordingProxy::RecordingProxy(asio::io_context& io, ProxyOptions options, MakeRecorder make)
    : io_(io), options_(std::move(options)), make_(std::move(make)), acceptor_(io) {}

Result<std::unique_ptr<RecordingProxy>, InputError> RecordingProxy::listen(asio::io_context& io,
                                                                           ProxyOptions options,
                                                                           MakeRecorder make) {
  const std::string where = fmt::format("--listen {}:{}", options.listen_host, options.listen_port);
  std::unique_ptr<RecordingProxy> proxy(
      new RecordingProxy(io, std::move(options), std::move(make)));
  error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(proxy->options_.listen_host, proxy->options_.listen_port, ec);
  if (ec || results.empty()) return InputError{where, ec ? ec.message() : "no such address"};
  const tcp::endpoint endpoint = *results.begin();
  proxy->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) proxy->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) proxy->acceptor_.bind(endpoint, ec);
  if (!ec) proxy->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return InputError{where, ec.message()};
  return proxy;
}

std::string RecordingProxy::address() const {
  error_code ec;
  const auto endpoint = acceptor_.local_endpoint(ec);
  if (endpoint.address().is_v6())
    return fmt::format("[{}]:{}", endpoint.address().to_string(), endpoint.port());
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

void RecordingProxy::start(std::function<void(SessionResult)> on_session,
                           std::function<void()> on_done) {
  on_session_ = std::move(on_session);
  on_done_ = std::move(on_done);
  accept();
}

void RecordingProxy::accept() {
  if (stopped_ || accepted_ >= options_.connections) return;
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (ec) {
      if (!stopped_) {
        // A failed accept (descriptors ran out) is no session; try again.
        accept();
      }
      return;
    }
    ++accepted_;
    auto session = std::make_shared<Session>(*this, std::move(socket), accepted_, make_(accepted_));
    running_.insert(session);
    session->start();
    if (accepted_ >= options_.connections) {
      error_code ignored;
      acceptor_.close(ignored);
    }
    accept();
  });
}

void RecordingProxy::ended(Session* session, SessionResult result) {
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->get() == session) {
      // Kept alive until this handler returns: the session is still on the stack.
      asio::post(io_, [keep = *it] {});
      running_.erase(it);
      break;
    }
  }
  if (on_session_) on_session_(std::move(result));
  if (!done_ && running_.empty() && (stopped_ || accepted_ >= options_.connections)) {
    done_ = true;
    if (on_done_) on_done_();
  }
}

void RecordingProxy::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (const auto& session : std::set<std::shared_ptr<Session>>(running_)) session->interrupt();
  if (running_.empty() && !done_) {
    done_ = true;
    if (on_done_) on_done_();
  }
}

}  // namespace tapharness::record
