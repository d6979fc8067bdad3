#!/usr/bin/env bash
# Runs `make test-NAME` for every suite named on the command line, keeps
# each log under build/test-logs/, sums the `N passed, N failed` lines the
# suites print and closes with the total.  A suite that exits non-zero
# without reporting a failure counts as one failure, so a crash can never
# pass silently.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs"
mkdir -p "$logs"
total_pass=0 total_fail=0 total_skip=0 bad_suites=()
for suite in "$@"; do
    log="$logs/$suite.log"
    printf '=== %s\n' "$suite"
    start=$(date +%s)
    make --no-print-directory -C "$top" "test-$suite" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    pass=0 fail=0 skip=0
    # pytest closes with "== 3 passed, 1 skipped in 0.1s ==": read both forms.
    while read -r line; do
        p=$(sed -nE 's/.*\b([0-9]+) passed.*/\1/p' <<<"$line")
        f=$(sed -nE 's/.*\b([0-9]+) failed.*/\1/p' <<<"$line")
        s=$(sed -nE 's/.*\b([0-9]+) skipped.*/\1/p' <<<"$line")
        pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
    done < <(grep -E '\b[0-9]+ (passed|failed)\b' "$log")
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
    if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ]; then bad_suites+=("$suite"); fi
    printf '=== %s: %d passed, %d failed (%ss)\n' "$suite" "$pass" "$fail" "$(( $(date +%s) - start ))"
    total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail)); total_skip=$((total_skip + skip))
done
if [ ${#bad_suites[@]} -gt 0 ]; then
    printf 'failing suites: %s\n' "${bad_suites[*]}"
fi
if [ "$total_skip" -gt 0 ]; then
    printf '%d passed, %d failed, %d skipped\n' "$total_pass" "$total_fail" "$total_skip"
else
    printf '%d passed, %d failed\n' "$total_pass" "$total_fail"
fi
[ "$total_fail" -eq 0 ] && [ "$total_pass" -gt 0 ]
