#include "bench/child_process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tapharness::bench {
namespace {

using Clock = std::chrono::steady_clock;

pid_t spawn(const std::vector<std::string>& argv, posix_spawn_file_actions_t& actions) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

Ran wait_for(pid_t pid, Clock::time_point started) {
  Ran ran;
  if (pid < 0) return ran;
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  ran.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ran.peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  ran.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return ran;
}

}  // namespace

Ran run(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  const auto started = Clock::now();
  return wait_for(spawn(argv, actions), started);
}

Child spawn_piped(const std::vector<std::string>& argv) {
  Child child;
  int out[2];
  if (pipe(out) != 0) return child;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  child.started = Clock::now();
  child.pid = spawn(argv, actions);
  close(out[1]);
  child.out = fdopen(out[0], "r");
  return child;
}

Ran Child::wait() {
  if (out != nullptr) std::fclose(out);
  out = nullptr;
  return wait_for(pid, started);
}

}  // namespace tapharness::bench
