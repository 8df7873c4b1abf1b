// A frame described field by field, for people: traces, tap_decode, failure messages.
//
//   describe_frame(frame)
//   // {magic=REQUEST opcode=TAP_OPAQUE keylen=0 extlen=8 ... opaque=0x00000020 cas=0}
//   //   TAP_OPAQUE vb=2 opaque=0x00000020 cas=0 tap_flags=ACK ttl=255 engine=00000001 ...
//   //   feed: deliver begin_backfill vb=2 then ack TAP_OPAQUE opaque=0x00000020
#pragma once

#include <string>

#include "protocol/frame.hpp"

namespace tapharness::protocol {

// The header, then the TAP layer (a TAP_CONNECT's arguments or a TAP message's extras),
// then what a TAP feed does with it (for frames a server sends); lines after the first are
// indented by two spaces.
std::string describe_frame(const Frame& frame);

}  // namespace tapharness::protocol
