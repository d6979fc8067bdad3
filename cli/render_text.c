/*
 * render_text.c - the human-readable report: per-heap summary, problem list
 * and fragmentation map.  Colour codes only when the caller says so.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "umm_format.h"

static const char *paint(int color, const char *code)
{
    return color ? code : "";
}

void render_text_summary(FILE *f, const struct hv_heap *h, int color)
{
    const struct hv_metrics *m = &h->metrics;
    char flags[128];
    hv_flag_names(h->flags, " ", flags, sizeof flags);
    if (h->format == HV_FORMAT_UPSTREAM)
        fprintf(f, "%sheap %s%s at 0x%llx: upstream umm_malloc, %llu bytes, %u blocks of %u bytes\n",
                paint(color, C_BOLD), h->name, paint(color, C_RESET), (unsigned long long)h->address,
                (unsigned long long)h->size, h->unit_count, h->unit_bytes);
    else
        fprintf(f, "%sheap %s%s at 0x%llx: heapview v1, %llu bytes, %u units, %s indices\n",
                paint(color, C_BOLD), h->name, paint(color, C_RESET), (unsigned long long)h->address,
                (unsigned long long)h->size, h->unit_count, h->index_bytes == 2 ? "16-bit" : "32-bit");
    fprintf(f, "  flags          %s\n", flags[0] ? flags : "none (release)");
    fprintf(f, "  used           %llu blocks, %llu bytes", (unsigned long long)m->used_entries,
            (unsigned long long)m->used_bytes);
    if (m->has_requested)
        fprintf(f, " (%llu requested)", (unsigned long long)m->requested_bytes);
    fputc('\n', f);
    fprintf(f, "  free           %llu blocks, %llu bytes\n", (unsigned long long)m->free_entries,
            (unsigned long long)m->free_bytes);
    fprintf(f, "  largest free   %llu bytes (largest allocation %llu)\n", (unsigned long long)m->largest_free,
            (unsigned long long)m->largest_alloc);
    fprintf(f, "  fragmentation  %u%%\n", m->fragmentation);
    if (h->has_record) {
        const struct hv_record *r = &h->record;
        fprintf(f, "  counters       %u allocs, %u frees, %u reallocs, %u out of memory, %u bad frees, "
                   "%u corruptions, next seq %u\n", r->alloc_count, r->free_count, r->realloc_count,
                r->oom_count, r->bad_free_count, r->corruption_count, r->seq_next);
        fprintf(f, "  low water      %llu bytes free at least, %llu bytes used at peak\n",
                (unsigned long long)r->min_free_units * 8, (unsigned long long)r->peak_used_units * 8);
        if (r->fault_kind)
            fprintf(f, "  last fault     %s during %s at 0x%llx (block %u)\n",
                    hv_problem_kind_name((int)r->fault_kind), hv_op_name(r->fault_op),
                    (unsigned long long)r->fault_address, r->fault_block);
        else
            fprintf(f, "  last fault     none\n");
    }
}

void render_text_problems(FILE *f, const struct hv_heap *h, int color)
{
    if (h->problem_count == 0) {
        fprintf(f, "  %sno problems%s\n", paint(color, C_GREEN), paint(color, C_RESET));
        return;
    }
    fprintf(f, "  %s%zu problem%s%s:\n", paint(color, C_RED), h->problem_count,
            h->problem_count == 1 ? "" : "s", paint(color, C_RESET));
    for (size_t i = 0; i < h->problem_count; i++) {
        const struct hv_problem *p = &h->problems[i];
        fprintf(f, "  %s%s%s at 0x%llx", paint(color, C_RED), hv_problem_kind_name(p->kind),
                paint(color, C_RESET), (unsigned long long)p->address);
        if (p->has_block)
            fprintf(f, " (block %u)", p->block);
        fprintf(f, ": %s\n", p->message);
        if (p->has_culprit) {
            fprintf(f, "    culprit: block %u at 0x%llx", p->culprit.block,
                    (unsigned long long)p->culprit.address);
            if (p->culprit.owner_name[0])
                fprintf(f, ", allocated by %s", p->culprit.owner_name);
            else if (p->culprit.has_owner && p->culprit.owner)
                fprintf(f, ", allocated by 0x%llx", (unsigned long long)p->culprit.owner);
            if (p->culprit.has_seq)
                fprintf(f, ", seq %u", p->culprit.seq);
            fputc('\n', f);
        }
    }
}

static const char cell_glyph[] = {
    [HV_CELL_EMPTY] = ' ', [HV_CELL_FREE] = '.', [HV_CELL_MOSTLY_FREE] = '-',
    [HV_CELL_MOSTLY_USED] = '+', [HV_CELL_USED] = '#', [HV_CELL_PROBLEM] = '!',
};

static const char *cell_color(int kind)
{
    switch (kind) {
    case HV_CELL_FREE: return C_GREEN;
    case HV_CELL_MOSTLY_FREE: return C_GREEN;
    case HV_CELL_MOSTLY_USED: return C_YELLOW;
    case HV_CELL_USED: return C_BLUE;
    case HV_CELL_PROBLEM: return C_RED C_BOLD;
    default: return "";
    }
}

long map_cells_for(const struct hv_heap *h, int per_block, size_t width, size_t rows, struct hv_map_cell **out)
{
    *out = NULL;
    if (per_block)
        return hv_map_cells(h, 0, out);
    size_t cells = width * rows;
    if (h->unit_count && cells > h->unit_count)
        cells = h->unit_count;
    if (cells == 0)
        return 0;
    *out = calloc(cells, sizeof **out);
    if (!*out)
        return -1;
    return hv_map_cells(h, cells, out);
}

void render_text_map_cells(FILE *f, const struct hv_heap *h, const struct hv_map_cell *map, long cells,
                           size_t width, int per_block, int color)
{
    if (cells <= 0 || width == 0)
        return;
    if (per_block) {
        fprintf(f, "  map: one cell per block (%ld); # used  . free  ! problem\n", cells);
    } else {
        uint64_t per = map[0].units ? map[0].units : 1;
        fprintf(f, "  map: one cell = %llu unit%s (%llu bytes); # used  + mostly used  - mostly free  . free  "
                   "! problem\n", (unsigned long long)per, per == 1 ? "" : "s",
                (unsigned long long)per * h->unit_bytes);
    }
    int last = -1;
    for (size_t i = 0; i < (size_t)cells; i++) {
        if (i % width == 0)
            fputs("  |", f);
        int kind = map[i].kind;
        if (color && kind != last) {
            fputs(C_RESET, f);
            fputs(cell_color(kind), f);
            last = kind;
        }
        fputc(cell_glyph[kind], f);
        if (i % width == width - 1 || i == (size_t)cells - 1) {
            if (color)
                fputs(C_RESET, f);
            last = -1;
            fputs("|\n", f);
        }
    }
}

void render_text_map(FILE *f, const struct hv_heap *h, size_t width, size_t rows, int color)
{
    struct hv_map_cell *map;
    long n = map_cells_for(h, 0, width ? width : 64, rows ? rows : 4, &map);
    render_text_map_cells(f, h, map, n, width ? width : 64, 0, color);
    free(map);
}
