// What stops a recording, and where: one error type for record/ (STYLE lesson 14), with the
// side and the byte offset in that side's stream.
//
//   if (auto error = recorder.feed(chunk)) fmt::print(stderr, "{}\n", error->message());
//   // "the server's stream does not decode at offset 104: bad_magic, field magic = 0x42"
#pragma once

#include <cstdint>
#include <string>

#include "record/conversation.hpp"

namespace tapharness::record {

struct RecordError {
  enum class Code : std::uint8_t {
    undecodable,       // a side's bytes stopped being frames (the decoder's error is in `what`)
    too_large,         // the scenario would pass the language's file limit (64 MiB)
    needs_side_files,  // a value too long for a line, and nowhere to write its file
    side_file_failed,  // writing a side file failed
    no_conversation,   // the input holds no TAP conversation, or not the one asked for
  };
  Code code = Code::undecodable;
  Direction direction = Direction::server_to_client;
  std::uint64_t offset = 0;  // in the direction's stream, from its first byte
  std::string what;

  // The whole sentence, naming the side and the offset.
  std::string message() const;
  friend bool operator==(const RecordError&, const RecordError&) = default;
};

std::string_view name_of(RecordError::Code code);

}  // namespace tapharness::record
