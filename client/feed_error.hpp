// A feed's end as a boost::system::error_code, for code that speaks Asio's error language
// (as Beast's http::error does): the reason in category "tapharness.feed", a protocol
// error's DecodeErrorCode in "tapharness.decode" (protocol/decode_error.hpp, carried over
// from std::error_code to Boost's), an I/O error as Asio reported it.
//
//   boost::system::error_code ec = end.error();   // {} for eof and end_stream
//   if (ec == client::EndReason::idle_timeout) reconnect();
//   if (ec.category() == client::decode_category()) log(ec.message());   // "bad_magic"
#pragma once

#include <boost/system/error_code.hpp>

#include "client/feed_end.hpp"
#include "protocol/decode_error.hpp"

namespace tapharness::client {

// "tapharness.feed": EndReason values other than the clean ones.
const boost::system::error_category& feed_category();
// "tapharness.decode": protocol::DecodeErrorCode values, with the codec's names as messages.
const boost::system::error_category& decode_category();

boost::system::error_code make_error_code(EndReason reason);
boost::system::error_code to_error_code(protocol::DecodeErrorCode code);

}  // namespace tapharness::client

template <>
struct boost::system::is_error_code_enum<tapharness::client::EndReason> : std::true_type {};
