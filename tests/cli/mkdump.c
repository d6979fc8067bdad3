/*
 * mkdump.c - builds heap states with the real allocator on the host and
 * writes them as raw RAM dumps for the heapview tests.  Linked -no-pie, so
 * the dump of this program's writable sections plus this program as the
 * "firmware ELF" is exactly what heapview sees on a target: umm_heap_list,
 * umm_heap_default and the heaps at their link addresses, owners that are
 * return addresses into this program's code.
 *
 *   mkdump SCENARIO OUT   writes OUT (or OUT.1, OUT.2 for `leak`), prints
 *                         the truth as JSON on stdout
 *
 * Scenarios: healthy fragmented two-heaps overrun underrun header-smash
 * use-after-free double-free freelist wide leak empty bench (bench writes
 * only a 16 MiB heap; its base and control block are in the truth).
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "umm_format.h"
#include "umm_malloc.h"
#ifdef UMM_INSTRUMENT
#include "umm_diag.h"
#endif

#define DEFAULT_BYTES (16u * 1024u)
static uint64_t default_region[DEFAULT_BYTES / 8];
UMM_HEAP_DEFINE(second_heap, 8192);
UMM_HEAP_DEFINE(wide_heap, 320 * 1024);

/* An upstream umm_malloc heap, laid out by hand from UPSTREAM-UMM.md (no
 * upstream code here): found by tools through umm_heap_current. */
struct upstream_config {
    void *pheap;
    size_t heap_size;
    uint16_t numblocks;
};
struct upstream_config umm_heap_current;
/* Upstream's block type, so DWARF tells tools the block size. */
typedef struct umm_block {
    union {
        struct { uint16_t next, prev; } used;
    } header;
    union {
        struct { uint16_t next, prev; } free;
        uint8_t data[4];
    } body;
} umm_block_t;
static umm_block_t upstream_region[64];   /* 64 blocks of 8 bytes */

static void up_block(unsigned i, uint16_t next, uint16_t prev, uint16_t nfree, uint16_t pfree)
{
    upstream_region[i].header.used.next = next;
    upstream_region[i].header.used.prev = prev;
    upstream_region[i].body.free.next = nfree;
    upstream_region[i].body.free.prev = pfree;
}

struct live {
    void *ptr;
    size_t size;
    int heap;
};
static struct live lives[256];
static size_t live_count;

static void track(void *p, size_t size, int heap)
{
    if (p && live_count < sizeof lives / sizeof lives[0])
        lives[live_count++] = (struct live){ p, size, heap };
}

static void untrack(void *p)
{
    for (size_t i = 0; i < live_count; i++) {
        if (lives[i].ptr == p) {
            lives[i] = lives[--live_count];
            return;
        }
    }
}

/* Distinct callers, so owners differ; each counts its calls in its own
 * variable so the compiler cannot fold them into one function. */
static volatile unsigned sensor_calls, network_calls, leaky_calls;
__attribute__((noinline)) static void *alloc_sensor(size_t n)
{
    sensor_calls++;
    void *p = umm_malloc(n);
    track(p, n, 0);
    return p;
}

__attribute__((noinline)) static void *alloc_network(size_t n)
{
    network_calls++;
    void *p = umm_malloc(n);
    track(p, n, 0);
    return p;
}

__attribute__((noinline)) static void *alloc_leaky(size_t n)
{
    leaky_calls++;
    void *p = umm_malloc(n);
    track(p, n, 0);
    return p;
}

static void release(void *p)
{
    untrack(p);
    umm_free(p);
}

/* Copies target memory byte by byte; under ASan the redzones between
 * globals are part of the image, so the copy must not be checked. */
__attribute__((no_sanitize("address"))) static void copy_raw(uint8_t *dst, uintptr_t src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = ((const volatile uint8_t *)src)[i];
}

/* Writes this program's writable sections, as the ELF lays them out. */
static int write_dump(const char *path)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE)
        return -1;
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    uint64_t lo = UINT64_MAX, hi = 0;
    Elf_Scn *scn = NULL;
    while (elf && (scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_flags & (SHF_ALLOC | SHF_WRITE)) != (SHF_ALLOC | SHF_WRITE) ||
            sh.sh_size == 0 || (sh.sh_flags & SHF_TLS))
            continue;
        if (sh.sh_addr < lo)
            lo = sh.sh_addr;
        if (sh.sh_addr + sh.sh_size > hi)
            hi = sh.sh_addr + sh.sh_size;
    }
    if (elf)
        elf_end(elf);
    close(fd);
    if (lo >= hi)
        return -1;
    uint8_t *image = malloc((size_t)(hi - lo));
    FILE *f = image ? fopen(path, "wb") : NULL;
    if (!f) {
        free(image);
        return -1;
    }
    copy_raw(image, (uintptr_t)lo, (size_t)(hi - lo));
    size_t n = fwrite(image, 1, (size_t)(hi - lo), f);
    free(image);
    if (fclose(f) != 0 || n != hi - lo)
        return -1;
    return 0;
}

static void print_truth(const char *scenario, const char *fault, const void *damaged, const void *ptr)
{
    printf("{\"scenario\": \"%s\", \"fault\": \"%s\", \"damaged_address\": %llu, \"damaged_ptr\": %llu,\n",
           scenario, fault, (unsigned long long)(uintptr_t)damaged, (unsigned long long)(uintptr_t)ptr);
    printf(" \"heaps\": {\"umm_heap_default\": %llu, \"second_heap\": %llu, \"wide_heap\": %llu},\n",
           (unsigned long long)(uintptr_t)umm_heap_default.ctl, (unsigned long long)(uintptr_t)second_heap.ctl,
           (unsigned long long)(uintptr_t)wide_heap.ctl);
#ifdef UMM_INSTRUMENT
    struct umm_heap_info info;
    if (umm_multi_info(&umm_heap_default, &info))
        printf(" \"info\": {\"used_entries\": %zu, \"free_entries\": %zu, \"used_bytes\": %zu, "
               "\"free_bytes\": %zu, \"largest_free\": %zu, \"largest_alloc\": %zu, \"requested_bytes\": %zu, "
               "\"fragmentation\": %d},\n", info.used_entries, info.free_entries, info.used_bytes,
               info.free_bytes, info.largest_free_bytes, info.largest_alloc_bytes, info.requested_bytes,
               info.fragmentation_metric);
    printf(" \"instrumented\": true,\n");
#else
    printf(" \"instrumented\": false,\n");
#endif
    printf(" \"live\": [");
    for (size_t i = 0; i < live_count; i++)
        printf("%s{\"ptr\": %llu, \"size\": %zu, \"heap\": %d}", i ? ", " : "",
               (unsigned long long)(uintptr_t)lives[i].ptr, lives[i].size, lives[i].heap);
    printf("]}\n");
}

static void baseline(void)
{
    void *a = alloc_sensor(24);
    void *b = alloc_network(100);
    void *c = alloc_sensor(7);
    void *d = alloc_network(300);
    alloc_sensor(64);
    release(b);
    alloc_network(40);
    release(d);
    (void)a;
    (void)c;
}

static int bench(const char *out)
{
    /* 16 MiB region, blocks of 2 units (the smallest wide block): a used
     * block, then every other one freed, about a million blocks. */
    size_t bytes = 16u << 20;
    void *region = aligned_alloc(4096, bytes);
    static umm_heap big;
    if (!region)
        return 1;
    umm_multi_init_heap(&big, region, bytes);
    if (!big.ctl)
        return 1;
    void **ptrs = malloc(sizeof *ptrs * (bytes / 16));
    size_t n = 0;
    for (;;) {
        void *p = umm_multi_malloc(&big, 1);
        if (!p)
            break;
        ptrs[n++] = p;
    }
    for (size_t i = 0; i < n; i += 2)
        umm_multi_free(&big, ptrs[i]);
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(region, 1, bytes, f) != bytes || fclose(f) != 0)
        return 1;
    printf("{\"scenario\": \"bench\", \"base\": %llu, \"ctl\": %llu, \"allocated\": %zu, \"live\": %zu}\n",
           (unsigned long long)(uintptr_t)region, (unsigned long long)(uintptr_t)big.ctl, n, n / 2);
    free(ptrs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkdump SCENARIO OUT\n");
        return 2;
    }
    const char *sc = argv[1], *out = argv[2];
    if (strcmp(sc, "bench") == 0)
        return bench(out);
    umm_init_heap(default_region, sizeof default_region);
    const char *fault = "none";
    void *damaged = NULL, *ptr = NULL;
    if (strcmp(sc, "empty") == 0) {
    } else if (strcmp(sc, "healthy") == 0) {
        baseline();
    } else if (strcmp(sc, "fragmented") == 0) {
        void *p[40];
        for (int i = 0; i < 40; i++)
            p[i] = alloc_sensor(64 + (size_t)(i % 4) * 8);
        for (int i = 0; i < 40; i += 2)
            release(p[i]);
    } else if (strcmp(sc, "two-heaps") == 0) {
        baseline();
        void *q = umm_multi_malloc(&second_heap, 200);
        track(q, 200, 1);
        q = umm_multi_memalign(&second_heap, 64, 50);
        track(q, 50, 1);
    } else if (strcmp(sc, "wide") == 0) {
        for (int i = 0; i < 10; i++) {
            void *q = umm_multi_malloc(&wide_heap, 1000u * (unsigned)(i + 1));
            track(q, 1000u * (unsigned)(i + 1), 2);
            if (i % 3 == 0) {
                untrack(q);
                umm_multi_free(&wide_heap, q);
            }
        }
    } else if (strcmp(sc, "upstream") == 0) {
        /* block 1: used, 3 blocks; block 4: free to the end marker (63) */
        up_block(0, 1, 0, 4, 4);
        up_block(1, 4, 0, 0, 0);
        up_block(4, 63 | 0x8000, 1, 0, 0);
        up_block(63, 0, 4, 0, 0);
        umm_heap_current.pheap = upstream_region;
        /* A heap_size that disagrees with numblocks (as a hand-edited
         * config can): only DWARF gets the block size right. */
        umm_heap_current.heap_size = 2 * sizeof upstream_region;
        umm_heap_current.numblocks = 64;
        printf("{\"upstream\": %llu}\n", (unsigned long long)(uintptr_t)upstream_region);
        fflush(stdout);
        return write_dump(out) < 0;
    } else if (strcmp(sc, "many") == 0) {
        /* The wide heap filled with its smallest blocks, every other one
         * freed: thousands of blocks, free and used alternating. */
        static void *ptrs[40000];
        size_t n = 0;
        while (n < sizeof ptrs / sizeof ptrs[0] && (ptrs[n] = umm_multi_malloc(&wide_heap, 1)) != NULL)
            n++;
        for (size_t i = 0; i < n; i += 2)
            umm_multi_free(&wide_heap, ptrs[i]);
        printf("{\"many\": {\"allocated\": %zu, \"live\": %zu}}\n", n, n / 2);
        fflush(stdout);
        return write_dump(out) < 0;
    } else if (strcmp(sc, "overrun") == 0) {
        baseline();
        char *p = alloc_network(24);
        alloc_sensor(16);
        p[24] = 0x5A;           /* the first byte past the request */
        fault = "overrun", damaged = p + 24, ptr = p;
    } else if (strcmp(sc, "underrun") == 0) {
        baseline();
        char *p = alloc_network(40);
        p[-1] = 0x5A;
        fault = "underrun", damaged = p - 1, ptr = p;
    } else if (strcmp(sc, "header-smash") == 0) {
        baseline();
        char *victim_owner = alloc_sensor(32);
        char *victim = alloc_network(64);
        alloc_sensor(16);
        /* Overrun from victim_owner across the victim's header: the header
         * sits just before the victim's data area (prefix included). */
        unsigned prefix = ((const uint8_t *)umm_heap_default.ctl)[UMM_CTL_PREFIX_BYTES];
        unsigned idx = ((const uint8_t *)umm_heap_default.ctl)[UMM_CTL_INDEX_BYTES];
        char *hdr = victim - prefix - 2 * idx;
        memset(hdr, 0x7E, 2 * idx);
        fault = "header", damaged = hdr, ptr = victim;
        (void)victim_owner;
    } else if (strcmp(sc, "use-after-free") == 0) {
        baseline();
        char *p = alloc_network(48);
        alloc_sensor(16);
        release(p);
        p[8] = 0x5A;
        fault = "use_after_free", damaged = p + 8, ptr = p;
    } else if (strcmp(sc, "double-free") == 0) {
        baseline();
        char *p = alloc_network(80);
        alloc_sensor(16);
        release(p);
        umm_free(p);
        fault = "double_free", damaged = p, ptr = p;
    } else if (strcmp(sc, "freelist") == 0) {
        baseline();
        char *p = alloc_network(48);
        alloc_sensor(16);
        release(p);
        /* Find the free block that now holds p (free may have merged it
         * with a neighbour) by walking the narrow heap's next indices, and
         * break its prev_free link, right after its header. */
        const uint8_t *ctl = (const uint8_t *)umm_heap_default.ctl;
        uint16_t ctl_bytes, units;
        uint32_t unit_count;
        memcpy(&ctl_bytes, ctl + UMM_CTL_CTL_BYTES, 2);
        memcpy(&unit_count, ctl + UMM_CTL_UNIT_COUNT, 4);
        uint8_t *blocks = (uint8_t *)umm_heap_default.ctl + ctl_bytes;
        char *links = NULL;
        for (uint32_t i = 0, steps = 0; steps < unit_count; steps++) {
            uint16_t next;
            memcpy(&next, blocks + 8 * i, 2);
            units = (uint16_t)((next & 0x7FFF) - i);
            if ((next & 0x8000) && (char *)blocks + 8 * i < p && p < (char *)blocks + 8 * (i + units)) {
                links = (char *)blocks + 8 * i + 4;
                break;
            }
            if ((next & 0x7FFF) <= i)
                break;
            i = next & 0x7FFF;
        }
        if (!links)
            return 1;
        memset(links + 2, 0x11, 2);
        fault = "freelist", damaged = links + 2, ptr = p;
    } else if (strcmp(sc, "leak") == 0) {
        baseline();
        char path[4096];
        snprintf(path, sizeof path, "%s.1", out);
        if (write_dump(path) < 0)
            return 1;
        for (int i = 0; i < 5; i++)
            alloc_leaky(50 + (size_t)i * 10);
        snprintf(path, sizeof path, "%s.2", out);
        if (write_dump(path) < 0)
            return 1;
        print_truth(sc, "none", NULL, NULL);
        return 0;
    } else {
        fprintf(stderr, "mkdump: unknown scenario '%s'\n", sc);
        return 2;
    }
    if (write_dump(out) < 0) {
        fprintf(stderr, "mkdump: cannot write '%s'\n", out);
        return 1;
    }
    print_truth(sc, fault, damaged, ptr);
    return 0;
}
