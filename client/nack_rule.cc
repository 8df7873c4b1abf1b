#include "client/nack_rule.hpp"

#include <charconv>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

namespace tapharness::client {

Result<std::pair<std::string, std::uint32_t>, InputError> parse_nack_word(std::string_view word) {
  const std::string where = fmt::format("'{}'", word);
  const auto colon = word.rfind(':');
  const std::string_view key = word.substr(0, colon);
  if (key.empty()) return InputError{where, "has no key (KEY[:N])"};
  if (colon == std::string_view::npos) return std::pair{std::string(key), std::uint32_t{1}};
  const std::string_view count = word.substr(colon + 1);
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size() || n == 0) {
    return InputError{where, fmt::format("N '{}' is not a whole number from 1 to 4294967295 (KEY[:N])", count)};
  }
  return std::pair{std::string(key), n};
}

namespace {

// What is left to refuse per key, shared by the copies of one ack_status.
struct NackCounters {
  std::mutex mutex;
  std::map<std::string, std::uint64_t, std::less<>> left;
};

}  // namespace

std::function<protocol::Status(const protocol::TapEventView&)> make_ack_status(NackRule rule) {
  auto counters = std::make_shared<NackCounters>();
  for (const auto& [key, n] : rule.keys) counters->left[key] += n;
  return [counters, status = rule.status](const protocol::TapEventView& event) {
    std::lock_guard lock(counters->mutex);
    auto it = counters->left.find(event.key);
    if (it == counters->left.end() || it->second == 0) return protocol::Status::success;
    --it->second;
    return status;
  };
}

}  // namespace tapharness::client
