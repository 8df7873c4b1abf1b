// Runs one scenario end to end: an in-process mock server on an ephemeral port, and a
// client (the built-in feed from client/, or an external program that prints tap_tail's
// JSON lines); both sides' expectations are checked.
//
//   RunOptions options;
//   options.client_command = "tap_tail --addr {addr} --ack";   // or unset: built-in
//   ScenarioResult result = run_scenario_file("scenarios/backfill.scenario", options);
//   result.verdict == Verdict::passed;
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/json_lines.hpp"
#include "mockserver/report.hpp"
#include "mockserver/server.hpp"
#include "scenario/scenario.hpp"
#include "client/defects/defect.hpp"
#include "scenario/parser.hpp"
#include "runner/client_check.hpp"

namespace tapharness::runner {

struct RunOptions {
  std::optional<std::uint64_t> seed;           // overrides every scenario's seed
  // An external client instead of the built-in one: `{addr}` becomes HOST:PORT and `{args}`
  // the scenario's `client args` as tap_tail flags.
  std::optional<std::string> client_command;
  std::optional<std::string> trace_dir;        // server transcripts
  // Each server connection's records also go here (--pcap: mockserver/pcap_capture.hpp).
  std::function<mockserver::TraceSink(const mockserver::ObservedConnection&)> observe;
  // How long a run may take, over every scenario's `limit` (the default: scenario::kDefaultLimit).
  std::optional<std::chrono::milliseconds> limit;
  bool keep_observed = false;                  // keep every reported item (for --update)
  // Mutation mode: run the scenario mutated with this seed (mockserver/mutation.hpp) and
  // check only the client's invariant.
  std::optional<std::uint64_t> mutation_seed;
  // The built-in client with these defects (client/defects/defect.hpp), for --defect(s).
  std::optional<client::DefectSet> defects;
};

enum class Verdict { passed, failed, invalid, interrupted };

struct ScenarioResult {
  std::string name;
  std::string path;
  Verdict verdict = Verdict::invalid;
  std::optional<scenario::Diagnostic> parse_error;  // invalid
  std::vector<scenario::Diagnostic> diagnostics;    // --check: the further errors, and warnings
  std::size_t more_errors = 0;                      // --check: errors beyond those
  std::optional<mockserver::Report> server;           // the server's side
  std::vector<ClientFailure> client_failures;         // the client's side
  std::size_t client_failures_dropped = 0;
  std::uint64_t events = 0;                           // events the client reported
  std::vector<client::ReportedItem> observed;         // with keep_observed
  std::string problem;                                // the run itself went wrong (timeout, spawn)
  std::string trace_note;                             // where a failure's transcript was kept
  bool interrupted = false;                           // Ctrl-C came before it ended
  std::string client_stderr;                          // external client, when it failed
  std::chrono::duration<double> elapsed{0};
  std::chrono::duration<double> deliberate_delay{0};  // time the scenario spends waiting on purpose
};

ScenarioResult run_scenario_file(const std::string& path, const RunOptions& options);

// Every case of a file that `wanted` picks by name ("file", or "file/row" for each row of a
// table), each run; an invalid file is one invalid result.
std::vector<ScenarioResult> run_scenario_cases(const std::string& path, const RunOptions& options,
                                               const std::function<bool(const std::string&)>& wanted);
ScenarioResult run_scenario(std::shared_ptr<const scenario::Scenario> scenario, const RunOptions& options);

// The client a scenario's `client args` describe.
client::FeedOptions feed_options(const scenario::Scenario& scenario);

// The scenario's `client args` as tap_tail flags: "--name r1 --backfill 0 --ack ...".
std::string tail_flags(const scenario::Scenario& scenario);

// How long a scenario waits on purpose: its delays and bytewise gaps, repeats included.
std::chrono::duration<double> deliberate_delay(const scenario::Scenario& scenario);

// "PASS name (0.12s)" or "FAIL name (0.12s)" with every failure, or "INVALID ..." with the
// parse error, or "INTERRUPTED name".
std::string format_result(const ScenarioResult& result);

// The first thing that went wrong, in one line, for a JUnit message or a matrix:
// "scenarios/x.scenario:7: expect ack: expected ACK ...; observed nothing within 5000ms".
std::string first_failure_line(const ScenarioResult& result);

}  // namespace tapharness::runner
