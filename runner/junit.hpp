// JUnit XML for a run of scenarios: one testcase per scenario, with the failure text, so
// CI systems (and Bazel's XML_OUTPUT_FILE) show each scenario.
#pragma once

#include <string>
#include <vector>

#include "runner/scenario_run.hpp"

namespace tapharness::runner {

std::string junit_xml(const std::vector<ScenarioResult>& results, const std::string& suite_name);

// Escapes text for XML character data and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace tapharness::runner
