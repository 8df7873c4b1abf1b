// tap_scenario --fmt: scenario files rewritten into the canonical layout
// (scenario/formatter.hpp), or with --check only judged, for CI.
//
//   int status = format_files(files, /*check=*/true, out);   // 0: all formatted, 1: some not
#pragma once

#include <string>
#include <vector>

namespace tapharness::runner {

// Formats each file in place (or, with `check`, only says which are not formatted and
// where they first differ). A file that does not parse is left alone and reported: the
// layout of a broken file is not worth guessing. Returns the exit status: 0 when every file
// is (now) formatted, 1 when --check found one that is not, 2 when a file could not be read,
// parsed or written. What it did goes to `report`, one line per file it names.
int format_files(const std::vector<std::string>& files, bool check, std::string& report);

}  // namespace tapharness::runner
