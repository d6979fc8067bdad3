/*
 * umm_malloc.h - the heapview allocator: a umm_malloc-compatible heap for
 * microcontrollers with segregated free lists, bounded operations and an
 * on-heap format that tools decode from a RAM dump (lib/FORMAT.md).
 *
 * Everything here is safe to call from any context the configured port
 * (umm_port.h) protects.  Diagnostics live in umm_diag.h and exist only in
 * builds that compile them in.
 */
#ifndef UMM_MALLOC_H
#define UMM_MALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct umm_ctl;

/*
 * A heap handle.  The first two fields keep upstream umm_malloc's names so
 * code that sets them by hand keeps compiling.  `ctl` is NULL until the heap
 * is initialised; everything else the heap needs lives in band, inside the
 * region, where a RAM dump carries it.
 */
typedef struct umm_heap_config {
    void *pheap;          /* start of the region handed to the heap */
    size_t heap_size;     /* bytes in that region */
    struct umm_ctl *ctl;  /* in-band control block, NULL until initialised */
    /* Where the control block says unit 0 and the list heads are, kept here
     * by init so an operation need not derive them. */
    void *blocks_cache;
    void *bins_cache;
} umm_heap;

/* A handle for `bytes` of memory at `region`, not yet initialised. */
#define UMM_HEAP_INITIALIZER(region, bytes) { (void *)(region), (bytes), NULL, NULL, NULL }

/*
 * Defines `umm_heap name` backed by `bytes` of static, 8-byte aligned
 * storage.  The heap initialises itself on first use (or at umm_multi_init),
 * so no start-up code is needed.
 */
#define UMM_HEAP_DEFINE(name, bytes)                                          \
    static uint64_t name##_storage[((bytes) + 7u) / 8u];                      \
    umm_heap name = UMM_HEAP_INITIALIZER(name##_storage, sizeof(name##_storage))

/* The heap that the single-heap API (umm_malloc, ...) uses. */
extern umm_heap umm_heap_default;

/*
 * Head of the list of every initialised heap's control block, linked through
 * the control blocks themselves.  Tools start here (lib/FORMAT.md).
 */
extern struct umm_ctl *volatile umm_heap_list;

/* ---- multi-heap API (upstream umm_malloc names) ---------------------- */

/* Sets up `heap` over `size` bytes at `ptr`.  A region too small to hold the
 * control block and one allocation leaves the heap unusable (every
 * allocation returns NULL); one too large to index is clamped. */
void umm_multi_init_heap(umm_heap *heap, void *ptr, size_t size);
/* (Re)initialises `heap` over the region already recorded in it. */
void umm_multi_init(umm_heap *heap);
/* Takes `heap` off umm_heap_list and forgets its control block: call it
 * before the region's memory is used for anything else. */
void umm_multi_deinit(umm_heap *heap);

void *umm_multi_malloc(umm_heap *heap, size_t size);
void *umm_multi_calloc(umm_heap *heap, size_t num, size_t size);
void *umm_multi_realloc(umm_heap *heap, void *ptr, size_t size);
void umm_multi_free(umm_heap *heap, void *ptr);
/* `align` must be a power of two; smaller than 8 is treated as 8. */
void *umm_multi_memalign(umm_heap *heap, size_t align, size_t size);
/* Bytes the caller may use at `ptr` (at least what it asked for); 0 for
 * NULL or a pointer this heap did not hand out. */
size_t umm_multi_usable_size(umm_heap *heap, void *ptr);

/* ---- single-heap API on umm_heap_default ----------------------------- */

void umm_init_heap(void *ptr, size_t size);
/* Initialises the default heap over UMM_MALLOC_CFG_HEAP_ADDR/SIZE when the
 * build defines them, else over the region recorded in umm_heap_default. */
void umm_init(void);

void *umm_malloc(size_t size);
void *umm_calloc(size_t num, size_t size);
void *umm_realloc(void *ptr, size_t size);
void umm_free(void *ptr);
void *umm_memalign(size_t align, size_t size);
size_t umm_usable_size(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* UMM_MALLOC_H */
