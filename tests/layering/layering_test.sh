#!/usr/bin/env bash
# The layering of the real tree holds, and the checker catches every kind of violation in a
# tree made to break each rule once (tests/layering/bad).
set -u
here=$(dirname "$0")
checker="$here/check_layering.sh"
workspace="${TEST_SRCDIR:?}/${TEST_WORKSPACE:?}"
fail=0

if ! out=$("$checker" "$workspace"); then
  echo "the tree breaks its layering:"
  echo "$out"
  fail=1
fi

expected="protocol/frame.hpp:5: protocol/ may include the standard library, fmt and protocol/ only, not \"third_party/asio.hpp\"
protocol/frame.hpp:6: protocol/ may include the standard library, fmt and protocol/ only, not <boost/asio.hpp>
capture/reader.hpp:2: capture/ does no I/O; it must not include <fstream>
capture/reader.hpp:3: capture/ may include the standard library, fmt, protocol/ and capture/ only, not \"mockserver/trace.hpp\"
client/feed.hpp:2: client/ must not include \"mockserver/engine.hpp\"
mockserver/engine.hpp:2: mockserver/ must not include \"client/tap_feed.hpp\"
scenario/parser.cc:2: scenario/ does no I/O; it must not include \"third_party/asio.hpp\"
runner/update.hpp:2: runner/ must not include \"record/recorder.hpp\" (record/ is on top of it)
scenario/BUILD:3: only //:BUILD's aliases (and //testing) are public; use visibility.bzl"
# The broken tree, with its BUILD file under its real name (a file named BUILD here would be a
# package of its own).
bad=$(mktemp -d "${TEST_TMPDIR:-/tmp}/layering.XXXXXX")
cp -R "$here/bad/." "$bad/"
mv "$bad/scenario/BUILD.in" "$bad/scenario/BUILD"
if out=$("$checker" "$bad"); then
  echo "the checker passed a tree that breaks every rule"
  fail=1
elif [ "$out" != "$expected" ]; then
  echo "the checker's report differs; expected:"
  echo "$expected"
  echo "got:"
  echo "$out"
  fail=1
fi
exit $fail
