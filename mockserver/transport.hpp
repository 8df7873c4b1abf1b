// The three ways the mock server ends a connection, for any stream the engine runs on.
// TCP sockets get the real thing; other streams (the in-memory one in tests) provide
// shutdown_send(), reset() and close() members with the same meaning.
#pragma once

#include "third_party/asio.hpp"

namespace tapharness::mockserver::transport {

// FIN, keep reading.
template <class Stream>
void half_close(Stream& s) {
  s.shutdown_send();
}
inline void half_close(asio::ip::tcp::socket& s) {
  boost::system::error_code ignored;
  s.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

// RST: SO_LINGER with a zero timeout, then close.
template <class Stream>
void reset(Stream& s) {
  s.reset();
}
inline void reset(asio::ip::tcp::socket& s) {
  boost::system::error_code ignored;
  s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

// FIN and stop reading.
template <class Stream>
void close(Stream& s) {
  boost::system::error_code ignored;
  s.close(ignored);
}

}  // namespace tapharness::mockserver::transport
