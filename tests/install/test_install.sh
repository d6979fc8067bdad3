#!/usr/bin/env bash
# make install into a scratch prefix, then build and run a program against
# the installed library through pkg-config, release and instrumented; make
# uninstall must leave nothing of ours behind.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
pass=0 fail=0
check() { # name, command...
    local name=$1; shift
    if "$@" >"$prefix/.log" 2>&1; then pass=$((pass + 1)); echo "ok   install: $name"
    else fail=$((fail + 1)); echo "FAIL install: $name"; sed 's/^/    /' "$prefix/.log" | tail -15; fi
}
check "make install" make --no-print-directory -C "$top" install PREFIX="$prefix/usr"
cat > "$prefix/prog.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <umm_malloc.h>
#ifdef UMM_INSTRUMENT
#include <umm_diag.h>
#endif
static _Alignas(8) uint8_t region[8192];
int main(void)
{
    umm_heap h;
    umm_multi_init_heap(&h, region, sizeof region);
    char *p = umm_multi_malloc(&h, 100);
    if (!p || (uintptr_t)p % 8) return 1;
    umm_multi_free(&h, p);
#ifdef UMM_INSTRUMENT
    if (!umm_multi_integrity_check(&h)) return 2;
#endif
    puts("ok");
    return 0;
}
C
export PKG_CONFIG_PATH="$prefix/usr/lib/pkgconfig"
for pc in umm umm-instr; do
    check "pkg-config $pc builds and runs a program" bash -c \
        "cc -std=c11 -Wall -Werror \$(pkg-config --cflags $pc) '$prefix/prog.c' \$(pkg-config --libs $pc) -o '$prefix/prog-$pc' && '$prefix/prog-$pc' | grep -qx ok"
done
check "drop-in sources compile freestanding" bash -c \
    "cd '$prefix/usr/share/heapview/lib' && cc -std=c11 -ffreestanding -Wall -Werror -I. -Iport -c *.c port/*.c"
# The README's C example compiles against the installed headers.
sed -n '/^```c$/,/^```$/p' "$top/README.md" | sed '1d;$d' > "$prefix/readme.c"
check "README C example compiles" bash -c \
    "test -s '$prefix/readme.c' && cc -std=c11 -Wall -Wextra -Werror -Wno-missing-prototypes -I'$prefix/usr/include/umm' -c '$prefix/readme.c' -o '$prefix/readme.o'"
check "FORMAT.md installed" test -s "$prefix/usr/share/doc/heapview/FORMAT.md"
# GDB with a data directory holding what install put under share/gdb finds
# the umm-* commands by itself (-nx: no ~/.gdbinit involved).
if command -v gdb-multiarch >/dev/null; then
    check "GDB auto-loads the umm-* commands" bash -c \
        "cp -r \"\$(gdb-multiarch -batch -ex 'show data-directory' | sed -n 's/.*\"\(.*\)\".*/\\1/p')\" '$prefix/gdbdata' &&
         cp '$prefix/usr/share/gdb/python/gdb/command/heapview_umm.py' '$prefix/gdbdata/python/gdb/command/' &&
         gdb-multiarch -batch -nx -data-directory '$prefix/gdbdata' -ex 'help umm-walk' | grep -q umm-walk"
fi
check "make uninstall" make --no-print-directory -C "$top" uninstall PREFIX="$prefix/usr"
check "nothing left but directories" bash -c "[ -z \"\$(find '$prefix/usr' -type f)\" ] || { find '$prefix/usr' -type f; false; }"
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
