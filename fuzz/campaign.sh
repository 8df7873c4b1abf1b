#!/usr/bin/env bash
# Runs a libFuzzer campaign over the fuzz targets and prints, per target, the executions,
# the corpus size and the crashes (fuzz/README.md).
#
#   fuzz/campaign.sh SECONDS [--merge] [TARGET...]
#
# Builds every fuzzer with --config=fuzz (clang-14, libFuzzer, ASan, UBSan), then runs each
# target for SECONDS on a scratch copy of fuzz/corpus/TARGET with its dictionary. Crashes
# (crash-*, leak-*, timeout-*, oom-*) are saved to fuzz/crashers/TARGET/, where the replay
# tests pick them up; libFuzzer stops a target at its first crash. With --merge, the inputs
# that add coverage are merged back into fuzz/corpus/TARGET/ (libFuzzer -merge=1, named by
# their SHA-1). Logs stay in the scratch directory printed at the end. Exits 1 if anything
# crashed.
set -uo pipefail
cd "$(dirname "$0")/.."

# Each target and its dictionaries (fuzz/dicts/NAME.dict, concatenated).
declare -A DICTS=(
  [frame_decoder]="wire"
  [capture_reader]="capture"
  [tap_connect]="tap_connect"
  [tap_feed]="wire"
  [scenario_parser]="scenario"
  [scenario_faults]="wire"
  [engine_client]="wire"
)
ORDER=(frame_decoder capture_reader tap_connect tap_feed scenario_parser scenario_faults engine_client)

usage() {
  echo "usage: fuzz/campaign.sh SECONDS [--merge] [TARGET...]; targets: ${ORDER[*]}" >&2
  exit 2
}

[ $# -ge 1 ] && [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ] || usage
seconds=$1
shift
merge=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --merge) merge=1 ;;
    *) [ -n "${DICTS[$arg]:-}" ] || usage; targets+=("$arg") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ORDER[@]}")

labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:${t}_fuzzer"); done
echo "building ${targets[*]} with --config=fuzz" >&2
bazel build --config=fuzz "${labels[@]}" >&2 || exit 1
bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz

scratch=$(mktemp -d /tmp/tapharness-fuzz.XXXXXX)
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

crashed=0
rows=()
for t in "${targets[@]}"; do
  fuzzer=$bin/${t}_fuzzer
  # A fuzzer without libFuzzer linked is the replay main: it would "pass" without fuzzing.
  help=$("$fuzzer" -help=1 2>&1)
  if ! grep -q "^ max_total_time" <<<"$help"; then
    echo "$fuzzer is not a libFuzzer binary" >&2
    exit 1
  fi
  corpus=$scratch/$t/corpus
  mkdir -p "$corpus" "fuzz/crashers/$t"
  cp fuzz/corpus/"$t"/* "$corpus"/
  dict=$scratch/$t/dict
  for d in ${DICTS[$t]}; do cat "fuzz/dicts/$d.dict"; done > "$dict"
  before=$(ls "$corpus" | wc -l)
  crashes_before=$(ls fuzz/crashers/"$t" | wc -l)
  log=$scratch/$t/fuzz.log
  echo "fuzzing $t for ${seconds}s (log: $log)" >&2
  "$fuzzer" "$corpus" -dict="$dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="fuzz/crashers/$t/" >"$log" 2>&1
  status=$?

  # The final stats, or (after a crash cut the run short) the last status line.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  after=$(ls "$corpus" | wc -l)
  crashes=$(( $(ls fuzz/crashers/"$t" | wc -l) - crashes_before ))
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # died without an artifact
  [ "$crashes" -gt 0 ] && crashed=1

  if [ "$merge" -eq 1 ]; then
    "$fuzzer" -merge=1 fuzz/corpus/"$t" "$corpus" >"$scratch/$t/merge.log" 2>&1 ||
      echo "merging $t failed: $scratch/$t/merge.log" >&2
  fi
  rows+=("$(printf '%-16s %12s %8s %9s %9s %6s %8s' "$t" "${execs:-?}" "${rate:-?}" "$before" "$after" "${cov:-?}" "$crashes")")
done

printf '\n%-16s %12s %8s %9s %9s %6s %8s\n' target executions exec/s corpus-in corpus-out cov crashes
for row in "${rows[@]}"; do echo "$row"; done
echo "logs: $scratch"
[ "$merge" -eq 1 ] && echo "merged new coverage into fuzz/corpus/"
if [ "$crashed" -ne 0 ]; then
  echo "crashes saved under fuzz/crashers/: fix each, then rename it crash-<what-it-was> into fuzz/corpus/<target>/"
  exit 1
fi
exit 0
