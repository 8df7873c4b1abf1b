#!/bin/sh
echo "Bazel's coverage tools are not available offline; use gcov/lcov from Debian instead." >&2
exit 1
