"""Bazel macros that turn scenario files into tests.

    load("//runner:scenario_tests.bzl", "scenario_suite", "scenario_tests")

    # One test per file: `bazel test //scenarios/...` runs each scenario as its own target,
    # `--test_filter=backfill*` picks scenarios by name, and each test's XML_OUTPUT_FILE gets
    # tap_scenario's JUnit report.
    scenario_tests(name = "scenarios", srcs = glob(["*.scenario"]))

    # All files in one target, split across shards (run it by name: it is tagged manual).
    scenario_suite(name = "all", srcs = glob(["*.scenario"]), shard_count = 4)
"""

_RUNNER = "//runner:tap_scenario"
_WRAPPER = "//runner:scenario_test.sh"

def _test_name(src):
    name = src.split("/")[-1]
    if name.endswith(".scenario"):
        name = name[:-len(".scenario")]
    return name

def scenario_tests(name, srcs, args = [], size = "small", **kwargs):
    """One sh_test per scenario file, and a test_suite `name` holding them all."""
    tests = []
    for src in srcs:
        test_name = _test_name(src)
        native.sh_test(
            name = test_name,
            srcs = [_WRAPPER],
            args = ["$(rootpath %s)" % _RUNNER] + args + ["$(rootpath %s)" % src],
            data = [_RUNNER, src],
            size = size,
            **kwargs
        )
        tests.append(":" + test_name)
    native.test_suite(name = name, tests = tests)

def scenario_suite(name, srcs, shard_count = 1, args = [], size = "medium", tags = [], **kwargs):
    """Every file in one test, sharded by tap_scenario itself; tagged manual."""
    native.sh_test(
        name = name,
        srcs = [_WRAPPER],
        args = ["$(rootpath %s)" % _RUNNER] + args + ["$(rootpath %s)" % src for src in srcs],
        data = [_RUNNER] + srcs,
        shard_count = shard_count,
        size = size,
        tags = tags + ["manual"],
        **kwargs
    )
