#!/usr/bin/env bash
# Writes scenario_library.cc (fuzz/scenario_library.hpp) with every scenario file given as a
# string literal, in file name order: the //fuzz:scenario_library_cc genrule and the
# OSS-Fuzz build (fuzz/oss_fuzz/build.sh) both make it this way.
#
#   embed_scenarios.sh OUT FILE...
set -euo pipefail
out=$1
shift
{
  echo '// Generated from scenarios/*.scenario by fuzz/embed_scenarios.sh; do not edit.'
  echo '#include "fuzz/scenario_library.hpp"'
  echo 'namespace tapharness::fuzz {'
  echo 'namespace {'
  echo 'constexpr LibraryScenario kLibrary[] = {'
  for f in $(printf '%s\n' "$@" | sort); do
    if grep -q ')tapscenario"' "$f"; then echo "$f contains the literal's delimiter" >&2; exit 1; fi
    printf '    {"%s", R"tapscenario(' "$(basename "$f" .scenario)"
    cat "$f"
    printf ')tapscenario"},\n'
  done
  echo '};'
  echo '}  // namespace'
  echo 'std::span<const LibraryScenario> scenario_library() { return kLibrary; }'
  echo '}  // namespace tapharness::fuzz'
} > "$out"
