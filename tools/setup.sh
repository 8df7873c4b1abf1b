#!/usr/bin/env bash
# Installs every Debian package tapharness needs to build, test, fuzz and benchmark.
# Idempotent: installs only what is missing, and says clearly what is wrong when it cannot.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-rules-cc bazel-rules-java bazel-platforms  # Bazel 4.2.3 + rules, offline
  g++ libboost-dev libboost-program-options-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev                                      # --config=fuzz (libFuzzer)
  valgrind                                                          # bench/ profiling
  tshark                                                            # captures decoded in tests (--pcap, tools/wireshark)
  chromium                                                          # the HTML report, tested in a headless browser
)

die() { echo "tools/setup.sh: $*" >&2; exit 1; }

[ -r /etc/debian_version ] || die "this is not a Debian system (expected Debian 12); install by hand: ${packages[*]}"
command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${packages[*]}"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "tools/setup.sh: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: run as root to install ${missing[*]}"
  sudo=(sudo)
fi

echo "tools/setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || die "apt-get update failed (is a Debian mirror reachable?)"
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null ||
  die "apt-get install failed for: ${missing[*]}"
echo "tools/setup.sh: done"
