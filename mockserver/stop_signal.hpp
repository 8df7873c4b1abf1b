// Cutting runs short from outside: Ctrl-C in tap_mockserver, a test fixture going away. Each
// session listens; stop() ends every run at once, failing it at the line it was on with
// the reason, so its report says what was seen so far. Use it on the io_context's thread.
//
//   auto stop = std::make_shared<StopSignal>();
//   options.stop = stop;          // EngineOptions, for every session
//   stop->stop("Ctrl-C");
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tapharness::mockserver {

class StopSignal {
 public:
  using Listener = std::function<void(const std::string& why)>;

  // `listener` runs once, when stop() is called (at once if it was already).
  void listen(Listener listener) {
    if (why_) return listener(*why_);
    listeners_.push_back(std::move(listener));
  }

  void stop(std::string why) {
    if (why_) return;
    why_ = std::move(why);
    for (auto& listener : std::exchange(listeners_, {})) listener(*why_);
  }

  bool stopped() const { return why_.has_value(); }

 private:
  std::optional<std::string> why_;
  std::vector<Listener> listeners_;
};

}  // namespace tapharness::mockserver
