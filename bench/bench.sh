#!/usr/bin/env bash
# `make bench`: replays every trace against the allocator and against the C
# library's malloc and prints, per trace, instructions per operation
# (callgrind), failed allocations at the trace's heap size, the worst and
# the mean single operation in cycles, and the smallest heap that runs the
# trace without a failure, beside the targets of the issue.
#
# Usage: bench/bench.sh REPLAY OUTDIR TRACE...
set -u
replay=$1 out=$2
shift 2
[ $# -gt 0 ] || { echo "bench: no traces given" >&2; exit 2; }
mkdir -p "$out"

target_instr=100
target_failures() { case "$1" in steady*) echo 61 ;; network*) echo 9 ;; grow*) echo 35 ;; esac; }
target_heap() { case "$1" in steady*) echo 74648 ;; network*) echo 33760 ;; grow*) echo 76848 ;; esac; }

has_umm=1
"$replay" --backend umm "$1" >/dev/null 2>&1 || {
    if "$replay" --backend umm "$1" 2>&1 | grep -q "unknown backend"; then has_umm=0; fi
}
have_valgrind=1
command -v valgrind >/dev/null 2>&1 || { have_valgrind=0; echo "bench: valgrind not found: instructions/op not measured" >&2; }

get() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$2"; }

# Instructions per operation inside the allocator: callgrind counts only the
# bench_op_* functions and what they call (--toggle-collect, never nested);
# the replayer's own dispatch code in there (bench_op_*, *_backend_*, all in
# replay.c and not the allocator's) is subtracted from the total.
instr_per_op() { # backend trace ops [replayer]
    local bin=${4:-$replay} tag=$1
    [ -n "${4:-}" ] && tag="$1-instr"
    local cg="$out/callgrind.$tag.$(basename "$2" .trace).out"
    # LD_BIND_NOW: no lazy PLT resolution inside the first call of each kind.
    LD_BIND_NOW=1 valgrind --tool=callgrind --collect-atstart=no --toggle-collect='bench_op_*' \
        --callgrind-out-file="$cg" "$bin" --backend "$1" --callgrind "$2" \
        >"$cg.stdout" 2>"$cg.stderr" || { echo "bench: valgrind failed on '$2':" >&2; tail -5 "$cg.stderr" >&2; return 1; }
    awk -v ops="$3" '
        function name(s,   id) {           # "(12) foo" defines 12, "(12)" reuses it
            if (match(s, /^\([0-9]+\)/)) {
                id = substr(s, 2, RLENGTH - 2); s = substr(s, RLENGTH + 1); sub(/^ /, "", s)
                if (s != "") names[id] = s
                return names[id]
            }
            return s
        }
        function harness(f) { return f ~ /^(bench_op_|umm_backend_|libc_backend_)/ }
        /^totals:/ { total = $2 }
        /^summary:/ { if (total == "") total = $2 }
        /^fn=/ { fn = name(substr($0, 4)); next }
        /^cfn=/ { cfn = name(substr($0, 5)); next }
        /^calls=/ { split(substr($0, 7), c, " "); ncalls = c[1]; skip = 1; next }
        /^([+-]?[0-9]|\*)/ {
            if (skip) {                    # inclusive cost of the call just named
                skip = 0
                # harness -> allocator: that call is one operation of this kind
                if (harness(fn) && !harness(cfn)) {
                    kind = fn; sub(/^.*_/, "", kind)
                    by_kind[kind] += $2; calls_of[kind] += ncalls
                }
                next
            }
            if (harness(fn)) self_harness += $2
            next
        }
        END {
            if (total == "" || ops == 0) exit 1
            printf "%.1f %.1f", (total - self_harness) / ops, self_harness / ops
            for (k in by_kind)
                printf " %s:%.0f:%d", k, by_kind[k] / calls_of[k], calls_of[k]
            printf "\n"
        }' "$cg"
}

# "malloc:230:93466 free:200:93201" -> "malloc 230 (93466 calls), free 200 (93201 calls)"
kinds() { tr ' ' '\n' <<<"$1" | sort | awk -F: 'NF == 3 { printf "%s%s %s (%d calls)", n++ ? ", " : "", $1, $2, $3 }'; }
fmt() { [ -n "${1:-}" ] && printf '%s' "$1" || printf 'n/a'; }
verdict() { # value op target  ->  PASS/FAIL (value <= target)
    awk -v v="$1" -v t="$2" 'BEGIN { if (v == "" || v == "n/a" || v == "none") print "FAIL"; else print (v + 0 <= t + 0) ? "PASS" : "FAIL" }'
}

pass=0 fail=0
row() { # label umm libc target verdict
    printf '  %-22s %12s %12s %12s  %s\n' "$1" "$2" "$3" "$4" "$5"
    case "$5" in PASS) pass=$((pass + 1)) ;; FAIL) fail=$((fail + 1)) ;; esac
}

echo "heapview allocator benchmark: release build, x86-64 -O2; libc malloc for reference"
echo "cycles: TSC ticks (rdtsc between lfences), least of 5 replays per operation, timer overhead subtracted"
status=0
for trace in "$@"; do
    name=$(basename "$trace")
    u="$out/native.umm.$name.txt" l="$out/native.libc.$name.txt"
    if [ $has_umm -eq 1 ]; then
        if ! "$replay" --backend umm --cycles 5 --min-heap "$trace" >"$u" 2>"$u.err"; then
            echo "bench: replay of '$trace' on the allocator failed: $(cat "$u.err")" >&2
            status=1
            continue
        fi
    else
        : >"$u"
    fi
    if ! "$replay" --backend libc --cycles 5 "$trace" >"$l" 2>"$l.err"; then
        echo "bench: replay of '$trace' on libc failed: $(cat "$l.err")" >&2
        status=1
        continue
    fi
    ops=$(get ops "$l")
    heap=$(get heap_bytes "$l")
    ui="" li="" uh="" lh="" ukinds="" lkinds=""
    if [ $have_valgrind -eq 1 ]; then
        if [ $has_umm -eq 1 ]; then read -r ui uh ukinds < <(instr_per_op umm "$trace" "$ops") || status=1; fi
        read -r li lh lkinds < <(instr_per_op libc "$trace" "$ops") || status=1
    fi
    ii=""
    if [ $have_valgrind -eq 1 ] && [ $has_umm -eq 1 ] && [ -n "${REPLAY_INSTR:-}" ]; then
        read -r ii _ _ < <(instr_per_op umm "$trace" "$ops" "$REPLAY_INSTR") || status=1
    fi
    tf=$(target_failures "$name") th=$(target_heap "$name")
    echo
    echo "$name: $ops operations, heap $heap bytes"
    printf '  %-22s %12s %12s %12s  %s\n' "" "heapview" "libc malloc" "target" ""
    row "instructions/op" "$(fmt "$ui")" "$(fmt "$li")" "<= $target_instr" "$(verdict "$ui" $target_instr)"
    if [ -n "$tf" ]; then
        row "failed allocations" "$(fmt "$(get failures "$u")")" "n/a" "<= $tf" "$(verdict "$(get failures "$u")" "$tf")"
    else
        row "failed allocations" "$(fmt "$(get failures "$u")")" "n/a" "" ""
    fi
    row "worst op (cycles)" "$(fmt "$(get cycles_worst "$u")")" "$(fmt "$(get cycles_worst "$l")")" "" ""
    row "mean op (cycles)" "$(fmt "$(get cycles_mean "$u")")" "$(fmt "$(get cycles_mean "$l")")" "" ""
    if [ -n "$th" ]; then
        row "smallest heap (bytes)" "$(fmt "$(get min_heap "$u")")" "n/a" "<= $th" "$(verdict "$(get min_heap "$u")" "$th")"
    else
        row "smallest heap (bytes)" "$(fmt "$(get min_heap "$u")")" "n/a" "" ""
    fi
    if [ -n "$ii" ] && [ -n "$ui" ]; then
        ratio=$(awk -v a="$ii" -v b="$ui" 'BEGIN { printf "%.2f", a / b }')
        row "instrumented instr/op" "$ii" "" "" ""
        row "instrumented/release" "${ratio}x" "" "<= 2.00x" "$(verdict "$ratio" 2.0)"
    fi
    if [ $has_umm -eq 1 ]; then
        echo "  worst heapview op: line $(get cycles_worst_line "$u"): $(get cycles_worst_op "$u" | cut -d' ' -f2-)"
        probe=$(get min_heap_probe_failing "$u")
        [ -n "$probe" ] && [ "${probe%%/*}" != 0 ] &&
            echo "  smallest heap is a binary search; $probe of the next sizes up (8-byte steps) still fail"
        echo "  failures by call: malloc $(get failures_malloc "$u"), calloc $(get failures_calloc "$u")," \
             "memalign $(get failures_memalign "$u"), realloc $(get failures_realloc "$u")"
    fi
    echo "  worst libc op: line $(get cycles_worst_line "$l"): $(get cycles_worst_op "$l" | cut -d' ' -f2-)"
    [ -n "$ukinds" ] && echo "  heapview instructions per call: $(kinds "$ukinds")"
    [ -n "$lkinds" ] && echo "  libc instructions per call:     $(kinds "$lkinds")"
    [ -n "$uh$lh" ] && echo "  (replayer dispatch excluded from instructions/op: ${uh:-n/a} heapview, ${lh:-n/a} libc)"
done
echo
# lib/FORMAT.md sections 3 and 5: header, plus prefix (requested size, seq,
# owner, pre-canary) and at least 4 canary bytes after, before rounding to 8.
echo "overhead per allocation (bytes, before rounding up to 8-byte units):"
echo "  release:      4 (narrow heap), 8 (wide heap > 256 KiB)"
echo "  instrumented: $((4 + 16 + 4)) narrow / $((8 + 16 + 4)) wide on 32-bit targets;" \
     "$((4 + 24 + 4)) / $((8 + 24 + 4)) on 64-bit hosts"
[ $has_umm -eq 0 ] && echo "bench: the allocator has no sources yet: libc only"
echo "targets: $pass PASS, $fail FAIL"
exit $status
