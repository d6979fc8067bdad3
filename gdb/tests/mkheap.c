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
};

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
    if (strcmp(name, "empty") == 0) {
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
            fprintf(js, "%s{\"ptr\": %ju, \"size\": %zu, \"usable\": %zu}", i ? ", " : "",
                    (uintmax_t)(uintptr_t)s->live[i].ptr, s->live[i].size,
                    umm_multi_usable_size(s->heap, s->live[i].ptr));
        }
        fprintf(js, "],\n   \"freed\": [");
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
    if (write_files(argv[2], argv[1]) != 0) {
        return 2;
    }
    if (argc == 4) {
        mkheap_stop();
    }
    return 0;
}
