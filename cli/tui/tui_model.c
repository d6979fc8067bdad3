/*
 * tui_model.c - the TUI's view of a decoded heap (see tui_model.h).  The
 * blocks, gaps, problems and owner statistics all come from the analysis
 * core; this file only arranges them into cells and remembers where the
 * cursor is.
 */
#include "tui_model.h"

#include <stdlib.h>
#include <string.h>

#include "../../lib/umm_format.h"

static const char class_chars[TC_COUNT] = { ' ', '=', '#', '+', '-', '.', '!', 'X', '?' };
static const char mark_chars[TM_COUNT] = { 0, '@', '<', '>', '*', '~' };
static const char *const class_names[TC_COUNT] = {
    "empty", "allocator metadata", "used", "mostly used", "mostly free", "free",
    "poison damaged", "corrupt", "unreadable",
};

char tui_class_char(int cls)
{
    return cls >= 0 && cls < TC_COUNT ? class_chars[cls] : '?';
}

char tui_mark_char(int mark)
{
    return mark > 0 && mark < TM_COUNT ? mark_chars[mark] : 0;
}

const char *tui_class_name(int cls)
{
    return cls >= 0 && cls < TC_COUNT ? class_names[cls] : "?";
}

/* Damage to canaries and fill is "poison"; everything else a problem can
 * say about a block is corruption of the heap's structure or its use. */
static uint8_t problem_class(int kind)
{
    if (kind == UMM_FAULT_UNDERRUN || kind == UMM_FAULT_OVERRUN || kind == UMM_FAULT_USE_AFTER_FREE)
        return TC_POISON;
    if (kind == HV_PROBLEM_UNREADABLE)
        return TC_UNREADABLE;
    return TC_CORRUPT;
}

static int block_index(const struct hv_heap *h, uint32_t unit)
{
    const struct hv_block *b = hv_heap_block_at(h, unit);
    return b ? (int)(b - h->blocks) : -1;
}

static int cmp_sig(const void *a, const void *b)
{
    const struct tui_sig *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

static const struct tui_sig *find_sig(const struct tui_sig *sigs, size_t n, uint32_t index)
{
    struct tui_sig key = { .index = index };
    return n ? bsearch(&key, sigs, n, sizeof *sigs, cmp_sig) : NULL;
}

static int push_item(struct tui_heap_view *v, size_t *cap, const struct tui_item *it)
{
    if (v->item_count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct tui_item *n = realloc(v->items, ncap * sizeof *n);
        if (!n)
            return -1;
        v->items = n;
        *cap = ncap;
    }
    v->items[v->item_count++] = *it;
    return 0;
}

struct problem_ref {
    uint64_t address;
    int32_t index;
};

static int cmp_problem_ref(const void *a, const void *b)
{
    const struct problem_ref *x = a, *y = b;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first problem (in the core's order among equal addresses) whose
 * address is in [lo, hi), or -1. */
static int32_t problem_in(const struct problem_ref *refs, size_t n, uint64_t lo, uint64_t hi)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (refs[mid].address < lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < n && refs[a].address < hi ? refs[a].index : -1;
}

static int build_items(struct tui_heap_view *v)
{
    const struct hv_heap *h = v->heap;
    struct hv_map_cell *cells = NULL;
    long n = hv_map_cells(h, 0, &cells);
    if (n < 0)
        return -1;
    int32_t *first_problem = NULL;
    if (h->block_count) {
        first_problem = malloc(h->block_count * sizeof *first_problem);
        if (!first_problem) {
            free(cells);
            return -1;
        }
        for (size_t i = 0; i < h->block_count; i++)
            first_problem[i] = -1;
        /* A problem's own block first, then culprits. */
        for (int pass = 0; pass < 2; pass++) {
            for (size_t k = 0; k < h->problem_count; k++) {
                const struct hv_problem *p = &h->problems[k];
                int bi = pass == 0 ? (p->has_block ? block_index(h, p->block) : -1)
                                   : (p->has_culprit ? block_index(h, p->culprit.block) : -1);
                if (bi >= 0 && first_problem[bi] < 0 && h->blocks[bi].has_problem)
                    first_problem[bi] = (int32_t)k;
            }
        }
    }
    /* problems by address, to name the one inside each damaged span */
    struct problem_ref *by_address = NULL;
    if (h->problem_count) {
        by_address = malloc(h->problem_count * sizeof *by_address);
        if (!by_address) {
            free(first_problem);
            free(cells);
            return -1;
        }
        for (size_t k = 0; k < h->problem_count; k++)
            by_address[k] = (struct problem_ref){ h->problems[k].address, (int32_t)k };
        qsort(by_address, h->problem_count, sizeof *by_address, cmp_problem_ref);
    }
    size_t cap = 0;
    int rc = 0;
    uint32_t end = h->unit_count;
    struct tui_item it;
    if (h->blocks_address > h->address && h->unit_bytes) {
        uint64_t ctl_units = (h->blocks_address - h->address + h->unit_bytes - 1) / h->unit_bytes;
        v->origin = (uint32_t)(ctl_units < (1u << 20) ? ctl_units : (1u << 20));
        it = (struct tui_item){ .kind = TI_CONTROL, .units = v->origin, .cls = TC_META, .block = -1, .problem = -1 };
        for (size_t k = 0; k < h->problem_count; k++) {
            if (h->problems[k].kind == UMM_FAULT_CONTROL) {
                it.problem = (int32_t)k;
                it.cls = TC_CORRUPT;
                break;
            }
        }
        rc |= push_item(v, &cap, &it);
    }
    if (n == 0 || cells[0].first_unit > 0) {   /* head sentinel */
        it = (struct tui_item){ .kind = TI_HEAD, .first = 0, .units = 1, .cls = TC_META, .block = -1, .problem = -1 };
        rc |= push_item(v, &cap, &it);
    }
    size_t bi = 0, gi = 0;
    for (long k = 0; k < n && rc == 0; k++) {
        const struct hv_map_cell *c = &cells[k];
        it = (struct tui_item){ .kind = TI_GAP, .first = c->first_unit, .units = c->units, .block = -1,
                                .problem = -1 };
        if (bi < h->block_count && h->blocks[bi].index == c->first_unit) {
            it.kind = TI_BLOCK;
            const struct hv_block *b = &h->blocks[bi];
            it.block = (int32_t)bi;
            it.problem = first_problem ? first_problem[bi] : -1;
            if (b->has_problem)
                it.cls = it.problem >= 0 ? problem_class(h->problems[it.problem].kind) : TC_CORRUPT;
            else
                it.cls = b->state == HV_BLOCK_FREE ? TC_FREE : TC_USED;
            bi++;
        } else {
            while (gi < h->gap_count && h->gaps[gi].first < c->first_unit)
                gi++;
            it.gap_kind = gi < h->gap_count ? h->gaps[gi].kind : UMM_FAULT_HEADER;
            it.cls = it.gap_kind == HV_PROBLEM_UNREADABLE ? TC_UNREADABLE : TC_CORRUPT;
            uint64_t lo = h->blocks_address + (uint64_t)c->first_unit * h->unit_bytes;
            it.problem = problem_in(by_address, h->problem_count, lo, lo + (uint64_t)c->units * h->unit_bytes);
        }
        rc |= push_item(v, &cap, &it);
    }
    if (rc == 0 && end > 0) {
        const struct tui_item *last = v->item_count ? &v->items[v->item_count - 1] : NULL;
        uint32_t last_end = last && last->kind != TI_CONTROL ? last->first + last->units : 0;
        if (last_end <= end - 1) {   /* end marker */
            it = (struct tui_item){ .kind = TI_END, .first = end - 1, .units = 1, .cls = TC_META, .block = -1,
                                    .problem = -1 };
            rc |= push_item(v, &cap, &it);
        }
    }
    for (size_t i = 0; i < v->item_count; i++)
        v->items[i].pos = v->items[i].kind == TI_CONTROL ? 0 : v->items[i].first + v->origin;
    free(by_address);
    free(first_problem);
    free(cells);
    return rc;
}

static int build_sigs(struct tui_heap_view *v)
{
    const struct hv_heap *h = v->heap;
    v->sig_count = h->block_count;
    if (!h->block_count)
        return 0;
    v->sigs = malloc(h->block_count * sizeof *v->sigs);
    if (!v->sigs)
        return -1;
    for (size_t i = 0; i < h->block_count; i++) {
        struct hv_block_info info;
        hv_block_detail(h, &h->blocks[i], &info);
        v->sigs[i] = (struct tui_sig){ .index = h->blocks[i].index, .units = h->blocks[i].units,
                                       .seq = info.has_seq ? info.seq : 0, .state = h->blocks[i].state };
    }
    /* blocks are in address order already */
    return 0;
}

int tui_view_build(struct tui_heap_view *v, const struct hv_heap *h, const struct tui_heap_view *prev)
{
    memset(v, 0, sizeof *v);
    v->heap = h;
    if (build_items(v) < 0 || build_sigs(v) < 0 || hv_owner_stats(h, &v->owners, &v->owner_count) < 0) {
        tui_view_free(v);
        return -1;
    }
    if (!prev)
        return 0;
    for (size_t i = 0; i < v->item_count; i++) {
        struct tui_item *it = &v->items[i];
        if (it->block < 0)
            continue;
        const struct tui_sig *now = &v->sigs[it->block];
        const struct tui_sig *was = find_sig(prev->sigs, prev->sig_count, it->first);
        if (!was || was->units != now->units || was->state != now->state || was->seq != now->seq) {
            it->changed = 1;
            v->changed_count++;
        }
    }
    if (prev->item_count && prev->items[prev->cursor].kind != TI_CONTROL)
        v->cursor = tui_item_at_unit(v, prev->items[prev->cursor].first);
    v->top_row = prev->top_row;
    v->problem_sel = prev->problem_sel < h->problem_count ? prev->problem_sel : 0;
    v->owner_sel = 0;
    if (prev->owner_sel < prev->owner_count) {
        uint64_t owner = prev->owners[prev->owner_sel].owner;
        for (size_t i = 0; i < v->owner_count; i++) {
            if (v->owners[i].owner == owner) {
                v->owner_sel = i;
                v->owner_highlight = prev->owner_highlight;
            }
        }
    }
    return 0;
}

void tui_view_free(struct tui_heap_view *v)
{
    free(v->items);
    free(v->owners);
    free(v->block_owner);
    free(v->sigs);
    memset(v, 0, sizeof *v);
}

size_t tui_item_at_pos(const struct tui_heap_view *v, uint64_t p)
{
    size_t lo = 0, hi = v->item_count;
    /* last item with pos <= p */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->items[mid].pos <= p)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

uint64_t tui_item_address(const struct tui_heap_view *v, const struct tui_item *it)
{
    const struct hv_heap *h = v->heap;
    return it->kind == TI_CONTROL ? h->address : h->blocks_address + (uint64_t)it->first * h->unit_bytes;
}

uint64_t tui_item_bytes(const struct tui_heap_view *v, const struct tui_item *it)
{
    const struct hv_heap *h = v->heap;
    return it->kind == TI_CONTROL ? h->blocks_address - h->address : (uint64_t)it->units * h->unit_bytes;
}

size_t tui_item_at_unit(const struct tui_heap_view *v, uint64_t u)
{
    return tui_item_at_pos(v, u + v->origin);
}

long tui_item_at_address(const struct tui_heap_view *v, uint64_t addr)
{
    const struct hv_heap *h = v->heap;
    if (!v->item_count)
        return -1;
    if (addr >= h->address && addr < h->blocks_address && v->items[0].kind == TI_CONTROL)
        return 0;
    if (addr < h->blocks_address)
        return -1;
    uint64_t u = (addr - h->blocks_address) / h->unit_bytes;
    if (u >= h->unit_count)
        return -1;
    size_t i = tui_item_at_unit(v, u);
    const struct tui_item *it = &v->items[i];
    return u >= it->first && u < (uint64_t)it->first + it->units ? (long)i : -1;
}

long tui_problem_item(const struct tui_heap_view *v, const struct hv_problem *p)
{
    /* the block it names, else what holds its address (a damaged span),
     * else the allocation it blames */
    for (size_t i = 0; p->has_block && i < v->item_count; i++) {
        if (v->items[i].block >= 0 && v->items[i].first == p->block)
            return (long)i;
    }
    long at = tui_item_at_address(v, p->address);
    if (at >= 0)
        return at;
    for (size_t i = 0; p->has_culprit && i < v->item_count; i++) {
        if (v->items[i].block >= 0 && v->items[i].first == p->culprit.block)
            return (long)i;
    }
    return -1;
}

int tui_view_owners(struct tui_heap_view *v)
{
    const struct hv_heap *h = v->heap;
    if (v->block_owner || !h->block_count)
        return 0;
    v->block_owner = calloc(h->block_count, sizeof *v->block_owner);
    if (!v->block_owner)
        return -1;
    for (size_t i = 0; i < h->block_count; i++) {
        if (h->blocks[i].state != HV_BLOCK_USED)
            continue;
        struct hv_block_info info;
        hv_block_detail(h, &h->blocks[i], &info);
        v->block_owner[i] = info.has_owner ? info.owner : 0;
    }
    return 0;
}

static uint64_t total_units(const struct tui_heap_view *v)
{
    uint64_t n = (uint64_t)v->heap->unit_count + v->origin;
    if (v->item_count) {
        const struct tui_item *last = &v->items[v->item_count - 1];
        if ((uint64_t)last->pos + last->units > n)
            n = (uint64_t)last->pos + last->units;
    }
    return n ? n : 1;
}

void tui_layout_make(struct tui_layout *l, const struct tui_heap_view *v, unsigned units_per_cell, size_t cols)
{
    l->units_per_cell = units_per_cell;
    l->cols = cols ? cols : 1;
    if (units_per_cell == 0)
        l->cell_count = v->item_count;
    else
        l->cell_count = (size_t)((total_units(v) + units_per_cell - 1) / units_per_cell);
}

unsigned tui_fit_units(const struct tui_heap_view *v, size_t cols, size_t rows)
{
    uint64_t cells = (uint64_t)cols * rows, n = total_units(v);
    unsigned upc = 1;
    while (upc < (1u << 30) && (n + upc - 1) / upc > cells)
        upc *= 2;
    return upc;
}

static int item_highlighted(const struct tui_heap_view *v, size_t i)
{
    const struct tui_item *it = &v->items[i];
    if (!v->owner_highlight || it->block < 0 || !v->block_owner || v->owner_sel >= v->owner_count)
        return 0;
    return v->heap->blocks[it->block].state == HV_BLOCK_USED &&
           v->block_owner[it->block] == v->owners[v->owner_sel].owner;
}

static int item_mark(const struct tui_heap_view *v, size_t i)
{
    if (i == v->cursor)
        return TM_CURSOR;
    if (i + 1 == v->cursor)
        return TM_PREV;
    if (i == v->cursor + 1)
        return TM_NEXT;
    if (item_highlighted(v, i))
        return TM_OWNER;
    if (v->items[i].changed)
        return TM_CHANGED;
    return TM_NONE;
}

void tui_cell(const struct tui_heap_view *v, const struct tui_layout *l, size_t c, int *cls, int *mark)
{
    *cls = TC_EMPTY;
    *mark = TM_NONE;
    if (c >= l->cell_count || !v->item_count)
        return;
    if (l->units_per_cell == 0) {
        *cls = v->items[c].cls;
        *mark = item_mark(v, c);
        return;
    }
    uint64_t a = (uint64_t)c * l->units_per_cell, b = a + l->units_per_cell;
    uint64_t units[TC_COUNT] = { 0 };
    int best = TM_COUNT;
    for (size_t i = tui_item_at_pos(v, a); i < v->item_count && v->items[i].pos < b; i++) {
        const struct tui_item *it = &v->items[i];
        uint64_t lo = it->pos > a ? it->pos : a;
        uint64_t hi = (uint64_t)it->pos + it->units;
        if (hi > b)
            hi = b;
        if (hi <= lo)
            continue;
        units[it->cls] += hi - lo;
        int m = item_mark(v, i);
        if (m != TM_NONE && m < best)
            best = m;
    }
    *mark = best == TM_COUNT ? TM_NONE : best;
    if (units[TC_CORRUPT])
        *cls = TC_CORRUPT;
    else if (units[TC_UNREADABLE])
        *cls = TC_UNREADABLE;
    else if (units[TC_POISON])
        *cls = TC_POISON;
    else if (units[TC_USED] + units[TC_FREE] == 0)
        *cls = units[TC_META] ? TC_META : TC_EMPTY;
    else if (units[TC_FREE] == 0)
        *cls = TC_USED;
    else if (units[TC_USED] == 0)
        *cls = TC_FREE;
    else
        *cls = units[TC_USED] >= units[TC_FREE] ? TC_MOSTLY_USED : TC_MOSTLY_FREE;
}

size_t tui_cell_of_item(const struct tui_heap_view *v, const struct tui_layout *l, size_t i)
{
    if (!v->item_count)
        return 0;
    if (i >= v->item_count)
        i = v->item_count - 1;
    return l->units_per_cell == 0 ? i : v->items[i].pos / l->units_per_cell;
}

size_t tui_item_of_cell(const struct tui_heap_view *v, const struct tui_layout *l, size_t c)
{
    if (!v->item_count)
        return 0;
    if (c >= l->cell_count)
        c = l->cell_count ? l->cell_count - 1 : 0;
    if (l->units_per_cell == 0)
        return c < v->item_count ? c : v->item_count - 1;
    uint64_t p = (uint64_t)c * l->units_per_cell;
    size_t i = tui_item_at_pos(v, p);
    /* prefer an item that starts inside the cell over one that ends in it */
    if ((uint64_t)v->items[i].pos + v->items[i].units <= p && i + 1 < v->item_count &&
        v->items[i + 1].pos < p + l->units_per_cell)
        i++;
    return i;
}
