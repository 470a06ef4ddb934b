#!/usr/bin/env bash
# The catalog is the one place that knows a metric (docs/architecture.md, "Adding a metric"):
# the report and the systems name no metric ID, the docs have a heading for every listed
# metric and no other, and the usage names every category.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

echo "catalog:"
# ---- no metric ID in the code of src/report and src/systems (comments may name one)
# strip_comments FILE: the file with its C comments blanked, string literals kept
strip_comments() {
    python3 - "$1" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
tok = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
print(tok.sub(lambda m: m.group(0) if m.group(0)[0] in "\"'" else " ", src))
PY
}
hits=""
for f in src/report/*.[ch] src/systems/*.[ch]; do
    h=$(strip_comments "$f" | grep -nE '\b[A-Z]+-[0-9]{3}\b' | sed "s|^|$f:|")
    [ -n "$h" ] && hits="$hits$h"$'\n'
done
check "no metric ID in src/report or src/systems code (facts belong in catalog.def)${hits:+: $hits}" [ -z "$hits" ]

# ---- files do one job each: none above 900 lines (docs/architecture.md)
long=$(wc -l src/*.c src/*/*.[ch] src/*/*.cu src/*/*.def | awk '$2 != "total" && $1 > 900 {print $2 " " $1}' | tr '\n' ' ')
check "no source file above 900 lines${long:+: $long}" [ -z "$long" ]

# ---- processes are started in core/spawn.c and core/child.c only (docs/architecture.md)
spawners=$(python3 - src/*/*.c src/*.c <<'PY'
import re, sys
tok = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
call = re.compile(r'\b(fork|vfork|posix_spawnp?|execve|execv|execvp|execl|execlp)\s*\(')
for f in sys.argv[1:]:
    if f in ("src/core/spawn.c", "src/core/child.c"):
        continue
    code = tok.sub(" ", open(f).read())
    if call.search(code):
        print(f, end=" ")
PY
)
check "processes started only in core/spawn.c and core/child.c${spawners:+: also in $spawners}" [ -z "$spawners" ]

# ---- the listed metrics are the documented ones
listed=$("$GVB" list --format json | python3 -c 'import json,sys; print(" ".join(sorted(m["id"] for m in json.load(sys.stdin))))')
documented=$(grep -hoE '^## [A-Z]+-[0-9]{3}\b' docs/metrics/*.md | cut -c4- | sort | tr '\n' ' ' | sed 's/ $//')
check "list names exactly the metrics docs/metrics/*.md has a '## ID' heading for" [ "$listed" = "$documented" ]
n=$(wc -w <<<"$listed")
check "list prints one line per listed metric ($n)" [ "$("$GVB" list | grep -cE '^[A-Z]+-[0-9]{3} ')" -eq "$n" ]
all=$("$GVB" list --all --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d) - sum(m["category"] in ("selftest", "workload") for m in d))')
check "list --all adds the self-tests and the workload metrics and nothing else" [ "$all" -eq "$n" ]
wl=$("$GVB" list --all --format json | python3 -c 'import json,sys; print(" ".join(sorted(m["id"] for m in json.load(sys.stdin) if m["category"] == "workload")))')
check "the workload metrics have their '## ID' headings in docs/workload.md" \
    [ "$wl" = "$(grep -hoE '^## WL-[0-9]{3}\b' docs/workload.md | cut -c4- | sort | tr '\n' ' ' | sed 's/ $//')" ]

# ---- docs/report.md's table of use cases lists the metrics the catalog tags for each
tagged=$("$GVB" report tests/fixtures/synthetic-h100-a.json --format json | python3 -c 'import json,sys; print("; ".join(", ".join(u["metrics"]) for u in json.load(sys.stdin)["recommendations"]))')
table=$(sed -n '/^| use case | metrics |/,/^$/p' docs/report.md | sed -n '3,$p' | grep '^|' | cut -d'|' -f3 | sed 's/^ *//; s/ *$//' | paste -sd';' | sed 's/;/; /g')
check "docs/report.md's use-case table has the catalog's metrics of each use case" [ "${tagged:-none}" = "$table" ]

# ---- every category of the catalog is in the usage of --category and accepted by it
cats=$("$GVB" list --format json | python3 -c 'import json,sys; print(" ".join(dict.fromkeys(m["category"] for m in json.load(sys.stdin))))')
usage=$("$GVB" help | sed -n '/--category LIST/,/union with --metrics/p' | tr -c 'a-z\n' ' ')
missing=""
for c in $cats; do
    grep -qw "$c" <<<"$usage" || missing="$missing $c"
done
check "help's --category names every category${missing:+ (missing:$missing)}" [ -z "$missing" ]
err=$("$GVB" run --category gpu 2>&1 >/dev/null)
check "an unknown --category lists the catalog's categories" [ "$err" = "gpu-virt-bench: error: unknown category 'gpu' ($(sed 's/ /, /g' <<<"$cats"))" ]

summary catalog
[ $FAILED -eq 0 ]
