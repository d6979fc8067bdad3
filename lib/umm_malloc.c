/*
 * umm_malloc.c - the allocator: segregated free lists over an index-linked
 * block array (lib/FORMAT.md).
 *
 * Every operation is bounded: malloc looks at most UMM_FIT_SCAN_LIMIT blocks
 * of one class plus two bitmap words; free and realloc touch at most three
 * neighbours.  Nothing walks the heap or a whole free list.
 */
#include <string.h>

#include "umm_heap.h"
#include "umm_instr.h"
#include "umm_port.h"

struct umm_ctl *volatile umm_heap_list;

#if defined(UMM_DEFAULT_HEAP_BYTES)
UMM_HEAP_DEFINE(umm_heap_default, UMM_DEFAULT_HEAP_BYTES);
#else
umm_heap umm_heap_default;
#endif

/* ---- free lists ---------------------------------------------------------- */

#if defined(__OPTIMIZE_SIZE__)
/*
 * -Os: one primitive for both list operations.  Makes `z` follow `a` in
 * class `c`'s list: `a` 0 makes z the head (the class's bit then says
 * whether the list is empty), `z` 0 makes a the tail.  A list head is a
 * field of block 0 (bin_get), so one store serves both.  Answers what
 * followed `a` before (the old head when `a` is 0).
 */
static umm_idx list_link(const struct umm_h *restrict h, umm_idx c, umm_idx a, umm_idx z)
{
    if (z)
        blk_set(h, z, BLK_PFREE, a);
    umm_idx was = blk_set(h, a, a ? (umm_field)BLK_NFREE : h->bin0 + (int)c, z);
    if (!a) {
        uint32_t *bitmap = umm_bitmap(h);
        uint32_t *word = &bitmap[1 + (c >> 5)];
        umm_idx bit = 1u << (c & 31);
        *word = z ? *word | bit : *word & ~bit;
        bit = 1u << (c >> 5);
        bitmap[0] = *word ? bitmap[0] | bit : bitmap[0] & ~bit;
    }
    return was;
}

UMM_HOT void freelist_insert(const struct umm_h *restrict h, umm_idx b, umm_idx units)
{
    umm_idx c = umm_class_of(units);
    /* `b` becomes the head, then the old head follows it. */
    list_link(h, c, b, list_link(h, c, 0, b));
    instr_free_added(h, units);
}

/* Takes free block `b` (`units` units) off its list. */
UMM_HOT void freelist_remove(const struct umm_h *restrict h, umm_idx b, umm_idx units)
{
    list_link(h, umm_class_of(units), blk_get(h, b, BLK_PFREE), blk_get(h, b, BLK_NFREE));
    instr_free_removed(h, units);
}
#else
/* Class `c`'s list has just got its first block. */
UMM_HOT void bitmap_set(const struct umm_h *restrict h, umm_idx c)
{
    /* The summary bit is already set unless the word was empty. */
    uint32_t *word = &umm_bitmap(h)[1 + (size_t)(c >> 5)];
    uint32_t bits = *word;
    *word = bits | (1u << (c & 31));
    if (!bits)
        umm_bitmap(h)[0] |= 1u << (c >> 5);
}

/* Class `c`'s list has just become empty. */
UMM_HOT void bitmap_clear(const struct umm_h *restrict h, umm_idx c)
{
    uint32_t *word = &umm_bitmap(h)[1 + (size_t)(c >> 5)];
    /* ~(1 << n) as a rotation of ~1: one instruction where there is one. */
    unsigned n = c & 31;
    *word &= (0xFFFFFFFEu << n) | (0xFFFFFFFEu >> ((32 - n) & 31));
    if (!*word)
        umm_bitmap(h)[0] &= ~(1u << (c >> 5));
}

UMM_HOT void freelist_insert(const struct umm_h *restrict h, umm_idx b, umm_idx units)
{
    umm_idx c = umm_class_of(units);
    umm_idx head = bin_get(h, c);
    blk_set(h, b, BLK_NFREE, head);
    blk_set(h, b, BLK_PFREE, 0);
    if (head)
        blk_set(h, head, BLK_PFREE, b);
    else
        bitmap_set(h, c);
    bin_set(h, c, b);
    instr_free_added(h, units);
}

/*
 * Unlinks free block `b` from the list of its class: `c`, or when that is
 * UMM_NONE, the class of `units`, computed only if `b` heads the list (only
 * then are the bin and the bitmap touched).
 */
UMM_HOT void freelist_unlink_sized(const struct umm_h *restrict h, umm_idx b, umm_idx units, umm_idx c)
{
    umm_idx next = blk_get(h, b, BLK_NFREE);
    umm_idx prev = blk_get(h, b, BLK_PFREE);
    if (next)
        blk_set(h, next, BLK_PFREE, prev);
    if (prev)
        blk_set(h, prev, BLK_NFREE, next);
    else {
        if (c == UMM_NONE)
            c = umm_class_of(units);
        bin_set(h, c, next);
        if (!next)
            bitmap_clear(h, c);
    }
}

/* Unlinks free block `b` from the list of class `c`, its own class. */
UMM_HOT void freelist_unlink(const struct umm_h *restrict h, umm_idx b, umm_idx c)
{
    freelist_unlink_sized(h, b, 0, c);
}

/*
 * Unlinks `b`, the head of class `c`'s list, whose successor is `next`;
 * and `b`, the second block of a list, after `head`: what the place makes
 * known is skipped (speed builds only; -Os builds use the general unlink).
 */
UMM_HOT void freelist_unlink_head(const struct umm_h *restrict h, umm_idx b, umm_idx next, umm_idx c)
{
    (void)b;
    bin_set(h, c, next);
    if (next)
        blk_set(h, next, BLK_PFREE, 0);
    else
        bitmap_clear(h, c);
}
UMM_HOT void freelist_unlink_second(const struct umm_h *restrict h, umm_idx head, umm_idx b, umm_idx c)
{
    (void)c;
    umm_idx next = blk_get(h, b, BLK_NFREE);
    blk_set(h, head, BLK_NFREE, next);
    if (next)
        blk_set(h, next, BLK_PFREE, head);
}

/* Unlinks free block `b` of `units`. */
UMM_HOT void freelist_remove(const struct umm_h *restrict h, umm_idx b, umm_idx units)
{
    freelist_unlink_sized(h, b, units, UMM_NONE);
    instr_free_removed(h, units);
}
#endif

/* First class at or above `c` whose list is not empty, or UMM_NONE. */
#if defined(__OPTIMIZE_SIZE__)
/* -Os: bit by bit, a whole word at a time where the rest of a word is
 * empty (at most 31 + 7 steps), which needs no bit-search routine; class 0
 * (never a block's class, so its list is always empty) when none is found. */
UMM_HOT umm_idx class_find_nonempty(const struct umm_h *restrict h, umm_idx c)
{
    for (; c < h->ctl->class_count; c++) {
        uint32_t bits = umm_bitmap(h)[1 + (c >> 5)] >> (c & 31);
        if (!bits)
            c |= 31u; /* the rest of this word is empty: on to the next */
        else if (bits & 1u)
            return c;
    }
    return 0;
}
#else
UMM_HOT umm_idx class_find_nonempty(const struct umm_h *restrict h, umm_idx c)
{
    if (c >= h->ctl->class_count)
        return UMM_NONE;
    /* Bits past the last class are never set, so neither search runs off
     * the bitmap. */
    umm_idx word = c >> 5;
    uint32_t bits = umm_bitmap(h)[1 + word] & (~0u << (c & 31));
    if (!bits) {
        uint32_t summary = umm_bitmap(h)[0] & ~((2u << word) - 1u);
        if (!summary)
            return UMM_NONE;
        word = umm_ctz(summary);
        bits = umm_bitmap(h)[1 + word];
    }
    return (word << 5) + umm_ctz(bits);
}
#endif

#if defined(UMM_BEST_FIT) || defined(__OPTIMIZE_SIZE__)
/*
 * Of the first `limit` blocks of class `c`'s list, the smallest that holds
 * `units`, its units in *have (UMM_NONE when none does, with 0 returned).
 * Best fit's scan: UMM_FIT_SCAN_LIMIT blocks of the request's own class,
 * the first of equals wins, and a block too close to split ends the scan,
 * as good as exact.  `units` 0 is -Os's pick of one of the first two
 * blocks of a class where every block fits: of equals the lower in memory
 * wins, and no block ends the scan (none is below umm_min_units).
 */
UMM_HOT umm_idx closest_in_class(const struct umm_h *restrict h, umm_idx c, umm_idx units, unsigned limit,
                                 umm_idx *have)
{
#if defined(__OPTIMIZE_SIZE__)
    int lower_wins = !units;
#else
    const int lower_wins = 0; /* speed builds pick from a fitting class in first2_unlink */
#endif
    umm_idx best = 0, best_units = UMM_NONE;
    umm_idx candidate = bin_get(h, c);
    for (unsigned left = limit; candidate && left; left--) {
        umm_idx size = blk_units(h, candidate);
        if (size >= units && (size < best_units || (lower_wins && size == best_units && candidate < best))) {
            best = candidate;
            best_units = size;
            if (size - units < umm_min_units(h))
                break;
        }
        candidate = blk_get(h, candidate, BLK_NFREE);
    }
    *have = best_units;
    return best;
}
#endif
#if !defined(UMM_BEST_FIT)
/* First fit's scan: the first of the first UMM_FIT_SCAN_LIMIT blocks of
 * class `c`'s list that holds `units`; 0 when none does. */
UMM_HOT umm_idx first_in_class(const struct umm_h *restrict h, umm_idx c, umm_idx units)
{
    umm_idx candidate = bin_get(h, c);
    for (unsigned left = UMM_FIT_SCAN_LIMIT; candidate && left; left--) {
        if (blk_units(h, candidate) >= units)
            return candidate;
        candidate = blk_get(h, candidate, BLK_NFREE);
    }
    return 0;
}
#endif

/* ---- block surgery --------------------------------------------------------- */

/*
 * Units for a request of `size` bytes; 0 when it can never fit in any heap
 * (regions are indexed up to 4 GiB - 1).  One bound for every heap, so no
 * load: a request larger than this heap but below it finds no class that
 * fits (the class search ends at the last class), and its bytes, header
 * and prefix included, stay below 2^32.
 */
#define UMM_REQUEST_MAX 0xFFFFFF00u
#if UMM_TOP_BYTES < 1 || UMM_TOP_BYTES > UMM_REQUEST_MAX
#error "UMM_TOP_BYTES must be between 1 and UMM_REQUEST_MAX"
#endif
/* Units for a request of `size` bytes, no more than UMM_REQUEST_MAX. */
UMM_HOT umm_idx units_for_small_size(const struct umm_h *restrict h, size_t size)
{
    size_t bytes = size + umm_hdr_bytes(h) + umm_prefix(h) + umm_suffix(h);
    umm_idx units = (umm_idx)((bytes + 7u) >> 3);
    /* Callers have turned size 0 away, and one byte and a header fill the
     * smallest block of either width, so the clamp never changes `units`;
     * speed builds keep it all the same: without it GCC 12 lays out the
     * fast paths worse (4,775 more instructions on bench/traces/grow). */
#if defined(__OPTIMIZE_SIZE__)
    return units;
#else
    return units < umm_min_units(h) ? umm_min_units(h) : units;
#endif
}
UMM_HOT umm_idx units_for_size(const struct umm_h *restrict h, size_t size)
{
    if (size > UMM_REQUEST_MAX)
        return 0;
    return units_for_small_size(h, size);
}

#if defined(__OPTIMIZE_SIZE__)
/*
 * -Os: the same operations built from fewer pieces.  Every change of
 * shape is a split of a used block followed by a free of one part, which
 * merges it with whatever free neighbour it has; the blocks, lists and
 * fill patterns that result are those of the speed build's dedicated
 * paths (tests/lib/test_digest.c compares the two).
 */

/* Units of block `x` when it is free, else 0. */
static uint32_t free_units_of(const struct umm_h *restrict h, uint32_t x)
{
    umm_idx next = blk_get(h, x, BLK_NEXT);
    /* The flag is the top bit the field holds: set exactly when `next`
     * reaches it. */
    return next >= umm_free_flag(h) ? next - umm_free_flag(h) - x : 0;
}

/* Makes `z` the successor of `a` in address order; `flag` marks a free. */
static void blk_link(const struct umm_h *restrict h, umm_idx a, umm_idx z, umm_idx flag)
{
    blk_set(h, a, BLK_NEXT, z | flag);
    blk_set(h, z, BLK_PREV, a);
}

/* Takes block `x` off its list when it is free; its units, else 0. */
static uint32_t absorb(const struct umm_h *restrict h, uint32_t x)
{
    umm_idx units = free_units_of(h, x);
    if (units)
        freelist_remove(h, x, units);
    return units;
}

/*
 * Frees used block `b`, which lies between `prev` (its prev field) and
 * `next` (its end), both known to the callers, merging with free
 * neighbours; the arguments come in address order.  `fill`
 * says whether the freed bytes get the free fill: not when they were free
 * already (the rest of a free block that was taken).
 */
static void block_release(const struct umm_h *restrict h, umm_idx prev, umm_idx b, umm_idx next, int fill)
{
    umm_idx freed = b;
    umm_idx freed_end = next;
    umm_idx merged_next = absorb(h, next);
    next += merged_next;
    b -= absorb(h, prev);
    blk_link(h, b, next, umm_free_flag(h));
    freelist_insert(h, b, next - b);
    if (fill)
        instr_fill_span(h, b, freed, freed_end + (merged_next ? umm_min_units(h) : 0u));
}

/*
 * Makes [b, end) a used block `b` of `units`, and frees the rest, or of
 * all of [b, end) when the rest could not stand as a block of its own.
 * Links `b` either way: its header may not name its end yet.
 */
static void block_split(const struct umm_h *restrict h, umm_idx b, umm_idx units, umm_idx end, int fill)
{
    umm_idx tail = b + units;
    int rest = umm_can_stand(h, end - tail);
    blk_link(h, b, rest ? tail : end, 0);
    if (rest)
        block_release(h, b, tail, end, fill);
}

/*
 * A free block of at least `units`, still on its list; 0 when none fits.
 * The speed build's choice, in one tail: best fit, when `closest` asks for
 * it, looks at up to UMM_FIT_SCAN_LIMIT blocks of the request's own class
 * (the closest fit, the first of equals, stopping at one too close to
 * split); else, of the first two blocks of the first class where every
 * block fits, the smaller, then the lower in memory.
 */
UMM_HOT umm_idx fit_core(const struct umm_h *restrict h, umm_idx units, int closest)
{
    umm_idx b, c = 0;
    umm_idx have; /* unused: absorb reads the size again as it unlinks */
    /* The units the pick must hold: `units` for best fit's scan of the
     * request's own class, then 0 for the pick from the lowest class whose
     * every block holds them (class 0, an empty list, when none has a
     * block).  One call of closest_in_class makes both. */
    umm_idx need = 0;
    (void)closest;
#if defined(UMM_BEST_FIT)
    if (closest && units >= UMM_FMT_LINEAR_CLASSES) {
        c = umm_class_of(units);
        if (c < h->ctl->class_count)
            need = units;
    }
#else
    unsigned own = umm_class_of(units);
#endif
    for (;;) {
        if (!need)
            c = class_find_nonempty(h, umm_class_of(units - 1u) + 1u);
        b = closest_in_class(h, c, need, need ? UMM_FIT_SCAN_LIMIT : 2u, &have);
        if (b || !need)
            break;
        need = 0;
    }
#if defined(UMM_FIRST_FIT)
    /* Only blocks of the request's own class are left that might fit. */
    if (!b && own < h->ctl->class_count)
        b = first_in_class(h, own, units);
#endif
    return b;
}

/*
 * A used block of `units` whose data area is aligned to `align` (a power
 * of two, 8 or more); 0 when none is free.  The free block found is taken
 * whole, then split: a gap in front (memalign) freed, the rest trimmed.
 * `align_top` is `align`, plus 1 to place the block at the top of the free
 * one (malloc_core's UMM_TOP_BYTES): one argument, which spares the search
 * a register.
 */
static umm_idx alloc_block(const struct umm_h *restrict h, umm_idx units, size_t align_top)
{
    /* A lead-in gap must be able to stand as a free block: at worst one
     * alignment step short of a whole one, plus a step when blocks are wider
     * than a unit. */
    umm_idx step = (umm_idx)(align_top >> 3);
    umm_idx slack = step > 1u ? (step << h->wide) - 1u : 0u;
    umm_idx b = fit_core(h, units + slack, !slack);
    if (!b)
        return 0;
    /* Off its list through absorb, which reads its size from its header:
     * -Os code unlinks only there, so freelist_remove folds into it. */
    umm_idx end = b + absorb(h, b);
    /* The shift drops the mask's low 3 bits; above them align_top - 2 is
     * align - 1, with or without top. */
    umm_idx gap = (umm_idx)((0u - (uintptr_t)(blk_data(h, b) + umm_prefix(h))) & (align_top - 2u)) >> 3;
    /* 0 < gap < umm_min_units(h) in one compare: a gap of 0 wraps. */
    if (gap - 1u < h->wide)
        gap += step;
    umm_idx at = b + gap;
    /* With top, the used part is the top of the block and the rest is
     * freed below it. */
    if ((align_top & 1u) && umm_can_stand(h, end - at - units))
        at = end - units;
    /* The gap's release below must find `at` used (block_split links it
     * again, to its own end). */
    blk_link(h, at, end, 0);
    if (at != b) {
        /* A lead-in gap joins the used block before it (see memalign_core). */
        umm_idx prev = blk_get(h, b, BLK_PREV);
        if (gap && prev) {
            blk_link(h, prev, at, 0);
            instr_grew_in_place(h, prev);
        } else
            block_release(h, prev, b, at, gap != 0);
    }
    block_split(h, at, units, end, 0);
    return at;
}
#else
/* Frees used block `b`, whose successor is `next`, merging with free
 * neighbours. */
UMM_HOT void block_free_next(const struct umm_h *restrict h, umm_idx b, umm_idx next)
{
    umm_idx freed = b;
    umm_idx freed_end = next;
    int merged_next = blk_is_free(h, next);
    if (merged_next) {
        umm_idx next_units = blk_units(h, next);
        freelist_remove(h, next, next_units);
        next += next_units;
        blk_set(h, next, BLK_PREV, b);
    }
    umm_idx prev = blk_get(h, b, BLK_PREV);
    if (blk_is_free(h, prev)) {
        freelist_remove(h, prev, b - prev);
        b = prev;
        blk_set(h, next, BLK_PREV, b);
    }
    blk_set(h, b, BLK_NEXT, next | umm_free_flag(h));
    freelist_insert(h, b, next - b);
    /* The freed block, and the absorbed successor's header and links. */
    instr_fill_span(h, b, freed, freed_end + (merged_next ? umm_min_units(h) : 0u));
}

UMM_HOT void block_free_core(const struct umm_h *restrict h, umm_idx b)
{
    block_free_next(h, b, blk_next(h, b));
}

/* Links a block of `units` at `b`, between `prev` and the block at b+units. */
UMM_HOT void block_link(const struct umm_h *restrict h, umm_idx b, umm_idx units, umm_idx prev,
                       umm_idx flag)
{
    umm_idx next = b + units;
    blk_set(h, b, BLK_NEXT, next | flag);
    blk_set(h, b, BLK_PREV, prev);
    blk_set(h, next, BLK_PREV, b);
}

/*
 * Shrinks used block `b` to `units`, freeing the rest when it can stand as a
 * block of its own; the freed tail merges with a free successor, since free
 * blocks are never adjacent.
 */
UMM_HOT void block_trim(const struct umm_h *restrict h, umm_idx b, umm_idx units)
{
    umm_idx end = blk_next(h, b);
    umm_idx tail = b + units;
    if (end - tail < umm_min_units(h))
        return;
    umm_idx freed_end = end;
    int merged = blk_is_free(h, end);
    if (merged) {
        umm_idx end_units = blk_units(h, end);
        freelist_remove(h, end, end_units);
        end += end_units;
    }
    blk_set(h, b, BLK_NEXT, tail);
    block_link(h, tail, end - tail, b, umm_free_flag(h));
    freelist_insert(h, tail, end - tail);
    instr_fill_span(h, tail, tail, freed_end + (merged ? umm_min_units(h) : 0u));
}

/*
 * Marks free block `b` (`have` units, already off its list and out of the
 * counters) used and trims it to `units`; returns the used block.  What is
 * left, when it can stand as a block of its own, stays free above it, or
 * below it with `top`.
 */
UMM_HOT umm_idx block_take(const struct umm_h *restrict h, umm_idx b, umm_idx have, umm_idx units, int top)
{
    umm_idx rest = have - units;
    if (rest < umm_min_units(h)) {
        blk_set(h, b, BLK_NEXT, b + have);
        return b;
    }
    if (top) {
        umm_idx used = b + rest;
        blk_set(h, b, BLK_NEXT, used | umm_free_flag(h));
        block_link(h, used, units, b, 0);
        freelist_insert(h, b, rest);
        return used;
    }
    umm_idx tail = b + units;
    blk_set(h, b, BLK_NEXT, tail);
    block_link(h, tail, rest, b, umm_free_flag(h));
    freelist_insert(h, tail, rest);
    return b;
}

/*
 * Unlinks one of the first two blocks of class `c`'s list (head `b`),
 * where every block holds the request: the second when it is the smaller,
 * or as small and lower in memory; sets *have to its units.  Lower
 * addresses first keeps used blocks packed towards the start of the heap
 * and the large free space whole.
 */
UMM_HOT umm_idx first2_unlink(const struct umm_h *restrict h, umm_idx b, umm_idx c, umm_idx *have)
{
    umm_idx second = blk_get(h, b, BLK_NFREE);
    *have = blk_units(h, b);
    if (second) {
        umm_idx second_units = blk_units(h, second);
        if (second_units < *have || (second_units == *have && second < b)) {
            freelist_unlink_second(h, b, second, c);
            *have = second_units;
            return second;
        }
    }
    freelist_unlink_head(h, b, second, c);
    return b;
}

/*
 * A free block of at least `units`, off its list, its size in *have; 0
 * when none fits.  Below UMM_FMT_LINEAR_CLASSES a class holds one size, so
 * the search for a class that fits starts at the exact one.  `closest`
 * (best fit) first looks for the closest fit in the request's own class.
 * An aligned request passes 0: its `units` include the worst lead-in gap,
 * so the closest fit to them is not the closest to what the block will
 * hold, and the scan would cost without buying a tighter fit.
 */
UMM_HOT umm_idx fit_unlink_core(const struct umm_h *restrict h, umm_idx units, umm_idx *have, int closest)
{
    umm_idx candidate;
    (void)closest;
    /* The request's own class, and the lowest whose every block holds it
     * (the next one when `units` is not the smallest size of its own). */
    umm_idx own = units, fit = units;
    if (units >= UMM_FMT_LINEAR_CLASSES) {
        unsigned s = umm_fls((uint32_t)units) - UMM_FMT_SL_LOG2;
        own = ((umm_idx)s << UMM_FMT_SL_LOG2) + (units >> s);
        fit = ((umm_idx)s << UMM_FMT_SL_LOG2) + ((units - 1u) >> s) + 1u;
    }
#if defined(UMM_BEST_FIT)
    /*
     * Above, look for the closest fit in the request's own class (its
     * blocks are within 1/8 of the request) before settling for a block of
     * a larger class.
     */
    if (closest && units >= UMM_FMT_LINEAR_CLASSES && own < h->ctl->class_count) {
        candidate = closest_in_class(h, own, units, UMM_FIT_SCAN_LIMIT, have);
        if (candidate) {
            freelist_unlink(h, candidate, own);
            return candidate;
        }
    }
#endif
    umm_idx c = class_find_nonempty(h, fit);
    if (c != UMM_NONE)
        return first2_unlink(h, bin_get(h, c), c, have);
#if defined(UMM_FIRST_FIT)
    /* Only blocks of the request's own class are left that might fit. */
    candidate = own < h->ctl->class_count ? first_in_class(h, own, units) : 0;
    if (candidate) {
        freelist_unlink(h, candidate, own);
        *have = blk_units(h, candidate);
        return candidate;
    }
#endif
    return 0;
}

#endif

#if !defined(__OPTIMIZE_SIZE__)
/*
 * The common case without the class search: a block of exactly `units`
 * from a linear class that is not empty, taken; 0 when there is none.  The
 * block it takes is the one fit_unlink_core would: of the first two, the
 * lower in memory.  -Os builds leave it to that.
 */
UMM_HOT umm_idx exact_class_take(const struct umm_h *restrict h, umm_idx units)
{
    if (units >= UMM_FMT_LINEAR_CLASSES || units >= h->ctl->class_count)
        return 0;
    umm_idx candidate = bin_get(h, units);
    if (!candidate)
        return 0;
    umm_idx second = blk_get(h, candidate, BLK_NFREE);
    if (second && second < candidate) {
        freelist_unlink_second(h, candidate, second, units);
        candidate = second;
    } else
        freelist_unlink_head(h, candidate, second, units);
    instr_free_removed(h, units);
    blk_set(h, candidate, BLK_NEXT, candidate + units);
    return candidate;
}

/*
 * Block of at least `units`, taken and trimmed; 0 when none fits.  With
 * `top` (a large malloc, UMM_TOP_BYTES) the block is the top of the free
 * block found instead of its bottom: large and small blocks then gather at
 * opposite ends of the free space, and freeing a large block more often
 * leaves a hole that fits the next large one rather than one that small
 * blocks placed since have split.  alloc_fit_core skips the exact class,
 * for callers that found it empty.
 */
UMM_HOT umm_idx alloc_fit_core(const struct umm_h *restrict h, umm_idx units, int top)
{
    umm_idx have;
    umm_idx b = fit_unlink_core(h, units, &have, 1);
    if (!b)
        return 0;
    instr_free_removed(h, have);
    return block_take(h, b, have, units, top);
}

UMM_HOT umm_idx alloc_units_core(const struct umm_h *restrict h, umm_idx units, int top)
{
    umm_idx exact = exact_class_take(h, units);
    return exact ? exact : alloc_fit_core(h, units, top);
}
#endif

/* ---- pointers ---------------------------------------------------------------- */

/*
 * Block index for user pointer `p`, or 0 unless `p` is exactly the user
 * pointer of a used block whose successor links back to it; that
 * successor in *next_out.  Unsigned offset arithmetic folds "below the
 * heap" into "past the end".
 */
UMM_HOT umm_idx block_and_next_of_user_ptr(const struct umm_h *restrict h, const void *p, umm_idx *next_out)
{
#if defined(__OPTIMIZE_SIZE__)
    size_t offset = (size_t)((uintptr_t)p - (uintptr_t)h->data - umm_prefix(h));
#else
    size_t offset = (size_t)((uintptr_t)p - (uintptr_t)h->blocks - umm_hdr_bytes(h) - umm_prefix(h));
#endif
    umm_idx n = h->ctl->unit_count;
    /*
     * One compare for alignment and range: rotated right by 3, the offset
     * from block 1 is b - 1 when it is a multiple of 8, and otherwise has
     * one of its 3 top bits set, beyond every index even where size_t has
     * 32 bits (a region under 4 GiB has fewer than 2^29 units); block 0
     * (the head sentinel) wraps.
     */
    size_t from1 = offset - 8u;
    size_t rotated = (from1 >> 3) | (from1 << (sizeof(size_t) * 8u - 3u));
    if (rotated >= n - 2u)
        return 0;
    umm_idx b = (umm_idx)rotated + 1u;
    umm_idx next = blk_get(h, b, BLK_NEXT);
    /* next <= n-1; the free flag lies above every index, so a free block
     * (a double free) fails too.  A next at or below b needs no test of its
     * own: a block's prev lies below it, so no block's back link names b. */
    if (next >= n || blk_get(h, next, BLK_PREV) != b)
        return 0;
    *next_out = next;
    return b;
}

UMM_HOT umm_idx block_of_user_ptr(const struct umm_h *restrict h, const void *p)
{
    umm_idx next;
    return block_and_next_of_user_ptr(h, p, &next);
}

uint32_t umm_block_of_ptr_core(const struct umm_h *restrict h, const void *p)
{
    return (uint32_t)block_of_user_ptr(h, p);
}

struct umm_ctl *umm_heap_of_ptr_core(const void *p)
{
    struct umm_ctl *ctl = umm_heap_list;
    for (unsigned n = 0; ctl && n < UMM_FMT_MAX_HEAPS; n++, ctl = ctl->next_heap) {
        const uint8_t *first = (const uint8_t *)ctl + ctl->ctl_bytes;
        if ((const uint8_t *)p >= first && (const uint8_t *)p < first + ((size_t)ctl->unit_count << 3))
            return ctl;
    }
    return NULL;
}

static void *user_ptr(const struct umm_h *restrict h, umm_idx b)
{
    return blk_data(h, b) + umm_prefix(h);
}

/* ---- init ------------------------------------------------------------------ */

/*
 * Takes `ctl`, and every heap whose region overlaps [lo, hi), off the list.
 * Must run before anything is written to [lo, hi): an overlapped control
 * block is read here.  An entry that no longer looks like a control block
 * (its memory was reused without umm_multi_deinit) ends the list.
 */
static void registry_unlink(const struct umm_ctl *ctl, const uint8_t *lo, const uint8_t *hi)
{
    struct umm_ctl *volatile *link = &umm_heap_list;
    struct umm_ctl *cur;
    for (unsigned n = 0; (cur = *link) != NULL && n < UMM_FMT_MAX_HEAPS; n++) {
        if (cur->magic != UMM_FMT_MAGIC || cur->self != cur) {
            *link = NULL;
            return;
        }
        const uint8_t *cur_lo = (const uint8_t *)cur->region;
        const uint8_t *cur_hi = cur_lo + cur->region_bytes;
        /* A heap rebuilt over (part of) an older one replaces it. */
        if (cur == ctl || (cur_lo < hi && lo < cur_hi))
            *link = cur->next_heap;
        else
            link = &cur->next_heap;
    }
}

/* Record and index at most 4 GiB - 1 of any region. */
static inline uint64_t region_usable(const umm_heap *heap)
{
    uint64_t usable = heap->heap_size;
    return usable > 0xFFFFFFFFu ? 0xFFFFFFFFu : usable;
}

/* Lays out a heap over the region recorded in `heap`. */
static void heap_layout_core(umm_heap *heap)
{
    registry_unlink(heap->ctl, (uint8_t *)heap->pheap, (uint8_t *)heap->pheap + region_usable(heap));
    heap->ctl = NULL;
    /* Read again rather than kept across the call: the unlink writes
     * only links, which the handle is not. */
    uint8_t *region = (uint8_t *)heap->pheap;
    uint64_t usable = region_usable(heap);
    /*
     * Offsets from the control block, which starts at the first 8-aligned
     * address; `room` bytes follow it.  The fixed part's size is a multiple
     * of 4: the bitmap follows it.
     */
    umm_idx pad = (umm_idx)(0u - (uintptr_t)region) & 7u;
    if (usable <= pad + sizeof(struct umm_ctl))
        return;
    umm_idx room = (umm_idx)usable - pad;
    /*
     * Size the lists for the most units this region could hold.  A heap
     * with more than 15-bit indices reach is wide; 4 GiB - 1 bytes are
     * far fewer units than 31-bit indices reach, so neither width clamps.
     * The width is kept as index_bytes: the heads' and the header's sizes
     * are multiples of it.
     */
    umm_idx most = (room - (umm_idx)sizeof(struct umm_ctl)) >> 3;
    unsigned index_bytes = most > UMM_FMT_NARROW_MAX_UNITS ? 4u : 2u;
    unsigned classes = (unsigned)umm_class_of(most - 2u) + 1u;
    umm_idx bins = (umm_idx)sizeof(struct umm_ctl) + 4u * (1u + ((classes + 31u) >> 5));
    umm_idx at = bins + classes * index_bytes;
#if UMM_HAS_RECORD
    umm_idx record = (at + 7u) & ~7u;
    at = record + (umm_idx)sizeof(struct umm_record);
#endif
    /* The first data area (unit 0's) must be 8-aligned. */
    unsigned hdr = 2u * index_bytes;
    umm_idx blocks = ((at + hdr + 7u) & ~7u) - hdr;
    if (room <= blocks)
        return;
    /*
     * At most `most`, so within the width's reach.  Everything before the
     * blocks takes under 2 KiB (at most 216 classes), so the 16-bit
     * offsets hold it.  Room for fewer than 5 units fails here too (or,
     * with most - 2 wrapped, at the check above).
     */
    umm_idx units = (room - blocks) >> 3;
    if (units < 3u + (index_bytes >> 2))
        return;

    /*
     * The fixed part is written field by field before the rest is zeroed
     * (up to unit 1's header: unit 0 and unit 1's prev are 0), so that
     * only ctl, units and the handle live across the calls; next_heap is
     * set when the heap joins the list.
     */
    struct umm_ctl *ctl = (struct umm_ctl *)(void *)(region + pad);
    ctl->magic = UMM_FMT_MAGIC;
    ctl->version = UMM_FMT_VERSION;
    ctl->index_bytes = (uint8_t)index_bytes;
    ctl->unit_log2 = UMM_FMT_UNIT_LOG2;
    ctl->ptr_bytes = (uint8_t)sizeof(void *);
    ctl->ctl_bytes = (uint16_t)blocks;
    ctl->unit_count = (uint32_t)units;
    ctl->region_bytes = (uint32_t)usable;
    ctl->sl_log2 = UMM_FMT_SL_LOG2;
    ctl->bitmap_off = (uint16_t)sizeof(struct umm_ctl);
    ctl->bins_off = (uint16_t)bins;
#if UMM_HAS_RECORD
    ctl->instr_off = (uint16_t)record;
#else
    ctl->instr_off = 0;
#endif
#if UMM_HAS_PREFIX
    ctl->prefix_bytes = (uint8_t)UMM_PFX_BYTES(sizeof(void *));
    ctl->suffix_bytes = (uint8_t)UMM_SUFFIX_MIN;
#else
    ctl->prefix_bytes = 0;
    ctl->suffix_bytes = 0;
#endif
    ctl->reserved = 0;
    ctl->self = ctl;
    ctl->region = region;
    memset(ctl + 1, 0, blocks + 8u + hdr - sizeof(struct umm_ctl));
    ctl->class_count = (uint8_t)(umm_class_of(units - 2u) + 1u);
    ctl->flags = (uint16_t)umm_instr_flags();

    /* The head sentinel, one used block and the end marker; then the
     * block is freed. */
    struct umm_h h;
    umm_h_load(&h, ctl);
    umm_idx last = units - 1u;
#if defined(__OPTIMIZE_SIZE__)
    /* The end marker's next is 0, in one 32-bit store for either width:
     * the rest of a narrow header, its prev, is written by the release
     * below, and headers are 4-aligned (data areas are 8-aligned). */
    *(umm_u32a *)(void *)(h.blocks + ((size_t)last << 3)) = 0;
    instr_init(&h);
    /* The head sentinel, seen as a used block up to the end marker, split
     * after its one unit: the rest can stand (units >= 3 + wide) and is
     * released as the heap's one free block. */
    block_split(&h, 0, 1, last, 1);
#else
    blk_set(&h, last, BLK_NEXT, 0);
    instr_init(&h);
    blk_set(&h, 0, BLK_NEXT, 1);
    blk_set(&h, 1, BLK_NEXT, last);
    blk_set(&h, last, BLK_PREV, 1);
    block_free_core(&h, 1);
#endif

    ctl->next_heap = umm_heap_list;
    umm_heap_list = ctl;
    heap->ctl = ctl;
    heap->blocks_cache = h.blocks;
    heap->bins_cache = (uint8_t *)ctl + ctl->bins_off; /* read back: not kept across the calls */
}

void umm_multi_init_heap(umm_heap *heap, void *ptr, size_t size)
{
    UMM_CRITICAL_DECL(init);
    UMM_CRITICAL_ENTRY(init);
    heap->pheap = ptr;
    heap->heap_size = size;
    heap_layout_core(heap);
    UMM_CRITICAL_EXIT(init);
}

void umm_multi_init(umm_heap *heap)
{
    umm_multi_init_heap(heap, heap->pheap, heap->heap_size);
}

void umm_multi_deinit(umm_heap *heap)
{
    UMM_CRITICAL_DECL(init);
    UMM_CRITICAL_ENTRY(init);
    if (heap->ctl)
        registry_unlink(heap->ctl, NULL, NULL);
    heap->ctl = NULL;
    UMM_CRITICAL_EXIT(init);
}

void umm_init_heap(void *ptr, size_t size)
{
    umm_multi_init_heap(&umm_heap_default, ptr, size);
}

void umm_init(void)
{
#if defined(UMM_MALLOC_CFG_HEAP_ADDR) && defined(UMM_MALLOC_CFG_HEAP_SIZE)
    umm_multi_init_heap(&umm_heap_default, (void *)(UMM_MALLOC_CFG_HEAP_ADDR),
                        (size_t)(UMM_MALLOC_CFG_HEAP_SIZE));
#else
    umm_multi_init(&umm_heap_default);
#endif
}

#if !defined(__OPTIMIZE_SIZE__)
/* Loads `h` for initialised `heap` from what init left in the handle
 * (-Os builds load it from the control block, umm_h_load). */
UMM_HOT void heap_load(const umm_heap *heap, struct umm_h *h)
{
    struct umm_ctl *ctl = heap->ctl;
    h->ctl = ctl;
    h->blocks = (uint8_t *)heap->blocks_cache;
    h->bins = (uint8_t *)heap->bins_cache;
    h->wide = ctl->index_bytes == 4;
}
#endif

/*
 * Loads `h` for `heap`, initialising it first when the build allows; 0 when
 * the heap cannot be used.
 */
UMM_HOT int heap_ready_core(umm_heap *heap, struct umm_h *h)
{
    struct umm_ctl *ctl = heap->ctl;
    if (__builtin_expect(!ctl, 0)) {
#if defined(UMM_HANG_IF_UNINITIALIZED)
        for (;;) {
        }
#elif UMM_INIT_IF_UNINITIALIZED
        if (!heap->pheap)
            return 0;
        heap_layout_core(heap);
        ctl = heap->ctl;
        if (!ctl)
            return 0;
#else
        return 0;
#endif
    }
#if defined(__OPTIMIZE_SIZE__)
    umm_h_load(h, ctl); /* the control block read above, not read again */
#else
    heap_load(heap, h);
#endif
    return 1;
}

/* ---- the operations ------------------------------------------------------------ */

/* The user pointer of new block `b` (`size` bytes asked for by `owner`),
 * or NULL, the failure counted, when `b` is 0. */
UMM_HOT void *allocated(const struct umm_h *restrict h, umm_idx b, size_t size, uintptr_t owner)
{
    if (!b) {
        instr_oom(h);
        return NULL;
    }
    instr_allocated(h, b, size, owner, UMM_NEW_FILL_BYTE);
    return user_ptr(h, b);
}

#if defined(__OPTIMIZE_SIZE__)
/* -Os: malloc is memalign to 8; `align` is a power of two, 8 or more. */
static void *alloc_core(const struct umm_h *restrict h, size_t align, size_t size, uintptr_t owner)
{
    if (size == 0 || align >= ((size_t)h->ctl->unit_count << 3))
        return NULL;
    umm_idx units = units_for_size(h, size);
    umm_idx b = units ? alloc_block(h, units, align + (align == 8u && size >= UMM_TOP_BYTES)) : 0;
    return allocated(h, b, size, owner);
}
#else
UMM_HOT void *malloc_core(const struct umm_h *restrict h, size_t size, uintptr_t owner)
{
    umm_idx b;
    /* One compare sets the rare sizes aside: 0 (wraps), large, too large. */
    if (__builtin_expect(size - 1u < UMM_TOP_BYTES - 1u, 1))
        b = alloc_units_core(h, units_for_small_size(h, size), 0);
    else {
        if (size == 0)
            return NULL;
        umm_idx units = units_for_size(h, size);
        b = units ? alloc_units_core(h, units, 1) : 0;
    }
    return allocated(h, b, size, owner);
}
#endif

/* The block `ptr` names in `h`, its successor in *next, or 0 after
 * reporting why it is refused. */
UMM_HOT umm_idx block_for_free_core(const struct umm_h *restrict h, void *ptr, unsigned op, umm_idx *next)
{
    umm_idx b = block_and_next_of_user_ptr(h, ptr, next);
    if (__builtin_expect(!b, 0))
        instr_bad_pointer(h, ptr, op);
    return b;
}

/*
 * What every realloc of a live block does first (`op` names the call in
 * fault reports): the block `ptr` names, with the units `size` needs in
 * *units and its successor in *end; 0 when the call ends here: a refused
 * pointer, `size` 0 (the block is freed), a size no heap holds, or a
 * block the checks refuse.
 */
UMM_HOT umm_idx resize_begin_core(const struct umm_h *restrict h, void *ptr, size_t size, unsigned op,
                                  umm_idx *units, umm_idx *end)
{
    umm_idx b = block_for_free_core(h, ptr, op, end);
    if (!b)
        return 0;
    if (size == 0) {
        if (instr_release(h, b, op)) {
#if defined(__OPTIMIZE_SIZE__)
            block_release(h, blk_get(h, b, BLK_PREV), b, *end, 1);
#else
            block_free_core(h, b);
#endif
        }
        return 0;
    }
    *units = units_for_size(h, size);
    if (!*units) {
        instr_oom(h);
        return 0;
    }
    if (!instr_resize_begin(h, b))
        return 0;
    return b;
}

#if defined(__OPTIMIZE_SIZE__)
/*
 * -Os: realloc of a block, which is also free (`size` 0); `op` names the
 * call in fault reports.  A growing block takes in a free successor, else
 * slides down into a free predecessor (and the successor), else moves.  A
 * shrinking block slides down too when that makes one hole of
 * UMM_SLIDE_BYTES or more (see the speed build's realloc_core); otherwise
 * it stays, its successor apart, and the split merges what it gives up
 * with that successor.
 */
static void *resize_core(const struct umm_h *restrict h, void *ptr, size_t size, unsigned op)
{
    umm_idx units, end;
    umm_idx b = resize_begin_core(h, ptr, size, op, &units, &end);
    if (!b)
        return NULL;
    umm_idx prev = blk_get(h, b, BLK_PREV);
    /* Where the block ends with a free successor taken in. */
    umm_idx top = end + free_units_of(h, end);
    /* A free predecessor ends at b: the three together span top - prev. */
    umm_idx joined = free_units_of(h, prev) ? top - prev : 0;
    int shrink = units <= end - b;
    int slide = joined >= units + (shrink ? (UMM_SLIDE_BYTES >> 3) : 0u);
    umm_idx to = b;
    if (shrink && !slide)
        top = end;
    else if (shrink || units > top - b) {
        if (slide) {
            absorb(h, prev);
            to = prev;
        } else if (!(to = alloc_block(h, units, 8u))) {
            instr_oom(h);
            return NULL;
        }
        instr_taking(h, to);
        memmove(blk_data(h, to), blk_data(h, b), umm_prefix(h) + instr_kept_bytes(h, b, end - b, size));
    }
    /* A new block is neither: a free predecessor was too small. */
    if (to == b || to == prev) {
        if (top != end) {
            instr_taking(h, end);
            absorb(h, end);
        }
        block_split(h, to, units, top, 1);
        instr_resized(h, to, size);
    } else {
        /* Moved: the old block goes, after the hook has seen the new one. */
        instr_resized(h, to, size);
        block_release(h, prev, b, end, 1);
    }
    return user_ptr(h, to);
}

#else
UMM_HOT void free_core(const struct umm_h *restrict h, void *ptr)
{
    umm_idx next; /* block_free_core reads it again */
    umm_idx b = block_for_free_core(h, ptr, UMM_OP_FREE, &next);
    if (!b || !instr_release(h, b, UMM_OP_FREE))
        return;
    block_free_core(h, b);
}

UMM_HOT void *realloc_core(const struct umm_h *restrict h, void *ptr, size_t size, uintptr_t owner)
{
    if (!ptr)
        return malloc_core(h, size, owner);
    /* The successor the pointer check read goes unused: reading it again
     * below keeps fewer values live (measured faster). */
    umm_idx units, checked_next;
    umm_idx b = resize_begin_core(h, ptr, size, UMM_OP_REALLOC, &units, &checked_next);
    if (!b)
        return NULL;
    umm_idx have = blk_units(h, b);
    umm_idx next = b + have;
    umm_idx next_units;
    umm_idx prev;
    if (units <= have) {
        /*
         * A block that shrinks above a free predecessor slides down into
         * it when the predecessor, the part given up and a free successor
         * add up to UMM_SLIDE_BYTES or more: one hole that large above the
         * block, instead of two around it, is worth the copy.
         */
        prev = blk_get(h, b, BLK_PREV);
        if (__builtin_expect(blk_is_free(h, prev), 0)) {
            next_units = blk_is_free(h, next) ? blk_units(h, next) : 0;
            if (next + next_units - prev - units >= (UMM_SLIDE_BYTES >> 3))
                goto slide;
        }
        block_trim(h, b, units);
        instr_resized(h, b, size);
        return ptr;
    }
    next_units = blk_is_free(h, next) ? blk_units(h, next) : 0;
    if (have + next_units >= units) {
        instr_taking(h, next);
        freelist_remove(h, next, next_units);
        blk_set(h, b, BLK_NEXT, next + next_units);
        blk_set(h, next + next_units, BLK_PREV, b);
        block_trim(h, b, units);
        instr_resized(h, b, size);
        return ptr;
    }
    /* Sliding down into a free predecessor avoids leaving a hole there. */
    prev = blk_get(h, b, BLK_PREV);
    if (!blk_is_free(h, prev) || (b - prev) + have + next_units < units) {
        /*
         * A new block, from the bottom of a free block whatever its size:
         * a block that grew may grow again, into what is left above it.
         */
        size_t keep = instr_kept_bytes(h, b, have, size);
        umm_idx fresh = alloc_units_core(h, units, 0);
        if (!fresh) {
            instr_oom(h);
            return NULL;
        }
        instr_taking(h, fresh);
        memcpy(blk_data(h, fresh), blk_data(h, b), umm_prefix(h) + keep);
        instr_resized(h, fresh, size);
        block_free_core(h, b);
        return user_ptr(h, fresh);
    }
slide:;
    size_t keep = instr_kept_bytes(h, b, have, size);
    umm_idx end = next + next_units;
    instr_taking(h, prev);
    freelist_remove(h, prev, b - prev);
    if (next_units) {
        instr_taking(h, next);
        freelist_remove(h, next, next_units);
    }
    memmove(blk_data(h, prev), blk_data(h, b), umm_prefix(h) + keep);
    blk_set(h, prev, BLK_NEXT, end);
    blk_set(h, end, BLK_PREV, prev);
    block_trim(h, prev, units);
    instr_resized(h, prev, size);
    return user_ptr(h, prev);
}

UMM_HOT void *memalign_core(const struct umm_h *restrict h, size_t align, size_t size, uintptr_t owner)
{
    if (align <= 8u)
        return malloc_core(h, size, owner);
    if (size == 0 || (align & (align - 1u)) || align >= ((size_t)h->ctl->unit_count << 3))
        return NULL;
    umm_idx units = units_for_size(h, size);
    umm_idx step = (umm_idx)(align >> 3);
    /* A lead-in gap must be able to stand as a free block: at worst one
     * alignment step short of a whole one, plus a step when blocks are wider
     * than a unit. */
    umm_idx slack = step - 1u + (umm_min_units(h) > 1u ? step : 0u);
    umm_idx have;
    umm_idx b = units ? fit_unlink_core(h, units + slack, &have, 0) : 0;
    if (!b) {
        instr_oom(h);
        return NULL;
    }
    instr_free_removed(h, have);
    /*
     * Carved in place: [gap][units used][free rest], each part that can
     * stand as a block of its own; b's neighbours are used.  The lead-in
     * gap (under `align` bytes) joins the used block before it, which
     * gives it back when it is freed: as a free block of its own it would
     * cost a list insert here and remain a fragment too small for most
     * requests.  Only at the start of the heap is it a free block.
     */
    umm_idx end = b + have;
    uintptr_t user = (uintptr_t)user_ptr(h, b);
    umm_idx gap = (umm_idx)(((0u - user) & (align - 1u)) >> 3);
    if (gap && gap < umm_min_units(h))
        gap += step;
    if (gap) {
        umm_idx before = blk_get(h, b, BLK_PREV);
        if (before) {
            blk_set(h, before, BLK_NEXT, b + gap);
            blk_set(h, b + gap, BLK_PREV, before);
            instr_grew_in_place(h, before);
        } else {
            blk_set(h, b, BLK_NEXT, (b + gap) | umm_free_flag(h));
            blk_set(h, b + gap, BLK_PREV, b);
            freelist_insert(h, b, gap);
            instr_fill_free(h, b);
        }
        blk_set(h, end, BLK_PREV, b + gap);
        b += gap;
    }
    block_take(h, b, end - b, units, 0);
    instr_allocated(h, b, size, owner, UMM_NEW_FILL_BYTE);
    return user_ptr(h, b);
}

#endif

static size_t usable_size_core(const struct umm_h *restrict h, void *ptr)
{
    umm_idx b = block_of_user_ptr(h, ptr);
    if (!b)
        return 0;
    return instr_usable_bytes(h, b);
}

/* ---- public API: the lock, readiness and argument checks only -------------------- */

#define UMM_CALLER() ((uintptr_t)__builtin_return_address(0))

#if UMM_SPLIT_WIDTH
/* The wide copies of the operations (UMM_BY_WIDTH). */
#define UMM_WIDE_COPY static __attribute__((noinline, cold))
UMM_WIDE_COPY void *malloc_wide(umm_heap *heap, size_t size, uintptr_t owner)
{
    struct umm_h h;
    heap_load(heap, &h);
    h.wide = 1;
    return malloc_core(&h, size, owner);
}
UMM_WIDE_COPY void *realloc_wide(umm_heap *heap, void *ptr, size_t size, uintptr_t owner)
{
    struct umm_h h;
    heap_load(heap, &h);
    h.wide = 1;
    return realloc_core(&h, ptr, size, owner);
}
UMM_WIDE_COPY void *memalign_wide(umm_heap *heap, size_t align, size_t size, uintptr_t owner)
{
    struct umm_h h;
    heap_load(heap, &h);
    h.wide = 1;
    return memalign_core(&h, align, size, owner);
}
UMM_WIDE_COPY void free_wide(umm_heap *heap, void *ptr)
{
    struct umm_h h;
    heap_load(heap, &h);
    h.wide = 1;
    free_core(&h, ptr);
}
#endif

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner);
void *umm_multi_realloc_owned(umm_heap *heap, void *ptr, size_t size, uintptr_t owner);
void *umm_multi_memalign_owned(umm_heap *heap, size_t align, size_t size, uintptr_t owner);
void *umm_multi_calloc_owned(umm_heap *heap, size_t num, size_t size, uintptr_t owner);

#if defined(__OPTIMIZE_SIZE__)
/*
 * -Os: one entry for every call, so one copy of the lock, the readiness
 * check and the hooks.  `arg` is the pointer (realloc, free) or the
 * alignment (memalign); a NULL `heap` is the default heap, which saves
 * the single-heap calls an address each.  The arguments come in the order
 * the callers have them.  The free calls turn NULL away themselves: a
 * free's `arg` is never NULL, so a NULL `arg` always means an allocation,
 * and the other operations skip the test.
 */
static void *op_entry(void *arg, size_t size, unsigned op, umm_heap *heap, uintptr_t owner)
{
    struct umm_h h;
    void *p = NULL;
    if (!heap)
        heap = &umm_heap_default;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (heap_ready_core(heap, &h)) {
        /* Any alignment up to 8 is malloc's; others must be powers of two. */
        size_t align = 8u;
        if (op == UMM_OP_MEMALIGN) {
            if ((size_t)arg > align)
                align = (size_t)arg;
            arg = NULL;
        }
        if (arg)
            p = resize_core(&h, arg, size, op);
        else if (!(align & (align - 1u)))
            p = alloc_core(&h, align, size, owner);
        instr_after_op(&h, op);
    }
    UMM_CRITICAL_EXIT(op);
    return p;
}

/*
 * num * size; false when it does not fit a size_t.  Where size_t has 32
 * bits (the targets -Os is for), without the 64-bit product: the smaller
 * factor below 2^16 times each half of the larger.
 */
static int mul_fits(size_t num, size_t size, size_t *bytes)
{
#if SIZE_MAX == 0xFFFFFFFFu
    if (num > size) {
        size_t t = num;
        num = size;
        size = t;
    }
    size_t high = num * (size >> 16);
    *bytes = num * size;
    return !(num >> 16) && !(high >> 16) && *bytes >= (high << 16);
#else
    return !__builtin_mul_overflow(num, size, bytes);
#endif
}

static void *calloc_entry(size_t num, size_t size, umm_heap *heap, uintptr_t owner)
{
    size_t bytes;
    if (!mul_fits(num, size, &bytes))
        return NULL;
    void *p = op_entry(NULL, bytes, UMM_OP_MALLOC, heap, owner);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner)
{
    return op_entry(NULL, size, UMM_OP_MALLOC, heap, owner);
}
void *umm_multi_calloc_owned(umm_heap *heap, size_t num, size_t size, uintptr_t owner)
{
    return calloc_entry(num, size, heap, owner);
}
void *umm_multi_realloc_owned(umm_heap *heap, void *ptr, size_t size, uintptr_t owner)
{
    return op_entry(ptr, size, UMM_OP_REALLOC, heap, owner);
}
void *umm_multi_memalign_owned(umm_heap *heap, size_t align, size_t size, uintptr_t owner)
{
    return op_entry((void *)align, size, UMM_OP_MEMALIGN, heap, owner);
}
void umm_multi_free(umm_heap *heap, void *ptr)
{
    if (ptr)
        op_entry(ptr, 0, UMM_OP_FREE, heap, 0);
}
void *umm_multi_malloc(umm_heap *heap, size_t size)
{
    return op_entry(NULL, size, UMM_OP_MALLOC, heap, UMM_CALLER());
}
void *umm_multi_calloc(umm_heap *heap, size_t num, size_t size)
{
    return calloc_entry(num, size, heap, UMM_CALLER());
}
void *umm_multi_realloc(umm_heap *heap, void *ptr, size_t size)
{
    return op_entry(ptr, size, UMM_OP_REALLOC, heap, UMM_CALLER());
}
void *umm_multi_memalign(umm_heap *heap, size_t align, size_t size)
{
    return op_entry((void *)align, size, UMM_OP_MEMALIGN, heap, UMM_CALLER());
}
void *umm_malloc(size_t size)
{
    return op_entry(NULL, size, UMM_OP_MALLOC, NULL, UMM_CALLER());
}
void *umm_calloc(size_t num, size_t size)
{
    return calloc_entry(num, size, NULL, UMM_CALLER());
}
void *umm_realloc(void *ptr, size_t size)
{
    return op_entry(ptr, size, UMM_OP_REALLOC, NULL, UMM_CALLER());
}
void umm_free(void *ptr)
{
    if (ptr)
        op_entry(ptr, 0, UMM_OP_FREE, NULL, 0);
}
void *umm_memalign(size_t align, size_t size)
{
    return op_entry((void *)align, size, UMM_OP_MEMALIGN, NULL, UMM_CALLER());
}
#else
/*
 * The speed build's entry points: the operation runs under the lock on a
 * ready heap, compiled once per index width (UMM_BY_WIDTH, where `h` names
 * the heap context), then the after-operation hook.
 */
#define UMM_LOCKED_OP(heap, op_code, narrow_op, wide_op)                      \
    do {                                                                      \
        struct umm_h h;                                                       \
        UMM_CRITICAL_DECL(op);                                                \
        UMM_CRITICAL_ENTRY(op);                                               \
        if (heap_ready_core((heap), &h)) {                                    \
            UMM_BY_WIDTH(h, narrow_op, wide_op);                              \
            instr_after_op(&h, (op_code));                                    \
        }                                                                     \
        UMM_CRITICAL_EXIT(op);                                                \
    } while (0)

/* calloc's block, zeroed. */
static inline void *zeroed(void *p, size_t bytes)
{
    if (p)
        memset(p, 0, bytes);
    return p;
}

/*
 * Release builds (no hooks to run) start malloc and free with their most
 * frequent case on a narrow heap: a small malloc its exact class serves, a
 * free of a valid block.  Everything else leaves through a tail call, to
 * the class search or to the general entry below, so the common case runs
 * without a stack frame or saved registers.
 */
#if !UMM_HAS_RECORD
#define UMM_FAST_ENTRY 1
#define UMM_GENERAL static __attribute__((noinline))
#else
#define UMM_FAST_ENTRY 0
#define UMM_GENERAL UMM_HOT
#endif

UMM_GENERAL void *malloc_general(umm_heap *heap, size_t size, uintptr_t owner)
{
    void *p = NULL;
    UMM_LOCKED_OP(heap, UMM_OP_MALLOC, p = malloc_core(&h, size, owner), p = malloc_wide(heap, size, owner));
    return p;
}

UMM_GENERAL void free_general(umm_heap *heap, void *ptr)
{
    if (!ptr)
        return;
    UMM_LOCKED_OP(heap, UMM_OP_FREE, free_core(&h, ptr), free_wide(heap, ptr));
}

#if UMM_FAST_ENTRY
/* Loads `h` for a ready narrow heap, its width known to the compiler; 0
 * for any other heap. */
UMM_HOT int heap_load_narrow(const umm_heap *heap, struct umm_h *h)
{
    if (!heap->ctl || heap->ctl->index_bytes != 2)
        return 0;
    heap_load(heap, h);
    h->wide = 0;
    return 1;
}

/*
 * malloc of `units` (a request below UMM_TOP_BYTES) from `heap`, found
 * ready and narrow by the caller (only init changes that), whose exact
 * class had none.
 */
static __attribute__((noinline)) void *malloc_units_narrow(struct umm_ctl *ctl, uint8_t *blocks, uint8_t *bins,
                                                           umm_idx units)
{
    struct umm_h h = {ctl, blocks, bins, 0};
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    umm_idx b = alloc_fit_core(&h, units, 0);
    UMM_CRITICAL_EXIT(op);
    return b ? user_ptr(&h, b) : NULL;
}

UMM_HOT void *malloc_entry(umm_heap *heap, size_t size, uintptr_t owner)
{
    struct umm_h h;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    /* One compare sets 0 (wraps) and the large sizes aside. */
    if (__builtin_expect(size - 1u < UMM_TOP_BYTES - 1u && heap_load_narrow(heap, &h), 1)) {
        umm_idx units = units_for_small_size(&h, size);
        umm_idx b = exact_class_take(&h, units);
        UMM_CRITICAL_EXIT(op);
        if (b)
            return user_ptr(&h, b);
        return malloc_units_narrow(h.ctl, h.blocks, h.bins, units);
    }
    UMM_CRITICAL_EXIT(op);
    return malloc_general(heap, size, owner);
}

UMM_HOT void free_entry(umm_heap *heap, void *ptr)
{
    struct umm_h h;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (__builtin_expect(ptr && heap_load_narrow(heap, &h), 1)) {
        umm_idx next;
        umm_idx b = block_and_next_of_user_ptr(&h, ptr, &next);
        if (__builtin_expect(b != 0, 1)) {
            block_free_next(&h, b, next);
            UMM_CRITICAL_EXIT(op);
            return;
        }
    }
    UMM_CRITICAL_EXIT(op);
    free_general(heap, ptr);
}
#else
#define malloc_entry malloc_general
#define free_entry free_general
#endif

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner)
{
    return malloc_entry(heap, size, owner);
}

UMM_HOT void *calloc_entry(umm_heap *heap, size_t num, size_t size, uintptr_t owner)
{
    size_t bytes;
    if (__builtin_mul_overflow(num, size, &bytes))
        return NULL;
    void *p = NULL;
    UMM_LOCKED_OP(heap, UMM_OP_MALLOC, p = zeroed(malloc_core(&h, bytes, owner), bytes),
                  p = zeroed(malloc_wide(heap, bytes, owner), bytes));
    return p;
}

void *umm_multi_calloc_owned(umm_heap *heap, size_t num, size_t size, uintptr_t owner)
{
    return calloc_entry(heap, num, size, owner);
}

UMM_HOT void *realloc_entry(umm_heap *heap, void *ptr, size_t size, uintptr_t owner)
{
    void *p = NULL;
    UMM_LOCKED_OP(heap, UMM_OP_REALLOC, p = realloc_core(&h, ptr, size, owner),
                  p = realloc_wide(heap, ptr, size, owner));
    return p;
}

void *umm_multi_realloc_owned(umm_heap *heap, void *ptr, size_t size, uintptr_t owner)
{
    return realloc_entry(heap, ptr, size, owner);
}

UMM_HOT void *memalign_entry(umm_heap *heap, size_t align, size_t size, uintptr_t owner)
{
    void *p = NULL;
    UMM_LOCKED_OP(heap, UMM_OP_MEMALIGN, p = memalign_core(&h, align, size, owner),
                  p = memalign_wide(heap, align, size, owner));
    return p;
}

void *umm_multi_memalign_owned(umm_heap *heap, size_t align, size_t size, uintptr_t owner)
{
    return memalign_entry(heap, align, size, owner);
}

void umm_multi_free(umm_heap *heap, void *ptr)
{
    free_entry(heap, ptr);
}

#endif

size_t umm_multi_usable_size(umm_heap *heap, void *ptr)
{
    struct umm_h h;
    size_t n = 0;
    if (!ptr || !heap->ctl)
        return 0;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    umm_h_load(&h, heap->ctl);
    n = usable_size_core(&h, ptr);
    UMM_CRITICAL_EXIT(op);
    return n;
}

#if !defined(__OPTIMIZE_SIZE__)
void *umm_multi_malloc(umm_heap *heap, size_t size)
{
    return malloc_entry(heap, size, UMM_CALLER());
}
void *umm_multi_calloc(umm_heap *heap, size_t num, size_t size)
{
    return calloc_entry(heap, num, size, UMM_CALLER());
}
void *umm_multi_realloc(umm_heap *heap, void *ptr, size_t size)
{
    return realloc_entry(heap, ptr, size, UMM_CALLER());
}
void *umm_multi_memalign(umm_heap *heap, size_t align, size_t size)
{
    return memalign_entry(heap, align, size, UMM_CALLER());
}

void *umm_malloc(size_t size)
{
    return malloc_entry(&umm_heap_default, size, UMM_CALLER());
}
void *umm_calloc(size_t num, size_t size)
{
    return calloc_entry(&umm_heap_default, num, size, UMM_CALLER());
}
void *umm_realloc(void *ptr, size_t size)
{
    return realloc_entry(&umm_heap_default, ptr, size, UMM_CALLER());
}
void umm_free(void *ptr)
{
    free_entry(&umm_heap_default, ptr);
}
void *umm_memalign(size_t align, size_t size)
{
    return memalign_entry(&umm_heap_default, align, size, UMM_CALLER());
}
#endif
size_t umm_usable_size(void *ptr)
{
    return umm_multi_usable_size(&umm_heap_default, ptr);
}
