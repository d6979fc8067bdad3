/*
 * demo.c - the `make demo` firmware: two heaps (the default heap over a
 * region of its own, and a static heap from UMM_HEAP_DEFINE), a realistic
 * mix of malloc, calloc, free, realloc and memalign, every step printed
 * with its address and checked.  It then stops at checkpoint 1 with the
 * heaps stable (the point a RAM dump is taken), frees everything and checks
 * that the heaps merged back into one free block each.
 */
#include <string.h>

#include "hv_io.h"
#include "hv_truth.h"
#include "umm_malloc.h"

#define DEFAULT_HEAP_BYTES (16u * 1024u)
#define STATIC_HEAP_BYTES  (8u * 1024u)

static uint64_t default_region[DEFAULT_HEAP_BYTES / 8u] __attribute__((section(".hv_heap")));
UMM_HEAP_DEFINE(hv_demo_heap, STATIC_HEAP_BYTES);

static int aligned(const void *p, uint32_t align)
{
    return ((uint32_t)(uintptr_t)p & (align - 1u)) == 0;
}

static void fill(void *p, size_t n, uint8_t seed)
{
    uint8_t *bytes = p;
    for (size_t i = 0; i < n; i++) {
        bytes[i] = (uint8_t)(seed + i * 7u);
    }
}

static int filled(const void *p, size_t n, uint8_t seed)
{
    const uint8_t *bytes = p;
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] != (uint8_t)(seed + i * 7u)) {
            return 0;
        }
    }
    return 1;
}

static void show(const char *what, umm_heap *heap, const void *p, size_t size)
{
    hv_printf("%-10s %5u bytes -> %p usable %u%s\n", what, (unsigned)size, p,
              (unsigned)umm_multi_usable_size(heap, (void *)(uintptr_t)p),
              p != NULL && aligned(p, 8) ? " (8-aligned)" : "");
}

/* Largest block the heap hands out now, found by bisection. */
static size_t largest_allocation(umm_heap *heap, size_t limit)
{
    size_t lo = 0, hi = limit;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        void *p = umm_multi_malloc(heap, mid);
        if (p != NULL) {
            umm_multi_free(heap, p);
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

int main(void)
{
    static const size_t sizes[] = { 1, 8, 13, 24, 100, 256, 1000, 3000 };
    enum { SIZE_COUNT = sizeof sizes / sizeof sizes[0] };
    void *bufs[SIZE_COUNT];
    umm_heap *dflt = &umm_heap_default;

    hv_truth_begin(HV_SC_DEMO);
    hv_puts("heapview demo: umm heaps on a Cortex-M3 (QEMU mps2-an385)\n");

    umm_init_heap(default_region, sizeof default_region);
    hv_truth_add_heap(dflt);
    hv_truth_add_heap(&hv_demo_heap);
    hv_printf("default heap: region %p, %u bytes, control block %p\n", (void *)default_region,
              (unsigned)sizeof default_region, (void *)dflt->ctl);
    hv_check("default heap initialised", dflt->ctl != NULL);
    hv_check("static heap not yet initialised", hv_demo_heap.ctl == NULL);

    size_t empty_largest = largest_allocation(dflt, DEFAULT_HEAP_BYTES);
    hv_printf("largest allocation in the empty default heap: %u bytes\n", (unsigned)empty_largest);

    int all_aligned = 1, all_intact = 1, all_usable = 1;
    for (unsigned i = 0; i < SIZE_COUNT; i++) {
        bufs[i] = hv_malloc(dflt, sizes[i]);
        show("malloc", dflt, bufs[i], sizes[i]);
        all_aligned &= bufs[i] != NULL && aligned(bufs[i], 8);
        all_usable &= umm_multi_usable_size(dflt, bufs[i]) >= sizes[i];
        if (bufs[i] != NULL) {
            fill(bufs[i], sizes[i], (uint8_t)i);
        }
    }
    hv_check("malloc results 8-aligned", all_aligned);
    hv_check("usable size covers the request", all_usable);
    for (unsigned i = 0; i < SIZE_COUNT; i++) {
        all_intact &= bufs[i] != NULL && filled(bufs[i], sizes[i], (uint8_t)i);
    }
    hv_check("buffers keep their contents", all_intact);

    uint32_t *table = hv_calloc(dflt, 32, sizeof(uint32_t));
    show("calloc", dflt, table, 32 * sizeof(uint32_t));
    int zeroed = table != NULL;
    for (unsigned i = 0; zeroed && i < 32; i++) {
        zeroed = table[i] == 0;
    }
    hv_check("calloc memory is zero", zeroed);

    /* Free every other buffer: holes of several sizes. */
    for (unsigned i = 1; i < SIZE_COUNT; i += 2) {
        hv_printf("free       %5u bytes at %p\n", (unsigned)sizes[i], bufs[i]);
        hv_free(dflt, bufs[i]);
        bufs[i] = NULL;
    }

    /* Grow one buffer and shrink another; the kept bytes must survive. */
    void *grown = hv_realloc(dflt, bufs[4], 600);
    show("realloc", dflt, grown, 600);
    hv_check("realloc grow keeps contents", grown != NULL && filled(grown, sizes[4], 4));
    bufs[4] = grown;
    void *shrunk = hv_realloc(dflt, bufs[6], 200);
    show("realloc", dflt, shrunk, 200);
    hv_check("realloc shrink keeps contents", shrunk != NULL && filled(shrunk, 200, 6));
    bufs[6] = shrunk;

    static const size_t aligns[] = { 16, 32, 64, 256 };
    int align_ok = 1;
    void *aligned_bufs[4];
    for (unsigned i = 0; i < 4; i++) {
        aligned_bufs[i] = hv_memalign(dflt, aligns[i], 40 + 10 * i);
        hv_printf("memalign(%3u, %u) -> %p %s\n", (unsigned)aligns[i], (unsigned)(40 + 10 * i),
                  aligned_bufs[i], aligned(aligned_bufs[i], (uint32_t)aligns[i]) ? "aligned" : "MISALIGNED");
        align_ok &= aligned_bufs[i] != NULL && aligned(aligned_bufs[i], (uint32_t)aligns[i]);
    }
    hv_check("memalign alignment", align_ok);

    /* The single-heap API works on the same default heap. */
    char *msg = umm_malloc(32);
    if (msg != NULL) {
        strcpy(msg, "hello from umm_malloc");
    }
    hv_check("umm_malloc on the default heap", msg != NULL && umm_usable_size(msg) >= 32 &&
                                                 strcmp(msg, "hello from umm_malloc") == 0);
    umm_free(msg);
    umm_free(NULL);

    hv_check("oversized request fails cleanly", umm_multi_malloc(dflt, 1u << 20) == NULL);

    /* The static heap comes to life on its first allocation. */
    void *packets[5];
    int static_ok = 1;
    for (unsigned i = 0; i < 5; i++) {
        packets[i] = hv_malloc(&hv_demo_heap, 128u << (i % 3));
        show("static", &hv_demo_heap, packets[i], 128u << (i % 3));
        static_ok &= packets[i] != NULL && (uint8_t *)packets[i] >= (uint8_t *)hv_demo_heap_storage &&
                     (uint8_t *)packets[i] < (uint8_t *)hv_demo_heap_storage + STATIC_HEAP_BYTES;
    }
    hv_check("static heap allocations lie in its storage", static_ok);
    hv_free(&hv_demo_heap, packets[1]);
    hv_free(&hv_demo_heap, packets[3]);
    packets[1] = packets[3] = NULL;
    hv_truth_refresh_heaps();
    hv_printf("static heap: region %p, %u bytes, control block %p\n", (void *)hv_demo_heap_storage,
              STATIC_HEAP_BYTES, (void *)hv_demo_heap.ctl);
    hv_check("static heap initialised on first use", hv_demo_heap.ctl != NULL);
    hv_check("heap list holds both heaps", umm_heap_list != NULL);

    hv_printf("live: %lu allocations, %lu bytes requested\n", (unsigned long)hv_truth.live_count,
              (unsigned long)hv_truth.live_requested);
    hv_reach_checkpoint(1);

    /* Everything back: each heap must merge into one free block again. */
    for (unsigned i = 0; i < SIZE_COUNT; i++) {
        hv_free(dflt, bufs[i]);
    }
    for (unsigned i = 0; i < 4; i++) {
        hv_free(dflt, aligned_bufs[i]);
    }
    hv_free(dflt, table);
    for (unsigned i = 0; i < 5; i++) {
        hv_free(&hv_demo_heap, packets[i]);
    }
    size_t after_largest = largest_allocation(dflt, DEFAULT_HEAP_BYTES);
    hv_printf("largest allocation after freeing everything: %u bytes\n", (unsigned)after_largest);
    hv_check("default heap merged back", after_largest == empty_largest);
    hv_check("nothing left live", hv_truth.live_count == 0 && hv_truth.live_requested == 0);

    hv_printf("done: %lu checks, %lu failed\n", (unsigned long)hv_truth.check_count,
              (unsigned long)hv_truth.check_failures);
    return hv_truth.check_failures == 0 ? 0 : 1;
}
