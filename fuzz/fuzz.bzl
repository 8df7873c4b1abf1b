"""The fuzz_target macro: one declaration per fuzz target, two ways to run it.

    load("//fuzz:fuzz.bzl", "fuzz_target")

    fuzz_target(
        name = "frame_decoder",
        srcs = ["frame_decoder_fuzzer.cc"],   # defines LLVMFuzzerTestOneInput
        deps = ["//protocol:frame"],
    )

declares
- `frame_decoder_replay`: a cc_test (any compiler, no libFuzzer) that feeds every file of
  fuzz/corpus/frame_decoder/ and fuzz/crashers/frame_decoder/ through the entry point, so
  `bazel test //...` keeps what fuzzing found as regression tests;
- `frame_decoder_fuzzer`: under `--config=fuzz` (`--define=fuzzing_engine=libfuzzer`) the real
  libFuzzer binary, linked with `-fsanitize=fuzzer`; otherwise the same replay main, so a plain
  `bazel build //...` stays green with gcc. fuzz/campaign.sh runs these.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_library", "cc_test")

_REPLAY_MAIN = "//fuzz:replay_main"
_LIBFUZZER = "//fuzz:libfuzzer"

def fuzz_target(name, srcs, deps = [], testonly = False, size = "small", **kwargs):
    """Declares `<name>_replay` (a test) and `<name>_fuzzer` (the fuzzer binary)."""
    corpus = "fuzz/corpus/" + name
    crashers = "fuzz/crashers/" + name

    # The entry point, compiled once for both.
    cc_library(
        name = name + "_entry",
        srcs = srcs,
        deps = deps,
        testonly = testonly,
        alwayslink = True,
        visibility = ["//visibility:private"],
    )

    cc_test(
        name = name + "_replay",
        size = size,
        args = [corpus, crashers],
        data = native.glob(["corpus/%s/**" % name, "crashers/%s/**" % name]),
        deps = [":" + name + "_entry", _REPLAY_MAIN],
        **kwargs
    )

    cc_binary(
        name = name + "_fuzzer",
        testonly = testonly,
        linkopts = select({
            _LIBFUZZER: ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = [":" + name + "_entry"] + select({
            _LIBFUZZER: [],
            "//conditions:default": [_REPLAY_MAIN],
        }),
    )
