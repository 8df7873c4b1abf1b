// Running the project's tools from a benchmark: wall time, exit status and the child's own
// peak resident memory (wait4's rusage), with standard output to /dev/null or to a pipe.
//
//   const Ran ran = run({tap_scenario, "stream.scenario"});   // ran.seconds, ran.peak_mib
//   Child server = spawn_piped({tap_mockserver, "--scenario", file});
//   std::fgets(line, sizeof line, server.out);                   // "listening 127.0.0.1:PORT"
//   const Ran served = server.wait();
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace tapharness::bench {

struct Ran {
  double seconds = -1;  // from the spawn to the exit
  double peak_mib = 0;  // the child's own peak resident set
  double cpu_seconds = 0;  // the child's CPU time, user and system, all its threads
  int status = -1;      // exit status, 128 + signal when killed
};

// A child whose standard output is a pipe the caller reads (and must read to its end, or
// the child may block on a full pipe).
struct Child {
  pid_t pid = -1;
  std::FILE* out = nullptr;
  std::chrono::steady_clock::time_point started;
  Ran wait();  // closes `out`
};

// Runs `argv` (argv[0] a path) with standard output to /dev/null, to its end.
Ran run(const std::vector<std::string>& argv);
Child spawn_piped(const std::vector<std::string>& argv);

}  // namespace tapharness::bench
