#include "runner/report_html.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "runner/report_diagram.hpp"
#include "runner/report_escape.hpp"

namespace tapharness::runner {
namespace {

// Inline, like everything on the page: it is opened from disk, offline.
constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 2em;color:#1d232b;background:#fafbfc}
h1{font-size:1.5em;margin:.8em 0 .2em}h2{display:inline;font-size:1.15em;margin:0}h3{font-size:1em;margin:1em 0 .3em}
code,pre,.t,.ln,.fields{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
header{position:sticky;top:0;background:#fafbfc;padding-bottom:.4em;border-bottom:1px solid #d0d7de;z-index:2}
.summary b.failed,.verdict.failed,.failure b{color:#c62828}.verdict.passed{color:#2e7d32}
.controls{display:flex;gap:1em;align-items:center}.controls input[type=search]{width:22em;padding:3px 6px}
table{border-collapse:collapse;margin:.8em 0}th,td{border:1px solid #d0d7de;padding:2px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}tr.failed td,tr.invalid td,tr.interrupted td{background:#fdecea}
td.first{max-width:60em;font-family:ui-monospace,monospace;font-size:12px}
section.scenario{margin:.6em 0;border:1px solid #d0d7de;border-radius:6px;background:#fff;padding:.3em .8em}
section.scenario.failed,section.scenario.invalid{border-color:#c62828;border-width:2px}
section.scenario>details>summary{cursor:pointer;padding:.2em 0}
.failures{background:#fdecea;border-left:4px solid #c62828;padding:.3em .8em;margin:.4em 0;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px}
.diagram{margin:.3em 0 1em}.rows{position:relative}
.lanes-head,.ev>summary,div.ev{display:flex;align-items:center;min-height:26px}
.lanes-head{font-weight:600;border-bottom:1px solid #d0d7de}
.t{width:88px;flex:none;color:#57606a}.ln{width:44px;flex:none;color:#57606a}
.lane-names{width:360px;flex:none;display:flex;justify-content:space-between}.lane-name.client{text-align:right}
.lane-name small{font-weight:400;color:#57606a}
svg.lanes{position:absolute;top:0;left:132px;pointer-events:none}
.lane{stroke:#8c959f;stroke-width:2}
svg.msg,svg.mark{flex:none}.arrow{stroke:#0969da;stroke-width:2}.received .arrow{stroke:#8250df}
.head{fill:#0969da}.received .head{fill:#8250df}.arrow.dashed{stroke-dasharray:4 3}
.op{font-size:10px;text-anchor:middle;fill:#1d232b}
.what{padding-left:.6em;overflow-wrap:anywhere}.size{color:#57606a;font-size:11px}
g.fault path,g.fault circle{stroke:#c62828;stroke-width:2.5;fill:none}g.fault text{fill:#c62828;font-weight:700;font-size:14px}
.badge{display:inline-block;font-size:11px;border-radius:8px;padding:0 6px;margin-left:3px;background:#ddf4ff;color:#0550ae}
.badge.fault{background:#ffebe9;color:#c62828}.badge.ask{background:#fff8c5;color:#7d4e00}
details.ev>summary{cursor:pointer;list-style:none}details.ev>summary::-webkit-details-marker{display:none}
details.ev[open]>summary{background:#f3f6f9}
.fields{position:relative;z-index:1;margin:0 0 .4em 132px;padding:.4em .8em;background:#f6f8fa;border:1px solid #d0d7de;white-space:pre-wrap}
.ev.note .what{color:#57606a;font-style:italic}.note-mark circle{fill:#8c959f}
.end-mark rect{fill:#1d232b}.end-mark path{stroke:#c62828;stroke-width:3}
.gap .what{color:#57606a}.gap-mark path{stroke:#fafbfc;stroke-width:3;stroke-dasharray:2 3}
.ev.failing{background:#fff4e5}.ev.failure{background:#fdecea;border:1px solid #c62828;border-radius:4px;padding:2px 0}
.failure-mark circle{fill:#c62828}
.hl,.hl>summary{background:#fff8c5!important;outline:1px solid #d4a72c}
a.pair{font-size:11px;margin-left:4px}.cut{color:#c62828}
table.matrix th.col{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:400;font-size:11px;padding:4px 1px}
table.matrix td.k{text-align:center;padding:0 3px;font-family:monospace}table.matrix td.killed{background:#dafbe1}
table.matrix tr.correct-failed td.name{background:#fdecea}
)";

// Small: filtering, opening every frame, and lighting up an ACK with the frame it answers.
constexpr std::string_view kScript = R"(
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var filter = document.getElementById('filter'), failedOnly = document.getElementById('failed-only');
  var shown = document.getElementById('shown');
  function apply() {
    var q = filter.value.toLowerCase(), n = 0, rows = document.querySelectorAll('tr[data-name]').length;
    document.querySelectorAll('[data-name]').forEach(function (el) {
      var show = el.dataset.name.toLowerCase().indexOf(q) >= 0 &&
                 (!failedOnly.checked || el.dataset.verdict !== 'passed');
      el.hidden = !show;
      if (show && el.tagName === 'TR') n++;
    });
    shown.textContent = n + ' of ' + rows + ' scenarios shown';
  }
  filter.addEventListener('input', apply);
  failedOnly.addEventListener('change', apply);
  document.getElementById('expand').addEventListener('click', function () {
    var open = this.dataset.open !== '1';
    this.dataset.open = open ? '1' : '0';
    this.textContent = open ? 'collapse all frames' : 'expand all frames';
    document.querySelectorAll('details.ev').forEach(function (d) { d.open = open; });
  });
  document.querySelectorAll('[data-pair]').forEach(function (el) {
    var other = document.getElementById(el.dataset.pair);
    if (!other) return;
    el.addEventListener('mouseenter', function () { el.classList.add('hl'); other.classList.add('hl'); });
    el.addEventListener('mouseleave', function () { el.classList.remove('hl'); other.classList.remove('hl'); });
  });
  document.querySelectorAll('a.pair').forEach(function (a) {
    a.addEventListener('click', function (e) {
      var target = document.getElementById(a.getAttribute('href').slice(1));
      if (!target) return;
      e.preventDefault();
      target.scrollIntoView({block: 'center'});
      target.classList.add('hl');
      setTimeout(function () { target.classList.remove('hl'); }, 1500);
    });
  });
  // The tab says whether anything failed.
  var failed = data.scenarios.filter(function (s) { return s.verdict !== 'passed'; }).length;
  if (failed > 0) document.title = failed + ' FAILED \u00b7 ' + document.title;
  apply();
  document.body.dataset.ready = '1';
})();
)";

std::string verdict_word(Verdict v) {
  switch (v) {
    case Verdict::passed: return "passed";
    case Verdict::failed: return "failed";
    case Verdict::invalid: return "invalid";
    case Verdict::interrupted: return "interrupted";
  }
  return "failed";
}

// What a person reads: PASS in green, FAILED (and the others) in capitals.
std::string verdict_text(Verdict v) {
  switch (v) {
    case Verdict::passed: return "PASS";
    case Verdict::failed: return "FAILED";
    case Verdict::invalid: return "INVALID";
    case Verdict::interrupted: return "INTERRUPTED";
  }
  return "FAILED";
}

// The server's and the client's failures, each on the diagram of the connection that has
// records at its line (the last connection when none has).
std::vector<std::vector<DiagramFailure>> failures_by_connection(const ScenarioResult& r) {
  std::vector<std::vector<DiagramFailure>> out(r.sessions.size());
  if (out.empty()) return out;
  const auto has_line = [](const SessionLog& log, const scenario::SourceLocation& l) {
    for (const auto& e : log.entries()) {
      if (e.record && e.record->location.line == l.line && e.record->location.file() == l.file()) return true;
    }
    return false;
  };
  if (r.server) {
    for (const auto& s : r.server->steps()) {
      if (s.failed == 0 || !s.failure) continue;
      DiagramFailure f{s.location, std::string(s.step), s.failure->expected, s.failure->observed, false};
      if (s.failure->index) f.what += fmt::format(" (repeat index {})", *s.failure->index);
      std::size_t at = out.size() - 1;
      for (std::size_t c = 0; c < r.sessions.size(); ++c) {
        if (has_line(*r.sessions[c], s.location)) {
          at = c;
          break;
        }
      }
      out[at].push_back(std::move(f));
    }
  }
  for (const auto& f : r.client_failures) out.back().push_back({f.location, f.what, f.expected, f.observed, true});
  return out;
}

// Every failure in words, as the terminal shows them (format_result), escaped.
std::string failure_text(const ScenarioResult& r) {
  if (r.verdict == Verdict::passed) return {};
  std::string text = format_result(r);
  if (const auto newline = text.find('\n'); newline != std::string::npos) text = text.substr(newline + 1);
  constexpr std::size_t kMax = 16 * 1024;
  if (text.size() > kMax) text = text.substr(0, kMax) + fmt::format("\n... {} more bytes", text.size() - kMax);
  return fmt::format("<div class=\"failures\">{}</div>\n", html_text(text));
}

std::string scenario_section(const ScenarioResult& r, std::size_t index, bool diagrams, std::size_t limit) {
  const std::string id = fmt::format("sc{}", index);
  std::string body = fmt::format("<p class=\"path\">{} &middot; {:.3f}s &middot; {} events reported</p>\n",
                                 html_text(r.path), r.elapsed.count(), r.events);
  body += failure_text(r);
  const auto failures = failures_by_connection(r);
  for (std::size_t c = 0; c < r.sessions.size(); ++c) {
    const SessionLog& log = *r.sessions[c];
    body += fmt::format("<h3>connection {} <span class=\"size\">{}</span></h3>\n", log.connection().connection,
                        html_text(log.connection().scenario));
    if (!diagrams) {
      body += fmt::format("<p class=\"cut\">Diagram left out: the report reached its limit of {} bytes.</p>\n", limit);
      continue;
    }
    body += render_diagram(log, failures[c], fmt::format("{}c{}", id, c + 1));
  }
  if (r.sessions.empty() && r.verdict != Verdict::invalid) body += "<p>No connection was recorded.</p>\n";
  const std::string v = verdict_word(r.verdict);
  return fmt::format(
      "<section class=\"scenario {0}\" id=\"{1}\" data-name=\"{2}\" data-verdict=\"{0}\">"
      "<details{3}><summary><h2>{2}</h2> <span class=\"verdict {0}\">{4}</span></summary>\n{5}</details></section>\n",
      v, id, html_text(r.name), r.verdict == Verdict::passed ? "" : " open", verdict_text(r.verdict), body);
}

std::string scenario_table(std::span<const ScenarioResult> results) {
  std::string rows;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const ScenarioResult& r = results[i];
    const std::string v = verdict_word(r.verdict);
    rows += fmt::format(
        "<tr class=\"scenario-row {0}\" data-name=\"{1}\" data-verdict=\"{0}\"><td><a href=\"#sc{2}\">{1}</a></td>"
        "<td class=\"verdict {0}\">{3}</td><td>{4:.3f}s</td><td>{5}</td><td>{6}</td><td>{7}</td><td>{8}</td>"
        "<td class=\"first\">{9}</td></tr>\n",
        v, html_text(r.name), i, verdict_text(r.verdict), r.elapsed.count(), r.sessions.size(), r.events,
        r.server ? r.server->frames_sent : 0, r.server ? r.server->frames_received : 0,
        r.verdict == Verdict::passed ? "" : html_text(first_failure_line(r)));
  }
  return fmt::format(
      "<table class=\"scenarios\" id=\"scenarios\"><thead><tr><th>scenario</th><th>verdict</th><th>time</th>"
      "<th>connections</th><th>events</th><th>frames sent</th><th>frames received</th><th>first failure</th></tr>"
      "</thead><tbody>\n{}</tbody></table>\n",
      rows);
}

std::string matrix_table(const KillMatrix& m) {
  std::string head = "<tr><th>scenario</th><th>correct client</th>";
  for (const auto& c : m.columns) head += fmt::format("<th class=\"col\">{}</th>", html_text(c.name));
  head += "<th>kills</th></tr>\n";
  std::string rows;
  for (const auto& row : m.rows) {
    std::string cells;
    std::size_t kills = 0;
    for (bool k : row.killed) {
      cells += k ? "<td class=\"k killed\">X</td>" : "<td class=\"k\">&middot;</td>";
      kills += k;
    }
    rows += fmt::format("<tr class=\"{0}\" data-name=\"{2}\" data-verdict=\"{3}\"><td class=\"name\" title=\"{1}\">{2}</td>"
                        "<td>{4}</td>{5}<td>{6}{7}</td></tr>\n",
                        row.correct_passed ? "" : "correct-failed", html_text(row.path), html_text(row.name),
                        row.correct_passed ? "passed" : "failed",
                        row.correct_passed ? "passes" : "FAILED: " + html_text(row.correct_failure), cells, kills,
                        row.kills_none ? " (kills: none, " + html_text(*row.kills_none) + ")" : "");
  }
  std::string totals = "<tr><th>caught by</th><th></th>";
  for (std::size_t c = 0; c < m.columns.size(); ++c) {
    std::size_t by = 0;
    for (const auto& row : m.rows) by += row.killed[c];
    totals += fmt::format("<td class=\"k\">{}</td>", by);
  }
  totals += "<td></td></tr>\n";
  std::string problems;
  for (const auto& p : kill_matrix_problems(m)) problems += fmt::format("<li>{}</li>", html_text(p));
  return fmt::format(
      "<section id=\"kill-matrix\"><h2>Kill matrix</h2><p>{} scenarios &times; {} defects (X: the scenario fails the "
      "defective client). {}</p>\n<table class=\"matrix\" id=\"matrix\"><thead>{}</thead><tbody>\n{}{}</tbody></table>"
      "{}</section>\n",
      m.rows.size(), m.columns.size(),
      problems.empty() ? "<b>The kill matrix holds.</b>" : "<b class=\"failed\">The kill matrix does not hold.</b>",
      head, rows, totals, problems.empty() ? "" : "<ul class=\"problems\">" + problems + "</ul>");
}

nlohmann::json page_data(const ReportPage& page) {
  nlohmann::json scenarios = nlohmann::json::array();
  for (const auto& r : page.results) {
    scenarios.push_back({{"name", r.name},
                         {"path", r.path},
                         {"verdict", verdict_word(r.verdict)},
                         {"connections", r.sessions.size()},
                         {"first_failure", r.verdict == Verdict::passed ? "" : first_failure_line(r)}});
  }
  nlohmann::json data = {{"title", page.title}, {"client", page.client}, {"scenarios", scenarios}};
  if (page.matrix) {
    data["kill_matrix"] = {{"rows", page.matrix->rows.size()},
                           {"columns", page.matrix->columns.size()},
                           {"holds", kill_matrix_problems(*page.matrix).empty()}};
  }
  return data;
}

}  // namespace

std::string render_report(const ReportPage& page) {
  std::size_t passed = 0, failed = 0, other = 0;
  for (const auto& r : page.results) {
    passed += r.verdict == Verdict::passed;
    failed += r.verdict == Verdict::failed;
    other += r.verdict == Verdict::invalid || r.verdict == Verdict::interrupted;
  }
  std::string summary =
      page.results.empty()
          ? std::string("No scenario ran.")
          : fmt::format("{} scenarios: {} passed, <b class=\"{}\">{} FAILED</b>{}", page.results.size(), passed,
                        failed > 0 ? "failed" : "", failed, other > 0 ? fmt::format(", {} invalid or interrupted", other) : "");
  if (page.matrix) {
    summary = fmt::format("Kill matrix of {} scenarios{}", page.matrix->rows.size(),
                          page.results.empty() ? "" : ". " + summary);
  }
  std::string sections;
  for (std::size_t i = 0; i < page.results.size(); ++i) {
    sections += scenario_section(page.results[i], i, sections.size() < page.limit, page.limit);
  }
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\"><title>{0}</title><style>{1}</style></head>\n"
      "<body>\n<header><h1>{0}</h1><p class=\"summary\" id=\"summary\">{2} &middot; client: {3}</p>\n"
      "<div class=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"filter scenarios by name\">"
      "<label><input type=\"checkbox\" id=\"failed-only\"> failed only</label>"
      "<button id=\"expand\" type=\"button\">expand all frames</button><span id=\"shown\"></span></div></header>\n"
      "{4}{5}{6}"
      "<script type=\"application/json\" id=\"report-data\">{7}</script>\n<script>{8}</script>\n</body></html>\n",
      html_text(page.title), kStyle, summary, html_text(page.client),
      page.results.empty() ? "" : scenario_table(page.results), page.matrix ? matrix_table(*page.matrix) : "",
      sections, script_json(page_data(page)), kScript);
}

Result<std::string, InputError> write_report(const std::string& dir, const ReportPage& page) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return InputError{dir, fmt::format("cannot write the report there: {}",
                                       ec ? ec.message() : std::string("not a directory"))};
  }
  const std::string path = (std::filesystem::path(dir) / "report.html").string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << render_report(page);
  out.close();
  if (!out) return InputError{path, "cannot write the report"};
  return path;
}

}  // namespace tapharness::runner
