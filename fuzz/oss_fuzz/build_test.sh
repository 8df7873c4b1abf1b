#!/usr/bin/env bash
# fuzz/oss_fuzz/build.sh under the OSS-Fuzz contract, as ClusterFuzz would call it, with
# clang-14 and libFuzzer: one target built from its sources, then run over its corpus.
set -euo pipefail
src=$(pwd)  # the runfiles tree holds the sources the script needs
export CC=clang-14 CXX=clang++-14 OUT="$TEST_TMPDIR/out" SRC="$src"
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,fuzzer-no-link"
export CXXFLAGS="$CFLAGS" LIB_FUZZING_ENGINE="-fsanitize=fuzzer,address"
bash fuzz/oss_fuzz/build.sh frame_decoder
[ -x "$OUT/frame_decoder_fuzzer" ] || { echo "no fuzzer in \$OUT"; exit 1; }
"$OUT/frame_decoder_fuzzer" -runs=500 fuzz/corpus/frame_decoder 2>&1 | tail -3
echo "the OSS-Fuzz build works"
