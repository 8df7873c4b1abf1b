#include "client/feed_error.hpp"

#include <string>

namespace tapharness::client {
namespace {

class FeedCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tapharness.feed"; }
  std::string message(int value) const override {
    return std::string(name_of(static_cast<EndReason>(value)));
  }
};

// Boost's category over the codec's std::error_category, so both speak the same words.
class DecodeCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return protocol::decode_category().name(); }
  std::string message(int value) const override { return protocol::decode_category().message(value); }
};

}  // namespace

const boost::system::error_category& feed_category() {
  static const FeedCategory category;
  return category;
}

const boost::system::error_category& decode_category() {
  static const DecodeCategory category;
  return category;
}

boost::system::error_code make_error_code(EndReason reason) {
  return {static_cast<int>(reason), feed_category()};
}

boost::system::error_code to_error_code(protocol::DecodeErrorCode code) {
  return {static_cast<int>(code), decode_category()};
}

boost::system::error_code FeedEnd::error() const {
  switch (reason) {
    case EndReason::eof:
    case EndReason::end_stream: return {};
    case EndReason::io_error: return io_error;
    case EndReason::protocol_error:
      if (decode_error) return to_error_code(decode_error->code);
      break;
    default: break;
  }
  return make_error_code(reason);
}

}  // namespace tapharness::client
