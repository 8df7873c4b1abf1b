// A capture's TCP conversations as the recorder's chunks (capture/capture_reader.hpp reads
// the file): which conversation to record, and its segments fed in capture order. Bytes the
// capture never had (a hole in the sequence) stop the recording there: what follows cannot
// be framed for certain.
//
//   auto chosen = choose_conversation(capture, command.connection);   // or the listing
//   feed_conversation(*chosen.value(), recorder);
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "capture/capture_reader.hpp"
#include "protocol/result.hpp"
#include "record/recorder.hpp"

namespace tapharness::record {

// The conversation to record: number `n` (from 1, in the capture's order), or without one
// the only conversation that carried bytes. Otherwise an error that lists them all.
Result<const capture::Conversation*, RecordError> choose_conversation(
    const capture::Capture& capture, std::optional<std::size_t> n);

// "1  127.0.0.1:40122 -> 127.0.0.1:11210  520 bytes to the server, 4096 to the client"
std::string conversation_list(const capture::Capture& capture);

// Feeds every segment; the first error stops it (and is the recorder's from then on).
std::optional<RecordError> feed_conversation(const capture::Conversation& conversation,
                                             Recorder& recorder);

}  // namespace tapharness::record
