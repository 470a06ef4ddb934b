# Shared helpers for the shell tests: counters and assertions. Sourced, not run.
GVB=${GVB:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/${BUILD:-build}/gpu-virt-bench}
PASSED=0; FAILED=0; SKIPPED=0
TMP=$(mktemp -d /tmp/gvb-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

ok()   { PASSED=$((PASSED + 1)); echo "  ok    $*"; }
bad()  { FAILED=$((FAILED + 1)); echo "  FAIL  $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "  skip  $*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}
# json_get FILE PY_EXPR: evaluates a Python expression over the parsed file `d`
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# result FILE SYSTEM METRIC FIELD
result() {
    python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["results"]:
    if r["system"] == sys.argv[2] and r["metric"] == sys.argv[3]:
        v, parts = r, sys.argv[4].split(".")
        while parts:  # keys may hold dots ("t0.pid"): take the longest that exists
            if isinstance(v, list):
                v, parts = v[int(parts[0])], parts[1:]
                continue
            for n in range(len(parts), 0, -1):
                if ".".join(parts[:n]) in v:
                    v, parts = v[".".join(parts[:n])], parts[n:]
                    break
            else:
                raise KeyError(".".join(parts))
        print(v)
        break
PY
}
# PIDs of workers of THIS binary still alive (by executable path, so that test runs of other
# checkouts on the same machine do not count).
leftover_workers() {
    local exe p
    exe=$(readlink -f "$GVB")
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] && tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q __worker && echo "${p#/proc/}"
    done
    return 0
}
# PIDs whose command line (arguments joined by spaces) matches the extended regex $1: pgrep -f
# without procps. As with pgrep, write "[f]oo" so that no command line quoting it matches.
cmdline_pids() {
    local p
    for p in /proc/[0-9]*; do
        tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qE -- "$1" && echo "${p#/proc/}"
    done
    return 0
}
summary() { echo "$1: $PASSED passed, $FAILED failed, $SKIPPED skipped"; }
