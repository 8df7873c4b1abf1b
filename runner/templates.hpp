// `tap_scenario new KIND`: editable starting files for the common stream shapes, each a
// scenario that passes against a correct client, with comments saying what to change.
//
//   for (const auto& t : all_templates()) fmt::print("{}  {}\n", t.kind, t.what);
//   const Template* backfill = find_template("backfill");
#pragma once

#include <span>
#include <string_view>

namespace tapharness::runner {

struct Template {
  std::string_view kind;  // "backfill"
  std::string_view what;  // one line for the list
  std::string_view text;  // the file
};

std::span<const Template> all_templates();
const Template* find_template(std::string_view kind);

}  // namespace tapharness::runner
