// Ctrl-C for the runner: a signal handler that only records the request, and runs that look
// at it between their steps, so an interrupted tap_scenario stops its client, reports what it
// has (summary, JUnit with the interrupted case) and exits 130.
#pragma once

namespace tapharness::runner {

// SIGINT and SIGTERM set the request (async-signal-safe) instead of ending the process.
void install_interrupt_handler();
bool interrupt_requested();

}  // namespace tapharness::runner
