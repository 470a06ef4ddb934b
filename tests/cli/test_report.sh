#!/usr/bin/env bash
# The comparison report without a GPU, on the SYNTHETIC fixtures of tests/fixtures/: golden
# Markdown byte for byte, every format, mixed GPUs rejected, model/INERT labels, a self-contained
# HTML page (and its screenshot in headless Chromium where Chromium is installed), the report
# written at the end of a two-system run.
set -u
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
F=$ROOT/tests/fixtures
A=$F/synthetic-h100-a.json B=$F/synthetic-h100-b.json BASE=$F/synthetic-h100-baseline.json

echo "report:"
# ---- golden Markdown
mkdir -p "$TMP/golden"
GVB=$GVB "$F/regen.sh" "$TMP/golden" 2>"$TMP/regen.err"
for g in report-h100-a.md report-h100-ab-compare.md; do
    if cmp -s "$F/$g" "$TMP/golden/$g"; then
        ok "golden $g matches byte for byte"
    else
        bad "golden $g differs (tests/fixtures/regen.sh rewrites it): $(diff "$F/$g" "$TMP/golden/$g" | head -5 | tr '\n' ' ')"
    fi
done
check "report is reproducible (same output twice)" bash -c "cd '$ROOT' && '$GVB' report tests/fixtures/synthetic-h100-a.json --format md | cmp -s - '$TMP/golden/report-h100-a.md'"

# ---- formats
"$GVB" report "$A" "$B" --format json >"$TMP/r.json"; rc=$?
check "--format json exits 0 and parses" bash -c "[ $rc -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"report_version\"]==1 and d[\"metrics\"] and d[\"recommendations\"]' '$TMP/r.json'"
check "json: the model is not ranked, INERT is flagged" python3 -c "
import json,sys
d=json.load(open('$TMP/r.json'))
s={x['label']:x for x in d['systems']}
assert s['mig-ideal (model)']['model'] and s['fcsp (INERT)']['inert']
for m in d['metrics']:
    for k in ('best','best_layer'):
        assert m[k].get('system') not in ('mig-ideal (model)','fcsp (INERT)'), m['id']
"
"$GVB" report "$A" >"$TMP/r.txt"; rc=$?
check "default format is text, with the status counts" bash -c "[ $rc -eq 0 ] && grep -q '34 OK, 2 SKIP, 1 FAIL, 0 INERT' '$TMP/r.txt' && grep -q '^Executive summary$' '$TMP/r.txt'"
"$GVB" report "$A" --output "$TMP/out.md" >/dev/null; rc=$?
check "--output FILE.md picks Markdown by extension" bash -c "[ $rc -eq 0 ] && head -1 '$TMP/out.md' | grep -q '^# GPU sharing comparison report'"
"$GVB" report "$A" --format csv | head -1 >"$TMP/csv.head"
check "--format csv keeps the per-file CSV" grep -q '^system,metric,' "$TMP/csv.head"

# ---- significance as worded (synthetic shifts: hami slower on OH-001, mps one distribution with native)
MD=$F/report-h100-a.md
check "a clear shift is claimed with its direction (OH-001 hami worse)" grep -qE '^\| OH-001 .* \| 11\.76 \(\+17\.5 %, worse\) \|' "$MD"
check "the same distribution is not claimed (OH-001 mps n.s.), with what could have been detected" grep -qE '^\| OH-001 .* \| 9\.972 \(n\.s\. ±0\.944 %\) \|' "$MD"
check "one replicate (hami OH-003): not testable, the reason says why" grep -qF '| OH-003 Memory Free Latency (us, lower is better) | 60.5 | 70.66 | - | - | not testable: one process per system (between-process variation unknown; run with --replicates \>= 2) |' "$MD"
check "one replicate (hami OH-003): no claim in the overview" grep -qE '^\| OH-003 .* \| 70\.66 \| 61 \(suspect\) \| - \| not testable \|' "$MD"
check "no winner when the leader ties (OH-001 best: no significant difference)" grep -qE '^\| OH-001 .*\| no significant difference \|' "$MD"
check "higher-is-better winner (IS-003 mps)" grep -qE '^\| IS-003 .*\| \*\*mps\*\* \|' "$MD"
check "a value above peak is flagged and not claimed" bash -c "grep -q 'pct_of_peak = 104, above 100 %' '$MD' && grep -qE '^\| LLM-001 .*1030 \(suspect\)' '$MD'"
check "monitor disagreement reported" grep -q 'monitor_disagreement_pct = 7.2' "$MD"
check "Promised and delivered: the heading, right after the summary" bash -c "grep '^## ' '$MD' | sed -n 3p | grep -qx '## Promised and delivered'"
check "Promised and delivered: an old file's limits (memory rows, one IS-003 share, no range)" grep -qF '| hami | 4096 MiB promised, 3419 MiB usable: 83.5 % of the promise (97.5 % CI 82 to 85 %): less than promised | 69 % delivered for 50 % promised (IS-003, one kernel shape measured; by the value, no interval): more than promised |' "$MD"
check "json: promises of each limited system, never native or the model" python3 -c "
import json
d=json.load(open('$TMP/r.json'))
p={x['system']:x for x in d['promises']}
assert sorted(p)==['hami','hami@2','mps'], sorted(p)
assert p['hami']['memory']['promised_bytes']==4294967296 and p['hami']['memory']['kept']=='less'
assert p['hami']['compute']['delivered_pct']==69 and p['hami']['compute']['shapes']==1
"

# ---- model and INERT labels in every category table, never best
check "model and INERT labelled in every category table, never best" python3 - "$F/report-h100-ab-compare.md" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
tables = 0
for i, l in enumerate(lines):
    if not (l.startswith("| Metric |") and l.endswith("| Best | Difference |")):
        continue
    tables += 1
    head = [c.strip() for c in l.strip("|").split("|")]
    assert "mig-ideal (model)" in head and "fcsp (INERT)" in head, head
    j = i + 2
    while j < len(lines) and lines[j].startswith("|"):
        cells = [c.strip() for c in lines[j].strip("|").split(" | ")]
        best = cells[len(head) - 2]
        assert "model" not in best and "INERT" not in best and "fcsp" not in best, lines[j]
        j += 1
assert tables == 3, tables
PY
check "INERT system listed under Validity with its reason" grep -q 'fcsp (INERT): the sharing layer was not active: /synthetic/libfcsp.so is not mapped' "$F/report-h100-ab-compare.md"
check "duplicate system names across files are suffixed" grep -q '^| hami@2 | hami | 2 |' "$F/report-h100-ab-compare.md"
check "--compare labels against the baseline" grep -qE '^\| OH-001 .* \| hami \| hami \| .*\| \*\*WORSE\*\* \|' "$F/report-h100-ab-compare.md"

# ---- bad input: one line, exit 2
"$GVB" report "$A" "$F/synthetic-a100.json" >/dev/null 2>"$TMP/mix.err"; rc=$?
check "mixed GPU models: exit 2, one line naming both ($(cat "$TMP/mix.err"))" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/mix.err') -eq 1 ] && grep -q 'different GPU models' '$TMP/mix.err' && grep -q 'A100' '$TMP/mix.err'"
"$GVB" report "$A" --format pdf >/dev/null 2>"$TMP/fmt.err"; rc=$?
check "unknown format: exit 2, one line" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/fmt.err') -eq 1 ]"
"$GVB" report "$A" --compare /nonexistent.json >/dev/null 2>"$TMP/cmp.err"; rc=$?
check "unreadable baseline: exit 2, one line" bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/cmp.err') -eq 1 ]"

# ---- HTML: self-contained
H=$TMP/r.html
"$GVB" report "$A" "$B" --compare "$BASE" --format html --output "$H"; rc=$?
check "--format html exits 0" [ $rc -eq 0 ]
check "HTML references nothing outside the page (no http, src=, script, link, url(), @import)" bash -c "! grep -Eiq 'https?:|src=|<script|<link|url\(|@import|<img|<iframe' '$H'"
check "HTML links only to its own anchors" bash -c "! grep -Eo 'href=\"[^\"]*\"' '$H' | grep -qv 'href=\"#'"
check "HTML has the charts (category bars, distributions, memory bars, IS-004 series)" bash -c "[ \$(grep -c '<svg' '$H') -ge 6 ] && grep -q '<polyline' '$H' && grep -q 'share_10ms_window_pct' '$H' && grep -q '<circle' '$H'"
check "HTML escapes text (no raw < from data)" python3 - "$H" <<'PY'
import sys
from html.parser import HTMLParser
allowed = {"html","head","meta","title","style","body","main","nav","a","h1","h2","h3","p","ul","li",
           "table","thead","tbody","tr","th","td","strong","pre","figure","figcaption","svg","text",
           "rect","line","path","circle","polyline"}
class P(HTMLParser):
    def __init__(s): super().__init__(); s.bad = []; s.stack = []
    def handle_starttag(s, t, a):
        if t not in allowed: s.bad.append(t)
P_ = P(); P_.feed(open(sys.argv[1]).read())
assert not P_.bad, P_.bad
PY
# hostile text in a results file (names, reasons, categories) stays text in every format
python3 - "$A" "$TMP/hostile.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
evil = "<script>alert(1)</script>|\"'&"
for s in d["systems"]:
    if s["name"] == "hami":
        s["name"] = evil
        s["config"]["note"] = evil
for r in d["results"]:
    if r["system"] == "hami":
        r["system"] = evil
    if r["metric"] == "IS-009":
        r["category"] = 'x"><img src=y onerror=z>'
    if r["status"] == "SKIP":
        r["reason"] = evil
json.dump(d, open(sys.argv[2], "w"))
PY
"$GVB" report "$TMP/hostile.json" --format html --output "$TMP/hostile.html"; rc=$?
check "hostile names are escaped in HTML" bash -c "[ $rc -eq 0 ] && ! grep -Eiq '<script|<img|onerror=' '$TMP/hostile.html' && grep -q '&lt;script&gt;' '$TMP/hostile.html'"
"$GVB" report "$TMP/hostile.json" --format md --output "$TMP/hostile.md"
check "hostile names keep Markdown tables intact" python3 - "$TMP/hostile.md" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
i = 0
while i < len(lines):
    if lines[i].startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
        split = lambda l: re.split(r"(?<!\\)\|", l.strip())[1:-1]
        n = len(split(lines[i]))
        j = i + 2
        while j < len(lines) and lines[j].startswith("|"):
            assert len(split(lines[j])) == n, lines[j]
            j += 1
        i = j
    else:
        i += 1
assert "<script>" not in open(sys.argv[1]).read()
PY

"$GVB" report "$F/synthetic-h100-baseline.json" --format html --output "$TMP/none.html"
check "HTML says 'not measured' for absent charts" bash -c "grep -q 'IS-004: not measured' '$TMP/none.html' && grep -q 'IS-001: not measured' '$TMP/none.html'"

# ---- screenshot in headless Chromium (skips where Chromium is not installed)
# GVB_CHROMIUM names the browser (empty: skip the screenshot)
CHROME=${GVB_CHROMIUM-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROME" ]; then
    skip "HTML screenshot (no chromium installed)"
else
    timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --hide-scrollbars --window-size=1300,2600 --screenshot="$TMP/shot.png" "file://$H" \
        >"$TMP/chrome.log" 2>&1
    check "headless Chromium renders the page to a non-trivial PNG" python3 - "$TMP/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1300, 2600), (w, h)
idat, i = b"", 8
while i < len(data):
    n, = struct.unpack(">I", data[i:i + 4]); kind = data[i + 4:i + 8]
    if kind == b"IDAT": idat += data[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(idat)
assert len(set(raw)) > 64, "page looks blank"     # text, tables and charts give many values
assert len(data) > 50000, len(data)
PY
fi

# ---- the report at the end of a run with two systems (native and fake run the CPU self-tests)
"$GVB" run --systems native,fake --metrics SELF-001,SELF-006 --output "$TMP/two" >"$TMP/two.out" 2>&1; rc=$?
D=$(ls -d "$TMP"/two/*/ 2>/dev/null | head -1)
check "run with two systems writes report.md and report.html" bash -c "[ $rc -eq 0 ] && [ -s '${D}report.md' ] && [ -s '${D}report.html' ]"
check "run with two systems ends by naming report.html" bash -c "[ \"\$(tail -1 '$TMP/two.out')\" = 'report: ${D}report.html (+ report.md)' ]"
check "run's report names both systems" grep -q '^- Systems: native, fake' "${D}report.md"
"$GVB" run --systems fake --metrics SELF-001 --output "$TMP/one" >/dev/null 2>&1
check "run with one system writes no report" bash -c "[ ! -e \"\$(ls -d '$TMP'/one/*/)report.md\" ]"
"$GVB" run --systems native,fake --metrics SELF-001 --json-only --output "$TMP/jo" >/dev/null 2>&1
check "--json-only writes no report" [ "$(ls "$TMP"/jo/*/ | tr '\n' ' ')" = "results.json " ]

summary report
[ $FAILED -eq 0 ]
