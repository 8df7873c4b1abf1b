#!/bin/sh
# Runs tap_scenario as a Bazel test. tap_scenario reads the test environment itself:
# TESTBRIDGE_TEST_ONLY (--test_filter), TEST_TOTAL_SHARDS / TEST_SHARD_INDEX /
# TEST_SHARD_STATUS_FILE (sharding) and XML_OUTPUT_FILE (its JUnit report).
exec "$@"
