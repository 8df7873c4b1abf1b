#!/usr/bin/env bash
# Checks the layering the README's Layout section states, on the sources under ROOT:
# - protocol/ includes only the standard library, fmt and protocol/; cli/ nothing of the
#   layers above it;
# - capture/ does no I/O either: the standard library, fmt, protocol/ and capture/ only;
# - client/ and mockserver/ never include each other (nor runner/);
# - scenario/ does no I/O: no Asio, and nothing from client/, mockserver/ or runner/;
# - only the top-level BUILD (and testing/, the fixture users link) makes anything public.
# Prints one line per violation, "file:line: what", and exits 1 when there is any.
#
#   check_layering.sh ROOT
set -u
root=${1:?usage: check_layering.sh ROOT}
cd "$root" || exit 2
status=0
violation() { echo "$1: $2"; status=1; }

# Every #include of the files under DIR, as "file:line:target".
includes() {
  local dir=$1
  [ -d "$dir" ] || return 0
  grep -RnE '^[[:space:]]*#[[:space:]]*include' --include='*.hpp' --include='*.cc' "$dir" |
    sed -E 's/^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*(.*)$/\1:\2:\3/'
}

while IFS=: read -r file line target; do
  case $target in
    \"protocol/*) ;;
    \<fmt/*) ;;
    \<*/*\>) violation "$file:$line" "protocol/ may include the standard library, fmt and protocol/ only, not $target" ;;
    \<*\>) ;;  # a standard header: no directory
    *) violation "$file:$line" "protocol/ may include the standard library, fmt and protocol/ only, not $target" ;;
  esac
done < <(includes protocol)

while IFS=: read -r file line target; do
  case $target in
    \"protocol/*|\"capture/*) ;;
    \<fmt/*) ;;
    \<fstream\>|\<iostream\>|\<cstdio\>|\<thread\>|\<chrono\>) violation "$file:$line" "capture/ does no I/O; it must not include $target" ;;
    \<*/*\>) violation "$file:$line" "capture/ may include the standard library, fmt, protocol/ and capture/ only, not $target" ;;
    \<*\>) ;;
    *) violation "$file:$line" "capture/ may include the standard library, fmt, protocol/ and capture/ only, not $target" ;;
  esac
done < <(includes capture)

while IFS=: read -r file line target; do
  case $target in
    \"client/*|\"mockserver/*|\"scenario/*|\"runner/*) violation "$file:$line" "cli/ must not include $target" ;;
  esac
done < <(includes cli)

while IFS=: read -r file line target; do
  case $target in
    \"mockserver/*|\"scenario/*|\"runner/*|\"record/*) violation "$file:$line" "client/ must not include $target" ;;
  esac
done < <(includes client)

while IFS=: read -r file line target; do
  case $target in
    \"client/*|\"runner/*|\"record/*) violation "$file:$line" "mockserver/ must not include $target" ;;
  esac
done < <(includes mockserver)

while IFS=: read -r file line target; do
  case $target in
    \"third_party/asio.hpp\"|\<boost/asio*) violation "$file:$line" "scenario/ does no I/O; it must not include $target" ;;
    \"client/*|\"mockserver/*|\"runner/*|\"record/*) violation "$file:$line" "scenario/ must not include $target" ;;
  esac
done < <(includes scenario)

# record/ stands on runner/, never under it.
while IFS=: read -r file line target; do
  case $target in
    \"record/*) violation "$file:$line" "runner/ must not include $target (record/ is on top of it)" ;;
  esac
done < <(includes runner)

while IFS=: read -r file line _; do
  case $file in
    BUILD|testing/BUILD) ;;
    *) violation "$file:$line" "only //:BUILD's aliases (and //testing) are public; use visibility.bzl" ;;
  esac
done < <(find -L . \( -name BUILD -o -name BUILD.bazel \) -not -path './examples/*' -not -path './bazel-*' -not -path './third_party/remote_coverage_tools/*' \
           -exec grep -Hn '//visibility:public' {} + | sed 's|^\./||')

exit $status
