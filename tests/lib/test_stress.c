/*
 * test_stress.c - seeded random operations against a reference model.
 * Every live allocation carries a fill token checked when it is freed or
 * moved; the structure is checked after every operation, by the independent
 * walker and, in instrumented builds, by the allocator's own checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapwalk.h"
#include "tcheck.h"
#include "umm_malloc.h"
#include "umm_config.h"
#if UMM_HAS_RECORD
#include "umm_diag.h"
#endif

#define SLOTS 384

struct slot {
    uint8_t *p;
    size_t size;
    uint8_t token;
};

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

/* Mostly small, sometimes medium, rarely large: what firmware does. */
static size_t random_size(size_t heap_bytes)
{
    uint32_t r = rnd() % 100;
    if (r < 70)
        return 1 + rnd() % 64;
    if (r < 95)
        return 1 + rnd() % 600;
    return 1 + rnd() % (heap_bytes / 8);
}

static int fill_ok(const struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != (uint8_t)(s->token + i))
            return 0;
    return 1;
}
static void fill(struct slot *s)
{
    for (size_t i = 0; i < s->size; i++)
        s->p[i] = (uint8_t)(s->token + i);
}

static int ranges_disjoint(const struct slot *slots)
{
    for (int i = 0; i < SLOTS; i++)
        for (int j = i + 1; j < SLOTS; j++)
            if (slots[i].p && slots[j].p && slots[i].p < slots[j].p + slots[j].size &&
                slots[j].p < slots[i].p + slots[i].size)
                return 0;
    return 1;
}

/* Returns the number of operations that failed a check. */
static int stress(size_t heap_bytes, uint64_t seed, int ops)
{
    uint8_t *region = malloc(heap_bytes);
    umm_heap heap;
    struct slot slots[SLOTS];
    memset(slots, 0, sizeof slots);
    rng_state = seed;
    umm_multi_init_heap(&heap, region, heap_bytes);
    if (!heap.ctl) {
        umm_multi_deinit(&heap);
        free(region);
        return 1;
    }
    int bad = 0, live = 0, ooms = 0;
    for (int op = 0; op < ops && bad < 5; op++) {
        struct slot *s = &slots[rnd() % SLOTS];
        uint32_t kind = rnd() % 8;
        if (!s->p) {
            size_t size = random_size(heap_bytes);
            uint8_t *p;
            if (kind == 0)
                p = umm_multi_calloc(&heap, 1 + size % 7, (size + 6) / 7);
            else if (kind == 1)
                p = umm_multi_memalign(&heap, (size_t)8 << (rnd() % 7), size);
            else
                p = umm_multi_malloc(&heap, size);
            if (kind == 0)
                size = (1 + size % 7) * ((size + 6) / 7);
            if (!p) {
                ooms++;
                continue;
            }
            if (kind == 0) {
                for (size_t i = 0; i < size; i++)
                    if (p[i]) {
                        fprintf(stderr, "seed %llu op %d: calloc memory not zero\n", (unsigned long long)seed, op);
                        bad++;
                        break;
                    }
            }
            if (((uintptr_t)p & 7u) || umm_multi_usable_size(&heap, p) < size) {
                fprintf(stderr, "seed %llu op %d: bad pointer %p or usable size\n", (unsigned long long)seed, op,
                        (void *)p);
                bad++;
            }
            s->p = p;
            s->size = size;
            s->token = (uint8_t)rnd();
            fill(s);
            live++;
        } else if (kind < 5) {
            if (!fill_ok(s, s->size)) {
                fprintf(stderr, "seed %llu op %d: fill token damaged before free\n", (unsigned long long)seed, op);
                bad++;
            }
            umm_multi_free(&heap, s->p);
            s->p = NULL;
            live--;
        } else {
            size_t size = random_size(heap_bytes);
            uint8_t *p = umm_multi_realloc(&heap, s->p, size);
            if (!p) {
                ooms++;
                if (!fill_ok(s, s->size)) {
                    fprintf(stderr, "seed %llu op %d: failed realloc damaged the block\n", (unsigned long long)seed, op);
                    bad++;
                }
                continue;
            }
            size_t kept = size < s->size ? size : s->size;
            s->p = p;
            if (!fill_ok(s, kept)) {
                fprintf(stderr, "seed %llu op %d: realloc lost contents\n", (unsigned long long)seed, op);
                bad++;
            }
            s->size = size;
            fill(s);
        }
        struct hw_summary sum;
        const char *why = hw_check(heap.ctl, &sum);
        if (why || sum.used_blocks != (uint32_t)live) {
            fprintf(stderr, "seed %llu op %d: %s (used %u, live %d)\n", (unsigned long long)seed, op,
                    why ? why : "count mismatch", sum.used_blocks, live);
            bad++;
        }
#if defined(UMM_INTEGRITY_CHECK)
        if (!umm_multi_integrity_check(&heap)) {
            fprintf(stderr, "seed %llu op %d: allocator's integrity check failed\n", (unsigned long long)seed, op);
            bad++;
        }
#endif
#if defined(UMM_POISON_CHECK)
        if (!umm_multi_poison_check(&heap)) {
            fprintf(stderr, "seed %llu op %d: allocator's poison check failed\n", (unsigned long long)seed, op);
            bad++;
        }
#endif
        if (op % 512 == 0 && !ranges_disjoint(slots)) {
            fprintf(stderr, "seed %llu op %d: live allocations overlap\n", (unsigned long long)seed, op);
            bad++;
        }
    }
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p) {
            if (!fill_ok(&slots[i], slots[i].size))
                bad++;
            umm_multi_free(&heap, slots[i].p);
        }
    struct hw_summary sum;
    const char *why = hw_check(heap.ctl, &sum);
    if (why || sum.used_blocks != 0 || sum.free_blocks != 1) {
        fprintf(stderr, "seed %llu: heap not whole after freeing everything: %s\n", (unsigned long long)seed,
                why ? why : "fragments left");
        bad++;
    }
    if (ooms == 0 && heap_bytes <= 8192)
        fprintf(stderr, "note: seed %llu never ran out of memory\n", (unsigned long long)seed);
#if defined(UMM_INTEGRITY_CHECK) || defined(UMM_POISON_CHECK)
    /* No false positives: a clean run records no fault at all. */
    struct umm_fault fault;
    if (umm_multi_last_fault(&heap, &fault)) {
        fprintf(stderr, "seed %llu: fault kind %u recorded on a clean run\n", (unsigned long long)seed, fault.kind);
        bad++;
    }
#endif
    umm_multi_deinit(&heap);
    free(region);
    return bad;
}

static int stress_ops(void)
{
    const char *env = getenv("UMM_STRESS_OPS");
    return env ? atoi(env) : 20000;
}

static void test_small_tight_heap(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        EXPECT(stress(4096, seed, stress_ops()) == 0, "4 KiB heap, seed %llu", (unsigned long long)seed);
}
static void test_medium_heap(void)
{
    for (uint64_t seed = 11; seed <= 12; seed++)
        EXPECT(stress(48 * 1024, seed, stress_ops()) == 0, "48 KiB heap, seed %llu", (unsigned long long)seed);
}
static void test_largest_narrow_heap(void)
{
    EXPECT(stress(256 * 1024, 21, stress_ops() / 2) == 0, "256 KiB heap");
}
static void test_wide_heap(void)
{
    EXPECT(stress(1100 * 1024, 31, stress_ops() / 2) == 0, "1.1 MiB (wide) heap");
}

#if defined(UMM_PORT_PTHREAD)
#include <pthread.h>
static umm_heap shared_heap;
static void *thread_body(void *arg)
{
    uint64_t state = (uint64_t)(uintptr_t)arg * 7919u + 1;
    void *mine[64] = {0};
    size_t sizes[64] = {0};
    long bad = 0;
    for (int i = 0; i < 20000; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(state >> 40) % 64;
        if (mine[k]) {
            unsigned char *p = mine[k];
            for (size_t j = 0; j < sizes[k]; j++)
                bad += p[j] != (unsigned char)((uintptr_t)arg + j);
            umm_multi_free(&shared_heap, p);
            mine[k] = NULL;
        } else {
            sizes[k] = 1 + (state >> 50) % 200;
            unsigned char *p = umm_multi_malloc(&shared_heap, sizes[k]);
            if (p)
                for (size_t j = 0; j < sizes[k]; j++)
                    p[j] = (unsigned char)((uintptr_t)arg + j);
            mine[k] = p;
        }
    }
    for (int k = 0; k < 64; k++)
        umm_multi_free(&shared_heap, mine[k]);
    return (void *)bad;
}
static void test_threads_share_a_heap(void)
{
    static _Alignas(8) uint8_t mem[64 * 1024];
    umm_multi_init_heap(&shared_heap, mem, sizeof mem);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_body, (void *)(i + 1));
    long bad = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += (long)r;
    }
    struct hw_summary sum;
    const char *why = hw_check(shared_heap.ctl, &sum);
    EXPECT(bad == 0, "%ld bytes of thread data damaged", bad);
    EXPECT(!why && sum.used_blocks == 0 && sum.free_blocks == 1, "heap whole after threads: %s", why ? why : "");
}
#endif

int main(int argc, char **argv)
{
    static const struct tcheck_case cases[] = {
        {"stress small tight heap", test_small_tight_heap},
        {"stress medium heap", test_medium_heap},
        {"stress largest narrow heap", test_largest_narrow_heap},
        {"stress wide heap", test_wide_heap},
#if defined(UMM_PORT_PTHREAD)
        {"threads share a heap", test_threads_share_a_heap},
#endif
        {NULL, NULL},
    };
    return tcheck_main(VARIANT_NAME "-stress", cases, argc, argv);
}
