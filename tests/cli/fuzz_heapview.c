/*
 * fuzz_heapview.c - libFuzzer harness for everything heapview parses from
 * untrusted bytes: Intel HEX, ELF cores, firmware ELFs and heap bytes.  The
 * first input byte picks the path; the rest is the file.  The same harness
 * is linked into fuzz_replay.c's corpus driver, which `make test-cli` runs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hv_analysis.h"
#include "core/hv_discover.h"
#include "core/hv_elf.h"
#include "core/hv_heap.h"
#include "core/hv_namer.h"
#include "source/hv_sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BASE 0x20000000u

static void analyse(struct hv_source *src, struct hv_elf *elf, const uint8_t *extra, size_t extra_len)
{
    struct hv_snapshot snap;
    struct hv_discovery disc = { 0 };
    struct hv_namer namer;
    hv_snapshot_init(&snap, src);
    hv_namer_init(&namer, elf, &snap);
    struct hv_decode_opts opts = { .owner_name = hv_namer_name, .owner_ctx = &namer };
    if (hv_discover(&disc, &snap, elf, 1, 1) == 0) {
        for (size_t i = 0; i < disc.count && i < 8; i++) {
            struct hv_heap h;
            char err[256];
            int rc = disc.refs[i].format == HV_FORMAT_UPSTREAM
                         ? hv_decode_upstream(&h, &snap, disc.refs[i].address, disc.refs[i].size,
                                              disc.refs[i].numblocks, 0, "u", &opts, err, sizeof err)
                         : hv_decode_heapview(&h, &snap, disc.refs[i].address, "h", &opts, err, sizeof err);
            if (rc == 0) {
                struct hv_owner_stat *stats;
                size_t n;
                if (hv_owner_stats(&h, &stats, &n) == 0)
                    free(stats);
                struct hv_map_cell cells[64], *cp = cells;
                hv_map_cells(&h, 64, &cp);
                struct hv_map_cell *all = NULL;
                if (hv_map_cells(&h, 0, &all) >= 0)
                    free(all);
                struct hv_owner_delta *d;
                if (hv_diff_heaps(&h, &h, &d, &n) == 0)
                    free(d);
            }
            hv_heap_free(&h);
        }
    }
    /* The upstream decoder on the same bytes, with geometry from the
     * input's last four bytes: numblocks (u16), block size, poison. */
    if (extra_len >= 4) {
        struct hv_heap h;
        char err[256];
        const uint8_t *g = extra + extra_len - 4;
        uint32_t blocks = (uint32_t)(g[0] | g[1] << 8);
        struct hv_decode_opts up = opts;
        up.upstream_block_size = (unsigned)(g[2] & 0x7C);
        up.upstream_poison = g[3] & 1;
        hv_decode_upstream(&h, &snap, FUZZ_BASE, (uint64_t)blocks * 8, blocks, 0, "u", &up, err, sizeof err);
        hv_heap_free(&h);
    }
    hv_discovery_free(&disc);
    hv_namer_free(&namer);
    hv_snapshot_free(&snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 4;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    char err[256];
    struct hv_source *src = NULL;
    switch (mode) {
    case 0:
        src = hv_ihex_parse("fuzz.hex", body, len, err, sizeof err);
        break;
    case 1:
        src = hv_elfcore_parse("fuzz.core", body, len, err, sizeof err);
        break;
    case 2:
        src = hv_mem_source_new("fuzz.bin");
        if (src && hv_mem_source_add(src, FUZZ_BASE, body, len, 0) < 0) {
            hv_source_close(src);
            src = NULL;
        }
        break;
    case 3: {
        /* A firmware ELF: symbols, sections, DWARF lines, then the ELF's
         * own bytes as memory so discovery follows its symbols. */
        void *copy = malloc(len ? len : 1);
        if (!copy)
            return 0;
        memcpy(copy, body, len);
        struct hv_elf elf;
        if (hv_elf_parse(&elf, copy, len, err, sizeof err) == 0) {
            struct hv_namer namer;
            hv_namer_init(&namer, &elf, NULL);
            for (size_t i = 0; i < elf.sym_count && i < 16; i++)
                hv_namer_name(&namer, elf.syms[i].address + 2);
            hv_namer_free(&namer);
            src = hv_mem_source_new("fuzz.elf");
            if (src && hv_mem_source_add(src, FUZZ_BASE, body, len, 0) == 0)
                analyse(src, &elf, NULL, 0);
            hv_source_close(src);
            src = NULL;
            hv_elf_free(&elf);
        }
        free(copy);
        return 0;
    }
    }
    if (src) {
        analyse(src, NULL, mode == 2 ? body : NULL, mode == 2 ? len : 0);
        hv_source_close(src);
    }
    return 0;
}
