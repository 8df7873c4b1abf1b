// A binary from the test's runfiles run as a child process, its stdout and stderr on pipes,
// and every wait bounded: a line of output, then the exit.
//
//   ChildProcess server("mockserver/tap_mockserver", {"--scenario", path});
//   std::optional<std::string> line = server.read_line();   // "listening 127.0.0.1:PORT"
//   ChildProcess::Exit exit = server.wait();                 // status, stdout, stderr
//
// A child still running when the object goes is killed (SIGKILL) and reaped.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace tapharness::testing {

// How much more memory a child built with a sanitizer holds than one without (their shadow
// memory and quarantines), for tests that bound a child's memory.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr long kSanitizerMemoryFactor = 6;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr long kSanitizerMemoryFactor = 6;
#else
inline constexpr long kSanitizerMemoryFactor = 1;
#endif
#else
inline constexpr long kSanitizerMemoryFactor = 1;
#endif

class ChildProcess {
 public:
  using Duration = std::chrono::milliseconds;

  struct Exit {
    int status = -1;  // the exit status; -1 when it did not exit in time (it was killed)
    std::string out;  // all of stdout (after what read_line() returned)
    std::string err;  // all of stderr
    long peak_resident_kib = -1;  // the most memory it held at once (ru_maxrss)
  };

  // `input` becomes the child's standard input (at most a pipe's worth, 64 KiB); without it
  // the child's is the test's.
  ChildProcess(const std::string& path, const std::vector<std::string>& args,
               std::optional<std::string> input = std::nullopt) {
    int out[2], err[2], in[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || (input && pipe2(in, O_CLOEXEC) != 0)) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      if (input) dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(path.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (input) {
      close(in[0]);
      if (write(in[1], input->data(), input->size()) != static_cast<ssize_t>(input->size())) {
        ADD_FAILURE() << "writing the child's input failed";
      }
      close(in[1]);
    }
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (pid_ < 0) ADD_FAILURE() << "fork failed";
  }

  ~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of stdout without its '\n'; std::nullopt when none came within `timeout`
  // (or stdout closed first).
  std::optional<std::string> read_line(Duration timeout = Duration(10'000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (const auto end = out_.find('\n'); end != std::string::npos) {
        std::string line = out_.substr(0, end);
        out_.erase(0, end + 1);
        return line;
      }
      if (!pump(deadline)) return std::nullopt;
    }
  }

  void send_signal(int signal) {
    if (pid_ > 0 && !reaped_) kill(pid_, signal);
  }

  pid_t pid() const { return pid_; }

  // The child's resident memory (VmRSS) in KiB, or -1 once it is gone.
  long resident_kib() const {
    FILE* status = std::fopen(("/proc/" + std::to_string(pid_) + "/status").c_str(), "r");
    if (!status) return -1;
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, status)) {
      if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    }
    std::fclose(status);
    return kib;
  }

  // Waits for the exit and all output; a child that has not exited within `timeout` is
  // killed and reported with status -1.
  Exit wait(Duration timeout = Duration(10'000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      if (!pump(deadline)) break;
    }
    Exit exit;
    while (!reaped_) {
      int status = 0;
      rusage usage{};
      if (wait4(pid_, &status, WNOHANG, &usage) == pid_) {
        reaped_ = true;
        exit.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        exit.peak_resident_kib = usage.ru_maxrss;  // Linux counts it in KiB
      } else if (std::chrono::steady_clock::now() >= deadline) {
        ADD_FAILURE() << "the child did not exit in time; killing it";
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        reaped_ = true;
      } else {
        std::this_thread::sleep_for(Duration(5));  // polling for the exit: no fd to wait on
      }
    }
    exit.out = std::move(out_);
    exit.err = std::move(err_);
    return exit;
  }

 private:
  // Reads what is available on stdout and stderr, waiting until `deadline` for something;
  // false when the deadline passed or both pipes are closed.
  bool pump(std::chrono::steady_clock::time_point deadline) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (out_fd_ < 0 && err_fd_ < 0)) return false;
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) return false;
    drain(fds[0], out_fd_, out_);
    drain(fds[1], err_fd_, err_);
    return true;
  }

  static void drain(const pollfd& p, int& fd, std::string& into) {
    if (fd < 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<std::size_t>(n));
    } else {
      close(fd);
      fd = -1;
    }
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
};

}  // namespace tapharness::testing
