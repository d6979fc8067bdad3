#!/usr/bin/env bash
# Test suite `replay`: the trace replayer that `make bench` relies on.
#  - the allocator runs every bench trace with every block's contents intact,
#    and the C library does too (the replayer itself is sound);
#  - the instrumented allocator, checking its own heap every 1000 operations,
#    finds nothing wrong, and its metrics agree with the trace at the end;
#  - a deliberately overlapping malloc (tests/overlap_malloc.c, preloaded) is
#    caught: the integrity check can fail;
#  - failed allocations are counted as the trace format says, and a failed
#    realloc leaves the old block intact;
#  - --min-heap returns a size that runs clean while 8 bytes less fails;
#  - malformed traces get a one-line error and exit status 2, never a crash.
# Closes with `N passed, N failed`.
# Usage: bench/test-replay.sh REPLAY REPLAY_DIAG OVERLAP_SO WORKDIR TRACE...
set -u
replay=$1 replay_diag=$2 shim=$3 work=$4
shift 4
mkdir -p "$work"
passed=0 failed=0
pass() { echo "PASS replay $1"; passed=$((passed + 1)); }
fail() { echo "FAIL replay $1: $2"; failed=$((failed + 1)); }
get() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }

# Runs the replayer; leaves stdout in $work/out, stderr in $work/err, status in $rc.
run() { "$replay" "$@" >"$work/out" 2>"$work/err"; rc=$?; }

for trace in "$@"; do
    name=$(basename "$trace" .trace)
    # Operations in the file: every line that is not blank, a comment or `heap`.
    want_ops=$(awk '$1 !~ /^(#|heap$)/ && NF > 0' "$trace" | wc -l)
    for backend in umm libc; do
        run --backend "$backend" "$trace"
        if [ $rc -ne 0 ]; then
            fail "$backend-$name" "exit $rc: $(head -1 "$work/err")"
        elif [ "$(get integrity "$work/out")" != ok ]; then
            fail "$backend-$name" "no integrity verdict"
        elif [ "$(get ops "$work/out")" != "$want_ops" ]; then
            fail "$backend-$name" "replayed $(get ops "$work/out") operations, the file has $want_ops"
        elif [ "$backend" = libc ] && [ "$(get failures "$work/out")" != 0 ]; then
            fail "$backend-$name" "libc malloc failed $(get failures "$work/out") allocations"
        else
            pass "$backend-$name"
        fi
    done
done

# The instrumented allocator's own checks along each trace, and its metrics.
for trace in "$@"; do
    name=$(basename "$trace" .trace)
    "$replay_diag" --diag "$trace" >"$work/out" 2>"$work/err"
    rc=$?
    if [ $rc -eq 0 ] && [ "$(get integrity "$work/out")" = ok ]; then
        pass "diag-$name"
    else
        fail "diag-$name" "exit $rc: $(head -1 "$work/err")"
    fi
done

# The checker catches an allocator that hands out overlapping blocks.
if [ -n "${1:-}" ]; then
    LD_PRELOAD="$shim" "$replay" --backend libc "$1" >"$work/out" 2>"$work/err"
    rc=$?
    if [ $rc -eq 3 ] && grep -q '^replay: integrity error in ' "$work/err"; then
        pass "detects-overlap"
    else
        fail "detects-overlap" "exit $rc, stderr: $(head -1 "$work/err")"
    fi
fi

# A request larger than the whole heap fails and counts once; the later
# free is free(NULL) and the later realloc is realloc(NULL, 16).
printf 'heap 1024\nm 1 100000\nf 1\nr 2 16\nf 2\n' >"$work/toobig.trace"
run "$work/toobig.trace"
if [ $rc -eq 0 ] && [ "$(get failures "$work/out")" = 1 ] && [ "$(get failures_malloc "$work/out")" = 1 ]; then
    pass "counts-failure"
else
    fail "counts-failure" "exit $rc, failures $(get failures "$work/out")"
fi

# A realloc that cannot grow fails and leaves the old block and its contents
# in place (checked by the replayer at the free).
printf 'heap 1024\nm 1 100\nr 1 100000\nr 1 200\nf 1\n' >"$work/realloc.trace"
run "$work/realloc.trace"
if [ $rc -eq 0 ] && [ "$(get failures_realloc "$work/out")" = 1 ] && [ "$(get failures "$work/out")" = 1 ]; then
    pass "failed-realloc-keeps-block"
else
    fail "failed-realloc-keeps-block" "exit $rc, failures $(get failures "$work/out"): $(head -1 "$work/err")"
fi

# The smallest heap found runs clean and 8 bytes less does not.
printf 'heap 4096\nm 1 100\nm 2 200\nf 1\nm 3 300\na 4 64 40\nc 5 10 12\nr 2 500\nf 3\n' >"$work/small.trace"
run --min-heap "$work/small.trace"
min=$(get min_heap "$work/out")
if [ $rc -ne 0 ] || ! [[ $min =~ ^[0-9]+$ ]]; then
    fail "min-heap" "exit $rc, min_heap '$min'"
else
    run --heap "$min" "$work/small.trace"
    at=$(get failures "$work/out")
    run --heap $((min - 8)) "$work/small.trace"
    below=$(get failures "$work/out")
    if [ "$at" = 0 ] && [ -n "$below" ] && [ "$below" -gt 0 ] && [ $((min % 8)) -eq 0 ]; then
        pass "min-heap"
    else
        fail "min-heap" "min_heap $min: $at failures there, $below at $((min - 8))"
    fi
fi

# Malformed traces: exit 2, one line on stderr in the `replay: ...` style.
bad() { # name content expected-substring
    printf '%b' "$2" >"$work/bad-$1.trace"
    run "$work/bad-$1.trace"
    if [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "^replay: cannot read .*$3" "$work/err"; then
        pass "rejects-$1"
    else
        fail "rejects-$1" "exit $rc, stderr: $(head -2 "$work/err" | tr '\n' '|')"
    fi
}
bad unknown-op 'heap 64\nx 1 2\n' 'line 2: unknown operation'
bad id-zero 'heap 64\nm 0 8\n' 'line 2: IDs start at 1'
bad id-overflow 'heap 64\nm 99999999999999999999999 8\n' 'line 2: bad or missing ID'
bad missing-size 'heap 64\nm 3\n' 'line 2: bad or missing size'
bad trailing 'heap 64\nf 3 4\n' 'line 2: trailing characters'
bad alignment 'heap 4096\na 1 24 8\n' 'line 2: alignment is not a power of two'
bad live-id 'heap 4096\nm 1 8\nc 1 2 8\n' 'line 3: ID 1 allocated while still live'
bad no-heap 'm 1 8\n' "no 'heap' line"
bad empty '# nothing\n' 'no operations'
run "$work/does-not-exist.trace"
if [ $rc -eq 2 ] && grep -q "^replay: cannot read '.*does-not-exist.trace': " "$work/err"; then
    pass "rejects-missing-file"
else
    fail "rejects-missing-file" "exit $rc"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
