// The live recorder: a TCP proxy between TAP clients and a real TAP server that relays
// every byte unchanged, each read forwarded as it comes (so boundaries and timing stay close
// to the original), and feeds both directions to a Recorder per session.
//
//   asio::io_context io;
//   auto proxy = RecordingProxy::listen(io, options, [](std::size_t k) { return make_recorder(k);
//   }); fmt::print("listening {}\n", (*proxy)->address());
//   (*proxy)->start([](SessionResult r) { write(r); }, [] { /* all sessions ended */ });
//   io.run();
//
// Bounds: one read buffer per direction (kChunk), and no read while its bytes are being
// written on, so a side that reads slowly slows the other (TCP backpressure) and the proxy
// never holds more. The upstream connect is bounded by its timeout; after that the proxy
// waits as long as both sides keep the connection (the session's own timeouts are theirs),
// and stop() (Ctrl-C) ends every session with what it has.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "protocol/result.hpp"
#include "record/recorder.hpp"
#include "third_party/asio.hpp"

namespace tapharness::record {

struct ProxyOptions {
  std::string listen_host = "127.0.0.1", listen_port = "0";
  std::string upstream_host, upstream_port;
  std::chrono::milliseconds connect_timeout{5000};
  std::size_t connections = 1;  // sessions to take, then stop listening
};

// How one session went: its recording, or why it never reached the server.
struct SessionResult {
  std::size_t session = 0;  // from 1, in the order clients came
  std::optional<Recording> recording;
  std::optional<std::string> failure;  // "no connection to 127.0.0.1:11210 within 5000ms"
};

class RecordingProxy {
 public:
  // The read size of each direction.
  static constexpr std::size_t kChunk = 64 * 1024;

  using MakeRecorder = std::function<std::unique_ptr<Recorder>(std::size_t session)>;

  static Result<std::unique_ptr<RecordingProxy>, InputError> listen(asio::io_context& io,
                                                                    ProxyOptions options,
                                                                    MakeRecorder make);

  // "127.0.0.1:40151": where clients connect.
  std::string address() const;

  // Takes options.connections sessions; `on_session` runs as each ends, `on_done` once all
  // have (or after stop()).
  void start(std::function<void(SessionResult)> on_session, std::function<void()> on_done);

  // No more clients; every running session ends now and reports what it recorded.
  void stop();

  class Session;

 private:
  RecordingProxy(asio::io_context& io, ProxyOptions options, MakeRecorder make);
  void accept();
  void ended(Session* session, SessionResult result);

  asio::io_context& io_;
  ProxyOptions options_;
  MakeRecorder make_;
  asio::ip::tcp::acceptor acceptor_;
  std::function<void(SessionResult)> on_session_;
  std::function<void()> on_done_;
  std::set<std::shared_ptr<Session>> running_;
  std::size_t accepted_ = 0;
  bool stopped_ = false;
  bool done_ = false;
};

}  // namespace tapharness::record
