#!/usr/bin/env bash
# Reads the linker maps of the `make size` firmwares and reports what the
# allocator costs: the sizes of the input sections that come from the
# allocator's objects (paths containing /lib/ under the firmware's build
# directory), by output section, and separately the archive members
# (libgcc helpers, libc routines) that only the allocator pulled in.  A
# member another part of the firmware (crt0, main) needed first is not
# charged to the allocator: the map names the first object that wanted it.
#
# Usage: bench/size-report.sh CPU=MAP...
set -u
target_m0plus=1536 # bytes of allocator .text on Cortex-M0+ (issue target)

report() {
    local cpu=$1 map=$2
    local objdir
    objdir=$(dirname "$map")/lib/
    [ -r "$map" ] || { echo "size-report: cannot read '$map': no such file" >&2; return 2; }
    awk -v objdir="$objdir" -v cpu="$cpu" -v target="$([ "$cpu" = m0plus ] && echo $target_m0plus)" '
    function hex(s,   i, v) {
        v = 0; s = tolower(s); sub(/^0x/, "", s)
        for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return v
    }
    function is_lib(f) { return index(f, objdir) == 1 }
    function kind(out) {
        if (out == ".text") return "text"
        if (out == ".rodata") return "rodata"
        if (out == ".data") return "data"
        if (out == ".bss") return "bss"
        return ""
    }
    function add(name, size, file,   k) {
        k = kind(out)
        if (k == "" || size == 0) return
        if (is_lib(file)) {
            lib[k] += size
            if (k == "text" || k == "rodata") detail[name] += size
        } else {
            member_size[file, k] += size
        }
    }
    BEGIN { phase = 0 }
    /^Archive member included to satisfy reference by file/ { phase = 1; next }
    /^Discarded input sections/ || /^Memory Configuration/ { phase = 2; next }
    /^Linker script and memory map/ { phase = 3; next }
    phase == 1 {
        if ($0 ~ /^[^ \t]/) {          # an archive member (maybe with its referrer)
            member = $1
            rest = $0; sub(/^[^ \t]+[ \t]*/, "", rest)
            if (rest == "") next
        } else {
            rest = $0; sub(/^[ \t]+/, "", rest)
        }
        referrer = rest; sub(/ \([^)]*\)$/, "", referrer)
        sym = rest; sub(/^.* \(/, "", sym); sub(/\)$/, "", sym)
        nmembers++; mem[nmembers] = member; ref[nmembers] = referrer; why[nmembers] = sym
        next
    }
    phase == 3 && /^\.[^ \t]/ { out = $1; pending = ""; next }
    phase == 3 && /^ [^ \t*]/ {
        if (NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/) { add($1, hex($3), $4); pending = "" }
        else if (NF == 1) pending = $1
        next
    }
    phase == 3 && pending != "" && /^[ \t]+0x[0-9a-f]+[ \t]+0x[0-9a-f]+[ \t]+[^ \t]/ {
        add(pending, hex($2), $3); pending = ""; next
    }
    phase == 3 { pending = "" }
    END {
        # Members pulled in by the allocator, directly or through another such member.
        do {
            changed = 0
            for (i = 1; i <= nmembers; i++)
                if (!(mem[i] in charged) && (is_lib(ref[i]) || (ref[i] in charged))) {
                    charged[mem[i]] = why[i]; changed = 1
                }
        } while (changed)
        helpers = 0; helper_list = ""; libc = 0; libc_list = ""
        for (m in charged) {
            s = member_size[m, "text"] + member_size[m, "rodata"]
            short = m; sub(/^.*\//, "", short)
            item = sprintf("%s %d (%s)", short, s, charged[m])
            if (m ~ /libgcc\.a\(/) { helpers += s; helper_list = helper_list "\n          " item }
            else { libc += s; libc_list = libc_list "\n          " item }
        }
        printf "%-13s allocator .text %5d  .rodata %4d  .data %3d  .bss %4d", cpu, lib["text"], lib["rodata"], lib["data"], lib["bss"]
        if (target != "" && lib["text"] > 0)
            printf "   target .text <= %d: %s", target, lib["text"] <= target ? "PASS" : "FAIL"
        printf "\n"
        printf "        libgcc helpers only the allocator needs: %d bytes%s\n", helpers, helper_list
        printf "        libc routines only the allocator needs:  %d bytes%s\n", libc, libc_list
        printf "        flash total (allocator .text+.rodata+.data, helpers, libc): %d bytes\n", \
            lib["text"] + lib["rodata"] + lib["data"] + helpers + libc
        n = 0
        for (d in detail) { n++; names[n] = d }
        # largest first (insertion sort: a few dozen sections)
        for (i = 2; i <= n; i++) {
            v = names[i]; j = i - 1
            while (j > 0 && detail[names[j]] < detail[v]) { names[j + 1] = names[j]; j-- }
            names[j + 1] = v
        }
        print "        by function:"
        line = "          "
        for (i = 1; i <= n; i++) {
            fn = names[i]; sub(/^\.(text|rodata)\./, "", fn)
            item = sprintf("%s %d", fn, detail[names[i]]) (i < n ? "," : "")
            if (length(line) + length(item) > 100) { print line; line = "          " }
            line = line (line ~ /[^ ]$/ ? " " : "") item
        }
        if (n) print line
        if (lib["text"] == 0) exit 3
    }' "$map"
}

echo "allocator flash cost (release build; -instr: -DUMM_INSTRUMENT; -Os -ffunction-sections -fdata-sections, --gc-sections, newlib-nano; bytes)"
status=0
for arg in "$@"; do
    report "${arg%%=*}" "${arg#*=}" || status=$?
done
if [ "$status" -ne 0 ]; then
    echo "size-report: no allocator sections found in a map" >&2
fi
exit "$status"
