// An external client program run through /bin/sh, with its stdout and stderr on pipes the
// runner reads asynchronously (posix_spawn; Asio reads the pipes).
//
//   auto child = ChildProcess::spawn(io, "tap_tail --addr 127.0.0.1:4000");
//   read lines from child->out(); child->terminate(); child->wait();
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

#include "protocol/result.hpp"
#include "third_party/asio.hpp"

namespace tapharness::runner {

class ChildProcess {
 public:
  // Starts `command` with `/bin/sh -c` in its own process group; a failure names the call.
  static Result<std::unique_ptr<ChildProcess>, InputError> spawn(asio::io_context& io, const std::string& command);
  ~ChildProcess();

  asio::posix::stream_descriptor& out() { return out_; }
  asio::posix::stream_descriptor& err() { return err_; }

  pid_t pid() const { return pid_; }

  // SIGKILL to the whole process group (the shell and what it started).
  void terminate();
  // Reaps the child; its exit status, or -signal when a signal ended it. Waits.
  int wait();

  ChildProcess(asio::io_context& io, pid_t pid, int out_fd, int err_fd);

 private:
  pid_t pid_;
  asio::posix::stream_descriptor out_;
  asio::posix::stream_descriptor err_;
  std::optional<int> status_;
};

}  // namespace tapharness::runner
