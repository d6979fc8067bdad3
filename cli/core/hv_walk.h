/*
 * hv_walk.h - internal to the decoders: the physical walk shared by the
 * heapview and upstream formats (both chain blocks through next/prev
 * indices with a free flag in next), problem bookkeeping and metrics.
 */
#ifndef HV_WALK_H
#define HV_WALK_H

#include "hv_bytes.h"
#include "hv_heap.h"

/* Is the header of unit u wholly readable? */
static inline int walk_hdr_readable(const struct hv_heap *h, uint64_t u)
{
    return u < h->units_readable &&
           hv_span_readable(&h->mem, h->blocks_off + u * h->unit_bytes, h->hdr_bytes);
}

static inline const uint8_t *walk_unit_ptr(const struct hv_heap *h, uint64_t u)
{
    return h->mem.data + h->blocks_off + u * h->unit_bytes;
}

static inline uint64_t walk_next_raw(const struct hv_heap *h, uint64_t u)
{
    return hv_rdn(walk_unit_ptr(h, u), h->index_bytes, h->big_endian);
}

static inline uint64_t walk_prev(const struct hv_heap *h, uint64_t u)
{
    return hv_rdn(walk_unit_ptr(h, u) + h->index_bytes, h->index_bytes, h->big_endian);
}

static inline uint64_t walk_unit_address(const struct hv_heap *h, uint64_t u)
{
    return h->blocks_address + u * h->unit_bytes;
}

/* Adds a problem; returns it (or NULL past HV_MAX_PROBLEMS).  block < 0:
 * none. */
struct hv_problem *walk_problem(struct hv_heap *h, int kind, uint64_t address, int64_t block,
                                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sets p's culprit to block b (with owner and seq when recorded). */
void walk_set_culprit(struct hv_heap *h, struct hv_problem *p, const struct hv_block *b);
/* "foo+0x1c (foo.c:42)", "owner 0x...", or "an unknown caller". */
void walk_owner_text(const struct hv_heap *h, const struct hv_block_info *info, char *buf, size_t len);

/* Loads the bytes [h->address, h->address + total) into h->mem, clamped to
 * what the source holds; reports the rest as unreadable.  Returns 0, or -1
 * when nothing could be read. */
int walk_load(struct hv_heap *h, struct hv_snapshot *snap, uint64_t total);

/* The physical walk from unit 0 to unit N-1 with resynchronisation;
 * min_units is the smallest legal block. */
int walk_blocks(struct hv_heap *h, uint32_t min_units);
/* Sets has_problem on every block a problem names. */
void walk_mark_problems(struct hv_heap *h);
/* Fills h->metrics from the blocks; largest_alloc uses `overhead` bytes. */
void walk_metrics(struct hv_heap *h, uint64_t overhead);
/* Bitmap helpers (side tables; the snapshot is never written). */
uint8_t *walk_bitmap_new(uint64_t bits);
static inline int bit_get(const uint8_t *m, uint64_t i) { return m[i >> 3] >> (i & 7) & 1; }
static inline void bit_set(uint8_t *m, uint64_t i) { m[i >> 3] = (uint8_t)(m[i >> 3] | 1u << (i & 7)); }
/* Sets the bit of every free block's first unit in `starts`; returns how
 * many free blocks the walk found (what a free-list check must account for). */
uint64_t walk_mark_free_starts(const struct hv_heap *h, uint8_t *starts);

/* Counts bytes in [off, off+len) of mem that differ from `value`; *first
 * gets the offset of the first and *last of the last. */
uint64_t walk_count_not(const struct hv_heap *h, uint64_t off, uint64_t len, uint8_t value,
                        uint64_t *first, uint64_t *last);

#endif /* HV_WALK_H */
