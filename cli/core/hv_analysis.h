/*
 * hv_analysis.h - views computed from decoded heaps: live allocations by
 * owner (top), the difference of two snapshots by owner (diff) and the
 * fragmentation map's cells.  Data only; renderers draw them.
 */
#ifndef HV_ANALYSIS_H
#define HV_ANALYSIS_H

#include "hv_heap.h"

struct hv_owner_stat {
    uint64_t owner;          /* 0: unknown (no OWNERS, or a zero owner) */
    uint64_t count;          /* live allocations */
    uint64_t bytes;          /* block sizes */
    uint64_t requested;      /* requested bytes, when recorded */
    uint32_t max_seq;
};

/* Live allocations of h grouped by owner, largest `bytes` first. */
int hv_owner_stats(const struct hv_heap *h, struct hv_owner_stat **out, size_t *count);

struct hv_owner_delta {
    uint64_t owner;
    uint64_t count_a, count_b, bytes_a, bytes_b;
    uint64_t new_count, new_bytes;   /* live in B, not in A (new since A) */
    uint32_t first_new_seq;          /* lowest seq among them, 0 without seq */
};

/* Owners whose allocations differ between a and b (the same heap at two
 * moments), largest growth first; owners with no change are left out. */
int hv_diff_heaps(const struct hv_heap *a, const struct hv_heap *b, struct hv_owner_delta **out, size_t *count);

enum hv_cell_kind {
    HV_CELL_EMPTY = 0,       /* nothing decoded here (sentinels, beyond the end) */
    HV_CELL_FREE,
    HV_CELL_MOSTLY_FREE,
    HV_CELL_MOSTLY_USED,
    HV_CELL_USED,
    HV_CELL_PROBLEM,         /* a damaged span or a block with a problem */
};

struct hv_map_cell {
    uint8_t kind;            /* enum hv_cell_kind */
    uint32_t first_unit, units;
    uint32_t used_units, free_units, bad_units;
};

/* Splits the unit array into `cell_count` equal cells (the last may be
 * shorter); cell_count 0 gives one cell per block and gap, in which case
 * *cells is allocated.  Returns the number of cells, or -1. */
long hv_map_cells(const struct hv_heap *h, size_t cell_count, struct hv_map_cell **cells);

#endif /* HV_ANALYSIS_H */
