#!/usr/bin/env bash
# The HTML report as a person sees it, in a real browser: tap_scenario --report writes the page
# for a few scenarios (one client failure and one server failure on purpose), Debian's headless
# chromium loads it from disk with no network (the sandbox has none: the page must stand alone),
# runs its script and prints the DOM; the checks are what a person would see: every scenario
# by name, the failing ones marked FAILED, each connection's diagram drawn (two lanes, an arrow
# per frame), the kill matrix as a table; and a screenshot of a sane size.
set -u
fail() { echo "FAIL: $*"; exit 1; }

chromium=$(command -v chromium || true)
[ -n "$chromium" ] || fail "chromium is not installed: run tools/setup.sh"
python=$(command -v python3 || true)
[ -n "$python" ] || fail "python3 is not installed: run tools/setup.sh"

tap_scenario=runner/tap_scenario
scenarios=(scenarios/fragmented_frames.scenario scenarios/connection_reset.scenario
           scenarios/truncated_mid_body.scenario scenarios/lie_bodylen_beyond_frame.scenario
           tests/runner/wrong/event_field_differs.scenario tests/runner/wrong/connect_mismatch.scenario)
out=$TEST_TMPDIR/report
"$tap_scenario" --report "$out" "${scenarios[@]}" >"$TEST_TMPDIR/run.txt" 2>&1
status=$?
cat "$TEST_TMPDIR/run.txt"
[ "$status" -eq 1 ] || fail "tap_scenario should fail two of the scenarios (status 1), gave $status"
[ -s "$out/report.html" ] || fail "no $out/report.html"

# Self-contained: no address outside the page, in a source, a link or anywhere else.
if grep -Eqi '(src|href)=["'"'"']?(https?:)?//|https?://' "$out/report.html"; then
  fail "the page names an outside address: $(grep -Eoi '(src|href)=.{0,40}|https?://.{0,40}' "$out/report.html" | head -3)"
fi

export HOME=$TEST_TMPDIR  # chromium writes its profile and crash dumps under it
browse() {
  timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$TEST_TMPDIR/chromium-$1" "${@:2}" 2>"$TEST_TMPDIR/chromium-$1.err"
}
start=$(date +%s.%N)
browse dom --dump-dom "file://$out/report.html" >"$TEST_TMPDIR/dom.html" ||
  fail "chromium could not load the page: $(tail -5 "$TEST_TMPDIR/chromium-dom.err")"
echo "chromium loaded the page in $(echo "$(date +%s.%N) - $start" | bc) s"

"$python" - "$TEST_TMPDIR/dom.html" <<'EOF' || fail "the page is not what a person should see"
import sys
from html.parser import HTMLParser

class Page(HTMLParser):
    """Elements with their classes and attributes, and the text inside each of a few."""
    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []
    def handle_starttag(self, tag, attrs):
        e = {"tag": tag, "attrs": dict(attrs), "classes": (dict(attrs).get("class") or "").split(),
             "text": "", "parents": list(self.stack)}
        self.elements.append(e)
        if tag not in ("br", "meta", "input", "img", "hr", "link", "wbr"):  # HTML's void elements
            self.stack.append(e)
    def handle_endtag(self, tag):
        if any(e["tag"] == tag for e in self.stack):
            while self.stack.pop()["tag"] != tag:
                pass
    def handle_data(self, data):
        for e in self.stack:
            e["text"] += data

page = Page()
page.feed(open(sys.argv[1], encoding="utf-8").read())
els = page.elements
problems = []
def check(ok, what):
    if not ok:
        problems.append(what)

body = [e for e in els if e["tag"] == "body"][0]
check(body["attrs"].get("data-ready") == "1", "the page's script did not run (body has no data-ready)")
title = [e for e in els if e["tag"] == "title"]
check(title and title[0]["text"].startswith("2 FAILED"), f"the tab's title is {title and title[0]['text']!r}")
shown = [e for e in els if e["attrs"].get("id") == "shown"]
check(shown and shown[0]["text"].strip() == "6 of 6 scenarios shown", f"the filter line says {shown and shown[0]['text']!r}")

expected = {"fragmented_frames": "PASS", "connection_reset": "PASS", "truncated_mid_body": "PASS",
            "lie_bodylen_beyond_frame": "PASS", "event_field_differs": "FAILED", "connect_mismatch": "FAILED"}
rows = {e["attrs"].get("data-name"): e for e in els if e["tag"] == "tr" and "scenario-row" in e["classes"]}
check(set(rows) == set(expected), f"the summary's rows are {sorted(rows)}")
for name, verdict in expected.items():
    row = rows.get(name)
    if not row:
        continue
    check(name in row["text"], f"{name}'s row does not show its name")
    cells = [e for e in els if e["tag"] == "td" and row in e["parents"] and "verdict" in e["classes"]]
    check(cells and cells[0]["text"].strip() == verdict, f"{name}'s row says {cells and cells[0]['text']!r}, not {verdict}")
    check(("failed" in row["classes"]) == (verdict == "FAILED"), f"{name}'s row is marked {row['classes']}")
summary = [e for e in els if e["attrs"].get("id") == "summary"][0]["text"]
check("2 FAILED" in summary, f"the summary says {summary!r}")

sections = {e["attrs"].get("data-name"): e for e in els if e["tag"] == "section" and "scenario" in e["classes"]}
check(set(sections) == set(expected), f"the scenario sections are {sorted(sections)}")
for name, section in sections.items():
    inside = [e for e in els if section in e["parents"]]
    heading = [e for e in inside if e["tag"] == "span" and "verdict" in e["classes"]]
    check(heading and heading[0]["text"].strip() == expected.get(name), f"{name}'s heading says {heading and heading[0]['text']!r}")
    diagrams = [e for e in inside if "diagram" in e["classes"]]
    check(len(diagrams) == 1, f"{name} has {len(diagrams)} diagrams, not one")
    for d in diagrams:
        within = [e for e in els if d in e["parents"]]
        lanes = [e for e in within if e["tag"] == "line" and "lane" in e["classes"]]
        check(len(lanes) == 2, f"{name}'s diagram has {len(lanes)} lanes")
        sent = [e for e in within if e["tag"] == "details" and "sent" in e["classes"]]
        received = [e for e in within if e["tag"] == "details" and "received" in e["classes"]]
        arrows = [e for e in within if e["tag"] == "svg" and "msg" in e["classes"]]
        check(len(sent) == int(d["attrs"]["data-sent"]), f"{name}: {len(sent)} sent frames drawn of {d['attrs']['data-sent']}")
        check(len(received) == int(d["attrs"]["data-received"]) and len(received) > 0,
              f"{name}: {len(received)} received frames drawn of {d['attrs']['data-received']}")
        # Every scenario but the refused connect sends the client something.
        check(len(sent) > 0 or name == "connect_mismatch", f"{name}: no sent frame drawn")
        check(len(arrows) == len(sent) + len(received), f"{name}: {len(arrows)} arrows for {len(sent) + len(received)} frames")
    if expected.get(name) == "FAILED":
        check("failed" in section["classes"] and any("FAILED" in e["text"] for e in inside if "failure" in e["classes"]),
              f"{name} does not show its failure")
        check(any(e["tag"] == "div" and "failure" in e["classes"] and "expected:" in e["text"] and "observed:" in e["text"]
                  for e in inside), f"{name}'s diagram does not show expected against observed")

faults = {c for e in els for c in e["classes"] if c.startswith("fault-")}
for kind in ("fault-split", "fault-bytewise", "fault-truncate", "fault-lie", "fault-rst"):
    check(kind in faults, f"no {kind} mark")
pairs = [e for e in els if "data-pair" in e["attrs"]]
check(len(pairs) >= 6, f"only {len(pairs)} frames are linked to their ACKs")

for p in problems:
    print("  " + p)
print(f"{len(rows)} scenario rows, {sum(1 for e in els if 'diagram' in e['classes'])} diagrams, "
      f"{sum(1 for e in els if e['tag'] == 'svg')} SVG elements, {len(pairs)} ACK links")
sys.exit(1 if problems else 0)
EOF

# The screenshot a person would see first: a PNG of a sane size.
browse shot --window-size=1280,900 --screenshot="$TEST_TMPDIR/report.png" "file://$out/report.html" >/dev/null ||
  fail "chromium could not take a screenshot: $(tail -5 "$TEST_TMPDIR/chromium-shot.err")"
size=$(stat -c %s "$TEST_TMPDIR/report.png" 2>/dev/null || echo 0)
[ "$(head -c 8 "$TEST_TMPDIR/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
[ "$size" -gt 20000 ] && [ "$size" -lt 3000000 ] || fail "the screenshot is $size bytes"
[ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ] && cp "$TEST_TMPDIR/report.png" "$out/report.html" "$TEST_UNDECLARED_OUTPUTS_DIR/"

# The kill matrix renders as a table in the same kind of page.
matrix=$TEST_TMPDIR/matrix
"$tap_scenario" --defects --jobs 8 --report "$matrix" scenarios/bad_magic.scenario >"$TEST_TMPDIR/matrix.txt" 2>&1
[ -s "$matrix/report.html" ] || fail "no kill matrix report: $(tail -3 "$TEST_TMPDIR/matrix.txt")"
browse matrix --dump-dom "file://$matrix/report.html" >"$TEST_TMPDIR/matrix-dom.html" || fail "chromium could not load the matrix"
"$python" - "$TEST_TMPDIR/matrix-dom.html" "$(grep -c '^ *[0-9]* [a-z_]*$' "$TEST_TMPDIR/matrix.txt")" <<'EOF' || fail "the kill matrix is not a table"
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
columns = int(sys.argv[2])
table = re.search(r'<table class="matrix" id="matrix">(.*?)</table>', dom, re.S)
if not table:
    sys.exit("no kill matrix table")
rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)
heads = re.findall(r'<th class="col">([^<]*)</th>', rows[0])
body = [r for r in rows[1:] if '<td class="name"' in r]
print(f"kill matrix: {len(body)} rows, {len(heads)} defect columns, {table.group(1).count('killed')} caught")
ok = len(body) == 1 and "bad_magic" in body[0] and len(heads) == columns and columns > 20 and "killed" in table.group(1)
ok = ok and 'data-ready="1"' in dom
sys.exit(0 if ok else "the kill matrix table does not have a row for bad_magic and a column per defect")
EOF
echo "PASS: the report shows every scenario, marks the failing ones, draws each diagram, and its kill matrix"
