/*
 * test_lib.c - white-box tables and API semantics of the allocator.  The
 * same file runs against every build variant (fit policy, port, 32/64-bit,
 * release/instrumented); expected tables are computed from the format's
 * rules for the variant's header and prefix sizes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heapwalk.h"
#include "tcheck.h"
#include "umm_config.h"
#include "umm_format.h"
#include "umm_malloc.h"

#include "port_extern.h"

static _Alignas(8) uint8_t region[64 * 1024];
static umm_heap heap;

static const uint8_t *ctl_of(const umm_heap *hp) { return (const uint8_t *)hp->ctl; }

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Units a request of `size` bytes takes, by FORMAT.md sections 3 and 5. */
static uint32_t units_for(const umm_heap *hp, size_t size)
{
    const uint8_t *c = ctl_of(hp);
    size_t bytes = size + 2u * c[UMM_CTL_INDEX_BYTES] + c[UMM_CTL_PREFIX_BYTES] + c[UMM_CTL_SUFFIX_BYTES];
    uint32_t units = (uint32_t)((bytes + 7) / 8);
    uint32_t min = c[UMM_CTL_INDEX_BYTES] == 4 ? 2u : 1u;
    return units < min ? min : units;
}

static uint32_t unit_count(const umm_heap *hp) { return rd32(ctl_of(hp) + UMM_CTL_UNIT_COUNT); }

/* Expected block table: {index, next, free}; prev follows from order. */
struct row {
    uint32_t index, next;
    int free;
};

static void expect_table(const umm_heap *hp, const struct row *rows, size_t count, int line)
{
    struct hw_block got[64];
    struct hw_summary sum;
    const char *why = hw_check(hp->ctl, &sum);
    EXPECT(why == NULL, "line %d: heap check: %s", line, why);
    size_t n = hw_blocks(hp->ctl, got, 64);
    EXPECT(n == count, "line %d: %zu blocks, expected %zu", line, n, count);
    for (size_t i = 0; i < n && i < count; i++) {
        EXPECT(got[i].index == rows[i].index && got[i].next == rows[i].next && got[i].free == rows[i].free,
               "line %d row %zu: {%u,%u,%d}, expected {%u,%u,%d}", line, i, got[i].index, got[i].next,
               got[i].free, rows[i].index, rows[i].next, rows[i].free);
        if (i > 0)
            EXPECT(got[i].prev == rows[i - 1].index, "line %d row %zu: prev %u", line, i, got[i].prev);
    }
}
#define TABLE(...)                                                          \
    do {                                                                    \
        const struct row rows_[] = {__VA_ARGS__};                           \
        expect_table(&heap, rows_, sizeof rows_ / sizeof rows_[0], __LINE__); \
    } while (0)

static void fresh_heap(size_t bytes)
{
    memset(region, 0x5A, sizeof region);
    umm_multi_init_heap(&heap, region, bytes);
}

static void test_init_table(void)
{
    fresh_heap(4096);
    REQUIRE(heap.ctl != NULL, "heap initialised");
    uint32_t n = unit_count(&heap);
    EXPECT(rd32(ctl_of(&heap)) == UMM_FMT_MAGIC, "magic");
    EXPECT(ctl_of(&heap)[UMM_CTL_INDEX_BYTES] == 2, "a 4 KiB heap is narrow");
    EXPECT(n > 400 && n < 512, "unit count %u for 4 KiB", n);
    TABLE({0, 1, 0}, {1, n - 1, 1}, {n - 1, 0, 0});
}

static void test_split_and_merge_table(void)
{
    fresh_heap(4096);
    uint32_t n = unit_count(&heap);
    uint32_t ua = units_for(&heap, 12), ub = units_for(&heap, 4), uc = units_for(&heap, 20);
    void *a = umm_multi_malloc(&heap, 12);
    void *b = umm_multi_malloc(&heap, 4);
    void *c = umm_multi_malloc(&heap, 20);
    REQUIRE(a && b && c, "three small allocations");
    uint32_t B = 1 + ua, C = B + ub, F = C + uc;
    TABLE({0, 1, 0}, {1, B, 0}, {B, C, 0}, {C, F, 0}, {F, n - 1, 1}, {n - 1, 0, 0});
    umm_multi_free(&heap, b);
    TABLE({0, 1, 0}, {1, B, 0}, {B, C, 1}, {C, F, 0}, {F, n - 1, 1}, {n - 1, 0, 0});
    umm_multi_free(&heap, a); /* merges with the free block after it */
    TABLE({0, 1, 0}, {1, C, 1}, {C, F, 0}, {F, n - 1, 1}, {n - 1, 0, 0});
    umm_multi_free(&heap, c); /* merges both ways: back to one free block */
    TABLE({0, 1, 0}, {1, n - 1, 1}, {n - 1, 0, 0});
}

static void test_exact_class_reuse(void)
{
    fresh_heap(4096);
    uint32_t n = unit_count(&heap);
    void *a = umm_multi_malloc(&heap, 40);
    void *sep = umm_multi_malloc(&heap, 8);
    void *b = umm_multi_malloc(&heap, 40);
    void *sep2 = umm_multi_malloc(&heap, 8);
    REQUIRE(a && sep && b && sep2, "allocations");
    umm_multi_free(&heap, a);
    /* A same-size request takes the hole, not the big block at the end. */
    void *again = umm_multi_malloc(&heap, 40);
    EXPECT(again == a, "hole reused: %p vs %p", again, a);
    uint32_t u40 = units_for(&heap, 40), u8 = units_for(&heap, 8);
    uint32_t end_free = 1 + 2 * (u40 + u8);
    TABLE({0, 1, 0}, {1, 1 + u40, 0}, {1 + u40, 1 + u40 + u8, 0}, {1 + u40 + u8, 1 + 2 * u40 + u8, 0},
          {1 + 2 * u40 + u8, end_free, 0}, {end_free, n - 1, 1}, {n - 1, 0, 0});
}

static void test_realloc_in_place_table(void)
{
    fresh_heap(4096);
    uint32_t n = unit_count(&heap);
    char *a = umm_multi_malloc(&heap, 16);
    REQUIRE(a, "malloc");
    memcpy(a, "0123456789abcdef", 16);
    char *grown = umm_multi_realloc(&heap, a, 100);
    EXPECT(grown == a, "grows into the free block after it");
    EXPECT(memcmp(grown, "0123456789abcdef", 16) == 0, "contents kept");
    uint32_t u = units_for(&heap, 100);
    TABLE({0, 1, 0}, {1, 1 + u, 0}, {1 + u, n - 1, 1}, {n - 1, 0, 0});
    char *shrunk = umm_multi_realloc(&heap, grown, 10);
    EXPECT(shrunk == a, "shrinks in place");
    EXPECT(memcmp(shrunk, "0123456789", 10) == 0, "contents kept");
    u = units_for(&heap, 10);
    TABLE({0, 1, 0}, {1, 1 + u, 0}, {1 + u, n - 1, 1}, {n - 1, 0, 0});
}

static void test_realloc_slides_into_free_predecessor(void)
{
    fresh_heap(4096);
    char *a = umm_multi_malloc(&heap, 64);
    char *b = umm_multi_malloc(&heap, 32);
    char *wall = umm_multi_malloc(&heap, 8);
    REQUIRE(a && b && wall, "allocations");
    memset(b, 'b', 32);
    umm_multi_free(&heap, a);
    char *moved = umm_multi_realloc(&heap, b, 80);
    EXPECT(moved == a, "realloc reuses the free block in front: %p vs %p", moved, a);
    int same = 1;
    for (int i = 0; i < 32; i++)
        same &= moved[i] == 'b';
    EXPECT(same, "contents moved intact");
    struct hw_summary sum;
    const char *why = hw_check(heap.ctl, &sum);
    EXPECT(!why, "%s", why);
}

static void test_large_malloc_takes_top(void)
{
    fresh_heap(16384);
    uint32_t n = unit_count(&heap);
    uint32_t us = units_for(&heap, UMM_TOP_BYTES - 1), ul = units_for(&heap, UMM_TOP_BYTES);
    char *small = umm_multi_malloc(&heap, UMM_TOP_BYTES - 1);
    char *large = umm_multi_malloc(&heap, UMM_TOP_BYTES);
    REQUIRE(small && large, "allocations");
    /* Below the threshold from the bottom of the free block, at it from the top. */
    uint32_t L = n - 1 - ul;
    TABLE({0, 1, 0}, {1, 1 + us, 0}, {1 + us, L, 1}, {L, n - 1, 0}, {n - 1, 0, 0});
    char *calloced = umm_multi_calloc(&heap, 2, UMM_TOP_BYTES / 2);
    REQUIRE(calloced, "calloc");
    EXPECT(calloced < large && calloced > small, "calloc of the same size from the top too");
    TABLE({0, 1, 0}, {1, 1 + us, 0}, {1 + us, L - ul, 1}, {L - ul, L, 0}, {L, n - 1, 0}, {n - 1, 0, 0});
    umm_multi_free(&heap, calloced);
    umm_multi_free(&heap, large);
    umm_multi_free(&heap, small);
    TABLE({0, 1, 0}, {1, n - 1, 1}, {n - 1, 0, 0});
}

static void test_realloc_shrink_slides_down(void)
{
    /* Blocks of a units then b units, a freed: b shrinks to `keep_units`. */
    fresh_heap(16384);
    uint32_t slide = UMM_SLIDE_BYTES / 8;
    size_t a_bytes = UMM_SLIDE_BYTES / 2, b_bytes = UMM_SLIDE_BYTES;
    uint32_t ua = units_for(&heap, a_bytes), ub = units_for(&heap, b_bytes), uw = units_for(&heap, 8);
    char *a = umm_multi_malloc(&heap, a_bytes);
    char *b = umm_multi_malloc(&heap, b_bytes);
    char *wall = umm_multi_malloc(&heap, 8);
    REQUIRE(a && b && wall, "allocations");
    memset(b, 'b', b_bytes);
    umm_multi_free(&heap, a);
    /* The hole below and what is given up stay short of UMM_SLIDE_BYTES: in place. */
    size_t stay = b_bytes;
    while (ua + ub - units_for(&heap, stay - 8) < slide)
        stay -= 8;
    char *p = umm_multi_realloc(&heap, b, stay);
    EXPECT(p == b, "a small gain shrinks in place: %p vs %p", p, b);
    uint32_t W = 1 + ua + ub;
    uint32_t us = units_for(&heap, stay);
    TABLE({0, 1, 0}, {1, 1 + ua, 1}, {1 + ua, 1 + ua + us, 0}, {1 + ua + us, W, 1}, {W, W + uw, 0},
          {W + uw, unit_count(&heap) - 1, 1}, {unit_count(&heap) - 1, 0, 0});
    /* Enough given up: the block moves down and the holes become one. */
    size_t keep = stay - 8;
    uint32_t uk = units_for(&heap, keep);
    REQUIRE(ua + ub - uk >= slide, "test sizes reach the threshold");
    p = umm_multi_realloc(&heap, p, keep);
    EXPECT(p == a, "slid into the free predecessor: %p vs %p", p, a);
    int same = 1;
    for (size_t i = 0; i < keep; i++)
        same &= p[i] == 'b';
    EXPECT(same, "contents moved intact");
    TABLE({0, 1, 0}, {1, 1 + uk, 0}, {1 + uk, W, 1}, {W, W + uw, 0}, {W + uw, unit_count(&heap) - 1, 1},
          {unit_count(&heap) - 1, 0, 0});
}

static void test_malloc_zero_and_free_null(void)
{
    fresh_heap(4096);
    struct hw_summary before, after;
    hw_check(heap.ctl, &before);
    EXPECT(umm_multi_malloc(&heap, 0) == NULL, "malloc(0) is NULL and takes nothing");
    umm_multi_free(&heap, NULL);
    hw_check(heap.ctl, &after);
    EXPECT(before.free_units == after.free_units && after.used_blocks == 0, "heap untouched");
}

static void test_alignment_of_every_pointer(void)
{
    fresh_heap(sizeof region);
    void *ptrs[300];
    int bad = 0, count = 0;
    for (int i = 0; i < 300; i++) {
        ptrs[i] = umm_multi_malloc(&heap, (size_t)(1 + (i * 7) % 97));
        if (ptrs[i]) {
            count++;
            bad += ((uintptr_t)ptrs[i] & 7u) != 0;
        }
    }
    EXPECT(count == 300 && bad == 0, "%d of %d pointers misaligned", bad, count);
    for (int i = 0; i < 300; i += 2)
        umm_multi_free(&heap, ptrs[i]);
    void *c = umm_multi_calloc(&heap, 3, 5);
    void *r = umm_multi_realloc(&heap, ptrs[1], 333);
    EXPECT(((uintptr_t)c & 7u) == 0 && ((uintptr_t)r & 7u) == 0, "calloc/realloc aligned");
}

static void test_memalign(void)
{
    fresh_heap(sizeof region);
    for (size_t align = 1; align <= 4096; align <<= 1) {
        void *filler = umm_multi_malloc(&heap, 3 + align % 11);
        char *p = umm_multi_memalign(&heap, align, 100);
        REQUIRE(p != NULL, "memalign(%zu, 100)", align);
        size_t want = align < 8 ? 8 : align;
        EXPECT(((uintptr_t)p & (want - 1)) == 0, "memalign(%zu) gave %p", align, (void *)p);
        memset(p, 0x11, 100);
        EXPECT(umm_multi_usable_size(&heap, p) >= 100, "usable size");
        struct hw_summary sum;
        const char *why = hw_check(heap.ctl, &sum);
        EXPECT(!why, "after memalign(%zu): %s", align, why);
        (void)filler;
    }
    EXPECT(umm_multi_memalign(&heap, 24, 10) == NULL, "alignment not a power of two refused");
}

/* Bytes whose request takes exactly `units` (the inverse of units_for). */
static size_t size_for_units(const umm_heap *hp, uint32_t units)
{
    const uint8_t *c = ctl_of(hp);
    return (size_t)units * 8u - 2u * c[UMM_CTL_INDEX_BYTES] - c[UMM_CTL_PREFIX_BYTES] - c[UMM_CTL_SUFFIX_BYTES];
}

static void test_memalign_skips_closest_fit(void)
{
    /*
     * memalign(16) of 16 units searches for 17 (the worst lead-in gap
     * added).  A hole of exactly 17 sits in 17's own class, which only
     * malloc scans for the closest fit; memalign takes the first block of
     * the lowest class whose every block holds 17: the 24-unit hole.
     */
    fresh_heap(4096);
    char *exact = umm_multi_malloc(&heap, size_for_units(&heap, 17));
    void *sep = umm_multi_malloc(&heap, 8);
    char *roomy = umm_multi_malloc(&heap, size_for_units(&heap, 24));
    void *sep2 = umm_multi_malloc(&heap, 8);
    REQUIRE(exact && sep && roomy && sep2, "allocations");
    REQUIRE(units_for(&heap, size_for_units(&heap, 17)) == 17, "size_for_units inverts units_for");
    umm_multi_free(&heap, exact);
    umm_multi_free(&heap, roomy);
    char *p = umm_multi_memalign(&heap, 16, size_for_units(&heap, 16));
    REQUIRE(p != NULL, "memalign");
    EXPECT(p >= roomy && p < roomy + 24 * 8, "memalign took the 24-unit hole: %p (17-unit hole %p, 24-unit %p)",
           (void *)p, (void *)exact, (void *)roomy);
    EXPECT(((uintptr_t)p & 15u) == 0, "aligned");
#if !defined(UMM_FIRST_FIT)
    /* malloc of 17 units still takes the closest fit. */
    char *q = umm_multi_malloc(&heap, size_for_units(&heap, 17));
    EXPECT(q == exact, "malloc took the 17-unit hole: %p vs %p", (void *)q, (void *)exact);
#endif
    struct hw_summary sum;
    const char *why = hw_check(heap.ctl, &sum);
    EXPECT(!why, "%s", why);
}

static void test_memalign_gap_joins_used_predecessor(void)
{
    /*
     * A used block of `lead` units, then memalign(64) from the free rest:
     * the lead-in gap joins the used block.  `lead` is stepped until there
     * is a gap.
     */
    uint32_t u = 0, g = 0, lead = 0, n;
    char *p = NULL;
    for (uint32_t step = 0; step < 8 && !g; step++) {
        fresh_heap(4096);
        lead = units_for(&heap, 1) + step;
        void *a = umm_multi_malloc(&heap, size_for_units(&heap, lead));
        REQUIRE(a != NULL, "lead block");
        u = units_for(&heap, 100);
        p = umm_multi_memalign(&heap, 64, 100);
        REQUIRE(p != NULL && ((uintptr_t)p & 63u) == 0, "memalign(64)");
        g = hw_block_of_user(heap.ctl, p) - (1 + lead);
    }
    REQUIRE(g > 0, "some lead gives a gap");
    n = unit_count(&heap);
    uint32_t at = 1 + lead + g;
    TABLE({0, 1, 0}, {1, at, 0}, {at, at + u, 0}, {at + u, n - 1, 1}, {n - 1, 0, 0});
    umm_multi_free(&heap, p);
    TABLE({0, 1, 0}, {1, at, 0}, {at, n - 1, 1}, {n - 1, 0, 0});

    /* At the start of the heap the gap is a free block: the region is
     * moved by 8 bytes until the first block is not 256-aligned. */
    for (size_t off = 0; off < 256; off += 8) {
        memset(region, 0x5A, sizeof region);
        umm_multi_init_heap(&heap, region + off, 4096);
        p = umm_multi_memalign(&heap, 256, 100);
        REQUIRE(p != NULL && ((uintptr_t)p & 255u) == 0, "memalign(256)");
        at = hw_block_of_user(heap.ctl, p);
        if (at == 1)
            continue;
        n = unit_count(&heap);
        TABLE({0, 1, 0}, {1, at, 1}, {at, at + u, 0}, {at + u, n - 1, 1}, {n - 1, 0, 0});
        return;
    }
    REQUIRE(0, "no region offset left a gap at the start of the heap");
}

static void test_calloc(void)
{
    fresh_heap(4096);
    unsigned char *p = umm_multi_malloc(&heap, 64);
    REQUIRE(p, "malloc");
    memset(p, 0xEE, 64);
    umm_multi_free(&heap, p);
    unsigned char *z = umm_multi_calloc(&heap, 8, 8);
    REQUIRE(z, "calloc");
    int zero = 1;
    for (int i = 0; i < 64; i++)
        zero &= z[i] == 0;
    EXPECT(zero, "calloc memory is zeroed");
    EXPECT(umm_multi_calloc(&heap, SIZE_MAX / 2, 3) == NULL, "overflowing product refused");
    EXPECT(umm_multi_calloc(&heap, (size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)) == NULL,
           "product of exactly 2^bits refused");
}

static void test_failed_realloc_keeps_block(void)
{
    fresh_heap(4096);
    char *a = umm_multi_malloc(&heap, 100);
    char *wall = umm_multi_malloc(&heap, 8);
    REQUIRE(a && wall, "allocations");
    memset(a, 'k', 100);
    EXPECT(umm_multi_realloc(&heap, a, 5000) == NULL, "realloc beyond the heap fails");
    EXPECT(umm_multi_realloc(&heap, a, (size_t)-1 / 2) == NULL, "huge realloc fails");
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= a[i] == 'k';
    EXPECT(same, "old block intact");
    EXPECT(umm_multi_usable_size(&heap, a) >= 100, "old block still allocated");
    umm_multi_free(&heap, a);
    umm_multi_free(&heap, wall);
    struct hw_summary sum;
    EXPECT(!hw_check(heap.ctl, &sum) && sum.used_blocks == 0, "all freed");
}

static void test_bad_pointers_refused(void)
{
    fresh_heap(4096);
    char *a = umm_multi_malloc(&heap, 40);
    char *b = umm_multi_malloc(&heap, 40);
    REQUIRE(a && b, "allocations");
    struct hw_block before[16], after[16];
    size_t nb = hw_blocks(heap.ctl, before, 16);
    int on_stack = 0;
    umm_multi_free(&heap, &on_stack);           /* foreign */
    umm_multi_free(&heap, a + 8);               /* interior */
    umm_multi_free(&heap, region + sizeof region - 8); /* past the heap */
    umm_multi_free(&heap, (char *)heap.ctl + 8);      /* control block */
    for (int k = 1; k < 8; k++) {
        umm_multi_free(&heap, a + k);           /* misaligned by k */
        umm_multi_free(&heap, a - k);
        EXPECT(umm_multi_realloc(&heap, a + k, 10) == NULL, "realloc of a + %d refused", k);
    }
    umm_multi_free(&heap, a - 8);               /* the head sentinel's data */
    /* The end sentinel's would-be user pointer: one unit before the heap's last byte. */
    umm_multi_free(&heap, (char *)a + 8u * (unit_count(&heap) - 2u));
    umm_multi_free(&heap, b);
    umm_multi_free(&heap, b);                   /* double */
    EXPECT(umm_multi_realloc(&heap, a + 16, 10) == NULL, "realloc of an interior pointer refused");
    size_t na = hw_blocks(heap.ctl, after, 16);
    struct hw_summary sum;
    const char *why = hw_check(heap.ctl, &sum);
    EXPECT(!why, "heap intact: %s", why);
    EXPECT(nb == na + 0 || na == nb - 1, "only the real free changed the table (%zu -> %zu)", nb, na);
    EXPECT(sum.used_blocks == 1, "a is still allocated (%u used)", sum.used_blocks);
    EXPECT(umm_multi_usable_size(&heap, a) >= 40, "a usable");
}

static void test_other_heap_pointer_refused(void)
{
    static _Alignas(8) uint8_t other_region[2048];
    umm_heap other;
    fresh_heap(4096);
    umm_multi_init_heap(&other, other_region, sizeof other_region);
    char *mine = umm_multi_malloc(&heap, 24);
    char *theirs = umm_multi_malloc(&other, 24);
    REQUIRE(mine && theirs, "allocations");
    umm_multi_free(&heap, theirs);
    struct hw_summary s1, s2;
    EXPECT(!hw_check(heap.ctl, &s1) && !hw_check(other.ctl, &s2), "both heaps intact");
    EXPECT(s2.used_blocks == 1 && umm_multi_usable_size(&other, theirs) >= 24, "other's block still live");
    umm_multi_free(&other, theirs);
    hw_check(other.ctl, &s2);
    EXPECT(s2.used_blocks == 0, "freed through its own heap");
}

static void test_region_limits(void)
{
    static _Alignas(8) uint8_t tiny[64];
    umm_heap t;
    umm_multi_init_heap(&t, tiny, 16);
    EXPECT(t.ctl == NULL, "16 bytes cannot hold a heap");
    EXPECT(umm_multi_malloc(&t, 1) == NULL, "unusable heap allocates nothing");
    umm_multi_free(&t, tiny); /* no crash */
    umm_multi_init_heap(&t, tiny + 1, 0);
    EXPECT(t.ctl == NULL, "empty region refused");
    /* Unaligned start: the control block moves up to 8. */
    umm_multi_init_heap(&heap, region + 3, 4000);
    REQUIRE(heap.ctl != NULL, "unaligned region accepted");
    EXPECT(((uintptr_t)heap.ctl & 7u) == 0, "control block 8-aligned");
    void *p = umm_multi_malloc(&heap, 10);
    EXPECT(p && ((uintptr_t)p & 7u) == 0, "aligned pointer from an unaligned region");
    struct hw_summary sum;
    const char *why = hw_check(heap.ctl, &sum);
    EXPECT(!why, "consistent: %s", why);
}

static void test_wide_heaps(void)
{
    static const size_t sizes[] = {256 * 1024 + 64, 1u << 20, 16u << 20};
#if defined(UMM_CHECK_EVERY_OP)
    /* A full check per operation makes filling 16 MiB quadratic. */
    const size_t size_count = 1;
#else
    const size_t size_count = 3;
#endif
    for (size_t k = 0; k < size_count; k++) {
        size_t bytes = sizes[k];
        uint8_t *mem = malloc(bytes);
        REQUIRE(mem, "host malloc");
        umm_heap big;
        umm_multi_init_heap(&big, mem, bytes);
        REQUIRE(big.ctl != NULL, "%zu-byte heap", bytes);
        EXPECT(ctl_of(&big)[UMM_CTL_INDEX_BYTES] == 4, "%zu bytes needs wide indices", bytes);
        uint32_t n = unit_count(&big);
        EXPECT((uint64_t)n * 8 > bytes - 4096 && (uint64_t)n * 8 <= bytes, "units cover the region");
        /* Fill it completely with mixed sizes, then free every other one. */
        void **ptrs = calloc(bytes / 16, sizeof *ptrs);
        size_t count = 0;
        for (;;) {
            void *p = umm_multi_malloc(&big, 8 + (count % 5) * 40);
            if (!p)
                break;
            EXPECT(((uintptr_t)p & 7u) == 0, "aligned");
            ptrs[count++] = p;
        }
        EXPECT(count > bytes / 256, "%zu allocations fill %zu bytes", count, bytes);
        struct hw_summary sum;
        const char *why = hw_check(big.ctl, &sum);
        EXPECT(!why, "full wide heap: %s", why);
        EXPECT(sum.used_blocks == count, "%u used blocks, %zu allocations", sum.used_blocks, count);
        for (size_t i = 0; i < count; i += 2)
            umm_multi_free(&big, ptrs[i]);
        void *large = umm_multi_malloc(&big, bytes / 4);
        EXPECT(large == NULL, "no contiguous quarter in a checkerboard");
        for (size_t i = 1; i < count; i += 2)
            umm_multi_free(&big, ptrs[i]);
        why = hw_check(big.ctl, &sum);
        EXPECT(!why && sum.used_blocks == 0 && sum.free_blocks == 1, "all merged back: %s", why ? why : "");
        large = umm_multi_malloc(&big, bytes - 8192);
        EXPECT(large != NULL, "nearly all of it in one piece");
        free(ptrs);
        umm_multi_deinit(&big);
        EXPECT(big.ctl == NULL, "deinit forgets the heap");
        free(mem);
    }
    /* The largest narrow heap stays narrow. */
    uint8_t *mem = malloc(300 * 1024);
    umm_heap edge;
    umm_multi_init_heap(&edge, mem, 200 * 1024);
    EXPECT(edge.ctl && ctl_of(&edge)[UMM_CTL_INDEX_BYTES] == 2, "200 KiB is narrow");
    umm_multi_init_heap(&edge, mem, 300 * 1024);
    EXPECT(edge.ctl && ctl_of(&edge)[UMM_CTL_INDEX_BYTES] == 4, "300 KiB is wide");
    umm_multi_deinit(&edge);
    free(mem);
}

UMM_HEAP_DEFINE(static_heap, 2000);

static void test_static_heap_and_default(void)
{
    EXPECT(static_heap.ctl == NULL, "not initialised before use");
    void *p = umm_multi_malloc(&static_heap, 100);
#if !defined(UMM_INIT_IF_UNINITIALIZED) || UMM_INIT_IF_UNINITIALIZED
    EXPECT(p != NULL && static_heap.ctl != NULL, "initialised on first use");
#else
    EXPECT(p == NULL, "no lazy init in this build");
#endif
    umm_multi_free(&static_heap, p);
    umm_init_heap(region, 8192);
    void *d = umm_malloc(50);
    EXPECT(d != NULL && (uint8_t *)d > region && (uint8_t *)d < region + 8192, "default heap serves umm_malloc");
    EXPECT(umm_usable_size(d) >= 50, "usable size");
    void *m = umm_memalign(64, 10);
    EXPECT(m && ((uintptr_t)m & 63u) == 0, "umm_memalign");
    void *z = umm_calloc(2, 2);
    void *r = umm_realloc(d, 500);
    EXPECT(z && r, "calloc, realloc");
    umm_free(r);
    umm_free(z);
    umm_free(m);
    struct hw_summary sum;
    EXPECT(!hw_check(umm_heap_default.ctl, &sum) && sum.used_blocks == 0, "default heap empty again");
}

static void test_registry(void)
{
    static _Alignas(8) uint8_t r1[1024], r2[1024];
    umm_heap h1, h2;
    umm_multi_init_heap(&h1, r1, sizeof r1);
    umm_multi_init_heap(&h2, r2, sizeof r2);
    umm_multi_init_heap(&h1, r1, sizeof r1); /* again: listed once */
    int seen1 = 0, seen2 = 0, total = 0;
    for (struct umm_ctl *c = umm_heap_list; c && total < 300; total++) {
        seen1 += c == h1.ctl;
        seen2 += c == h2.ctl;
        const uint8_t *raw = (const uint8_t *)c;
        struct umm_ctl *next;
        memcpy(&next, raw + UMM_CTL_NEXT_HEAP(sizeof(void *)), sizeof next);
        c = next;
    }
    EXPECT(seen1 == 1 && seen2 == 1, "each heap listed once (%d, %d)", seen1, seen2);
    EXPECT(total < 300, "list ends");
    EXPECT(umm_heap_list == h1.ctl, "latest init first");
}

#if defined(UMM_PORT_EXTERN)
static void test_port_balance(void)
{
    fresh_heap(4096);
    tport_max_depth = 0;
    void *p = umm_multi_malloc(&heap, 10);
    p = umm_multi_realloc(&heap, p, 100);
    umm_multi_free(&heap, p);
    EXPECT(tport_depth == 0, "every enter has its exit (depth %d)", tport_depth);
    EXPECT(tport_max_depth >= 1, "critical section entered");
}
#endif

int main(int argc, char **argv)
{
    static const struct tcheck_case cases[] = {
        {"init table", test_init_table},
        {"split and merge table", test_split_and_merge_table},
        {"exact class reuse", test_exact_class_reuse},
        {"realloc in place table", test_realloc_in_place_table},
        {"realloc slides into free predecessor", test_realloc_slides_into_free_predecessor},
        {"large malloc takes the top", test_large_malloc_takes_top},
        {"realloc shrink slides down", test_realloc_shrink_slides_down},
        {"malloc(0) and free(NULL)", test_malloc_zero_and_free_null},
        {"alignment of every pointer", test_alignment_of_every_pointer},
        {"memalign", test_memalign},
        {"memalign skips the closest-fit scan", test_memalign_skips_closest_fit},
        {"memalign's gap joins a used predecessor", test_memalign_gap_joins_used_predecessor},
        {"calloc", test_calloc},
        {"failed realloc keeps block", test_failed_realloc_keeps_block},
        {"bad pointers refused", test_bad_pointers_refused},
        {"other heap's pointer refused", test_other_heap_pointer_refused},
        {"region limits", test_region_limits},
        {"wide heaps", test_wide_heaps},
        {"static heap and default heap", test_static_heap_and_default},
        {"registry", test_registry},
#if defined(UMM_PORT_EXTERN)
        {"port balance", test_port_balance},
#endif
        {NULL, NULL},
    };
    return tcheck_main(VARIANT_NAME, cases, argc, argv);
}
