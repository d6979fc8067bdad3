#!/usr/bin/env bash
# The allocator is freestanding: every lib source compiles with
# -ffreestanding -Wall -Wextra -Werror for Cortex-M0+, Cortex-M4 and RV32,
# release and -DUMM_INSTRUMENT, and the objects need nothing from outside but
# memset/memcpy/memmove/memcmp and the compiler's own runtime (libgcc).
# <string.h> is the one header taken from outside the compiler, and only
# with those four declared (below).
# Proved by listing the undefined symbols of the combined objects and by
# linking them, with only those four functions supplied, into an image.
#
# One check per target and variant; closes with `N passed, N failed`.
# Usage: bench/cross-check.sh OUTDIR ARM_CC RV32_CC "LIB_INC" SRC...
set -u
out=$1 arm_cc=$2 rv_cc=$3 inc=$4
shift 4
srcs=("$@")
allowed_libc="memset memcpy memmove memcmp"
# libgcc helper names (EABI and generic); anything else undefined fails.
runtime_re='^(__aeabi_[a-z0-9_]+|__(u?(div|mod)[sdt]i3|udivmod[sdt]i4|(ash|lsh)[lr][sdt]i3|mul[sdt]i3|(clz|ctz|popcount|ffs|parity)[sdt]i2|bswap[sd]i2|u?cmp[sdt]i2|neg[sdt]i2))$'

passed=0 failed=0
if [ ${#srcs[@]} -eq 0 ]; then
    echo "cross: no allocator sources (LIB_SRCS is empty)"
    echo "0 passed, 1 failed"
    exit 1
fi

mkdir -p "$out/include"
# <string.h> declaring exactly the four functions allowed, for every target:
# the RV32 toolchain has no C library (so no headers), and on ARM it keeps
# newlib from declaring the rest.  Any other string function the lib uses
# is then an implicit declaration, an error under -Werror.
cat > "$out/include/string.h" <<'EOF'
#ifndef BENCH_CROSS_STRING_H
#define BENCH_CROSS_STRING_H
#include <stddef.h>
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif
EOF

# A stand-in for the four functions a freestanding C implementation may
# call; the loops must not turn back into calls to themselves.
cat > "$out/memfuncs.c" <<'EOF'
#include <stddef.h>
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}
void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) *p++ = *q++;
    return d;
}
void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    if (p < q) while (n--) *p++ = *q++;
    else while (n--) p[n] = q[n];
    return d;
}
int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q) return *p - *q;
    return 0;
}
EOF

check() { # name cc nm "target flags" "variant flags"
    local name=$1 cc=$2 nm=$3 tflags=$4 vflags=$5
    local dir="$out/$name" log="$out/$name.log" ok=1 objs=() src obj
    rm -rf "$dir" && mkdir -p "$dir"
    : > "$log"
    for src in "${srcs[@]}"; do
        obj="$dir/$(echo "${src%.c}" | tr / _).o"
        # shellcheck disable=SC2086
        if ! $cc $tflags $vflags -std=c11 -Os -ffreestanding -Wall -Wextra -Werror \
                -isystem "$out/include" $inc -c "$src" -o "$obj" >"$log.one" 2>&1; then
            echo "  $name: '$src' does not compile:"; sed 's/^/    /' "$log.one" | head -20
            ok=0
        fi
        cat "$log.one" >>"$log"
        objs+=("$obj")
    done
    if [ $ok -eq 1 ]; then
        # shellcheck disable=SC2086
        if ! $cc $tflags -nostdlib -r -o "$dir/combined.o" "${objs[@]}" >"$log.one" 2>&1; then
            echo "  $name: partial link failed:"; sed 's/^/    /' "$log.one" | head -10
            ok=0
        fi
    fi
    if [ $ok -eq 1 ]; then
        local sym bad="" runtime=""
        for sym in $($nm -u "$dir/combined.o" | awk '{print $NF}' | sort -u); do
            case " $allowed_libc " in *" $sym "*) continue ;; esac
            if [[ $sym =~ $runtime_re ]]; then runtime="$runtime $sym"; continue; fi
            bad="$bad $sym"
        done
        if [ -n "$bad" ]; then
            echo "  $name: undefined symbols beyond memset/memcpy/memmove/memcmp:$bad"
            ok=0
        fi
        # The real proof: a complete link with only the four supplied.
        # shellcheck disable=SC2086
        if ! $cc $tflags -Os -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns \
                -c "$out/memfuncs.c" -o "$dir/memfuncs.o" >"$log.one" 2>&1 ||
           ! $cc $tflags -nostdlib -nostartfiles -Wl,-e,0 -Wl,--no-gc-sections \
                -o "$dir/check.elf" "$dir/combined.o" "$dir/memfuncs.o" -lgcc >>"$log.one" 2>&1; then
            echo "  $name: link with only memset/memcpy/memmove/memcmp failed:"
            grep -v '^$' "$log.one" | sed 's/^/    /' | head -10
            ok=0
        fi
        [ $ok -eq 1 ] && [ -n "$runtime" ] && echo "  $name: compiler runtime used:$runtime"
    fi
    if [ $ok -eq 1 ]; then
        echo "PASS cross $name"; passed=$((passed + 1))
    else
        echo "FAIL cross $name"; failed=$((failed + 1))
    fi
}

for variant in release instr; do
    vflags=""
    [ $variant = instr ] && vflags="-DUMM_INSTRUMENT"
    check "m0plus-$variant" "$arm_cc" arm-none-eabi-nm "-mcpu=cortex-m0plus -mthumb" "$vflags"
    check "m4-$variant" "$arm_cc" arm-none-eabi-nm "-mcpu=cortex-m4 -mthumb" "$vflags"
    check "rv32-$variant" "$rv_cc" riscv64-unknown-elf-nm "-march=rv32imac -mabi=ilp32" "$vflags"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
