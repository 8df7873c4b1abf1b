// JUnit XML for a run of scenarios: one testcase per scenario, named by the scenario (the
// file's name without .scenario, whatever became of it: passed, failed, invalid, timed out or
// interrupted), its classname the suite "tap_scenario.<client>"; a failure's message is its
// first failing line, expected against observed, and its text the whole report.
#pragma once

#include <string>
#include <vector>

#include "runner/scenario_run.hpp"

namespace tapharness::runner {

std::string junit_xml(const std::vector<ScenarioResult>& results, const std::string& suite_name);

// Escapes text for XML character data and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace tapharness::runner
