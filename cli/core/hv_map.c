/*
 * hv_map.c - the fragmentation map as data: cells over the unit array.
 */
#include <stdlib.h>
#include <string.h>

#include "hv_analysis.h"

static uint8_t cell_kind(const struct hv_map_cell *c)
{
    if (c->bad_units)
        return HV_CELL_PROBLEM;
    if (c->used_units == 0 && c->free_units == 0)
        return HV_CELL_EMPTY;
    if (c->used_units == 0)
        return HV_CELL_FREE;
    if (c->free_units == 0)
        return HV_CELL_USED;
    return c->used_units >= c->free_units ? HV_CELL_MOSTLY_USED : HV_CELL_MOSTLY_FREE;
}

/* Adds `units` units from `first` of one kind (0 used, 1 free, 2 bad) to the
 * cells they overlap. */
static void spread(struct hv_map_cell *cells, size_t count, uint64_t per_cell, uint64_t first,
                   uint64_t units, int what)
{
    while (units > 0) {
        uint64_t c = first / per_cell;
        if (c >= count)
            return;
        uint64_t room = (c + 1) * per_cell - first;
        uint32_t n = (uint32_t)(room < units ? room : units);
        if (what == 0)
            cells[c].used_units += n;
        else if (what == 1)
            cells[c].free_units += n;
        else
            cells[c].bad_units += n;
        first += n;
        units -= n;
    }
}

long hv_map_cells(const struct hv_heap *h, size_t cell_count, struct hv_map_cell **cellsp)
{
    if (cell_count == 0) {
        size_t n = h->block_count + h->gap_count;
        struct hv_map_cell *cells = calloc(n ? n : 1, sizeof *cells);
        if (!cells)
            return -1;
        size_t bi = 0, gi = 0, k = 0;
        while (bi < h->block_count || gi < h->gap_count) {
            struct hv_map_cell *c = &cells[k++];
            if (gi < h->gap_count && (bi == h->block_count || h->gaps[gi].first < h->blocks[bi].index)) {
                c->first_unit = h->gaps[gi].first;
                c->units = c->bad_units = h->gaps[gi].units;
                gi++;
            } else {
                const struct hv_block *b = &h->blocks[bi++];
                c->first_unit = b->index;
                c->units = b->units;
                if (b->has_problem)
                    c->bad_units = b->units;
                else if (b->state == HV_BLOCK_FREE)
                    c->free_units = b->units;
                else
                    c->used_units = b->units;
            }
            c->kind = cell_kind(c);
        }
        *cellsp = cells;
        return (long)k;
    }
    struct hv_map_cell *cells = *cellsp;
    memset(cells, 0, cell_count * sizeof *cells);
    uint64_t n = h->unit_count ? h->unit_count : 1;
    uint64_t per_cell = (n + cell_count - 1) / cell_count;
    if (per_cell == 0)
        per_cell = 1;
    for (size_t i = 0; i < cell_count; i++) {
        uint64_t first = i * per_cell;
        cells[i].first_unit = (uint32_t)(first < n ? first : n);
        cells[i].units = (uint32_t)(first >= n ? 0 : (n - first < per_cell ? n - first : per_cell));
    }
    for (size_t i = 0; i < h->block_count; i++) {
        const struct hv_block *b = &h->blocks[i];
        spread(cells, cell_count, per_cell, b->index, b->units,
               b->has_problem ? 2 : b->state == HV_BLOCK_FREE ? 1 : 0);
    }
    for (size_t i = 0; i < h->gap_count; i++)
        spread(cells, cell_count, per_cell, h->gaps[i].first, h->gaps[i].units, 2);
    for (size_t i = 0; i < cell_count; i++)
        cells[i].kind = cell_kind(&cells[i]);
    return (long)cell_count;
}
