/*
 * hv_truth.h - what a test firmware says about its own heap state, for the
 * tools to check against.  The firmware keeps `hv_truth` (a global, in the
 * ELF symbol table) up to date through the tracked allocation wrappers
 * below, and stops at `hv_checkpoint` when the heap state is stable.
 *
 * The layout is all u32 in target byte order so that a reader needs no
 * DWARF: offsets are in tests/firmware/README.md and fixed by version.
 */
#ifndef HV_TRUTH_H
#define HV_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#include "umm_malloc.h"

#define HV_TRUTH_MAGIC     0x52545648u /* "HVTR" in little-endian memory */
#define HV_TRUTH_VERSION   1u
#define HV_TRUTH_MAX_HEAPS 4u
#define HV_TRUTH_MAX_LIVE  64u

/* Scenario ids, also the values of HV_SCENARIO at build time. */
#define HV_SC_BARE             0u /* no allocator: startup and capture only */
#define HV_SC_DEMO             1u
#define HV_SC_HEALTHY          2u
#define HV_SC_FRAGMENTED       3u
#define HV_SC_TWO_HEAPS        4u
#define HV_SC_OVERRUN          5u
#define HV_SC_UNDERRUN         6u
#define HV_SC_HEADER_SMASH     7u
#define HV_SC_WRITE_AFTER_FREE 8u
#define HV_SC_DOUBLE_FREE      9u
#define HV_SC_LEAK             10u
#define HV_SC_WIDE             11u

/* Expected fault kinds: the values of lib/FORMAT.md section 6. */
#define HV_FAULT_NONE           0u
#define HV_FAULT_HEADER         1u
#define HV_FAULT_UNDERRUN       3u
#define HV_FAULT_OVERRUN        4u
#define HV_FAULT_USE_AFTER_FREE 5u
#define HV_FAULT_DOUBLE_FREE    6u

struct hv_truth_heap {
    uint32_t handle;         /* address of the umm_heap handle */
    uint32_t ctl;            /* its control block, 0 if init refused the region */
    uint32_t region;         /* region handed to init */
    uint32_t region_bytes;
    uint32_t live_count;     /* allocations the firmware holds in this heap */
    uint32_t live_requested; /* bytes it asked for in them */
};

struct hv_truth_alloc {
    uint32_t ptr;       /* user pointer, 0 marks an unused slot */
    uint32_t requested; /* bytes asked for (the latest size after realloc) */
    uint32_t heap;      /* index into heaps[] */
    uint32_t order;     /* 1-based order in which the firmware allocated it */
};

struct hv_truth {
    uint32_t magic;
    uint32_t version;
    uint32_t size;            /* sizeof(struct hv_truth) */
    uint32_t scenario;        /* HV_SC_* */
    uint32_t checkpoint;      /* id of the last checkpoint reached, 0 before */
    uint32_t heap_count;
    uint32_t live_count;      /* over every heap */
    uint32_t live_requested;  /* over every heap */
    uint32_t fault_kind;      /* HV_FAULT_* the firmware caused, 0 none */
    uint32_t damaged_address; /* first byte it damaged, or the pointer it freed twice */
    uint32_t damaged_ptr;     /* user pointer of the allocation concerned */
    uint32_t damaged_heap;    /* index into heaps[] */
    uint32_t leak_count;      /* leak scenario: allocations added between checkpoints 1 and 2 */
    uint32_t leak_bytes;      /* bytes requested by them */
    uint32_t check_count;     /* self-checks the firmware ran */
    uint32_t check_failures;  /* of which failed */
    struct hv_truth_heap heaps[HV_TRUTH_MAX_HEAPS];
    struct hv_truth_alloc live[HV_TRUTH_MAX_LIVE];
};

extern struct hv_truth hv_truth;
/* Id of the checkpoint being reached; set before hv_checkpoint runs. */
extern volatile uint32_t hv_checkpoint_id;

void hv_truth_begin(uint32_t scenario);
/* Registers `heap` (after its init) as heaps[return value]. */
uint32_t hv_truth_add_heap(umm_heap *heap);
/* Re-reads every registered handle's ctl (a heap may initialise lazily). */
void hv_truth_refresh_heaps(void);

/* Allocation wrappers that keep hv_truth.live in step. */
void *hv_malloc(umm_heap *heap, size_t size);
void *hv_calloc(umm_heap *heap, size_t count, size_t size);
void *hv_memalign(umm_heap *heap, size_t align, size_t size);
void *hv_realloc(umm_heap *heap, void *ptr, size_t size);
void hv_free(umm_heap *heap, void *ptr);
/* Forgets `ptr` without freeing it (what a leak or a bad free looks like
 * from the heap's side); returns the slot's requested size. */
uint32_t hv_truth_forget(const void *ptr);

void hv_truth_damage(uint32_t kind, const void *address, const void *ptr, umm_heap *heap);

/* Counts a self-check and prints `check <name>: OK` or `... FAILED`. */
int hv_check(const char *name, int ok);

/*
 * Records `id` as reached and calls hv_checkpoint, the breakpoint symbol:
 * a debugger stops there with the heap state stable (r0 = id).
 */
void hv_reach_checkpoint(uint32_t id);
void hv_checkpoint(uint32_t id);

#endif /* HV_TRUTH_H */
