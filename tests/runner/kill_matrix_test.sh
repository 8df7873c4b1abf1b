#!/usr/bin/env bash
# The kill matrix holds on the library: the correct client passes every scenario, every
# defect is caught by one, every scenario catches one or says why not (README, "Defective
# clients"). And the reference profile passes exactly the scenarios the real reference client
# passes, or fails them only for a documented stricter rule.
set -u
tap_scenario=runner/tap_scenario
out=$("$tap_scenario" --defects --jobs 24 scenarios 2>&1)
status=$?
echo "$out"
fail=0
if [ "$status" -ne 0 ] || ! grep -qx "the kill matrix holds" <<<"$out"; then
  echo "FAIL: the kill matrix does not hold (status $status)"
  fail=1
fi

# Measured with the real gomemcached client: it passes these ten library scenarios.
passes=(ack_interval_acks_auto ack_requests_mutation_deletion_opaque backfill_several_vbuckets dump_mode
        dump_nothing_to_dump eof_at_frame_boundary fragmented_frames keys_only noop_keeps_idle_stream_alive
        stream_100k_mutations)
# (Its report goes beside the matrix's, under bazel test, instead of over it.)
reference=$("$tap_scenario" --defect reference --report "${TEST_UNDECLARED_OUTPUTS_DIR:-$TEST_TMPDIR}/reference" scenarios 2>&1)
for name in "${passes[@]}"; do
  if ! grep -q "^PASS $name " <<<"$reference"; then
    echo "FAIL: the reference profile should pass $name, as the reference client does"
    fail=1
  fi
done
# ... and fails the other 24 of the original library; these five only by our error wording
# (it reports an error there too, in its own words), which the profile keeps ours.
wording_only=(bad_magic connection_reset oversized_body_claim oversized_body_one_over_limit truncated_mid_header)
behaviour=(checkpoint_sync close_tap_stream_ends_feed connect_rejected connect_rejected_with_text flush
           lie_bodylen_beyond_frame lie_bodylen_short_desyncs_stream lie_engine_length_exceeds_body
           lie_extlen_too_short lie_keylen_exceeds_body lie_vbucket_set_state_length opaque_every_sub_code
           response_magic_in_stream stall_idle_timeout stall_mid_frame takeover_vbuckets truncated_after_header
           truncated_mid_body vbucket_set_every_state)
for name in "${behaviour[@]}"; do
  if ! grep -q "^FAIL $name " <<<"$reference"; then
    echo "FAIL: the reference profile should fail $name, as the reference client does"
    fail=1
  fi
done
for name in "${wording_only[@]}"; do
  grep -q "^PASS $name " <<<"$reference" || { echo "FAIL: $name should differ from the reference only in wording"; fail=1; }
done
exit $fail
