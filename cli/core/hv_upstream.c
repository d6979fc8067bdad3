/*
 * hv_upstream.c - decoder for upstream umm_malloc heaps (facts in
 * /work/shared/UPSTREAM-UMM.md): blocks of BS bytes, 16-bit next/prev with
 * the free flag in next, one free list rooted in block 0, optional poison.
 * Nothing in such a heap says BS or the build options: the caller does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_walk.h"
#include "umm_format.h"

#define UP_FREE 0x8000u
#define UP_POISON_BYTES 10u   /* u16 length + 4 + 4 canary bytes */

static uint64_t rd16_at(const struct hv_heap *h, uint64_t off)
{
    return hv_rd16(h->mem.data + off, h->big_endian);
}

static void check_poison(struct hv_heap *h, const struct hv_block *b)
{
    uint64_t start = (uint64_t)b->index * h->unit_bytes;
    uint64_t end = start + (uint64_t)b->units * h->unit_bytes;
    uint64_t d = start + 4;
    if (end < d + UP_POISON_BYTES || !hv_span_readable(&h->mem, d, end - d))
        return;
    uint64_t total = rd16_at(h, d);
    struct hv_block_info info;
    hv_block_detail(h, b, &info);
    char owner[32];
    walk_owner_text(h, &info, owner, sizeof owner);
    if (total < UP_POISON_BYTES || total > end - d) {
        walk_problem(h, UMM_FAULT_UNDERRUN, h->address + d, b->index,
                     "block %u: poison length %llu does not fit the block (%llu bytes of data)",
                     b->index, (unsigned long long)total, (unsigned long long)(end - d));
        return;
    }
    uint64_t first = 0, last = 0;
    uint64_t bad = walk_count_not(h, d + 2, 4, UMM_CANARY_BYTE, &first, &last);
    if (bad)
        walk_problem(h, UMM_FAULT_UNDERRUN, h->address + first, b->index,
                     "%llu byte%s changed before the %llu-byte region of block %u",
                     (unsigned long long)bad, bad == 1 ? "" : "s",
                     (unsigned long long)(total - UP_POISON_BYTES), b->index);
    uint64_t post = d + total - 4;
    bad = walk_count_not(h, post, 4, UMM_CANARY_BYTE, &first, &last);
    if (bad) {
        struct hv_problem *pr = walk_problem(h, UMM_FAULT_OVERRUN, h->address + first, b->index,
                                             "%llu bytes after the %llu-byte region of block %u",
                                             (unsigned long long)(last - post + 1),
                                             (unsigned long long)(total - UP_POISON_BYTES), b->index);
        walk_set_culprit(h, pr, b);
    }
}

static void check_free_list(struct hv_heap *h)
{
    uint64_t n = h->unit_count;
    uint8_t *free_start = walk_bitmap_new(n), *on_list = walk_bitmap_new(n);
    if (!free_start || !on_list || !walk_hdr_readable(h, 0) ||
        !hv_span_readable(&h->mem, 4, 4))
        goto out;
    uint64_t free_blocks = walk_mark_free_starts(h, free_start), members = 0;
    uint64_t m = rd16_at(h, 4), prev = 0;
    for (uint64_t steps = 0; m != 0; steps++) {
        if (steps > n || m >= n || !bit_get(free_start, m)) {
            walk_problem(h, UMM_FAULT_FREELIST, walk_unit_address(h, prev) + 4, (int64_t)prev,
                         "free list: block %llu links to block %llu, which is not free",
                         (unsigned long long)prev, (unsigned long long)m);
            break;
        }
        if (bit_get(on_list, m)) {
            walk_problem(h, UMM_FAULT_FREELIST, walk_unit_address(h, prev) + 4, (int64_t)m,
                         "free list: block %llu is listed twice", (unsigned long long)m);
            break;
        }
        bit_set(on_list, m);
        members++;
        uint64_t d = m * h->unit_bytes + 4;
        if (!hv_span_readable(&h->mem, d, 4))
            break;
        uint64_t back = rd16_at(h, d + 2);
        if (back != prev)
            walk_problem(h, UMM_FAULT_FREELIST, h->address + d + 2, (int64_t)m,
                         "free list: block %llu has prev_free = %llu, want %llu",
                         (unsigned long long)m, (unsigned long long)back, (unsigned long long)prev);
        prev = m;
        m = rd16_at(h, d);
    }
    if (rd16_at(h, 6) != prev)
        walk_problem(h, UMM_FAULT_FREELIST, h->address + 6, 0,
                     "free list tail (block 0 prev_free) is %llu, the list ends at %llu",
                     (unsigned long long)rd16_at(h, 6), (unsigned long long)prev);
    if (members != free_blocks) {
        for (size_t i = 0; i < h->block_count; i++) {
            const struct hv_block *b = &h->blocks[i];
            if (b->state == HV_BLOCK_FREE && !bit_get(on_list, b->index))
                walk_problem(h, UMM_FAULT_FREELIST, walk_unit_address(h, b->index), b->index,
                             "free block %u is not on the free list", b->index);
        }
    }
out:
    free(free_start);
    free(on_list);
}

int hv_decode_upstream(struct hv_heap *h, struct hv_snapshot *snap, uint64_t pheap, uint64_t heap_size,
                       uint32_t numblocks, int big_endian, const char *name,
                       const struct hv_decode_opts *opts, char *err, size_t errlen)
{
    static const struct hv_decode_opts no_opts;
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->format = HV_FORMAT_UPSTREAM;
    h->opts = opts ? opts : &no_opts;
    h->address = pheap;
    h->size = heap_size;
    h->big_endian = big_endian;
    h->index_bytes = 2;
    h->hdr_bytes = 4;
    h->free_flag = UP_FREE;
    h->unit_count = numblocks;
    h->blocks_address = pheap;
    h->blocks_off = 0;
    unsigned bs = h->opts->upstream_block_size;
    if (bs == 0 && numblocks != 0 && heap_size / numblocks >= 8 && heap_size / numblocks % 4 == 0 &&
        heap_size / numblocks <= 4096)
        bs = (unsigned)(heap_size / numblocks);
    if (bs == 0)
        bs = 8;
    if (bs < 8 || bs % 4 != 0) {
        snprintf(err, errlen, "upstream block size %u is not a multiple of 4 of at least 8", bs);
        return -1;
    }
    h->unit_bytes = bs;
    if (numblocks < 3 || numblocks > 32767) {
        snprintf(err, errlen, "upstream heap at 0x%llx has %u blocks, want 3..32767",
                 (unsigned long long)pheap, numblocks);
        return -1;
    }
    if (h->opts->upstream_poison)
        h->flags = UMM_FLAG_POISON;
    uint64_t total = (uint64_t)numblocks * bs;
    if (walk_load(h, snap, total) < 0) {
        snprintf(err, errlen, "cannot read the heap at 0x%llx (%llu bytes)", (unsigned long long)pheap,
                 (unsigned long long)total);
        return -1;
    }
    h->units_readable = (uint32_t)(h->mem.length / bs < numblocks ? h->mem.length / bs : numblocks);
    if (walk_hdr_readable(h, 0) && walk_next_raw(h, 0) == 0) {
        walk_problem(h, UMM_FAULT_HEADER, pheap, -1, "heap is not initialised (block 0 is zero)");
        return 0;
    }
    if (walk_blocks(h, 1) < 0) {
        snprintf(err, errlen, "out of memory decoding the heap at 0x%llx", (unsigned long long)pheap);
        return -1;
    }
    if (h->opts->upstream_poison) {
        h->metrics.has_requested = 1;
        for (size_t i = 0; i < h->block_count; i++) {
            if (h->blocks[i].state != HV_BLOCK_USED)
                continue;
            struct hv_block_info info;
            hv_block_detail(h, &h->blocks[i], &info);
            h->metrics.requested_bytes += info.requested;
            check_poison(h, &h->blocks[i]);
        }
    }
    check_free_list(h);
    walk_metrics(h, 4 + (h->opts->upstream_poison ? UP_POISON_BYTES : 0));
    if (h->problems_truncated)
        walk_problem(h, HV_PROBLEM_TRUNCATED, h->address, -1, "more than %u problems; the rest are not listed",
                     HV_MAX_PROBLEMS);
    walk_mark_problems(h);
    return 0;
}
