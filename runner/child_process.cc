#include "runner/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

extern char** environ;

namespace tapharness::runner {

Result<std::unique_ptr<ChildProcess>, InputError> ChildProcess::spawn(asio::io_context& io,
                                                                     const std::string& command) {
  int out[2], err[2];
  if (pipe(out) != 0) return InputError{"pipe", std::strerror(errno)};
  if (pipe(err) != 0) {
    const int error = errno;
    close(out[0]);
    close(out[1]);
    return InputError{"pipe", std::strerror(error)};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  for (int fd : {out[0], out[1], err[0], err[1]}) posix_spawn_file_actions_addclose(&actions, fd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);

  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return InputError{"/bin/sh", fmt::format("cannot run it: {}", std::strerror(rc))};
  }
  return std::make_unique<ChildProcess>(io, pid, out[0], err[0]);
}

ChildProcess::ChildProcess(asio::io_context& io, pid_t pid, int out_fd, int err_fd)
    : pid_(pid), out_(io, out_fd), err_(io, err_fd) {}

ChildProcess::~ChildProcess() {
  if (!status_) {
    terminate();
    wait();
  }
}

void ChildProcess::terminate() {
  if (!status_) ::kill(-pid_, SIGKILL);
}

int ChildProcess::wait() {
  if (status_) return *status_;
  int raw = 0;
  while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
  status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : -WTERMSIG(raw);
  return *status_;
}

}  // namespace tapharness::runner
