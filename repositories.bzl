"""What tapharness needs in a WORKSPACE, for its own and for a user's.

    local_repository(name = "tapharness", path = "/path/to/tapharness")
    load("@tapharness//:repositories.bzl", "tapharness_dependencies")
    tapharness_dependencies()

Everything comes from Debian's packages (tools/setup.sh installs them): Bazel's rules from
/usr/share/bazel, libraries from /usr. Nothing is downloaded. A repository the WORKSPACE
already declares is left as it is.
"""

load("//third_party/bazel:debian_rules_cc.bzl", "debian_rules_cc")

_UNAVAILABLE = """#!/bin/sh
echo "Bazel's coverage tools are not packaged by Debian and this build does not download;" >&2
echo "use gcov/lcov for coverage instead." >&2
exit 1
"""

def _coverage_tools_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("unavailable.sh", _UNAVAILABLE, executable = True)
    ctx.file("BUILD", """# Stand-ins for Bazel's coverage tools: every test rule depends on these two targets.
package(default_visibility = ["//visibility:public"])

sh_binary(name = "coverage_report_generator", srcs = ["unavailable.sh"])

sh_binary(name = "lcov_merger", srcs = ["unavailable.sh"])
""")

# Every test rule depends on @remote_coverage_tools; Bazel's coverage tools are not packaged.
_coverage_tools = repository_rule(implementation = _coverage_tools_impl)

def _maybe(rule, name, **kwargs):
    if not native.existing_rule(name):
        rule(name = name, **kwargs)

def tapharness_dependencies():
    """Declares the repositories tapharness's targets use."""

    # @bazel_tools' own C++ rules load @rules_cc; Debian's 0.0.4 needs a two-line patch for
    # Bazel 4.2.3, which the repository rule applies to a copy.
    _maybe(debian_rules_cc, "rules_cc", path = "/usr/share/bazel/rules/cc")

    # Needed for the registered JDK toolchains even in a pure C++ build.
    _maybe(native.local_repository, "rules_java", path = "/usr/share/bazel/rules/java")
    _maybe(native.local_repository, "platforms", path = "/usr/share/bazel/tools/platforms")
    _maybe(_coverage_tools, "remote_coverage_tools")

    # Headers and libraries installed under /usr.
    _maybe(
        native.new_local_repository,
        "debian_system",
        build_file = "@tapharness//third_party:debian_system.BUILD",
        path = "/usr",
    )
