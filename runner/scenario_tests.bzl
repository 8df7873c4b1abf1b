"""Bazel macros that turn scenario files into tests, in this repository or a user's.

    load("@tapharness//runner:scenario_tests.bzl", "scenario_suite", "scenario_tests")

    # One test per file: `bazel test //scenarios/...` runs each scenario as its own target,
    # `--test_filter=backfill*` picks scenarios by name, and each test's XML_OUTPUT_FILE gets
    # tap_scenario's JUnit report.
    scenario_tests(name = "scenarios", srcs = glob(["*.scenario"]))

    # The same files against your own client: any executable that takes tap_tail's flags
    # (--addr HOST:PORT and the scenario's client args) and prints tap_tail's JSON lines.
    scenario_tests(
        name = "my_client",
        srcs = glob(["*.scenario"]) + ["@tapharness//scenarios:backfill_several_vbuckets.scenario"],
        client = "//my:client",
        client_args = ["--verbose"],
        prefix = "my_client_",
    )

    # All files in one target, split across shards (run it by name: it is tagged manual).
    scenario_suite(name = "all", srcs = glob(["*.scenario"]), shard_count = 4)
"""

# Resolved where this file lives, so the macro works from any repository.
_RUNNER = Label("//:tap_scenario")
_WRAPPER = Label("//:scenario_test_wrapper")

def _test_name(src):
    """The scenario's name from a file or a label: "a/b.scenario", "//x:b.scenario" -> "b"."""
    name = src.split(":")[-1].split("/")[-1]
    if name.endswith(".scenario"):
        name = name[:-len(".scenario")]
    return name

def _client_flags(client, client_args):
    """tap_scenario flags that run `client` (a label) instead of the built-in client."""
    if not client:
        return [], []
    command = " ".join(["$(rootpath %s)" % client, "--addr {addr} {args}"] + client_args)
    name = "//%s%s" % (native.package_name(), client) if client.startswith(":") else client
    return ["--client-cmd", "'%s'" % command, "--client-name", name], [client]

def scenario_tests(name, srcs, client = None, client_args = [], prefix = "", args = [], size = "small", data = [], **kwargs):
    """One sh_test per scenario file (named prefix + the file's name), and a test_suite `name`.

    Args:
      name: the test_suite holding every test.
      srcs: scenario files or labels of them.
      client: an executable target to test instead of the built-in client: it gets
        `--addr HOST:PORT`, the scenario's client args as tap_tail flags, then `client_args`,
        and must print tap_tail's JSON lines.
      client_args: more arguments for `client`.
      prefix: put before every test's name, so one file set can be tested several times.
      args: more tap_scenario flags.
      size: each test's size.
      data: files the scenarios read: included pieces (`include`), table rows, values (`file(...)`).
      **kwargs: passed to every sh_test (tags, timeout, ...).
    """
    client_flags, client_data = _client_flags(client, client_args)
    tests = []
    for src in srcs:
        test_name = prefix + _test_name(src)
        native.sh_test(
            name = test_name,
            srcs = [_WRAPPER],
            args = ["$(rootpath %s)" % _RUNNER] + client_flags + args + ["$(rootpath %s)" % src],
            data = [_RUNNER, src] + client_data + data,
            size = size,
            **kwargs
        )
        tests.append(":" + test_name)
    native.test_suite(name = name, tests = tests)

def scenario_suite(name, srcs, client = None, client_args = [], shard_count = 1, args = [], size = "medium", tags = [], data = [], **kwargs):
    """Every file in one test, sharded by tap_scenario itself; tagged manual."""
    client_flags, client_data = _client_flags(client, client_args)
    native.sh_test(
        name = name,
        srcs = [_WRAPPER],
        args = ["$(rootpath %s)" % _RUNNER] + client_flags + args + ["$(rootpath %s)" % src for src in srcs],
        data = [_RUNNER] + srcs + client_data + data,
        shard_count = shard_count,
        size = size,
        tags = tags + ["manual"],
        **kwargs
    )
