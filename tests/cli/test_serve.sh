#!/usr/bin/env bash
# `serve`, the built-in LLM serving workload, without a GPU: its options are checked before any
# GPU work (exit 2, one line naming the option), and without a GPU it stops with exit 3 and one
# line, as `run` does. docs/workload.md. (On a GPU, tests/gpu/run.sh runs it.)
set -u
. "$(dirname "$0")/../lib.sh"

echo "serve:"
usage_err() { # usage_err WORDS_EXPECTED ARGS...: exit 2, one stderr line that says WORDS_EXPECTED
    local says=$1; shift
    "$GVB" serve "$@" >"$TMP/u.out" 2>"$TMP/u.err"
    [ $? -eq 2 ] && [ "$(wc -l <"$TMP/u.err")" -eq 1 ] && grep -qF -- "$says" "$TMP/u.err" && [ ! -s "$TMP/u.out" ]
}
check "an unknown option: exit 2 naming it" usage_err "unknown option '--bogus'" --bogus
check "--layers 0: exit 2" usage_err "--layers must be a whole number 1..64" --layers 0
check "--layers 65 (the stack holds 64): exit 2" usage_err "1..64" --layers 65
check "--max-batch 0: exit 2" usage_err "--max-batch" --max-batch 0
check "--requests abc: exit 2" usage_err "--requests" --requests abc
check "--hidden not a multiple of 2 x --heads: exit 2" usage_err "multiple of 2 x --heads" --hidden 100 --heads 3
check "--prompt-len 9:3: exit 2" usage_err "--prompt-len is MIN:MAX" --prompt-len 9:3
check "--output-len 0: exit 2" usage_err "--output-len" --output-len 0
check "prompts and outputs longer than --max-len: exit 2 with the length needed" usage_err "need --max-len 768 or more (got 512)" --max-len 512
check "--memory 0: exit 2" usage_err "--memory" --memory 0
check "--seed without a value: exit 2" usage_err "'--seed' needs a value" --seed
check "a stray argument: exit 2" usage_err "unexpected argument 'x'" x
check "serve --help: the usage, with serve's options" bash -c "'$GVB' serve --help | grep -q -- '--prompt-len MIN:MAX'"
check "help lists serve and the built-in workload" bash -c "'$GVB' help | grep -q '^  serve ' && '$GVB' help | grep -q -- '--builtin llm-serve'"

if [ -e /dev/nvidia0 ] || [ -e /dev/nvidiactl ]; then
    skip "no GPU: exit 3 (this machine has a GPU)"
else
    "$GVB" serve --requests 4 >"$TMP/ng.out" 2>"$TMP/ng.err"; rc=$?
    check "no GPU: exit 3 with one clear line ($(cat "$TMP/ng.err"))" \
        bash -c "[ $rc -eq 3 ] && [ \$(wc -l <'$TMP/ng.err') -eq 1 ] && grep -q '^gpu-virt-bench: error: serve: no usable CUDA GPU' '$TMP/ng.err' && [ ! -s '$TMP/ng.out' ]"
    # the options are checked first: a bad one is a usage error even without a GPU
    check "no GPU, a bad option: still exit 2" usage_err "--layers" --layers 0
fi
summary serve
