/*
 * umm_diag.h - diagnostics of the instrumented allocator.  Everything here
 * is declared only in builds that compile it in (UMM_INSTRUMENT or the
 * upstream part switches), so calling it from a release build fails at
 * compile time instead of returning a silent 0.
 */
#ifndef UMM_DIAG_H
#define UMM_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "umm_config.h"
#include "umm_malloc.h"

#ifdef __cplusplus
extern "C" {
#endif

#if UMM_HAS_RECORD

/* A fault found by a check or refused by free/realloc (FORMAT.md section 6). */
struct umm_fault {
    unsigned kind;          /* UMM_FAULT_* of umm_format.h */
    unsigned op;            /* UMM_OP_* that found it */
    const void *ctl;        /* control block of the heap (umm_heap.ctl) */
    uint32_t block;         /* damaged block, or the one holding the bad pointer; 0 unknown */
    uintptr_t address;      /* first bad byte, or the bad pointer */
    uint32_t expected;      /* byte or index expected */
    uint32_t found;         /* what was there */
    uintptr_t owner;        /* owner of the damaged allocation, 0 unknown */
    uint32_t seq;           /* its sequence number, 0 unknown */
};

/*
 * Called with every fault, inside the allocator's critical section, after
 * the fault is recorded in the heap.  It must not call the allocator.  The
 * default (NULL) only records.
 */
typedef void (*umm_corruption_hook_fn)(const struct umm_fault *fault);
void umm_set_corruption_hook(umm_corruption_hook_fn hook);

/* The last fault recorded in `heap`; false when there is none. */
bool umm_multi_last_fault(umm_heap *heap, struct umm_fault *out);

/* ---- metrics ----------------------------------------------------------- */

struct umm_heap_info {
    size_t used_entries, free_entries;    /* allocations, free blocks */
    size_t used_bytes, free_bytes;        /* block bytes, headers included */
    size_t largest_free_bytes;            /* the largest free block */
    size_t largest_alloc_bytes;           /* the largest request that succeeds now */
    size_t requested_bytes;               /* what callers asked for, summed */
    size_t min_free_bytes;                /* low-water mark of free_bytes */
    size_t peak_used_bytes;               /* high-water mark of used_bytes */
    int usage_metric;                     /* used*100/free in blocks; -1 when nothing is free */
    int fragmentation_metric;             /* umm's 100 - 100*sqrt(sum free^2)/sum free */
    int largest_free_ratio_metric;        /* 100 - 100*largest/free */
    uint32_t alloc_count, free_count, realloc_count;
    uint32_t oom_count, bad_free_count, corruption_count;
    size_t overhead_per_alloc_bytes;      /* header, prefix and least canary of each allocation */
};

/* Fills `info`; counters are kept inline, the largest free block comes
 * from the bitmap and one free list.  False for an unusable heap. */
bool umm_multi_info(umm_heap *heap, struct umm_heap_info *info);
bool umm_info(struct umm_heap_info *info);

size_t umm_multi_free_heap_size(umm_heap *heap);
size_t umm_free_heap_size(void);
size_t umm_multi_max_free_block_size(umm_heap *heap);
size_t umm_max_free_block_size(void);
int umm_multi_usage_metric(umm_heap *heap);
int umm_usage_metric(void);
int umm_multi_fragmentation_metric(umm_heap *heap);
int umm_fragmentation_metric(void);

/* Prints a umm_info-style table, one character at a time: no stdio. */
typedef void (*umm_putc_fn)(char c, void *ctx);
void umm_multi_heap_report(umm_heap *heap, umm_putc_fn out, void *ctx);

/* ---- checks: read-only, bounded, cycle-safe ------------------------------ */

/* Every invariant of FORMAT.md section 7; records the first failure. */
bool umm_multi_integrity_check(umm_heap *heap);
bool umm_integrity_check(void);
/* Checks at most `max_blocks` blocks, resuming where the last call stopped;
 * free lists and counters are checked when a pass completes.  For a
 * background task with bounded latency. */
bool umm_multi_integrity_step(umm_heap *heap, unsigned max_blocks);

/* Canaries of every used block and the fill of every free block. */
bool umm_multi_poison_check(umm_heap *heap);
bool umm_poison_check(void);

/* ---- owners ----------------------------------------------------------------- */

/* Allocates with `tag` (a string that must outlive the allocation) as its
 * owner instead of the caller's address. */
void *umm_multi_malloc_tagged(umm_heap *heap, size_t size, const char *tag);
void *umm_malloc_tagged(size_t size, const char *tag);
#define UMM_STR2_(x) #x
#define UMM_STR_(x) UMM_STR2_(x)
/* umm_malloc with "file.c:42" of the call site as the owner. */
#define UMM_MALLOC_HERE(size) umm_malloc_tagged((size), __FILE__ ":" UMM_STR_(__LINE__))

#endif /* UMM_HAS_RECORD */

#ifdef __cplusplus
}
#endif

#endif /* UMM_DIAG_H */
