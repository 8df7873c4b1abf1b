#!/usr/bin/env bash
# tap_decode on what the harness writes (issue 18): the pcapng of tap_scenario --pcap (and
# the same capture as classic pcap, micro- and nanoseconds, by Debian's editcap), and the
# transcripts of --trace, decode to the same frames both ways, TAP-aware in both
# directions; a frame a transcript shows only in part is said, not decoded; inputs that lie
# give errors with their byte offset.
set -u
fail=0
problem() {
  echo "FAIL: $*"
  fail=1
}
tmp=${TEST_TMPDIR:?}
decode=tools/tap_decode
# Frame lines without their times: "client->server @41 {magic=RESPONSE ...}" and the
# description lines under them.
frames() { grep -vE '^[A-Za-z/._0-9-]+: |^conversation |FIN$|RST$| -- ' | sed -E 's/^\[ *[0-9]+\.[0-9]+s\] //'; }

for name in ack_requests_mutation_deletion_opaque sasl_plain_before_connect nack_retransmit fragmented_frames \
  value_at_the_limit; do
  rm -rf "$tmp/traces"
  if ! runner/tap_scenario --pcap "$tmp/$name.pcapng" --trace "$tmp/traces" "scenarios/$name.scenario" >"$tmp/run.txt" 2>&1; then
    cat "$tmp/run.txt"
    problem "$name did not pass"
  fi
  "$decode" "$tmp/$name.pcapng" >"$tmp/$name.pcap.txt" 2>&1 || problem "$name: the capture does not decode: $(tail -3 "$tmp/$name.pcap.txt")"
  "$decode" "$tmp/traces/$name.1.trace" >"$tmp/$name.trace.txt" 2>&1 ||
    problem "$name: the trace does not decode: $(tail -3 "$tmp/$name.trace.txt")"
  case $name in
    fragmented_frames)
      # The 100,000-byte value: whole in the capture, head and tail rows in the trace.
      grep -q 'server->client @143 {magic=REQUEST opcode=TAP_MUTATION keylen=3 extlen=16 .* bodylen=100028' "$tmp/$name.pcap.txt" ||
        problem "$name: the capture does not decode the 100052-byte frame"
      grep -q 'server->client @143 a 100052-byte frame not decoded: line [0-9]* of the trace shows only its head and tail rows; it cannot be decoded whole there' \
        "$tmp/$name.trace.txt" || problem "$name: the trace does not say it cannot decode the long frame: $(grep 143 "$tmp/$name.trace.txt")"
      ;;
    value_at_the_limit)
      # The value is generated as it is written: in neither; the frames after it decode.
      for kind in pcap trace; do
        grep -q 'bodylen=22020123 .*(its last 22020096 bytes not decoded: ' "$tmp/$name.$kind.txt" ||
          problem "$name: the $kind decode does not say the value is missing: $(head -5 "$tmp/$name.$kind.txt")"
        grep -q 'client->server @48 {magic=RESPONSE opcode=TAP_MUTATION' "$tmp/$name.$kind.txt" ||
          problem "$name: the $kind decode lost the ACK after the missing value"
      done
      ;;
    *)
      if ! diff <(frames <"$tmp/$name.pcap.txt") <(frames <"$tmp/$name.trace.txt") >"$tmp/diff.txt"; then
        problem "$name: the capture and the trace decode to different frames:"
        head -20 "$tmp/diff.txt"
      fi
      [ "$(frames <"$tmp/$name.pcap.txt" | grep -c ' @')" -ge 4 ] || problem "$name: too few frames decoded"
      ;;
  esac
done

# TAP-aware both ways: the client's TAP_CONNECT, SASL and ACKs, the server's TAP messages.
out=$tmp/ack_requests_mutation_deletion_opaque.pcap.txt
grep -q '^conversation 1: client 127.0.0.1:[0-9]*, server 127.0.0.1:[0-9]* (the client sent the SYN); 257 bytes to the server, 562 to the client$' "$out" ||
  problem "the conversation line: $(grep conversation "$out")"
grep -q 'client->server @0 {magic=REQUEST opcode=TAP_CONNECT' "$out" || problem "no TAP_CONNECT from the client"
grep -q '  TAP_CONNECT {name="acker" flags=BACKFILL|SUPPORT_ACK backfill=none}' "$out" || problem "the connect's arguments"
grep -q 'client->server @41 {magic=RESPONSE opcode=TAP_OPAQUE .*opaque=0x00000001' "$out" || problem "the client's first ACK"
grep -q 'server->client @36 {magic=REQUEST opcode=TAP_MUTATION' "$out" || problem "the server's first mutation"
grep -q 'server->client FIN' "$out" || problem "the server's FIN"
grep -q 'client->server @0 {magic=REQUEST opcode=SASL_LIST_MECHS' "$tmp/sasl_plain_before_connect.pcap.txt" ||
  problem "SASL from the client: $(grep -m2 'client->server' "$tmp/sasl_plain_before_connect.pcap.txt")"
"$decode" --comments "$tmp/fragmented_frames.pcapng" | grep -q 'server->client # line [0-9]*: write 2 of 7 of the frame, bytes \[24,26)' ||
  problem "--comments does not show the write boundaries"

# The same capture as classic pcap (both resolutions): the same decode.
if command -v editcap >/dev/null 2>&1; then
  for format in pcap nsecpcap; do
    editcap -F "$format" "$tmp/nack_retransmit.pcapng" "$tmp/nack.$format" || problem "editcap -F $format failed"
    diff <("$decode" "$tmp/nack.$format" | tail -n +2) <(tail -n +2 "$tmp/nack_retransmit.pcap.txt") >/dev/null ||
      problem "the $format copy decodes differently"
  done
else
  problem "editcap is not installed: run tools/setup.sh (it installs Debian's tshark)"
fi

# A decode error in a capture names the stream offset; the exit status is 1.
runner/tap_scenario --pcap "$tmp/lie.pcapng" scenarios/lie_keylen_exceeds_body.scenario >/dev/null 2>&1
"$decode" "$tmp/lie.pcapng" >"$tmp/lie.txt" 2>&1
[ $? -eq 1 ] || problem "a capture with a lying frame: exit status should be 1"
grep -q 'server->client does not decode: lengths_exceed_body at stream offset [0-9]*, field bodylen' "$tmp/lie.txt" ||
  problem "the lie's error: $(grep -m1 'does not' "$tmp/lie.txt")"

# Hostile inputs: errors with byte offsets, exit status 1.
size=$(wc -c <"$tmp/nack_retransmit.pcapng")
head -c $((size - 5)) "$tmp/nack_retransmit.pcapng" >"$tmp/cut.pcapng"
err=$("$decode" "$tmp/cut.pcapng" 2>&1 >/dev/null)
status=$?
[ $status -eq 1 ] || problem "a truncated capture: status $status"
[[ $err == *": byte "*": truncated block: its length says "* ]] || problem "a truncated capture: '$err'"
printf 'GIF89a....' >"$tmp/not.bin"
err=$("$decode" --format capture "$tmp/not.bin" 2>&1 >/dev/null)
[ $? -eq 1 ] && [[ $err == *"byte 0: not a capture: unknown magic 0x47494638"* ]] || problem "not a capture: '$err'"
sed -e '4s/^\( *0 \)80/\1zz/' "$tmp/traces/value_at_the_limit.1.trace" >"$tmp/bad.trace"
err=$("$decode" "$tmp/bad.trace" 2>&1 >/dev/null)
[ $? -eq 1 ] && [[ $err == *"bad.trace: line 4 (byte "*"): a hex row that does not parse: hex_not_a_digit"* ]] ||
  problem "a trace with a bad hex row: '$err' ($(sed -n 4p "$tmp/bad.trace"))"
# Hex stays what it was.
echo "80 0a 0000 00 00 0000 00000000 00000000 0000000000000000" | "$decode" | grep -q '^@0 {magic=REQUEST opcode=NOOP' ||
  problem "hex input"

[ "$fail" -eq 0 ] && echo "PASS"
exit $fail
