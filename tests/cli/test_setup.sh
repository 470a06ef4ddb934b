#!/usr/bin/env bash
# A new user's two commands: tools/deps.sh (the libraries, found, installed as root or unpacked
# into .deps/ without root, else one error line naming the packages) against a fake apt-get,
# id and compiler; the Makefile's deps step; what `make run` runs (native, mps, hami when its
# library is found, --limits auto) and that it ends with the binary's exit code.
set -u
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEPS=$ROOT/tools/deps.sh
BIN=$TMP/bin SYS=$TMP/sysroot
mkdir -p "$BIN" "$SYS/include"

# A fake world: `id -u` says $FAKE_UID; the compiler finds a header when $SYS/include has it;
# apt-get logs its arguments, needs package lists ($TMP/lists) to find anything, `update`
# makes them unless $FAKE_OFFLINE, `install` puts the headers into $SYS, `download` writes
# real .deb files (dpkg-deb) holding the headers and a library.
cat >"$BIN/id" <<'EOF'
#!/bin/sh
echo "$FAKE_UID"
EOF
cat >"$BIN/cc" <<'EOF'
#!/bin/sh
h=$(sed -n 's/^#include <\(.*\)>$/\1/p')
[ -f "$SYS/include/$h" ]
EOF
cat >"$BIN/apt-get" <<'EOF'
#!/bin/bash
echo "$*" >>"$TMP/apt.log"
header() { case $1 in libjansson-dev) echo jansson.h ;; libcmocka-dev) echo cmocka.h ;; esac; }
case $1 in
update) [ -z "${FAKE_OFFLINE:-}" ] || { echo "E: Failed to fetch (offline)"; exit 100; }
        touch "$TMP/lists" ;;
install | download)
    op=$1; shift
    for p in "$@"; do
        case $p in -*) continue ;; esac
        [ -e "$TMP/lists" ] || { echo "E: Unable to locate package $p"; exit 100; }
        if [ $op = install ]; then
            [ -z "$(header "$p")" ] || touch "$SYS/include/$(header "$p")"
        else
            d=$(mktemp -d); mkdir -p "$d/DEBIAN" "$d/usr/include" "$d/usr/lib/x86_64-linux-gnu"
            printf 'Package: %s\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n' "$p" >"$d/DEBIAN/control"
            [ -z "$(header "$p")" ] || echo "/* $p */" >"$d/usr/include/$(header "$p")"
            touch "$d/usr/lib/x86_64-linux-gnu/$p.so"
            dpkg-deb --build --root-owner-group "$d" "${p}_1_amd64.deb" >/dev/null || exit 1
            rm -rf "$d"
        fi
    done ;;
esac
EOF
chmod +x "$BIN"/*
export TMP SYS
reset_world() { rm -rf "$TMP/lists" "$TMP/apt.log" "$SYS/include"/* "$TMP/deps"; touch "$TMP/apt.log"; }
# deps UID LIBS...: runs the script in the fake world; stdout, stderr, rc in $TMP/d.*
deps() {
    local uid=$1; shift
    FAKE_UID=$uid PATH="$BIN:$PATH" CC="$BIN/cc" DEPS_DIR="$TMP/deps" \
        bash "$DEPS" "$@" >"$TMP/d.out" 2>"$TMP/d.err"; echo $? >"$TMP/d.rc"
}
rc() { cat "$TMP/d.rc"; }
lines() { wc -l <"$1"; }

echo "setup:"
if ! command -v dpkg-deb >/dev/null; then
    skip "tools/deps.sh against a fake apt-get (no dpkg-deb to build its packages)"
else
    # ---- already there: nothing to do, nothing printed, apt-get not called
    reset_world; mkdir -p "$TMP/deps/usr/include"; touch "$TMP/deps/usr/include/jansson.h" "$SYS/include/cmocka.h"
    deps 1000 jansson cmocka
    check "headers in .deps/ or on the compiler's path: exit 0, silent, no apt-get" bash -c "[ $(rc) -eq 0 ] && [ ! -s '$TMP/d.out' ] && [ ! -s '$TMP/d.err' ] && [ ! -s '$TMP/apt.log' ]"

    # ---- root: apt-get install, one line saying so
    reset_world; touch "$TMP/lists"
    deps 0 jansson cmocka
    check "root: exit 0, one line ($(cat "$TMP/d.out"))" bash -c "[ $(rc) -eq 0 ] && [ $(lines "$TMP/d.out") -eq 1 ] && grep -q '^deps: jansson.h cmocka.h not found: installing libjansson-dev libcmocka-dev with apt-get\$' '$TMP/d.out'"
    check "root: apt-get install of the -dev packages, nothing else" [ "$(cat "$TMP/apt.log")" = "install -y -qq --no-install-recommends libjansson-dev libcmocka-dev" ]
    reset_world
    deps 0 jansson
    check "root without package lists: install, update, install again; exit 0" bash -c "[ $(rc) -eq 0 ] && [ \"\$(cut -d' ' -f1 '$TMP/apt.log' | tr '\n' ' ')\" = 'install update install ' ]"
    reset_world
    FAKE_OFFLINE=1 deps 0 jansson
    check "root, offline: exit 1, one line naming the package and apt's last error ($(cat "$TMP/d.err"))" bash -c "[ $(rc) -eq 1 ] && [ $(lines "$TMP/d.err") -eq 1 ] && grep -q \"^deps: error: cannot get jansson.h (apt-get install failed: E: Failed to fetch (offline)); install Debian/Ubuntu's libjansson-dev (apt-get install libjansson-dev)\" '$TMP/d.err'"

    # ---- not root: apt-get download + dpkg -x into .deps/
    reset_world; touch "$TMP/lists"
    deps 1000 cmocka
    check "not root: exit 0, one line ($(cat "$TMP/d.out"))" bash -c "[ $(rc) -eq 0 ] && [ $(lines "$TMP/d.out") -eq 1 ] && grep -q \"^deps: cmocka.h not found and not root: unpacking Debian's libcmocka-dev libcmocka0 into $TMP/deps/ (apt-get download + dpkg -x)\\\$\" '$TMP/d.out'"
    check "not root: downloads the -dev package and the runtime library" [ "$(cat "$TMP/apt.log")" = "download libcmocka-dev libcmocka0" ]
    check "not root: unpacked under .deps/usr (header and library)" [ -f "$TMP/deps/usr/include/cmocka.h" -a -f "$TMP/deps/usr/lib/x86_64-linux-gnu/libcmocka0.so" ]
    check "not root: nothing installed into the system" [ -z "$(ls "$SYS/include")" ]
    reset_world
    deps 1000 jansson cmocka
    check "not root without package lists: exit 1, one line naming the packages ($(cat "$TMP/d.err"))" bash -c "[ $(rc) -eq 1 ] && [ $(lines "$TMP/d.err") -eq 1 ] && grep -q 'cannot get jansson.h cmocka.h (apt-get download failed; as root, apt-get update may be needed: E: Unable to locate package libjansson-dev); install Debian/Ubuntu.s libjansson-dev libcmocka-dev' '$TMP/d.err'"

    # ---- no apt-get at all; an unknown name
    reset_world; mkdir -p "$TMP/nobin"
    for t in mktemp rm grep tail sed; do ln -sf "$(command -v $t)" "$TMP/nobin/$t"; done
    ln -sf "$BIN/id" "$TMP/nobin/id"
    FAKE_UID=0 PATH="$TMP/nobin" CC="$BIN/cc" DEPS_DIR="$TMP/deps" "$(command -v bash)" "$DEPS" jansson >"$TMP/d.out" 2>"$TMP/d.err"; rc=$?
    check "no apt-get: exit 1, one line naming the package ($(cat "$TMP/d.err"))" bash -c "[ $rc -eq 1 ] && [ $(lines "$TMP/d.err") -eq 1 ] && grep -q '^deps: error: cannot get jansson.h (no apt-get here); install Debian/Ubuntu.s libjansson-dev' '$TMP/d.err'"
    deps 0 zlib
    check "an unknown library name: exit 2" [ "$(rc)" -eq 2 ]

    # ---- the Makefile runs the step before compiling, once, and not under -n
    mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS FAKE_UID=0 PATH="$BIN:$PATH" \
           make -s -C "$ROOT" BUILD="${MKB:-$TMP/mkb}" DEPS_DIR="$TMP/deps" JANSSON_PREFIX="$SYS" \
               CMOCKA_PREFIX="$SYS" CC="$BIN/cc" "$@"; }
    reset_world; touch "$TMP/lists"
    mk -n deps >"$TMP/m.out" 2>&1; rc=$?
    check "make -n: the step is not run" bash -c "[ $rc -eq 0 ] && [ ! -s '$TMP/apt.log' ]"
    mk deps >"$TMP/m.out" 2>&1; rc=$?
    check "make deps with both headers missing: tools/deps.sh installs both, one line" bash -c "[ $rc -eq 0 ] && [ \"\$(cat '$TMP/apt.log')\" = 'install -y -qq --no-install-recommends libjansson-dev libcmocka-dev' ] && [ \"\$(cat '$TMP/m.out')\" = 'deps: jansson.h cmocka.h not found: installing libjansson-dev libcmocka-dev with apt-get' ]"
    mk deps >"$TMP/m.out" 2>&1; rc=$?
    check "make deps again: nothing to do, nothing printed" bash -c "[ $rc -eq 0 ] && [ ! -s '$TMP/m.out' ] && [ \$(wc -l <'$TMP/apt.log') -eq 1 ]"
    reset_world
    MKB=$TMP/mkb-fresh FAKE_OFFLINE=1 mk deps >"$TMP/m.out" 2>&1; rc=$?
    check "make deps that cannot get them: fails with the one error line, then make's" bash -c "[ $rc -ne 0 ] && [ \$(wc -l <'$TMP/m.out') -eq 3 ] && sed -n 2p '$TMP/m.out' | grep -q '^deps: error: cannot get jansson.h cmocka.h' && sed -n 3p '$TMP/m.out' | grep -q '^make: \*\*\* .*deps.mk\] Error 1\$'"
fi

# ---- what `make run` runs (make -n: nothing is built or measured)
run_line() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u GVB_HAMI_LIB make -n -s -C "$ROOT" BUILD="${BUILD:-build}" "$@" run 2>&1; }
out=$(run_line HAMI_LIB=/nonexistent/libvgpu.so)
check "make run: native and mps with limits from the GPU" grep -qE "gpu-virt-bench run --systems native,mps --limits auto --output results\$" <<<"$out"
check "make run without HAMi-core: one line saying how to add it" grep -q 'hami left out: no /nonexistent/libvgpu.so; to add it: make run HAMI_LIB=/path/to/libvgpu.so' <<<"$out"
echo "not really a library" >"$TMP/libvgpu.so"
out=$(run_line HAMI_LIB="$TMP/libvgpu.so")
check "make run with HAMi-core found: hami added, with its library" grep -qE "gpu-virt-bench run --systems native,mps,hami --limits auto --hami-lib $TMP/libvgpu.so --output results\$" <<<"$out"
check "make run with HAMi-core found: no 'left out' line" bash -c "! grep -q 'left out' <<<\"\$1\"" _ "$out"
out=$(run_line HAMI_LIB=/nonexistent/libvgpu.so SYSTEMS=native ARGS=--quick)
check "make run SYSTEMS=... ARGS=...: those, and no 'left out' line" bash -c "grep -qE 'gpu-virt-bench run --systems native --limits auto --output results --quick\$' <<<\"\$1\" && ! grep -q 'left out' <<<\"\$1\"" _ "$out"
out=$(run_line HAMI_LIB=/nonexistent/libvgpu.so SYSTEMS=native,hami)
check "make run SYSTEMS=native,hami without the library: passed on, for the binary to refuse" grep -qE "gpu-virt-bench run --systems native,hami --limits auto --hami-lib /nonexistent/libvgpu.so --output results\$" <<<"$out"

# ---- make run without a GPU: the binary's one line, and make fails with its exit code 3
if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
    skip "make run without a GPU (this machine has a GPU)"
else
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" BUILD="${BUILD:-build}" run SYSTEMS=native \
        ARGS="--metrics OH-001 --output $TMP/mr" >"$TMP/mr.out" 2>"$TMP/mr.err"; rc=$?
    check "make run without a GPU: fails, the binary's line and its exit code 3 ($(head -1 "$TMP/mr.err"))" bash -c "[ $rc -ne 0 ] && grep -q '^gpu-virt-bench: error: no usable CUDA GPU' '$TMP/mr.err' && grep -q 'run\] Error 3\$' '$TMP/mr.err'"
    check "make run without a GPU: nothing written" [ -z "$(ls -A "$TMP/mr" 2>/dev/null)" ]
fi

summary setup
[ $FAILED -eq 0 ]
