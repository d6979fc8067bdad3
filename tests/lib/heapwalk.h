/*
 * heapwalk.h - an independent reading of a heap, written from lib/FORMAT.md
 * and umm_format.h alone (no allocator internals), so the allocator's
 * structure is checked by code that did not share its mistakes.
 */
#ifndef HEAPWALK_H
#define HEAPWALK_H

#include <stddef.h>
#include <stdint.h>

struct hw_block {
    uint32_t index, next, prev;
    int free;
};

struct hw_summary {
    uint32_t unit_count;
    unsigned index_bytes;
    uint32_t used_blocks, free_blocks;
    uint32_t used_units, free_units;
    uint32_t largest_free_units;
    uint64_t free_sq_sum;
};

/* Checks every invariant of FORMAT.md section 7 (items 1-6) on the heap
 * whose control block is at `ctl`.  Returns NULL when all hold, else a
 * static description of the first broken one. */
const char *hw_check(const void *ctl, struct hw_summary *out);

/* Fills up to `max` blocks (sentinels included) in address order; returns
 * how many there are. */
size_t hw_blocks(const void *ctl, struct hw_block *out, size_t max);

/* Block index of user pointer `user` in the heap at `ctl` (FORMAT.md
 * sections 3 and 5); meaningful only for a pointer the heap handed out. */
uint32_t hw_block_of_user(const void *ctl, const void *user);

#endif
