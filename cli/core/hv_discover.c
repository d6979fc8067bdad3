/*
 * hv_discover.c - heap discovery.  Every candidate is validated (magic,
 * version, self) before it is believed; the list walk is bounded and keeps a
 * visited set, so a looped or smashed next_heap cannot hang it.
 */
#include "hv_discover.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_bytes.h"
#include "umm_format.h"

static void note(struct hv_discovery *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct hv_discovery *d, const char *fmt, ...)
{
    if (d->note_count >= sizeof d->notes / sizeof d->notes[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->notes[d->note_count++], sizeof d->notes[0], fmt, ap);
    va_end(ap);
}

int hv_probe_control(struct hv_snapshot *snap, uint64_t addr, int *big_endian)
{
    uint8_t fixed[UMM_CTL_FIXED_BYTES(8)];
    if (addr % 8 != 0 || hv_snapshot_read(snap, addr, fixed, 8) < 0)
        return 0;
    int be;
    if (hv_rd32(fixed, 0) == UMM_FMT_MAGIC)
        be = 0;
    else if (hv_rd32(fixed, 1) == UMM_FMT_MAGIC)
        be = 1;
    else
        return 0;
    unsigned p = fixed[UMM_CTL_PTR_BYTES];
    if (fixed[UMM_CTL_VERSION] != UMM_FMT_VERSION || (p != 4 && p != 8))
        return 0;
    if (hv_snapshot_read(snap, addr, fixed, UMM_CTL_FIXED_BYTES(p)) < 0)
        return 0;
    if (hv_rdn(fixed + UMM_CTL_SELF, p, be) != addr)
        return 0;
    if (big_endian)
        *big_endian = be;
    return 1;
}

static struct hv_heap_ref *find_ref(struct hv_discovery *d, uint64_t addr)
{
    for (size_t i = 0; i < d->count; i++) {
        if (d->refs[i].address == addr)
            return &d->refs[i];
    }
    return NULL;
}

int hv_discovery_add(struct hv_discovery *d, const char *name, int format, uint64_t address)
{
    struct hv_heap_ref *have = find_ref(d, address);
    if (have) {
        /* A symbol names a heap better than its place in the list does. */
        if (strchr(have->name, '[') && !strchr(name, '['))
            snprintf(have->name, sizeof have->name, "%s", name);
        return 0;
    }
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct hv_heap_ref *r = realloc(d->refs, cap * sizeof *r);
        if (!r)
            return -1;
        d->refs = r;
        d->cap = cap;
    }
    struct hv_heap_ref *r = &d->refs[d->count++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->format = format;
    r->address = address;
    return 0;
}

static int read_addr(struct hv_snapshot *snap, uint64_t at, unsigned p, int be, uint64_t *out)
{
    uint8_t buf[8];
    if (hv_snapshot_read(snap, at, buf, p) < 0)
        return -1;
    *out = hv_rdn(buf, p, be);
    return 0;
}

static int follow_list(struct hv_discovery *d, struct hv_snapshot *snap, const struct hv_elf *elf,
                       const struct hv_symbol *list)
{
    unsigned p = (unsigned)elf->ptr_bytes;
    int be = elf->big_endian;
    uint64_t at, visited[UMM_FMT_MAX_HEAPS];
    size_t seen = 0;
    if (read_addr(snap, list->address, p, be, &at) < 0) {
        note(d, "umm_heap_list at 0x%llx is not in the dump", (unsigned long long)list->address);
        return 0;
    }
    while (at != 0) {
        for (size_t i = 0; i < seen; i++) {
            if (visited[i] == at) {
                note(d, "umm_heap_list loops back to 0x%llx", (unsigned long long)at);
                return 0;
            }
        }
        if (seen == UMM_FMT_MAX_HEAPS) {
            note(d, "umm_heap_list has more than %u heaps", UMM_FMT_MAX_HEAPS);
            return 0;
        }
        if (!hv_probe_control(snap, at, NULL)) {
            note(d, "umm_heap_list[%zu] = 0x%llx is not a valid control block", seen,
                 (unsigned long long)at);
            return 0;
        }
        visited[seen] = at;
        char name[32];
        snprintf(name, sizeof name, "umm_heap_list[%zu]", seen);
        if (hv_discovery_add(d, name, HV_FORMAT_HEAPVIEW, at) < 0)
            return -1;
        seen++;
        if (read_addr(snap, at + UMM_CTL_NEXT_HEAP(p), p, be, &at) < 0)
            return 0;
    }
    return 0;
}

static int ref_cmp(const void *a, const void *b)
{
    const struct hv_heap_ref *x = a, *y = b;
    return x->address < y->address ? -1 : x->address > y->address;
}

static int scan_magic(struct hv_discovery *d, struct hv_snapshot *snap)
{
    size_t count;
    const struct hv_range *ranges = hv_source_ranges(snap->src, &count);
    for (size_t i = 0; i < count; i++) {
        uint64_t start = (ranges[i].address + 7) & ~(uint64_t)7;
        uint64_t end = ranges[i].address + ranges[i].length;
        const uint8_t *view = start < end ? hv_source_view(snap->src, start, (size_t)(end - start)) : NULL;
        for (uint64_t a = start; a + 8 <= end && a >= start; a += 8) {
            uint8_t magic[4];
            if (view)
                memcpy(magic, view + (a - start), 4);
            else if (hv_snapshot_read(snap, a, magic, 4) < 0)
                continue;
            if (hv_rd32(magic, 0) != UMM_FMT_MAGIC && hv_rd32(magic, 1) != UMM_FMT_MAGIC)
                continue;
            if (!hv_probe_control(snap, a, NULL))
                continue;
            char name[40];
            snprintf(name, sizeof name, "heap@0x%llx", (unsigned long long)a);
            if (hv_discovery_add(d, name, HV_FORMAT_HEAPVIEW, a) < 0)
                return -1;
            if (d->count >= UMM_FMT_MAX_HEAPS)
                return 0;
        }
    }
    return 0;
}

int hv_discover(struct hv_discovery *d, struct hv_snapshot *snap, const struct hv_elf *elf, int scan,
                int upstream)
{
    if (elf && elf->sym_count > 0) {
        unsigned p = (unsigned)elf->ptr_bytes;
        int be = elf->big_endian;
        const struct hv_symbol *list = hv_elf_lookup(elf, "umm_heap_list");
        if (list && follow_list(d, snap, elf, list) < 0)
            return -1;
        /* umm_heap objects: {pheap, heap_size, ctl, blocks_cache, bins_cache},
         * five address-sized fields, or the first three in older builds. */
        for (size_t i = 0; i < elf->sym_count; i++) {
            const struct hv_symbol *s = &elf->syms[i];
            if (s->is_func || (s->size != 3u * p && s->size != 5u * p))
                continue;
            uint64_t ctl;
            if (read_addr(snap, s->address + 2u * p, p, be, &ctl) < 0 || ctl == 0)
                continue;
            if (hv_probe_control(snap, ctl, NULL) && hv_discovery_add(d, s->name, HV_FORMAT_HEAPVIEW, ctl) < 0)
                return -1;
        }
        const struct hv_symbol *cur = hv_elf_lookup(elf, "umm_heap_current");
        if (cur && (upstream || d->count == 0)) {
            uint64_t pheap, size;
            uint8_t nb[2];
            if (read_addr(snap, cur->address, p, be, &pheap) == 0 &&
                read_addr(snap, cur->address + p, p, be, &size) == 0 &&
                hv_snapshot_read(snap, cur->address + 2u * p, nb, 2) == 0) {
                if (pheap != 0 && hv_rd16(nb, be) != 0) {
                    if (hv_discovery_add(d, "umm_heap_current", HV_FORMAT_UPSTREAM, pheap) < 0)
                        return -1;
                    struct hv_heap_ref *r = find_ref(d, pheap);
                    r->size = size;
                    r->numblocks = hv_rd16(nb, be);
                    r->big_endian = be;
                } else {
                    note(d, "umm_heap_current is zero: the upstream heap is not initialised");
                }
            } else {
                note(d, "umm_heap_current at 0x%llx is not in the dump", (unsigned long long)cur->address);
            }
        }
    }
    if (d->count == 0 && scan) {
        if (scan_magic(d, snap) < 0)
            return -1;
        d->scanned = d->count > 0;
    }
    if (d->count > 1)
        qsort(d->refs, d->count, sizeof *d->refs, ref_cmp);
    return 0;
}

void hv_discovery_free(struct hv_discovery *d)
{
    free(d->refs);
    memset(d, 0, sizeof *d);
}
