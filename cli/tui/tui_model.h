/*
 * tui_model.h - what `heapview tui` shows, as data: the map items of one
 * decoded heap (the analysis core's one-cell-per-block map plus the
 * sentinels), scaled cells, the cursor, owner highlighting and the blocks
 * changed since the previous snapshot.  No curses here: tui_draw.c turns
 * this into a screen, and nothing in this file decodes or checks a heap.
 */
#ifndef HV_TUI_MODEL_H
#define HV_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../cli.h"

/* The state a map cell shows; each has its own character (so the map reads
 * without colour) and its own colour. */
enum tui_class {
    TC_EMPTY = 0,      /* past the end of the unit array */
    TC_META,           /* allocator metadata: control block, sentinels */
    TC_USED,
    TC_MOSTLY_USED,
    TC_MOSTLY_FREE,
    TC_FREE,
    TC_POISON,         /* canary or free fill damaged (underrun, overrun, use after free) */
    TC_CORRUPT,        /* header, free list, control damage, bad frees */
    TC_UNREADABLE,     /* bytes the source could not supply */
    TC_COUNT
};

/* Marks drawn over the state, strongest first. */
enum tui_mark {
    TM_NONE = 0,
    TM_CURSOR,
    TM_PREV,           /* the block before the cursor block */
    TM_NEXT,           /* the block after it */
    TM_OWNER,          /* a block of the highlighted owner */
    TM_CHANGED,        /* changed since the previous live snapshot */
    TM_COUNT
};

char tui_class_char(int cls);
char tui_mark_char(int mark);
const char *tui_class_name(int cls);

enum tui_item_kind {
    TI_CONTROL = 0,    /* the control block and what follows it up to unit 0 */
    TI_HEAD,           /* unit 0, the head sentinel */
    TI_BLOCK,
    TI_GAP,            /* units the walk could not decode */
    TI_END,            /* unit N-1, the end marker */
};

/* One entry of the map in address order: the control block, a sentinel, a
 * block or a span the walk could not decode.  `first` and `units` are in
 * the heap's units (from unit 0); `pos` is where the item starts on the
 * map, counted in units from the control block. */
struct tui_item {
    uint32_t first, units, pos;
    uint8_t kind;          /* enum tui_item_kind */
    uint8_t cls;           /* enum tui_class */
    uint8_t changed;
    int32_t block;         /* index into heap->blocks, -1 for gaps and sentinels */
    int32_t problem;       /* first problem naming it, -1 none */
    int gap_kind;          /* gaps: HV_PROBLEM_UNREADABLE or the fault kind */
};

/* What a block looked like, to tell changed blocks after a refresh. */
struct tui_sig {
    uint32_t index, units, seq;
    uint8_t state;
};

struct tui_heap_view {
    const struct hv_heap *heap;
    uint32_t origin;           /* map units before unit 0 (the control block) */
    struct tui_item *items;
    size_t item_count;
    struct hv_owner_stat *owners;
    size_t owner_count;
    uint64_t *block_owner;     /* per heap->blocks entry, built on first use */
    struct tui_sig *sigs;      /* this snapshot's blocks, for the next refresh */
    size_t sig_count;
    size_t changed_count;
    /* navigation */
    size_t cursor;             /* item index */
    size_t top_row;
    size_t problem_sel, owner_sel;
    int owner_highlight;       /* owners[owner_sel] highlighted */
};

/* Builds the view of h.  prev (may be NULL) is the same heap's view from
 * the previous snapshot: its cursor position, selections and block
 * signatures carry over and blocks that differ are marked changed.
 * Returns 0, or -1 when out of memory. */
int tui_view_build(struct tui_heap_view *v, const struct hv_heap *h, const struct tui_heap_view *prev);
void tui_view_free(struct tui_heap_view *v);

/* The item holding unit u (the nearest one before it when none does). */
size_t tui_item_at_unit(const struct tui_heap_view *v, uint64_t u);
/* The same for map position p. */
size_t tui_item_at_pos(const struct tui_heap_view *v, uint64_t p);
/* Target address and length in bytes of item i. */
uint64_t tui_item_address(const struct tui_heap_view *v, const struct tui_item *it);
uint64_t tui_item_bytes(const struct tui_heap_view *v, const struct tui_item *it);
/* The item holding target address addr, or -1 when addr is outside the
 * heap's unit array. */
long tui_item_at_address(const struct tui_heap_view *v, uint64_t addr);
/* The item a problem points at (its block, culprit or address), or -1. */
long tui_problem_item(const struct tui_heap_view *v, const struct hv_problem *p);
/* Fills block_owner when the heap records owners; 0, or -1 out of memory. */
int tui_view_owners(struct tui_heap_view *v);

/* The map as laid out on screen.  units_per_cell 0: one cell per item;
 * else each cell covers that many units. */
struct tui_layout {
    unsigned units_per_cell;
    size_t cols;               /* cells per row */
    size_t cell_count;
};

void tui_layout_make(struct tui_layout *l, const struct tui_heap_view *v, unsigned units_per_cell, size_t cols);
/* Smallest power-of-two units per cell that fits the heap in cols x rows. */
unsigned tui_fit_units(const struct tui_heap_view *v, size_t cols, size_t rows);
/* Class and mark of cell c. */
void tui_cell(const struct tui_heap_view *v, const struct tui_layout *l, size_t c, int *cls, int *mark);
/* The cell showing item i (its first cell). */
size_t tui_cell_of_item(const struct tui_heap_view *v, const struct tui_layout *l, size_t i);
/* The item shown at cell c (first item overlapping it). */
size_t tui_item_of_cell(const struct tui_heap_view *v, const struct tui_layout *l, size_t c);

#endif /* HV_TUI_MODEL_H */
