/*
 * test_detect.c - the detection matrix of the instrumented allocator: each
 * kind of damage injected into a live heap, narrow and wide, must be found
 * with the right kind and block, reach the corruption hook, be counted, and
 * (for refused frees) leave the heap intact.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heapwalk.h"
#include "tcheck.h"
#include "umm_diag.h"
#include "umm_format.h"
#include "umm_malloc.h"

static umm_heap heap;
static uint8_t *region;
static size_t region_bytes;

static struct umm_fault hooked, history[16];
static int hook_calls;
static void hook(const struct umm_fault *f)
{
    hooked = *f;
    history[hook_calls % 16] = *f;
    hook_calls++;
}

/* Whether the hook saw `kind` on `block` since hook_calls was reset. */
static int hook_saw(unsigned kind, uint32_t block)
{
    for (int i = 0; i < hook_calls && i < 16; i++)
        if (history[i].kind == kind && history[i].block == block)
            return 1;
    return 0;
}

static void fresh(size_t bytes)
{
    if (heap.ctl)
        umm_multi_deinit(&heap);
    free(region);
    region = malloc(bytes);
    region_bytes = bytes;
    umm_multi_init_heap(&heap, region, bytes);
    umm_set_corruption_hook(hook);
    hook_calls = 0;
    memset(&hooked, 0, sizeof hooked);
}

/* Block index of a user pointer of `heap`. */
static uint32_t block_of(const void *user) { return hw_block_of_user(heap.ctl, user); }

/* The fault recorded in the heap and the hook's copy agree and say this. */
static void expect_fault(unsigned kind, uint32_t block, int line)
{
    struct umm_fault f;
    int have = umm_multi_last_fault(&heap, &f);
    EXPECT(have, "line %d: a fault is recorded", line);
    if (!have)
        return;
    EXPECT(f.kind == kind, "line %d: kind %u, expected %u", line, f.kind, kind);
    EXPECT(f.block == block, "line %d: block %u, expected %u", line, f.block, block);
    EXPECT(hook_calls >= 1, "line %d: hook called", line);
    EXPECT(hooked.kind == f.kind && hooked.block == f.block && hooked.address == f.address,
           "line %d: hook saw the recorded fault", line);
    EXPECT(hooked.ctl == heap.ctl, "line %d: hook names the heap", line);
}

static void expect_intact(int line)
{
    struct hw_summary sum;
    const char *why = hw_check(heap.ctl, &sum);
    EXPECT(!why, "line %d: heap structure intact: %s", line, why);
}

static const size_t heap_sizes[] = {16 * 1024, 320 * 1024}; /* narrow, wide */

static void test_overrun_one_byte(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        uint8_t *p = umm_multi_malloc(&heap, 13);
        void *wall = umm_multi_malloc(&heap, 8);
        REQUIRE(p && wall, "allocations");
        p[13] = 0x42;
        EXPECT(!umm_multi_poison_check(&heap), "poison check finds it");
        expect_fault(UMM_FAULT_OVERRUN, block_of(p), __LINE__);
        struct umm_fault f;
        umm_multi_last_fault(&heap, &f);
        EXPECT(f.address == (uintptr_t)(p + 13), "first bad byte named");
        EXPECT(f.found == 0x42 && f.expected == UMM_CANARY_BYTE, "bytes reported");
        EXPECT(f.seq == 1, "sequence number of the damaged allocation: %u", f.seq);
        hook_calls = 0;
        umm_multi_free(&heap, p);
        expect_fault(UMM_FAULT_OVERRUN, block_of(p), __LINE__);
        struct umm_heap_info info;
        umm_multi_info(&heap, &info);
        EXPECT(info.corruption_count == 2, "counted twice (%u)", info.corruption_count);
        expect_intact(__LINE__);
    }
}

static void test_underrun_one_byte(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        void *first = umm_multi_malloc(&heap, 40);
        uint8_t *p = umm_multi_malloc(&heap, 40);
        REQUIRE(first && p, "allocations");
        p[-1] = 0;
        EXPECT(!umm_multi_integrity_check(&heap), "integrity check finds it");
        expect_fault(UMM_FAULT_UNDERRUN, block_of(p), __LINE__);
        hook_calls = 0;
        umm_multi_free(&heap, p);
        expect_fault(UMM_FAULT_UNDERRUN, block_of(p), __LINE__);
        EXPECT(hook_calls == 1, "free reported it once");
    }
}

static void test_overrun_smashes_next_header(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        uint8_t *a = umm_multi_malloc(&heap, 24);
        uint8_t *b = umm_multi_malloc(&heap, 24);
        void *c = umm_multi_malloc(&heap, 24);
        REQUIRE(a && b && c, "allocations");
        /* Runs from a's bytes over its canary into b's header. */
        const uint8_t *ctl = (const uint8_t *)heap.ctl;
        size_t b_header = (size_t)(b - a) - ctl[UMM_CTL_PREFIX_BYTES] - 2u * ctl[UMM_CTL_INDEX_BYTES];
        memset(a, 'x', b_header + 2);
        EXPECT(!umm_multi_integrity_check(&heap), "integrity check finds it");
        expect_fault(UMM_FAULT_OVERRUN, block_of(a), __LINE__);
        hook_calls = 0;
        umm_multi_free(&heap, b); /* b's header no longer links: refused, named */
        /* With a check after every operation the overrun is re-reported
         * after the refused free, so look at what the hook saw. */
        EXPECT(hook_saw(UMM_FAULT_HEADER, block_of(b)), "free of b reports b's header");
    }
}

static void test_write_after_free(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        void *w1 = umm_multi_malloc(&heap, 16);
        uint8_t *p = umm_multi_malloc(&heap, 64);
        void *w2 = umm_multi_malloc(&heap, 16);
        REQUIRE(w1 && p && w2, "allocations");
        umm_multi_free(&heap, p);
        EXPECT(hook_calls == 0, "a clean free reports nothing");
        p[40] = 7;
        EXPECT(!umm_multi_poison_check(&heap), "poison check finds it");
        expect_fault(UMM_FAULT_USE_AFTER_FREE, block_of(p), __LINE__);
        hook_calls = 0;
        uint8_t *again = umm_multi_malloc(&heap, 64);
        EXPECT(again == p, "the same block comes back");
        expect_fault(UMM_FAULT_USE_AFTER_FREE, block_of(p), __LINE__);
        EXPECT(hook_calls == 1, "reallocation reported it");
    }
}

/* Realloc checks the fill of free space it takes over: a successor it
 * grows into, a predecessor it slides into. */
static void test_write_after_free_taken_by_realloc(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        void *w1 = umm_multi_malloc(&heap, 16);
        uint8_t *p = umm_multi_malloc(&heap, 16);
        uint8_t *q = umm_multi_malloc(&heap, 64);
        void *w2 = umm_multi_malloc(&heap, 16);
        REQUIRE(w1 && p && q && w2, "allocations");
        umm_multi_free(&heap, q);
        q[40] = 7;
        uint8_t *grown = umm_multi_realloc(&heap, p, 64);
        EXPECT(grown == p, "p grows in place into q's block");
        expect_fault(UMM_FAULT_USE_AFTER_FREE, block_of(q), __LINE__);
        EXPECT(hook_calls == 1, "the grow reported it once");
        expect_intact(__LINE__);

        fresh(heap_sizes[k]);
        w1 = umm_multi_malloc(&heap, 16);
        uint8_t *a = umm_multi_malloc(&heap, 64);
        p = umm_multi_malloc(&heap, 16);
        w2 = umm_multi_malloc(&heap, 16);
        REQUIRE(w1 && a && p && w2, "allocations");
        memset(p, 0x5A, 16);
        umm_multi_free(&heap, a);
        a[40] = 7;
        uint32_t a_block = block_of(a);
        uint8_t *slid = umm_multi_realloc(&heap, p, 64);
        EXPECT(slid == a, "p slides down into a's block");
        expect_fault(UMM_FAULT_USE_AFTER_FREE, a_block, __LINE__);
        EXPECT(hook_calls == 1, "the slide reported it once");
        EXPECT(slid && slid[0] == 0x5A && slid[15] == 0x5A, "p's bytes came along");
        expect_intact(__LINE__);
    }
}

/* Past UMM_FILL_CHECK_WINDOW from both ends, allocation does not read the
 * fill (FORMAT.md, "What the instrumentation costs"); the checks do. */
static void test_write_after_free_large_block(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        void *w1 = umm_multi_malloc(&heap, 16);
        uint8_t *p = umm_multi_malloc(&heap, 1000);
        void *w2 = umm_multi_malloc(&heap, 16);
        REQUIRE(w1 && p && w2, "allocations");
        umm_multi_free(&heap, p);
        p[500] = 1;                        /* deep inside */
        EXPECT(!umm_multi_poison_check(&heap), "poison check finds a write deep in a large free block");
        expect_fault(UMM_FAULT_USE_AFTER_FREE, block_of(p), __LINE__);
        p[500] = UMM_FREE_FILL_BYTE;
        p[3] = 1;                          /* within the window */
        hook_calls = 0;
        uint8_t *again = umm_multi_malloc(&heap, 1000);
        EXPECT(again == p, "the same block comes back");
        EXPECT(hook_saw(UMM_FAULT_USE_AFTER_FREE, block_of(p)), "reallocation finds a write near the start");
    }
}

static void test_double_free(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        void *w1 = umm_multi_malloc(&heap, 16);
        void *p = umm_multi_malloc(&heap, 32);
        void *w2 = umm_multi_malloc(&heap, 16);
        REQUIRE(w1 && p && w2, "allocations");
        umm_multi_free(&heap, p);
        umm_multi_free(&heap, p);
        expect_fault(UMM_FAULT_DOUBLE_FREE, block_of(p), __LINE__);
        expect_intact(__LINE__);
        struct umm_heap_info info;
        umm_multi_info(&heap, &info);
        EXPECT(info.bad_free_count == 1 && info.free_count == 1 && info.used_entries == 2,
               "counted as a bad free, heap bookkeeping unchanged");
        EXPECT(umm_multi_integrity_check(&heap), "nothing else is wrong");
    }
}

static void test_interior_free(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        uint8_t *p = umm_multi_malloc(&heap, 100);
        REQUIRE(p, "allocation");
        umm_multi_free(&heap, p + 8);
        expect_fault(UMM_FAULT_INTERIOR_FREE, block_of(p), __LINE__);
        hook_calls = 0;
        EXPECT(umm_multi_realloc(&heap, p + 24, 10) == NULL, "interior realloc refused");
        expect_fault(UMM_FAULT_INTERIOR_FREE, block_of(p), __LINE__);
        expect_intact(__LINE__);
        EXPECT(umm_multi_integrity_check(&heap), "heap still passes");
        EXPECT(umm_multi_usable_size(&heap, p) == 100, "p still allocated");
    }
}

static void test_foreign_and_wrong_heap_free(void)
{
    for (int k = 0; k < 2; k++) {
        fresh(heap_sizes[k]);
        static _Alignas(8) uint8_t other_mem[4096];
        umm_heap other;
        umm_multi_init_heap(&other, other_mem, sizeof other_mem);
        void *theirs = umm_multi_malloc(&other, 32);
        void *mine = umm_multi_malloc(&heap, 32);
        REQUIRE(theirs && mine, "allocations");
        int on_stack;
        umm_multi_free(&heap, &on_stack);
        expect_fault(UMM_FAULT_FOREIGN_FREE, 0, __LINE__);
        umm_multi_free(&heap, theirs);
        expect_fault(UMM_FAULT_WRONG_HEAP, 0, __LINE__);
        struct umm_fault f;
        umm_multi_last_fault(&heap, &f);
        EXPECT(f.address == (uintptr_t)theirs, "the bad pointer is named");
        expect_intact(__LINE__);
        EXPECT(umm_multi_usable_size(&other, theirs) == 32, "the other heap's block untouched");
        umm_multi_deinit(&other);
    }
}

static void test_incremental_check(void)
{
    fresh(64 * 1024);
    void *ptrs[200];
    for (int i = 0; i < 200; i++)
        ptrs[i] = umm_multi_malloc(&heap, (size_t)(8 + i % 50));
    for (int i = 0; i < 200; i += 3)
        umm_multi_free(&heap, ptrs[i]);
    /* A clean heap passes any number of bounded steps. */
    int ok = 1;
    for (int i = 0; i < 100; i++)
        ok &= umm_multi_integrity_step(&heap, 7);
    EXPECT(ok && hook_calls == 0, "clean heap passes in steps");
    ((uint8_t *)ptrs[100])[umm_multi_usable_size(&heap, ptrs[100])] ^= 0xFF;
    int found_at = -1;
    for (int i = 0; i < 100 && found_at < 0; i++)
        if (!umm_multi_integrity_step(&heap, 7))
            found_at = i;
    EXPECT(found_at >= 0, "damage found by stepping");
    EXPECT(found_at <= 200 / 7 + 2, "within one pass (%d steps)", found_at);
    expect_fault(UMM_FAULT_OVERRUN, block_of(ptrs[100]), __LINE__);
}

static void test_metrics_and_report(void)
{
    fresh(16 * 1024);
    struct umm_heap_info info;
    umm_multi_info(&heap, &info);
    size_t all_free = info.free_bytes;
    EXPECT(info.used_entries == 0 && info.free_entries == 1 && info.fragmentation_metric == 0, "empty heap");
    EXPECT(info.largest_alloc_bytes + info.overhead_per_alloc_bytes == info.largest_free_bytes, "largest alloc");
    void *big = umm_multi_malloc(&heap, info.largest_alloc_bytes);
    EXPECT(big != NULL, "the largest allocatable request succeeds");
    umm_multi_free(&heap, big);
    EXPECT(umm_multi_malloc(&heap, info.largest_alloc_bytes + 1) == NULL, "one byte more fails");
    void *p[64];
    for (int i = 0; i < 64; i++)
        p[i] = umm_multi_malloc(&heap, 40);
    for (int i = 0; i < 64; i += 2)
        umm_multi_free(&heap, p[i]);
    umm_multi_info(&heap, &info);
    EXPECT(info.used_entries == 32 && info.requested_bytes == 32 * 40, "entries and requested bytes");
    EXPECT(info.alloc_count == 65 && info.free_count == 33 && info.oom_count == 1, "counters %u %u %u",
           info.alloc_count, info.free_count, info.oom_count);
    EXPECT(info.free_bytes + info.used_bytes == all_free, "bytes add up");
    EXPECT(info.fragmentation_metric > 0 && info.fragmentation_metric < 100, "fragmented: %d",
           info.fragmentation_metric);
    EXPECT(info.min_free_bytes <= info.free_bytes, "low-water mark");
    EXPECT(umm_multi_free_heap_size(&heap) == info.free_bytes, "upstream-named query");
    struct hw_summary sum;
    hw_check(heap.ctl, &sum);
    EXPECT(info.largest_free_bytes == (size_t)sum.largest_free_units * 8, "largest free matches a walk");
}

static char report_buf[16384];
static size_t report_len;
static void report_putc(char c, void *ctx)
{
    (void)ctx;
    if (report_len + 1 < sizeof report_buf)
        report_buf[report_len++] = c;
}

static void test_report_text(void)
{
    fresh(4096);
    void *a = umm_multi_malloc(&heap, 30);
    void *b = umm_multi_malloc(&heap, 50);
    umm_multi_free(&heap, a);
    report_len = 0;
    umm_multi_heap_report(&heap, report_putc, NULL);
    report_buf[report_len] = 0;
    EXPECT(strstr(report_buf, "used entries     1\n") != NULL, "used entries line");
    EXPECT(strstr(report_buf, "free entries     2\n") != NULL, "free entries line");
    EXPECT(strstr(report_buf, "requested bytes  50\n") != NULL, "requested bytes line");
    EXPECT(strstr(report_buf, "  free ") && strstr(report_buf, "  used "), "block table");
    (void)b;
}

int main(int argc, char **argv)
{
    static const struct tcheck_case cases[] = {
        {"1-byte overrun", test_overrun_one_byte},
        {"1-byte underrun", test_underrun_one_byte},
        {"overrun smashing the next header", test_overrun_smashes_next_header},
        {"write after free", test_write_after_free},
        {"write after free in a large block", test_write_after_free_large_block},
        {"write after free into space realloc takes", test_write_after_free_taken_by_realloc},
        {"double free", test_double_free},
        {"interior free", test_interior_free},
        {"foreign and wrong-heap free", test_foreign_and_wrong_heap_free},
        {"incremental check", test_incremental_check},
        {"metrics", test_metrics_and_report},
        {"report text", test_report_text},
        {NULL, NULL},
    };
    int rc = tcheck_main(VARIANT_NAME "-detect", cases, argc, argv);
    umm_multi_deinit(&heap);
    free(region);
    return rc;
}
