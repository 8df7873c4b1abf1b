// Where a recording goes: its side files as the recorder hands them over, then the scenario,
// then a check that what was written parses (with its side files), so a recording that
// would not replay is never left looking like one that does.
//
//   SideFiles files;                                  // sink for Recorder's side files
//   Recorder recorder(options, files.sink());
//   ...
//   if (auto e = write_scenario("out/s.scenario", recording)) fail(e->message());
#pragma once

#include <optional>
#include <string>

#include "protocol/result.hpp"
#include "record/recorder.hpp"
#include "record/value_words.hpp"

namespace tapharness::record {

// Writes each side file at once (its directory made), so no value is held.
ValueWords::Sink side_file_sink();

// Writes the text to `path` ("" or "-": standard output) and parses it back: an error names
// the file and what is wrong (a parse error is the language's file:line:col). `check_as` is
// the path the text is parsed as when it goes to standard output (its side files' directory).
std::optional<InputError> write_scenario(const std::string& path, const Recording& recording,
                                         const std::string& check_as = {});

}  // namespace tapharness::record
