#!/usr/bin/env bash
# Writes scenario_library.cc (fuzz/scenario_library.hpp) with every scenario file given as a
# string literal, in file name order: the //fuzz:scenario_library_cc genrule and the
# OSS-Fuzz build (fuzz/oss_fuzz/build.sh) both make it this way. Files that are not
# *.scenario (the pieces they include) are skipped; `include "PATH"` lines are replaced by
# the piece, so the binary needs no file system.
#
#   embed_scenarios.sh OUT FILE...
set -euo pipefail
out=$1
shift

# Prints FILE with its includes in place (relative to FILE's directory), DEPTH levels deep.
inline() {
  local file=$1 depth=$2 line path
  if (( depth > 16 )); then echo "$file: includes nest more than 16 deep" >&2; exit 1; fi
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^[[:space:]]*include[[:space:]]+\"([^\"]+)\"[[:space:]]*(#.*)?$ ]]; then
      path="$(dirname "$file")/${BASH_REMATCH[1]}"
      inline "$path" $((depth + 1))
    else
      printf '%s\n' "$line"
    fi
  done < "$file"
}

{
  echo '// Generated from scenarios/*.scenario by fuzz/embed_scenarios.sh; do not edit.'
  echo '#include "fuzz/scenario_library.hpp"'
  echo 'namespace tapharness::fuzz {'
  echo 'namespace {'
  echo 'constexpr LibraryScenario kLibrary[] = {'
  for f in $(printf '%s\n' "$@" | grep '\.scenario$' | sort); do
    if grep -q ')tapscenario"' "$f"; then echo "$f contains the literal's delimiter" >&2; exit 1; fi
    printf '    {"%s", R"tapscenario(' "$(basename "$f" .scenario)"
    inline "$f" 0
    printf ')tapscenario"},\n'
  done
  echo '};'
  echo '}  // namespace'
  echo 'std::span<const LibraryScenario> scenario_library() { return kLibrary; }'
  echo '}  // namespace tapharness::fuzz'
} > "$out"
