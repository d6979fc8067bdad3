/*
 * render_svg.c - the fragmentation map as an SVG picture: one square per
 * cell, one panel per heap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *fill_of(int kind)
{
    switch (kind) {
    case HV_CELL_FREE: return "#4caf50";
    case HV_CELL_MOSTLY_FREE: return "#a5d6a7";
    case HV_CELL_MOSTLY_USED: return "#90caf9";
    case HV_CELL_USED: return "#1e88e5";
    case HV_CELL_PROBLEM: return "#e53935";
    default: return "#eeeeee";
    }
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

int render_svg_map(const char *path, const struct session *s, size_t width, size_t rows, int per_block)
{
    const unsigned cell = 10, pad = 10, title = 22;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "heapview: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    /* per block: as many rows as the largest heap needs */
    if (per_block) {
        rows = 1;
        for (size_t i = 0; i < s->heap_count; i++) {
            size_t n = s->heaps[i].block_count + s->heaps[i].gap_count;
            if ((n + width - 1) / width > rows)
                rows = (n + width - 1) / width;
        }
    }
    size_t panel_h = title + rows * cell + pad;
    size_t total_w = 2 * pad + width * cell, total_h = pad + s->heap_count * panel_h + 20;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" "
               "font-family=\"monospace\" font-size=\"12\">\n", total_w, total_h);
    for (size_t i = 0; i < s->heap_count; i++) {
        const struct hv_heap *h = &s->heaps[i];
        struct hv_map_cell *map;
        long n = map_cells_for(h, per_block, width, rows, &map);
        if (n < 0)
            break;
        size_t y0 = pad + i * panel_h;
        fprintf(f, "<text x=\"%u\" y=\"%zu\">heap ", pad, y0 + 14);
        xml_text(f, h->name);
        fprintf(f, " at 0x%llx: %llu used, %llu free, fragmentation %u%%, %zu problems</text>\n",
                (unsigned long long)h->address, (unsigned long long)h->metrics.used_bytes,
                (unsigned long long)h->metrics.free_bytes, h->metrics.fragmentation, h->problem_count);
        for (long k = 0; k < n; k++) {
            size_t x = pad + ((size_t)k % width) * cell, y = y0 + title + ((size_t)k / width) * cell;
            fprintf(f, "<rect x=\"%zu\" y=\"%zu\" width=\"%u\" height=\"%u\" fill=\"%s\">"
                       "<title>units %u..%u: %u used, %u free, %u damaged</title></rect>\n",
                    x, y, cell - 1, cell - 1, fill_of(map[k].kind), map[k].first_unit,
                    map[k].first_unit + (map[k].units ? map[k].units - 1 : 0), map[k].used_units,
                    map[k].free_units, map[k].bad_units);
        }
        free(map);
    }
    fprintf(f, "<text x=\"%u\" y=\"%zu\">blue used, green free, red problem</text>\n</svg>\n", pad,
            total_h - 6);
    if (fclose(f) != 0) {
        fprintf(stderr, "heapview: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}
