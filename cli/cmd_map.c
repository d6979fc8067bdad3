/*
 * cmd_map.c - the fragmentation map alone, as text, JSON cells or SVG.
 */
#include <stdlib.h>

#include "cli.h"

static const char *const cell_kind_names[] = { "empty", "free", "mostly_free", "mostly_used", "used", "problem" };

int cmd_map(const struct cli_args *a)
{
    struct session s;
    int rc = session_open_args(&s, a);
    if (rc != 0)
        return rc;
    size_t width = a->width.set ? (size_t)a->width.value : 64;
    size_t rows = a->rows.set ? (size_t)a->rows.value : 16;
    if (width == 0 || rows == 0 || width > 4096 || rows > 4096) {
        fprintf(stderr, "heapview: --width and --rows must be 1..4096\n");
        session_close(&s);
        return EXIT_USAGE;
    }
    if (a->svg && render_svg_map(a->svg, &s, width, rows, a->per_block) < 0) {
        session_close(&s);
        return EXIT_USAGE;
    }
    if (a->json) {
        struct jw w;
        jw_document_begin(&w, stdout, "maps");
        for (size_t i = 0; i < s.heap_count; i++) {
            const struct hv_heap *h = &s.heaps[i];
            struct hv_map_cell *map;
            long n = map_cells_for(h, a->per_block, width, rows, &map);
            if (n < 0)
                break;
            jw_begin_object(&w, NULL);
            jw_str(&w, "name", h->name);
            jw_u64(&w, "address", h->address);
            jw_u64(&w, "unit_bytes", h->unit_bytes);
            jw_begin_array(&w, "cells");
            for (long k = 0; k < n; k++) {
                jw_begin_object_inline(&w, NULL);
                jw_u64(&w, "first_unit", map[k].first_unit);
                jw_u64(&w, "units", map[k].units);
                jw_u64(&w, "used_units", map[k].used_units);
                jw_u64(&w, "free_units", map[k].free_units);
                jw_u64(&w, "bad_units", map[k].bad_units);
                jw_str(&w, "kind", cell_kind_names[map[k].kind]);
                jw_end_object(&w);
            }
            jw_end_array(&w);
            jw_end_object(&w);
            free(map);
        }
        jw_document_end(&w);
    } else if (!a->svg) {
        int color = color_enabled(stdout, (enum color_mode)a->color);
        for (size_t i = 0; i < s.heap_count; i++) {
            const struct hv_heap *h = &s.heaps[i];
            printf("heap %s at 0x%llx: fragmentation %u%%, largest free %llu bytes\n", h->name,
                   (unsigned long long)h->address, h->metrics.fragmentation,
                   (unsigned long long)h->metrics.largest_free);
            struct hv_map_cell *map;
            long n = map_cells_for(h, a->per_block, width, rows, &map);
            render_text_map_cells(stdout, h, map, n, width, a->per_block, color);
            free(map);
        }
    }
    rc = session_problem_count(&s) ? EXIT_PROBLEMS : EXIT_HEALTHY;
    session_close(&s);
    return rc;
}
