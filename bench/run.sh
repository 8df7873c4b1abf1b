#!/usr/bin/env bash
# Runs every benchmark with an optimised build and prints their tables; each figure is also
# appended as one JSON line to bench/results.jsonl (or $1), so runs can be compared.
#
#   bash bench/run.sh [RESULTS.jsonl] [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results.jsonl}
events=1000000
checked=10000000
if [ "${2:-}" = "--quick" ]; then
  events=200000
  checked=1000000
fi

bazel build -c opt //bench:all //mockserver:tap_mockserver //client:tap_tail //runner:tap_scenario
bin=$(bazel info -c opt bazel-bin 2>/dev/null)

"$bin/bench/feed_throughput" --events "$events" --json "$results"
"$bin/bench/tail_throughput" --events "$events" --json "$results" --tail "$bin/client/tap_tail" \
  --scenario-runner "$bin/runner/tap_scenario" --scenarios scenarios
"$bin/bench/codec_throughput" --json "$results"
"$bin/bench/checked_events" --events "$checked" --json "$results" --scenario-runner "$bin/runner/tap_scenario" \
  --mockserver "$bin/mockserver/tap_mockserver" --tail "$bin/client/tap_tail" --scenarios scenarios
"$bin/bench/mockserver_rate" --events "$events" --json "$results"
"$bin/bench/scale" --server "$bin/mockserver/tap_mockserver" --json "$results"
"$bin/bench/suite_time" --json "$results" scenarios
echo
echo "results appended to $results"
