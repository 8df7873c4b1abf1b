#include "record/record_error.hpp"

#include <fmt/format.h>

namespace tapharness::record {

std::string_view name_of(RecordError::Code code) {
  switch (code) {
    case RecordError::Code::undecodable: return "undecodable";
    case RecordError::Code::too_large: return "too_large";
    case RecordError::Code::needs_side_files: return "needs_side_files";
    case RecordError::Code::side_file_failed: return "side_file_failed";
    case RecordError::Code::no_conversation: return "no_conversation";
  }
  return "unknown";
}

std::string RecordError::message() const {
  if (code == Code::no_conversation) return fmt::format("{}: {}", name_of(code), what);
  return fmt::format("{}: the {}'s stream at offset {}: {}", name_of(code), sender_of(direction),
                     offset, what);
}

}  // namespace tapharness::record
