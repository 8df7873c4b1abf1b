#include "client/defects/defect.hpp"

#include <charconv>

#include <fmt/format.h>

namespace tapharness::client {
namespace {

using D = Defect;
constexpr DefectInfo kDefects[] = {
    {D::skip_ack, "skip_ack", "leaves out its Nth ACK (skip_ack:N, default 1)"},
    {D::ack_wrong_opaque, "ack_wrong_opaque", "ACKs with the opaque plus one"},
    {D::ack_wrong_opcode, "ack_wrong_opcode", "ACKs with another TAP opcode"},
    {D::ack_wrong_status, "ack_wrong_status", "ACKs with status EINVAL instead of SUCCESS"},
    {D::ack_unasked, "ack_unasked", "also ACKs TAP messages that did not ask"},
    {D::never_ack, "never_ack", "sends no ACK at all"},
    {D::nack_all, "nack_all", "answers every ACK request with a NACK (ETMPFAIL)"},
    {D::ignore_opaque_ack, "ignore_opaque_ack", "ignores the ACK bit on TAP_OPAQUE"},
    {D::ack_newest_only, "ack_newest_only", "of the ACKs due together, sends only the newest"},
    {D::ack_non_tap, "ack_non_tap", "ACKs any request whose extras look like TAP flags (the reference)"},
    {D::wrong_connect_flags, "wrong_connect_flags", "sends TAP_CONNECT with DUMP toggled"},
    {D::wrong_connect_name, "wrong_connect_name", "sends TAP_CONNECT with another name"},
    {D::engine_length_zero, "engine_length_zero", "takes the engine-specific length as 0, so keys shift"},
    {D::deletion_flags_from_rev_seqno, "deletion_flags_from_rev_seqno",
     "reads a deletion's flags and expiry from its rev seqno (the reference)"},
    {D::accept_response_magic, "accept_response_magic",
     "takes a TAP frame with response magic as an event (the reference)"},
    {D::deliver_lying_lengths, "deliver_lying_lengths",
     "cuts a frame whose lengths lie to fit, and delivers it instead of refusing it"},
    {D::crash_on_lying_lengths, "crash_on_lying_lengths",
     "crashes on a frame whose lengths lie (the reference panics)"},
    {D::opaque_code_any_engine_length, "opaque_code_any_engine_length",
     "reads a TAP_OPAQUE's sub-code from 4 or more engine-specific bytes (the reference)"},
    {D::close_on_unknown_opaque, "close_on_unknown_opaque", "closes the connection on an unknown opaque sub-code"},
    {D::tap_extras_unchecked, "tap_extras_unchecked",
     "ignores a TAP message with short extras, and reads item flags from whatever follows the TAP prefix "
     "(the reference)"},
    {D::drop_vbucket_set, "drop_vbucket_set",
     "ignores VBUCKET_SET: reports no event and checks nothing inside it (the reference)"},
    {D::drop_flush, "drop_flush", "reports no flush events (the reference)"},
    {D::drop_checkpoint_id, "drop_checkpoint_id", "reports every checkpoint id as 0 (the reference)"},
    {D::drop_datatype, "drop_datatype", "reports every datatype as 0 (the reference)"},
    {D::end_stream_as_eof, "end_stream_as_eof", "reports CLOSE_TAP_STREAM as eof (the reference)"},
    {D::eof_after_header, "eof_after_header",
     "reports a close right after a whole header as a clean eof (the reference)"},
    {D::connect_status_lost, "connect_status_lost",
     "reports a refused connect without its status (the reference)"},
    {D::no_idle_timeout, "no_idle_timeout", "never gives up on a silent server (the reference)"},
    {D::stay_connected_after_error, "stay_connected_after_error",
     "keeps the connection open after it stopped reading"},
    {D::no_reconnect, "no_reconnect", "never reconnects: its reconnect attempts are forced to 0"},
    {D::ignore_retransmit, "ignore_retransmit",
     "after it NACKs a frame, never ACKs a later frame with the same key (the retransmit): the ACK is dropped"},
};
static_assert(std::size(kDefects) == kDefectCount, "every defect is in the table");

}  // namespace

std::span<const DefectInfo> all_defects() { return kDefects; }

std::string_view name_of(Defect defect) { return kDefects[static_cast<std::size_t>(defect)].name; }

std::string DefectSet::describe() const {
  std::string out;
  for (const auto& info : kDefects) {
    if (!has(info.defect)) continue;
    if (!out.empty()) out += ',';
    out += info.name;
    if (info.defect == D::skip_ack && skip_ack_n != 1) out += fmt::format(":{}", skip_ack_n);
  }
  return out.empty() ? "none" : out;
}

DefectSet reference_defects() {
  DefectSet set;
  // Not deletion_flags_from_rev_seqno: the reference misreads them, but its events, printed
  // in our format as it was measured, carried no deletion flags, so it never showed.
  for (Defect d : {D::ack_non_tap, D::accept_response_magic,
                   D::crash_on_lying_lengths, D::opaque_code_any_engine_length, D::tap_extras_unchecked,
                   D::drop_vbucket_set, D::drop_flush,
                   D::drop_checkpoint_id, D::drop_datatype, D::end_stream_as_eof, D::eof_after_header,
                   D::connect_status_lost, D::no_idle_timeout,
                   // StartTapFeed has no reconnect: a feed that ends is over (protocol.md 6.2).
                   D::no_reconnect}) {
    set.add(d);
  }
  return set;
}

Result<DefectSet, InputError> parse_defects(std::span<const std::string> words) {
  DefectSet set;
  for (const std::string& word : words) {
    if (word == "reference") {
      for (const auto& info : kDefects) {
        if (reference_defects().has(info.defect)) set.add(info.defect);
      }
      continue;
    }
    const auto colon = word.find(':');
    const std::string_view name = std::string_view(word).substr(0, colon);
    const DefectInfo* found = nullptr;
    for (const auto& info : kDefects) {
      if (info.name == name) found = &info;
    }
    if (!found) {
      std::string names = "reference";
      for (const auto& info : kDefects) names += fmt::format(", {}", info.name);
      return InputError{"", fmt::format("'{}' is not a defect; the defects are {}", word, names)};
    }
    if (colon != std::string::npos) {
      const std::string_view arg = std::string_view(word).substr(colon + 1);
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      if (found->defect != D::skip_ack || ec != std::errc() || end != arg.data() + arg.size() || n == 0) {
        return InputError{"", fmt::format("'{}' {}", word,
                                          found->defect == D::skip_ack ? "takes a positive count, as in skip_ack:3"
                                                                       : "takes no argument")};
      }
      set.skip_ack_n = n;
    }
    set.add(found->defect);
  }
  return set;
}

}  // namespace tapharness::client
