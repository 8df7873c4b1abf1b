#include "runner/junit.hpp"

#include <fmt/format.h>

namespace tapharness::runner {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters even as references: show them as text.
        if (b < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += fmt::format("\\x{:02x}", b);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string junit_xml(const std::vector<ScenarioResult>& results, const std::string& suite_name) {
  std::size_t failures = 0, errors = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += r.verdict == Verdict::failed;
    errors += r.verdict == Verdict::invalid || r.verdict == Verdict::interrupted;
    total += r.elapsed.count();
  }
  std::string body;
  for (const auto& r : results) {
    body += fmt::format(R"(    <testcase name="{}" classname="{}" file="{}" time="{:.3f}")", xml_escape(r.name),
                        xml_escape(suite_name), xml_escape(r.path), r.elapsed.count());
    if (r.verdict == Verdict::passed) {
      body += "/>\n";
      continue;
    }
    // A failure is the client's; an error is the run's own (a file that does not parse, Ctrl-C).
    const std::string text = format_result(r);
    const char* tag = r.verdict == Verdict::failed ? "failure" : "error";
    body += fmt::format(">\n      <{} message=\"{}\">{}</{}>\n    </testcase>\n", tag,
                        xml_escape(first_failure_line(r)), xml_escape(text), tag);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites tests=\"{0}\" failures=\"{1}\" errors=\"{2}\" time=\"{3:.3f}\">\n"
      "  <testsuite name=\"{4}\" tests=\"{0}\" failures=\"{1}\" errors=\"{2}\" time=\"{3:.3f}\">\n"
      "{5}"
      "  </testsuite>\n"
      "</testsuites>\n",
      results.size(), failures, errors, total, xml_escape(suite_name), body);
}

}  // namespace tapharness::runner
