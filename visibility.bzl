"""Who may use each layer's libraries: the build states the architecture (README, Layout).

protocol/ is at the bottom, capture/ on it (pure too); client/ and mockserver/ stand side by side on it (mockserver/ on
scenario/ too) and never use each other; runner/, record/, fuzz/, bench/ and tools/ are on top
(record/ on runner/ too, for the scenario forms --update writes). Tests
reach what they test. What users' own BUILD files reach is public through the aliases in
//:BUILD (and //testing), nothing else.
"""

_TESTS = ["//tests:__subpackages__", "//fuzz:__pkg__", "//bench:__pkg__"]

# //protocol: everything above it.
PROTOCOL_USERS = [
    "//:__pkg__",
    "//cli:__pkg__",
    "//capture:__pkg__",
    "//client:__subpackages__",
    "//scenario:__subpackages__",
    "//mockserver:__pkg__",
    "//record:__pkg__",
    "//runner:__pkg__",
    "//testing:__pkg__",
    "//tools:__pkg__",
] + _TESTS

# //capture: pcapng written from a trace, captures read back (pure, on protocol): the servers
# that write them, the tools that read them.
CAPTURE_USERS = [
    "//mockserver:__pkg__",
    "//record:__pkg__",
    "//runner:__pkg__",
    "//tools:__pkg__",
] + _TESTS

# //cli: the tools' command lines (client, mockserver, runner, tools), beside protocol.
CLI_USERS = [
    "//client:__pkg__",
    "//mockserver:__pkg__",
    "//record:__pkg__",
    "//runner:__pkg__",
    "//tools:__pkg__",
] + _TESTS

# //scenario: the engine, the runner and the recorder (and the client never).
SCENARIO_USERS = [
    "//scenario:__pkg__",
    "//mockserver:__pkg__",
    "//record:__pkg__",
    "//runner:__pkg__",
    "//testing:__pkg__",
] + _TESTS

# //client: the runner, and users through //:feed.
CLIENT_USERS = [
    "//:__pkg__",
    "//client:__subpackages__",
    "//record:__pkg__",
    "//runner:__pkg__",
    "//testing:__pkg__",
] + _TESTS

# //mockserver: the runner, and users through //:tap_mockserver.
MOCKSERVER_USERS = [
    "//:__pkg__",
    "//mockserver:__pkg__",
    "//runner:__pkg__",
    "//testing:__pkg__",
] + _TESTS

# //runner: users through //:tap_scenario and the scenario macro; the recorder writes
# scenario lines in its forms.
RUNNER_USERS = [
    "//:__pkg__",
    "//record:__pkg__",
    "//runner:__pkg__",
    "//scenarios:__pkg__",
] + _TESTS

# //record: users through //:tap_record.
RECORD_USERS = [
    "//:__pkg__",
    "//record:__pkg__",
] + _TESTS

def layering_sources():
    """The package's sources and BUILD file, for //tests/layering to check."""
    native.filegroup(
        name = "sources",
        srcs = native.glob(["**/*.hpp", "**/*.cc"]) + ["BUILD"],
        visibility = ["//fuzz:__pkg__", "//tests/layering:__pkg__"],
    )
