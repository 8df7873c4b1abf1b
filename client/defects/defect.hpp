// Defects on purpose: the built-in client made wrong in one realistic way at a time, so a
// scenario library can be shown to catch wrong clients (tap_tail --defect, tap_scenario
// --defects). Off by default; the library's feed (client/tap_feed.hpp) never has one.
//
//   auto defects = parse_defects({"skip_ack:3", "drop_flush"});   // or "reference"
//   if (!defects) usage_error(defects.error());
//   defects->has(Defect::drop_flush);
//
// Each defect is one deviation from the correct client, applied where the bug would live:
// on the wire (the ACKs and TAP_CONNECT it sends, how it reads frames), in what it reports
// (events, the end), or in its options (no idle timeout, no reconnect). README, "Defective
// clients".
#pragma once

#include <bitset>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/result.hpp"

namespace tapharness::client {

enum class Defect : std::uint8_t {
  // The ACKs it sends.
  skip_ack,           // :N leaves out its Nth ACK (default 1)
  ack_wrong_opaque,   // ACKs with the opaque plus one
  ack_wrong_opcode,   // ACKs with another TAP opcode
  ack_wrong_status,   // ACKs with status EINVAL
  ack_unasked,        // ACKs TAP messages that did not ask
  never_ack,          // sends no ACK at all
  nack_all,           // answers every ACK request with ETMPFAIL
  ignore_opaque_ack,  // never ACKs a TAP_OPAQUE
  ack_newest_only,    // of the ACKs due together, sends only the newest
  ack_non_tap,        // ACKs any request whose extras look like TAP flags (the reference)
  // What it connects with.
  wrong_connect_flags,  // TAP_CONNECT with DUMP toggled
  wrong_connect_name,   // TAP_CONNECT with another name
  // How it reads frames.
  engine_length_zero,             // takes the engine-specific length as 0: keys shift
  deletion_flags_from_rev_seqno,  // a deletion's flags and expiry read from the rev seqno (the reference)
  accept_response_magic,          // takes a response-magic TAP frame as an event (the reference)
  deliver_lying_lengths,          // a frame whose lengths lie is cut to fit and delivered, not refused
  crash_on_lying_lengths,         // a frame whose lengths lie makes it crash (the reference panics)
  opaque_code_any_engine_length,  // reads an opaque's sub-code from 4 or more engine bytes (the reference)
  close_on_unknown_opaque,        // closes the connection on an opaque sub-code it does not know
  tap_extras_unchecked,           // takes a TAP message's extras as they come (the reference)
  // What it reports.
  drop_vbucket_set,         // ignores VBUCKET_SET: no event, nothing inside checked (the reference)
  drop_flush,               // reports no flush (the reference)
  drop_checkpoint_id,       // reports checkpoints with id 0 (the reference)
  drop_datatype,            // reports every datatype as 0 (the reference)
  end_stream_as_eof,        // reports CLOSE_TAP_STREAM as eof (the reference)
  eof_after_header,         // reports a close after a whole header as a clean eof (the reference)
  connect_status_lost,      // reports a refused connect without its status (the reference)
  // How it behaves.
  no_idle_timeout,             // never gives up on a silent server (the reference)
  stay_connected_after_error,  // keeps the connection open after it stopped reading
  // Across connections and retransmits (appended: the values above keep their numbers).
  no_reconnect,       // never reconnects: its reconnect attempts are forced to 0
  ignore_retransmit,  // after it NACKs a frame, drops the ACK of every later frame with its key
};
inline constexpr std::size_t kDefectCount = static_cast<std::size_t>(Defect::ignore_retransmit) + 1;

struct DefectInfo {
  Defect defect;
  std::string_view name;
  std::string_view what;  // one line for --help and the README
};

// Every defect, in enum order.
std::span<const DefectInfo> all_defects();
std::string_view name_of(Defect defect);

class DefectSet {
 public:
  bool has(Defect d) const { return bits_.test(static_cast<std::size_t>(d)); }
  void add(Defect d) { bits_.set(static_cast<std::size_t>(d)); }
  bool empty() const { return bits_.none(); }
  std::uint64_t skip_ack_n = 1;  // skip_ack's N, 1-based

  // "skip_ack:3,drop_flush", or "none".
  std::string describe() const;

 private:
  std::bitset<kDefectCount> bits_;
};

// The reference Go client (gomemcached tap_feed.go) as far as it shows on the wire and in
// what it reports (../shared/protocol.md section 6): its weaknesses together.
DefectSet reference_defects();

// Parses `NAME[:ARG]` words (and `reference`) into one set; a bad word names itself and the
// valid names.
Result<DefectSet, InputError> parse_defects(std::span<const std::string> words);

}  // namespace tapharness::client
