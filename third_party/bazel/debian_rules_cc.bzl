"""A copy of Debian's packaged rules_cc (0.0.4) patched to load under Bazel 4.2.3.

rules_cc 0.0.4 calls `use_cpp_toolchain()` from @bazel_tools, which Bazel 4.2.3 does not
have. The two files that call it get the toolchain type label it would have returned.
"""

_PATCHED_FILES = [
    "cc/private/rules_impl/compiler_flag.bzl",
    "cc/private/rules_impl/cc_flags_supplier.bzl",
]

def _debian_rules_cc_impl(ctx):
    src = ctx.path(ctx.attr.path)
    if not src.exists:
        fail("%s is missing: run tools/setup.sh (Debian package bazel-rules-cc)" % ctx.attr.path)
    for name in ["BUILD", "cc", "third_party", "tools"]:
        result = ctx.execute(["cp", "-R", "%s/%s" % (src, name), "."])
        if result.return_code != 0:
            fail("copying rules_cc/%s failed: %s" % (name, result.stderr))
    ctx.file("WORKSPACE", 'workspace(name = "rules_cc")\n')
    for path in _PATCHED_FILES:
        text = ctx.read(path)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        ctx.file(path, text)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(mandatory = True)},
    local = True,
)
