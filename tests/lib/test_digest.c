/*
 * test_digest.c - a fixed, seeded run of every allocation call on narrow
 * and wide heaps, reduced to one digest per heap: every pointer handed
 * out (as an offset into the region) and, now and then and at the end,
 * every byte of the region.  It prints the digests; lib-tests.mk runs it
 * on builds of the allocator that must place blocks identically (the -O2
 * and -Os builds) and compares what they print.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umm_format.h"
#include "umm_malloc.h"

#define SLOTS 256

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static uint64_t digest;
static void mix(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        digest ^= (v >> (8 * i)) & 0xFFu;
        digest *= 0x100000001B3ull;
    }
}
static void mix_bytes(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        digest ^= p[i];
        digest *= 0x100000001B3ull;
    }
}

static uint8_t *region;
static size_t region_bytes;
static uint8_t *scratch;

static uint32_t rd(const uint8_t *p, unsigned bytes)
{
    uint32_t v32;
    uint16_t v16;
    if (bytes == 4) {
        memcpy(&v32, p, 4);
        return v32;
    }
    memcpy(&v16, p, 2);
    return v16;
}

/*
 * The region's bytes, less what differs between builds and runs on its
 * own: addresses (the control block's self, next_heap and region; the
 * record's fault address and owner) and the owner in each used block's
 * prefix (a return address into the build's code).
 */
static void mix_region(const umm_heap *heap)
{
    size_t n = region_bytes + 16;
    memcpy(scratch, region, n);
    const uint8_t *ctl = (const uint8_t *)heap->ctl;
    if (ctl) {
        size_t at = (size_t)(ctl - region);
        unsigned ptr = ctl[UMM_CTL_PTR_BYTES], ix = ctl[UMM_CTL_INDEX_BYTES];
        memset(scratch + at + UMM_CTL_SELF, 0, 3u * ptr);
        uint16_t instr_off = (uint16_t)rd(ctl + UMM_CTL_INSTR_OFF, 2);
        if (instr_off)
            memset(scratch + at + instr_off + UMM_REC_FAULT_ADDRESS, 0, 2u * ptr);
        if (ctl[UMM_CTL_PREFIX_BYTES]) {
            const uint8_t *blocks = ctl + rd(ctl + UMM_CTL_CTL_BYTES, 2);
            uint32_t count = rd(ctl + UMM_CTL_UNIT_COUNT, 4), flag = ix == 4 ? 0x80000000u : 0x8000u;
            for (uint32_t b = 0, steps = 0; b < count && steps < count; steps++) {
                uint32_t next = rd(blocks + 8u * b, ix);
                if (!(next & flag) && b && next)
                    memset(scratch + (size_t)(blocks - region) + 8u * b + 2u * ix + UMM_PFX_OWNER, 0, ptr);
                next &= ~flag;
                if (next <= b)
                    break;
                b = next;
            }
        }
    }
    mix_bytes(scratch, n);
}

static unsigned handed, refused;
static void mix_ptr(const void *p)
{
    if (p)
        handed++;
    else
        refused++;
    mix(p ? (uint64_t)((const uint8_t *)p - region) : UINT64_MAX);
}

static size_t random_size(void)
{
    uint32_t r = rnd() % 100;
    if (r < 60)
        return rnd() % 64;
    if (r < 90)
        return 1 + rnd() % 700;
    if (r < 98)
        return 1 + rnd() % (region_bytes / 6);
    return rnd() % 3 ? region_bytes : (size_t)-1 - rnd() % 64;
}

static void run(size_t bytes, unsigned offset, uint64_t seed, int ops)
{
    static uint8_t *slots[SLOTS];
    region_bytes = bytes;
    region = malloc(bytes + 16);
    scratch = malloc(bytes + 16);
    memset(region, 0x5A, bytes + 16);
    umm_heap heap;
    umm_multi_init_heap(&heap, region + offset, bytes);
    memset(slots, 0, sizeof slots);
    rng_state = seed;
    digest = 0xCBF29CE484222325ull;
    handed = refused = 0;
    mix_ptr(heap.ctl);
    mix_region(&heap);
    for (int op = 0; op < ops; op++) {
        unsigned k = rnd() % SLOTS;
        uint32_t kind = rnd() % 16;
        uint8_t *p = slots[k];
        if (!p) {
            size_t size = random_size();
            if (kind < 2) {
                size_t n = 1 + rnd() % 9;
                p = umm_multi_calloc(&heap, n, kind ? size : (size + n - 1) / n);
                size = kind ? n * size : size;
            } else if (kind < 5) {
                size_t align = (size_t)1 << (rnd() % 13);
                if (kind == 4)
                    align += rnd() % 3; /* sometimes not a power of two */
                p = umm_multi_memalign(&heap, align, size);
            } else if (kind < 7) {
                p = umm_multi_realloc(&heap, NULL, size);
            } else {
                p = umm_multi_malloc(&heap, size);
            }
            mix(op);
            mix_ptr(p);
            if (p) {
                memset(p, (int)(op & 0xFF), size);
                slots[k] = p;
            }
        } else if (kind < 6) {
            umm_multi_free(&heap, p);
            slots[k] = NULL;
        } else if (kind < 13) {
            size_t size = kind == 12 ? 0 : random_size();
            uint8_t *q = umm_multi_realloc(&heap, p, size);
            mix(op);
            mix_ptr(q);
            if (q || size == 0) {
                slots[k] = q;
                if (q)
                    memset(q, (int)(op & 0xFF), size);
            }
        } else if (kind == 13) {
            mix(umm_multi_usable_size(&heap, p));
        } else {
            /* Refused pointers: interior, past the end, the control block. */
            int local;
            uint8_t *bad[] = {p + 4, p + 1, region + offset + bytes, (uint8_t *)heap.ctl + 8,
                              (uint8_t *)&local};
            umm_multi_free(&heap, bad[kind % 5]);
            mix_ptr(umm_multi_realloc(&heap, bad[(kind + 1) % 5], 10));
        }
        if (op % 4096 == 0)
            mix_region(&heap);
    }
    mix_region(&heap);
    for (unsigned k = 0; k < SLOTS; k++)
        umm_multi_free(&heap, slots[k]);
    mix_region(&heap);
    printf("heap %zu+%u seed %llu: %016llx (%u pointers, %u NULL)\n", bytes, offset, (unsigned long long)seed,
           (unsigned long long)digest, handed, refused);
    umm_multi_deinit(&heap);
    free(region);
    free(scratch);
}

int main(void)
{
    run(600, 0, 1, 3000);
    run(4096, 0, 2, 20000);
    run(4096, 3, 3, 20000);
    run(20000, 4, 4, 20000);
    run(48 * 1024, 0, 5, 30000);
    run(256 * 1024, 0, 6, 20000);       /* narrow, close to the largest */
    run(256 * 1024 + 400, 0, 9, 20000); /* just too large for narrow */
    run(300 * 1024, 0, 7, 30000);       /* wide */
    run(1100 * 1024, 5, 8, 30000);
    return 0;
}
