#include "runner/templates.hpp"

#include <algorithm>

namespace tapharness::runner {
namespace {

constexpr std::string_view kBackfill = R"(# Backfill of two vbuckets to a client that supports ACKs.
#
# Checks: (say what a correct client must do here)
# Why: (cite shared/protocol.md: section 8 orders a real producer's stream)

expect connect name="replica-1" has=backfill,list_vbuckets,support_ack vbuckets=0,1

# The opaques the producer asks ACKs for come first; it sends no data until they are ACKed.
send opaque vb=0 code=ENABLE_AUTO_NACK ack
send opaque vb=0 code=INITIAL_VBUCKET_STREAM ack
send opaque vb=1 code=INITIAL_VBUCKET_STREAM ack
expect ack
expect ack
expect ack

# The items: change keys, values, flags, expiry, cas; add `ack` where an ACK is asked.
send mutation vb=0 key="k1" value="v1" flags=0 expiry=0 cas=1
send mutation vb=1 key="k2" value="v2" cas=2
send deletion vb=0 key="k0" cas=3 ack
expect ack

send opaque vb=0 code=CLOSE_BACKFILL ack
send opaque vb=1 code=CLOSE_BACKFILL ack
expect ack
expect ack
close fin

client args name="replica-1" backfill=1700000000 vbuckets=0,1 ack
client event begin_backfill vb=0
client event begin_backfill vb=1
client event mutation vb=0 key="k1" value="v1" flags=0 expiry=0 cas=1
client event mutation vb=1 key="k2" value="v2" cas=2
client event deletion vb=0 key="k0" cas=3
client event end_backfill vb=0
client event end_backfill vb=1
client end eof
)";

constexpr std::string_view kDump = R"(# DUMP: the existing items, then the server closes the connection.
#
# Checks: (say what a correct client must do here)
# Why: ep-engine answers DUMP with the backfill only and then closes (shared/protocol.md section 8).

expect connect name="dumper" flags=dump

send opaque vb=0 code=INITIAL_VBUCKET_STREAM
send mutation vb=0 key="a" value="alpha" cas=1
send mutation vb=0 key="b" value="bravo" cas=2
send opaque vb=0 code=CLOSE_BACKFILL
close fin

client args name="dumper" dump backfill=0
client event begin_backfill vb=0
client event mutation vb=0 key="a" value="alpha" cas=1
client event mutation vb=0 key="b" value="bravo" cas=2
client event end_backfill vb=0
client end eof
)";

constexpr std::string_view kTakeover = R"(# TAKEOVER: the vbuckets move to the client, pending first, then active.
#
# Checks: (say what a correct client must do here)
# Why: rebalance hands vbuckets over with VBUCKET_SET pending, the rest, then active
# (shared/protocol.md section 8).

expect connect name="takeover-3" has=list_vbuckets,takeover_vbuckets,support_ack vbuckets=3

send vbucket_set vb=3 state=pending ack
expect ack
send mutation vb=3 key="k" value="v" cas=1
send vbucket_set vb=3 state=active ack
expect ack
close fin

client args name="takeover-3" vbuckets=3 takeover ack
client event vbucket_set vb=3 state=pending
client event mutation vb=3 key="k" value="v" cas=1
client event vbucket_set vb=3 state=active
client end eof
)";

constexpr std::string_view kCheckpoints = R"(# CHECKPOINT: items between checkpoint start and end, each boundary ACKed.
#
# Checks: (say what a correct client must do here)
# Why: the producer pauses at each checkpoint boundary until it is ACKed (shared/protocol.md 5.4).

expect connect name="cp" has=checkpoint,support_ack

send opaque vb=0 code=ENABLE_CHECKPOINT_SYNC ack
expect ack
send checkpoint_start vb=0 checkpoint=1 ack
expect ack
send mutation vb=0 key="k1" value="v1" cas=1
send mutation vb=0 key="k2" value="v2" cas=2
send checkpoint_end vb=0 checkpoint=1 ack
expect ack
close fin

client args name="cp" checkpoint ack
client event checkpoint_start vb=0 checkpoint=1
client event mutation vb=0 key="k1" value="v1" cas=1
client event mutation vb=0 key="k2" value="v2" cas=2
client event checkpoint_end vb=0 checkpoint=1
client end eof
)";

constexpr std::string_view kAckModes = R"(# ACK modes: every message that asks for an ACK gets one, in order; none other does.
#
# Checks: (say what a correct client must do here)
# Why: a missing ACK stalls the producer's window; an unasked one may close the connection
# (shared/protocol.md sections 5.1-5.4).

expect connect name="acker" has=support_ack
# `acks strict` is the default: every ACK a correct client owes, in order, by the end.

repeat 10 {
  send mutation vb=0 key="k{n}" value="v" cas={n}
}
send mutation vb=0 key="last" value="v" cas=100 ack
expect ack within=2s
send opaque vb=0 code=CLOSE_TAP_STREAM

client args name="acker" ack
repeat 10 {
  client event mutation vb=0 key="k{n}" value="v" cas={n}
}
client event mutation vb=0 key="last" value="v" cas=100
client end end_stream
)";

constexpr std::string_view kRefusal = R"(# The server refuses TAP_CONNECT.
#
# Checks: (say what a correct client must do here)
# Why: a server answers TAP_CONNECT only to refuse it (shared/protocol.md section 3).

expect connect name="refused"
send connect_error status=NOT_SUPPORTED body="not supported"
close fin

client args name="refused"
client end error match="connect_rejected"
)";

constexpr std::string_view kTruncation = R"(# The connection ends inside a frame.
#
# Checks: (say what a correct client must do here)
# Why: a close mid-frame is no clean end: the stream was cut (shared/protocol.md section 6.5).

expect connect name="cut"
send mutation vb=0 key="whole" value="v" cas=1
send mutation vb=0 key="cut" value="never all of it" cas=2 truncate=30
close fin

client args name="cut"
client event mutation vb=0 key="whole" value="v" cas=1
client end error match="truncated"
)";

constexpr Template kTemplates[] = {
    {"backfill", "backfill of two vbuckets in ACK mode, opened and closed as ep-engine does", kBackfill},
    {"dump", "DUMP: the existing items, then a plain close", kDump},
    {"takeover", "TAKEOVER of a vbucket: pending, items, active", kTakeover},
    {"checkpoints", "CHECKPOINT: start, items, end, each boundary ACKed", kCheckpoints},
    {"ack_modes", "ACK requests on some messages, strictly checked", kAckModes},
    {"refusal", "TAP_CONNECT refused with a status and a text", kRefusal},
    {"truncation", "the connection closes inside a frame", kTruncation},
};

}  // namespace

std::span<const Template> all_templates() { return kTemplates; }

const Template* find_template(std::string_view kind) {
  const auto* found = std::find_if(std::begin(kTemplates), std::end(kTemplates),
                                   [&](const Template& t) { return t.kind == kind; });
  return found == std::end(kTemplates) ? nullptr : found;
}

}  // namespace tapharness::runner
