/*
 * mkheap - builds heap states with the real allocator and writes, for each,
 * the region's bytes and what the program knows about its own heap, so the
 * Python decoder can be checked against the truth.
 *
 *   mkheap SCENARIO OUTDIR          writes OUTDIR/SCENARIO.bin and .json
 *   mkheap SCENARIO OUTDIR --stop   also calls mkheap_stop() for a debugger
 *
 * SCENARIO.json: { "scenario", "ptr_bytes", "instrumented", "heaps": [ {
 *   "name", "region", "region_bytes", "ctl", "file_offset",
 *   "live": [ { "ptr", "size", "usable" } ], "freed": [ ptr... ],
 *   "damage": [ { "kind", "ptr", "address" } ] } ] }
 * The .bin holds each heap's region back to back at "file_offset".
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umm_malloc.h"
#ifdef UMM_INSTRUMENT
#include "umm_diag.h"
#endif

#define MAX_LIVE 40000
#define MAX_HEAPS 2

struct alloc {
    void *ptr;
    size_t size;
};

struct heap_state {
    const char *name;
    umm_heap *heap;
    struct alloc *live;
    size_t live_count;
    void **freed;
    size_t freed_count;
    struct { const char *kind; void *ptr; uintptr_t address; } damage[4];
    size_t damage_count;
    int upstream;           /* an upstream umm_malloc heap built by hand */
#ifdef UMM_INSTRUMENT
    /* The allocator's own view, taken just before the dump. */
    struct umm_heap_info info;
    int info_ok, integrity_ok, poison_ok;
#endif
};

/*
 * An upstream umm_malloc heap, laid out by hand from the facts in
 * /work/shared/UPSTREAM-UMM.md (8-byte blocks of {next, prev, next_free,
 * prev_free} u16 indices), found through upstream's descriptor name.
 */
struct umm_heap_config_upstream {
    void *pheap;
    size_t heap_size;
    uint16_t numblocks;
};
struct umm_heap_config_upstream umm_heap_current;
static uint64_t upstream_region[4096 / 8];
static umm_heap upstream_handle = UMM_HEAP_INITIALIZER(upstream_region, sizeof(upstream_region));

UMM_HEAP_DEFINE(heap_small, 16384);
UMM_HEAP_DEFINE(heap_second, 4096);
UMM_HEAP_DEFINE(heap_wide, 300 * 1024);
UMM_HEAP_DEFINE(heap_bench, 256 * 1024);

static struct heap_state states[MAX_HEAPS];
static size_t state_count;
static uint32_t rng_state = 12345u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static struct heap_state *state_new(const char *name, umm_heap *heap)
{
    struct heap_state *s = &states[state_count++];
    s->name = name;
    s->heap = heap;
    s->live = calloc(MAX_LIVE, sizeof(*s->live));
    s->freed = calloc(MAX_LIVE, sizeof(*s->freed));
    if (s->live == NULL || s->freed == NULL) {
        fprintf(stderr, "mkheap: out of memory\n");
        exit(2);
    }
    umm_multi_init(heap);
    return s;
}

static void upstream_set(uint16_t index, uint16_t next, uint16_t prev, uint16_t next_free,
                         uint16_t prev_free)
{
    uint16_t *b = (uint16_t *)(void *)&upstream_region[index];
    b[0] = next;
    b[1] = prev;
    b[2] = next_free;
    b[3] = prev_free;
}

static void upstream_build(struct heap_state *s)
{
    /* Blocks 1..: used 3, free 5, used 1, used 2, free 10, used 4, free to
     * the end; the free list runs 4 -> 11 -> 25 in address order. */
    static const struct { uint16_t blocks; int free; } layout[] = {
        { 3, 0 }, { 5, 1 }, { 1, 0 }, { 2, 0 }, { 10, 1 }, { 4, 0 }, { 0, 1 },
    };
    const uint16_t numblocks = (uint16_t)(sizeof(upstream_region) / 8u);
    uint16_t index = 1, prev = 0, free_prev = 0;
    uint16_t free_first = 0;
    for (size_t i = 0; i < sizeof(layout) / sizeof(layout[0]); i++) {
        uint16_t blocks = layout[i].blocks ? layout[i].blocks : (uint16_t)(numblocks - 1u - index);
        uint16_t next = (uint16_t)(index + blocks);
        if (layout[i].free) {
            upstream_set(index, (uint16_t)(next | 0x8000u), prev, 0, free_prev);
            if (free_prev != 0) {
                ((uint16_t *)(void *)&upstream_region[free_prev])[2] = index;
            } else {
                free_first = index;
            }
            free_prev = index;
        } else {
            upstream_set(index, next, prev, 0, 0);
            s->live[s->live_count].ptr = (uint8_t *)&upstream_region[index] + 4;
            s->live[s->live_count].size = blocks * 8u - 4u;
            s->live_count++;
        }
        prev = index;
        index = next;
    }
    upstream_set(0, 1, 0, free_first, free_prev);
    upstream_set(index, 0, prev, 0, 0);
    umm_heap_current.pheap = upstream_region;
    umm_heap_current.heap_size = sizeof(upstream_region);
    umm_heap_current.numblocks = numblocks;
}

static void *take(struct heap_state *s, size_t size)
{
    void *p = umm_multi_malloc(s->heap, size);
    if (p == NULL) {
        return NULL;
    }
    memset(p, 0x11, size);
    s->live[s->live_count].ptr = p;
    s->live[s->live_count].size = size;
    s->live_count++;
    return p;
}

static void give_back(struct heap_state *s, size_t i)
{
    umm_multi_free(s->heap, s->live[i].ptr);
    s->freed[s->freed_count++] = s->live[i].ptr;
    s->live[i] = s->live[--s->live_count];
}

static void damage(struct heap_state *s, const char *kind, void *ptr, uintptr_t address)
{
    s->damage[s->damage_count].kind = kind;
    s->damage[s->damage_count].ptr = ptr;
    s->damage[s->damage_count].address = address;
    s->damage_count++;
}

/* Writes one byte through a volatile pointer: the damage is the point. */
static void poke(uintptr_t address, uint8_t value)
{
    *(volatile uint8_t *)address = value;
}

static void scenario_fragmented(struct heap_state *s, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (take(s, 1 + rng() % 96) == NULL) {
            break;
        }
    }
    for (size_t i = 0; i < s->live_count; i++) {
        if (rng() % 2) {
            give_back(s, i);
        }
    }
}

static int build(const char *name)
{
    if (strcmp(name, "upstream") == 0) {
        struct heap_state *s = &states[state_count++];
        s->name = "umm_heap_current";
        s->heap = &upstream_handle;
        s->upstream = 1;
        s->live = calloc(MAX_LIVE, sizeof(*s->live));
        s->freed = calloc(MAX_LIVE, sizeof(*s->freed));
        if (s->live == NULL || s->freed == NULL) {
            return -1;
        }
        upstream_build(s);
#ifdef UMM_INSTRUMENT
    } else if (strcmp(name, "tagged") == 0) {
        /* Owners that are tag strings, next to owners that are call sites. */
        struct heap_state *s = state_new("heap_small", &heap_small);
        static const char tag[] = "mkheap-tag";
        for (int i = 0; i < 3; i++) {
            void *p = umm_multi_malloc_tagged(s->heap, 32, tag);
            if (p != NULL) {
                s->live[s->live_count].ptr = p;
                s->live[s->live_count++].size = 32;
            }
            take(s, 48);
        }
#endif
    } else if (strcmp(name, "empty") == 0) {
        state_new("heap_small", &heap_small);
    } else if (strcmp(name, "several") == 0) {
        struct heap_state *s = state_new("heap_small", &heap_small);
        static const size_t sizes[] = { 1, 8, 12, 24, 100, 3, 256, 40, 17, 1000 };
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            take(s, sizes[i]);
        }
    } else if (strcmp(name, "fragmented") == 0) {
        scenario_fragmented(state_new("heap_small", &heap_small), 300);
    } else if (strcmp(name, "full") == 0) {
        struct heap_state *s = state_new("heap_small", &heap_small);
        while (take(s, 40) != NULL) {
        }
    } else if (strcmp(name, "mixed") == 0) {
        struct heap_state *s = state_new("heap_small", &heap_small);
        scenario_fragmented(s, 60);
        void *p = umm_multi_calloc(s->heap, 7, 9);
        if (p != NULL) {
            s->live[s->live_count].ptr = p;
            s->live[s->live_count++].size = 63;
        }
        p = umm_multi_memalign(s->heap, 64, 100);
        if (p != NULL) {
            s->live[s->live_count].ptr = p;
            s->live[s->live_count++].size = 100;
        }
        if (s->live_count > 0) {
            void *q = umm_multi_realloc(s->heap, s->live[0].ptr, 500);
            if (q != NULL) {
                s->live[0].ptr = q;
                s->live[0].size = 500;
            }
        }
    } else if (strcmp(name, "multi") == 0) {
        struct heap_state *a = state_new("heap_small", &heap_small);
        struct heap_state *b = state_new("heap_second", &heap_second);
        scenario_fragmented(a, 40);
        scenario_fragmented(b, 20);
    } else if (strcmp(name, "wide") == 0) {
        scenario_fragmented(state_new("heap_wide", &heap_wide), 3000);
    } else if (strcmp(name, "bench") == 0) {
        /* ~30,000 blocks in a 256 KiB heap: 1-unit allocations, some freed. */
        struct heap_state *s = state_new("heap_bench", &heap_bench);
        while (s->live_count < 34000 && take(s, 1 + rng() % 4) != NULL) {
        }
        for (size_t i = 0; i < s->live_count; i += 7) {
            give_back(s, i);
        }
    } else if (strcmp(name, "overrun") == 0) {
        /* Writes 3 bytes past a 24-byte allocation: canaries (instrumented)
         * or, past the block, the next block's header (release). */
        struct heap_state *s = state_new("heap_small", &heap_small);
        take(s, 40);
        uint8_t *victim = take(s, 24);
        take(s, 40);
        size_t usable = umm_multi_usable_size(s->heap, victim);
        uintptr_t at = (uintptr_t)victim + (usable > 24 + 4 ? 24 : usable);
        damage(s, "overrun", victim, at);
        for (int i = 0; i < 3; i++) {
            poke(at + (uintptr_t)i, 0x5A);
        }
    } else if (strcmp(name, "underrun") == 0) {
        struct heap_state *s = state_new("heap_small", &heap_small);
        take(s, 32);
        uint8_t *victim = take(s, 16);
        take(s, 32);
        damage(s, "underrun", victim, (uintptr_t)victim - 1);
        poke((uintptr_t)victim - 1, 0x00);
    } else if (strcmp(name, "uaf") == 0) {
        struct heap_state *s = state_new("heap_small", &heap_small);
        take(s, 64);
        uint8_t *victim = take(s, 64);
        take(s, 64);
        give_back(s, 1);
        uintptr_t at = (uintptr_t)victim + 24;
        damage(s, "use_after_free", victim, at);
        poke(at, 0x42);
    } else if (strcmp(name, "double_free") == 0) {
        struct heap_state *s = state_new("heap_small", &heap_small);
        take(s, 64);
        void *victim = take(s, 64);
        take(s, 64);
        give_back(s, 1);
        damage(s, "double_free", victim, (uintptr_t)victim);
        umm_multi_free(s->heap, victim);
    } else {
        fprintf(stderr, "mkheap: unknown scenario '%s'\n", name);
        return -1;
    }
    return 0;
}

/* Runs the allocator's own checks and metrics on every heap (instrumented
 * builds), before the dump, so the dump holds whatever they record. */
static void allocator_view(void)
{
#ifdef UMM_INSTRUMENT
    for (size_t h = 0; h < state_count; h++) {
        struct heap_state *s = &states[h];
        if (s->upstream) {
            continue;
        }
        s->integrity_ok = umm_multi_integrity_check(s->heap);
        s->poison_ok = umm_multi_poison_check(s->heap);
        s->info_ok = umm_multi_info(s->heap, &s->info);
    }
#endif
}

static void write_allocator_view(FILE *js, const struct heap_state *s)
{
#ifdef UMM_INSTRUMENT
    if (!s->upstream && s->info_ok) {
        const struct umm_heap_info *i = &s->info;
        fprintf(js, "   \"allocator\": {\"integrity\": %s, \"poison\": %s, \"used_entries\": %zu,"
                    " \"free_entries\": %zu, \"used_bytes\": %zu, \"free_bytes\": %zu,"
                    " \"largest_free\": %zu, \"largest_alloc\": %zu, \"requested_bytes\": %zu,"
                    " \"fragmentation\": %d, \"alloc_count\": %lu, \"free_count\": %lu,"
                    " \"bad_free_count\": %lu, \"corruption_count\": %lu},\n",
                s->integrity_ok ? "true" : "false", s->poison_ok ? "true" : "false",
                i->used_entries, i->free_entries, i->used_bytes, i->free_bytes,
                i->largest_free_bytes, i->largest_alloc_bytes, i->requested_bytes,
                i->fragmentation_metric, (unsigned long)i->alloc_count, (unsigned long)i->free_count,
                (unsigned long)i->bad_free_count, (unsigned long)i->corruption_count);
        return;
    }
#endif
    (void)s;
    fprintf(js, "   \"allocator\": null,\n");
}

static int write_files(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
    FILE *bin = fopen(path, "wb");
    if (bin == NULL) {
        fprintf(stderr, "mkheap: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    FILE *js = fopen(path, "w");
    if (js == NULL) {
        fprintf(stderr, "mkheap: cannot write '%s': %s\n", path, strerror(errno));
        fclose(bin);
        return -1;
    }
#ifdef UMM_INSTRUMENT
    const int instrumented = 1;
#else
    const int instrumented = 0;
#endif
    fprintf(js, "{\"scenario\": \"%s\", \"ptr_bytes\": %zu, \"instrumented\": %d,\n"
                " \"heap_list\": %ju, \"heaps\": [\n",
            name, sizeof(void *), instrumented, (uintmax_t)(uintptr_t)umm_heap_list);
    size_t offset = 0;
    for (size_t h = 0; h < state_count; h++) {
        struct heap_state *s = &states[h];
        fwrite(s->heap->pheap, 1, s->heap->heap_size, bin);
        fprintf(js, "  {\"name\": \"%s\", \"region\": %ju, \"region_bytes\": %zu, \"ctl\": %ju,"
                    " \"file_offset\": %zu,\n   \"live\": [",
                s->name, (uintmax_t)(uintptr_t)s->heap->pheap, s->heap->heap_size,
                (uintmax_t)(uintptr_t)s->heap->ctl, offset);
        for (size_t i = 0; i < s->live_count; i++) {
            /* The allocator knows nothing of the hand-built upstream heap. */
            size_t usable = s->upstream ? s->live[i].size
                                        : umm_multi_usable_size(s->heap, s->live[i].ptr);
            fprintf(js, "%s{\"ptr\": %ju, \"size\": %zu, \"usable\": %zu}", i ? ", " : "",
                    (uintmax_t)(uintptr_t)s->live[i].ptr, s->live[i].size, usable);
        }
        fprintf(js, "],\n");
        write_allocator_view(js, s);
        fprintf(js, "   \"freed\": [");
        for (size_t i = 0; i < s->freed_count; i++) {
            fprintf(js, "%s%ju", i ? ", " : "", (uintmax_t)(uintptr_t)s->freed[i]);
        }
        fprintf(js, "],\n   \"damage\": [");
        for (size_t i = 0; i < s->damage_count; i++) {
            fprintf(js, "%s{\"kind\": \"%s\", \"ptr\": %ju, \"address\": %ju}", i ? ", " : "",
                    s->damage[i].kind, (uintmax_t)(uintptr_t)s->damage[i].ptr,
                    (uintmax_t)s->damage[i].address);
        }
        fprintf(js, "]}%s\n", h + 1 < state_count ? "," : "");
        offset += s->heap->heap_size;
    }
    fprintf(js, "]}\n");
    int bad = ferror(bin) | ferror(js);
    bad |= fclose(bin) | fclose(js);
    if (bad) {
        fprintf(stderr, "mkheap: cannot write '%s/%s.*'\n", dir, name);
        return -1;
    }
    return 0;
}

/* A debugger's breakpoint: the heaps are in their final state here. */
__attribute__((noinline)) void mkheap_stop(void);
__attribute__((noinline)) void mkheap_stop(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "--stop") != 0)) {
        fprintf(stderr, "usage: mkheap SCENARIO OUTDIR [--stop]\n");
        return 2;
    }
    if (build(argv[1]) != 0) {
        return 2;
    }
    allocator_view();
    if (write_files(argv[2], argv[1]) != 0) {
        return 2;
    }
    if (argc == 4) {
        mkheap_stop();
    }
    return 0;
}
