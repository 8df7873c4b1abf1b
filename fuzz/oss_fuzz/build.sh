#!/usr/bin/env bash
# Builds the fuzz targets under the OSS-Fuzz contract: the compilers and flags come from
# $CC $CXX $CFLAGS $CXXFLAGS, the engine from $LIB_FUZZING_ENGINE, and each target goes to
# $OUT/<name>_fuzzer with its seed corpus ($OUT/<name>_fuzzer_seed_corpus.zip, when zip is
# there) and dictionary. No Bazel: ClusterFuzz runs this script as it is.
#
#   SRC=/src/tapharness OUT=/out CXX=clang++ CXXFLAGS=... LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#     fuzz/oss_fuzz/build.sh [TARGET...]     # default: every target
#
# fuzz/oss_fuzz/build_test.sh runs it in CI with clang-14 and libFuzzer, on one target.
set -euo pipefail
: "${CXX:?} ${OUT:?} ${LIB_FUZZING_ENGINE:?}"
src=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
cxxflags="${CXXFLAGS:-} -std=c++20 -I$src -DBOOST_ASIO_NO_DEPRECATED"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(frame_decoder capture_reader tap_connect tap_feed scenario_parser scenario_faults engine_client)

# What the targets may link: the codec (and capture/, pure on it) alone for frame_decoder, else the project's libraries
# without the command-line tools.
library_sources() {
  find "$src/protocol" "$src/capture" -name '*.cc'
  for target in "${targets[@]}"; do [ "$target" = frame_decoder ] || [ "$target" = capture_reader ] || { everything_else; return; }; done
}
everything_else() {
  find "$src/scenario" "$src/cli" -name '*.cc'
  find "$src/mockserver" -name '*.cc' ! -name 'tap_mockserver.cc' ! -name 'server_cli.cc'
  echo "$src/client/feed_end.cc" "$src/client/feed_error.cc"
  echo "$src/fuzz/feed_harness.cc" "$src/fuzz/library_runs.cc"
  "$src/fuzz/embed_scenarios.sh" "$work/scenario_library.cc" "$src"/scenarios/*.scenario
  echo "$work/scenario_library.cc"
}

# Compiled in parallel; each object named after its source.
library_sources | tr ' ' '\n' | grep . > "$work/sources"
export CXX cxxflags work
xargs -P "$(nproc)" -I{} sh -c 'exec $CXX $cxxflags -c "$1" -o "$work/$(echo "$1" | tr / _).o"' _ {} < "$work/sources"
ar rcs "$work/libtapharness.a" "$work"/*.o

for target in "${targets[@]}"; do
  $CXX $cxxflags "$src/fuzz/${target}_fuzzer.cc" "$work/libtapharness.a" $LIB_FUZZING_ENGINE -lfmt -lpthread \
    -o "$OUT/${target}_fuzzer"
  if [ -d "$src/fuzz/corpus/$target" ] && command -v zip >/dev/null; then
    (cd "$src/fuzz/corpus/$target" && zip -qr "$OUT/${target}_fuzzer_seed_corpus.zip" .)
  fi
  [ -f "$src/fuzz/dicts/$target.dict" ] && cp "$src/fuzz/dicts/$target.dict" "$OUT/${target}_fuzzer.dict"
  echo "built $OUT/${target}_fuzzer"
done
