#!/usr/bin/env bash
# The build's two libraries, found or fetched, so that `make` and `make test` need no set-up
# step: jansson (JSON, every build) and cmocka (the unit tests). Called by the Makefile
# with the ones it needs when their headers are not where it looks:
#   tools/deps.sh jansson [cmocka]
# A header already in .deps/usr/include or on the compiler's path: nothing to do (so a .deps/
# copied to a machine without network is used as it is). Otherwise, as root: apt-get install
# the -dev packages. Not root: apt-get download the Debian packages and unpack them with
# dpkg -x into .deps/ (the Makefile looks there), no root needed. Neither: one error line
# naming the packages. Exit 0 when every header is there afterwards.
set -u
DEPS_DIR=${DEPS_DIR:-.deps}
CC=${CC:-cc}

# packages to install (root) and to unpack (no root: the runtime library too, as nothing
# installs the -dev package's dependencies)
install_pkgs() { case $1 in jansson) echo libjansson-dev ;; cmocka) echo libcmocka-dev ;; esac; }
unpack_pkgs() { case $1 in jansson) echo libjansson-dev ;; cmocka) echo libcmocka-dev libcmocka0 ;; esac; }

have() { # have LIB: its header in .deps or where the compiler finds it
    [ -f "$DEPS_DIR/usr/include/$1.h" ] && return 0
    printf '#include <%s.h>\n' "$1" | "$CC" -E -x c - >/dev/null 2>&1
}

missing=()
for lib in "$@"; do
    case $lib in jansson | cmocka) ;; *) echo "deps: unknown library '$lib' (jansson, cmocka)" >&2; exit 2 ;; esac
    have "$lib" || missing+=("$lib")
done
[ ${#missing[@]} -eq 0 ] && exit 0

headers=$(printf '%s.h ' "${missing[@]}")
headers=${headers% }
pkgs=$(for l in "${missing[@]}"; do install_pkgs "$l"; done)
pkgs=${pkgs//$'\n'/ }
log=$(mktemp -t gvb-deps.XXXXXX)
trap 'rm -rf "$log" ${work:+"$work"}' EXIT

fail() { # one line: the headers, why (with the tool's last error), the packages
    local said
    said=$(grep -E '^(E|dpkg[^:]*): ' "$log" 2>/dev/null | tail -n 1)
    echo "deps: error: cannot get $headers ($1${said:+: $said}); install Debian/Ubuntu's" \
         "$pkgs (apt-get install $pkgs), or unpack them into $DEPS_DIR/ (see README.md)" >&2
    exit 1
}

command -v apt-get >/dev/null || fail "no apt-get here"

if [ "$(id -u)" -eq 0 ]; then
    echo "deps: $headers not found: installing $pkgs with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # word splitting of the package list is meant
    apt_install() { apt-get install -y -qq --no-install-recommends $pkgs >>"$log" 2>&1; }
    # fresh images often have no package lists: update once, then try again
    apt_install || { apt-get update -qq >>"$log" 2>&1 && apt_install; } || fail "apt-get install failed"
else
    unpack=$(for l in "${missing[@]}"; do unpack_pkgs "$l"; done)
    unpack=${unpack//$'\n'/ }
    echo "deps: $headers not found and not root: unpacking Debian's $unpack into $DEPS_DIR/" \
         "(apt-get download + dpkg -x)"
    work=$(mktemp -d -t gvb-deps.XXXXXX)
    mkdir -p "$DEPS_DIR" || fail "$DEPS_DIR cannot be created"
    # shellcheck disable=SC2086
    (cd "$work" && apt-get download $unpack) >>"$log" 2>&1 ||
        fail "apt-get download failed; as root, apt-get update may be needed"
    for deb in "$work"/*.deb; do
        dpkg -x "$deb" "$DEPS_DIR" >>"$log" 2>&1 || fail "dpkg -x ${deb##*/} failed"
    done
fi

for lib in "${missing[@]}"; do
    have "$lib" || fail "still not found after the install"
done
exit 0
