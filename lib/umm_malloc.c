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

UMM_HOT void freelist_insert(const struct umm_h *restrict h, uint32_t b, uint32_t units)
{
    unsigned c = umm_class_of(units);
    uint32_t head = bin_get(h, c);
    blk_set(h, b, BLK_NFREE, head);
    blk_set(h, b, BLK_PFREE, 0);
    if (head)
        blk_set(h, head, BLK_PFREE, b);
    else {
        /* The summary bit is already set unless the word was empty. */
        uint32_t *word = &h->bitmap[1 + (c >> 5)];
        uint32_t bits = *word;
        *word = bits | (1u << (c & 31));
        if (!bits)
            h->bitmap[0] |= 1u << (c >> 5);
    }
    bin_set(h, c, b);
    instr_free_added(h, units);
}

/* Class `c`'s list has just become empty. */
UMM_HOT void bitmap_clear(const struct umm_h *restrict h, unsigned c)
{
    uint32_t *word = &h->bitmap[1 + (c >> 5)];
    *word &= ~(1u << (c & 31));
    if (!*word)
        h->bitmap[0] &= ~(1u << (c >> 5));
}

/* Unlinks free block `b` from the list of class `c`, its own class. */
UMM_HOT void freelist_unlink(const struct umm_h *restrict h, uint32_t b, unsigned c)
{
    uint32_t next = blk_get(h, b, BLK_NFREE);
    uint32_t prev = blk_get(h, b, BLK_PFREE);
    if (next)
        blk_set(h, next, BLK_PFREE, prev);
    if (prev)
        blk_set(h, prev, BLK_NFREE, next);
    else {
        bin_set(h, c, next);
        if (!next)
            bitmap_clear(h, c);
    }
}

/*
 * Unlinks `b`, the head of class `c`'s list, whose successor is `next`;
 * and `b`, the second block of a list, after `head`.  Speed builds skip
 * what the place makes known; -Os builds share the general unlink.
 */
UMM_HOT void freelist_unlink_head(const struct umm_h *restrict h, uint32_t b, uint32_t next, unsigned c)
{
#if defined(__OPTIMIZE_SIZE__)
    (void)next;
    freelist_unlink(h, b, c);
#else
    (void)b;
    bin_set(h, c, next);
    if (next)
        blk_set(h, next, BLK_PFREE, 0);
    else
        bitmap_clear(h, c);
#endif
}
UMM_HOT void freelist_unlink_second(const struct umm_h *restrict h, uint32_t head, uint32_t b, unsigned c)
{
#if defined(__OPTIMIZE_SIZE__)
    (void)head;
    freelist_unlink(h, b, c);
#else
    (void)c;
    uint32_t next = blk_get(h, b, BLK_NFREE);
    blk_set(h, head, BLK_NFREE, next);
    if (next)
        blk_set(h, next, BLK_PFREE, head);
#endif
}

UMM_HOT void freelist_remove(const struct umm_h *restrict h, uint32_t b, uint32_t units)
{
    freelist_unlink(h, b, umm_class_of(units));
    instr_free_removed(h, units);
}

/* First class at or above `c` whose list is not empty, or UMM_NONE. */
UMM_HOT unsigned class_find_nonempty(const struct umm_h *restrict h, unsigned c)
{
    unsigned word = c >> 5;
    unsigned words = ((unsigned)h->ctl->class_count + 31u) >> 5;
    if (word >= words)
        return UMM_NONE;
    uint32_t bits = h->bitmap[1 + word] & (~0u << (c & 31));
    if (!bits) {
        uint32_t summary = h->bitmap[0] & ~((2u << word) - 1u);
        if (!summary)
            return UMM_NONE;
        word = umm_ctz(summary);
        bits = h->bitmap[1 + word];
    }
    return (word << 5) + umm_ctz(bits);
}

/* ---- block surgery --------------------------------------------------------- */

/* Links a block of `units` at `b`, between `prev` and the block at b+units. */
UMM_HOT void block_link(const struct umm_h *restrict h, uint32_t b, uint32_t units, uint32_t prev,
                       uint32_t flag)
{
    uint32_t next = b + units;
    blk_set(h, b, BLK_NEXT, next | flag);
    blk_set(h, b, BLK_PREV, prev);
    blk_set(h, next, BLK_PREV, b);
}

/*
 * Shrinks used block `b` to `units`, freeing the rest when it can stand as a
 * block of its own; the freed tail merges with a free successor, since free
 * blocks are never adjacent.
 */
UMM_HOT void block_trim(const struct umm_h *restrict h, uint32_t b, uint32_t units)
{
    uint32_t end = blk_next(h, b);
    uint32_t tail = b + units;
    if (end - tail < umm_min_units(h))
        return;
    uint32_t freed_end = end;
    int merged = blk_is_free(h, end);
    if (merged) {
        uint32_t end_units = blk_units(h, end);
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
UMM_HOT uint32_t block_take(const struct umm_h *restrict h, uint32_t b, uint32_t have, uint32_t units, int top)
{
    uint32_t rest = have - units;
    if (rest < umm_min_units(h)) {
        blk_set(h, b, BLK_NEXT, b + have);
        return b;
    }
    if (top) {
        uint32_t used = b + rest;
        blk_set(h, b, BLK_NEXT, used | umm_free_flag(h));
        block_link(h, used, units, b, 0);
        freelist_insert(h, b, rest);
        return used;
    }
    uint32_t tail = b + units;
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
UMM_HOT uint32_t first2_unlink(const struct umm_h *restrict h, uint32_t b, unsigned c, uint32_t *have)
{
    uint32_t second = blk_get(h, b, BLK_NFREE);
    *have = blk_units(h, b);
    if (second) {
        uint32_t second_units = blk_units(h, second);
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
 * the search for a class that fits starts at the exact one.
 */
UMM_HOT uint32_t fit_unlink_core(const struct umm_h *restrict h, uint32_t units, uint32_t *have)
{
    uint32_t candidate;
#if defined(UMM_BEST_FIT)
    /*
     * Above, look for the closest fit in the request's own class (its
     * blocks are within 1/8 of the request) before settling for a block of
     * a larger class.
     */
    if (units >= UMM_FMT_LINEAR_CLASSES) {
        unsigned own = umm_class_of(units);
        uint32_t best = 0, best_units = UMM_NONE;
        candidate = own < h->ctl->class_count ? bin_get(h, own) : 0;
        for (unsigned seen = 0; candidate && seen < UMM_FIT_SCAN_LIMIT; seen++) {
            uint32_t size = blk_units(h, candidate);
            if (size >= units && size < best_units) {
                best = candidate;
                best_units = size;
                /* Too little left over to split off is as good as exact. */
                if (size - units < umm_min_units(h))
                    break;
            }
            candidate = blk_get(h, candidate, BLK_NFREE);
        }
        if (best) {
            freelist_unlink(h, best, own);
            *have = best_units;
            return best;
        }
    }
#endif
    unsigned c = class_find_nonempty(h, umm_fit_class_of(units));
    if (c != UMM_NONE)
        return first2_unlink(h, bin_get(h, c), c, have);
#if defined(UMM_FIRST_FIT)
    /* Only blocks of the request's own class are left that might fit. */
    unsigned own = umm_class_of(units);
    if (own < h->ctl->class_count) {
        candidate = bin_get(h, own);
        for (unsigned seen = 0; candidate && seen < UMM_FIT_SCAN_LIMIT; seen++) {
            if (blk_units(h, candidate) >= units) {
                freelist_unlink(h, candidate, own);
                *have = blk_units(h, candidate);
                return candidate;
            }
            candidate = blk_get(h, candidate, BLK_NFREE);
        }
    }
#endif
    return 0;
}

/*
 * Block of at least `units`, taken and trimmed; 0 when none fits.  With
 * `top` (a large malloc, UMM_TOP_BYTES) the block is the top of the free
 * block found instead of its bottom: large and small blocks then gather at
 * opposite ends of the free space, and freeing a large block more often
 * leaves a hole that fits the next large one rather than one that small
 * blocks placed since have split.
 */
UMM_HOT uint32_t alloc_units_core(const struct umm_h *restrict h, uint32_t units, int top)
{
#if !defined(__OPTIMIZE_SIZE__)
    /*
     * The common case without the class search: an exact class that is not
     * empty.  The block it takes is the one fit_unlink_core would: of the
     * first two, the lower in memory.  -Os builds leave it to that.
     */
    if (units < UMM_FMT_LINEAR_CLASSES && units < h->ctl->class_count) {
        uint32_t candidate = bin_get(h, units);
        if (candidate) {
            uint32_t second = blk_get(h, candidate, BLK_NFREE);
            if (second && second < candidate) {
                freelist_unlink_second(h, candidate, second, units);
                candidate = second;
            } else
                freelist_unlink_head(h, candidate, second, units);
            instr_free_removed(h, units);
            blk_set(h, candidate, BLK_NEXT, candidate + units);
            return candidate;
        }
    }
#endif
    uint32_t have;
    uint32_t b = fit_unlink_core(h, units, &have);
    if (!b)
        return 0;
    instr_free_removed(h, have);
    return block_take(h, b, have, units, top);
}

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
UMM_HOT uint32_t units_for_small_size(const struct umm_h *restrict h, size_t size)
{
    size_t bytes = size + umm_hdr_bytes(h) + umm_prefix(h) + umm_suffix(h);
    uint32_t units = (uint32_t)((bytes + 7u) >> 3);
    return units < umm_min_units(h) ? umm_min_units(h) : units;
}
UMM_HOT uint32_t units_for_size(const struct umm_h *restrict h, size_t size)
{
    if (size > UMM_REQUEST_MAX)
        return 0;
    return units_for_small_size(h, size);
}

/* Frees used block `b`, merging with free neighbours. */
UMM_HOT void block_free_core(const struct umm_h *restrict h, uint32_t b)
{
    uint32_t freed = b;
    uint32_t next = blk_next(h, b);
    uint32_t freed_end = next;
    int merged_next = blk_is_free(h, next);
    if (merged_next) {
        uint32_t next_units = blk_units(h, next);
        freelist_remove(h, next, next_units);
        next += next_units;
        blk_set(h, next, BLK_PREV, b);
    }
    uint32_t prev = blk_get(h, b, BLK_PREV);
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

/* ---- pointers ---------------------------------------------------------------- */

/*
 * Block index for user pointer `p`, or 0 unless `p` is exactly the user
 * pointer of a used block whose successor links back to it.  Unsigned
 * offset arithmetic folds "below the heap" into "past the end".
 */
UMM_HOT uint32_t block_of_user_ptr(const struct umm_h *restrict h, const void *p)
{
    size_t offset = (size_t)((uintptr_t)p - (uintptr_t)h->blocks - umm_hdr_bytes(h) - umm_prefix(h));
    uint32_t n = h->ctl->unit_count;
    /* One compare for blocks 1..n-2: offset 0 (the head sentinel) wraps. */
    if ((offset & 7u) || offset - 8u >= ((size_t)(n - 2u) << 3))
        return 0;
    uint32_t b = (uint32_t)(offset >> 3);
    uint32_t next = blk_get(h, b, BLK_NEXT);
    /* b < next <= n-1 in one compare; the free flag lies above every index,
     * so a free block (a double free) fails it too. */
    if (next - b - 1u >= n - 1u - b || blk_get(h, next, BLK_PREV) != b)
        return 0;
    return b;
}

uint32_t umm_block_of_ptr_core(const struct umm_h *restrict h, const void *p)
{
    return block_of_user_ptr(h, p);
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

static void *user_ptr(const struct umm_h *restrict h, uint32_t b)
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
    for (unsigned n = 0; *link && n < UMM_FMT_MAX_HEAPS; n++) {
        struct umm_ctl *cur = *link;
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

static void heap_layout_core(umm_heap *heap, uint8_t *region, size_t size)
{
    uintptr_t start = ((uintptr_t)region + 7u) & ~(uintptr_t)7u;
    /* Record and index at most 4 GiB - 1 of any region. */
    uint64_t usable = size;
    if (usable > 0xFFFFFFFFu)
        usable = 0xFFFFFFFFu;
    uintptr_t end = (uintptr_t)region + (uintptr_t)usable;
    registry_unlink(heap->ctl, region, region + usable);
    heap->ctl = NULL;
    for (unsigned wide = 0; wide < 2; wide++) {
        unsigned hdr = wide ? 8u : 4u;
        uintptr_t at = start + sizeof(struct umm_ctl);
        uintptr_t bitmap = (at + 3u) & ~(uintptr_t)3u;
        /* Size the lists for the most units this region could hold. */
        if (end <= bitmap)
            return;
        uint32_t most = (uint32_t)((end - bitmap) >> 3);
        uint32_t max_units = wide ? UMM_FMT_WIDE_MAX_UNITS : UMM_FMT_NARROW_MAX_UNITS;
        if (most > max_units) {
            if (!wide)
                continue;
            most = max_units;
        }
        if (most < 3u + 2u)
            return;
        unsigned classes = umm_class_of(most - 2u) + 1u;
        unsigned words = (classes + 31u) >> 5;
        uintptr_t bins = bitmap + 4u * (1u + words);
        at = bins + (uintptr_t)classes * (wide ? 4u : 2u);
        uintptr_t record = 0;
#if UMM_HAS_RECORD
        record = (at + 7u) & ~(uintptr_t)7u;
        at = record + sizeof(struct umm_record);
#endif
        /* The first data area (unit 0's) must be 8-aligned. */
        uintptr_t blocks = ((at + hdr + 7u) & ~(uintptr_t)7u) - hdr;
        if (end <= blocks)
            return;
        uint64_t units = (end - blocks) >> 3;
        if (units > max_units)
            units = max_units;
        if (units < 2u + (wide ? 2u : 1u) || blocks - start > 0xFFFFu)
            return;

        struct umm_ctl *ctl = (struct umm_ctl *)start;
        memset(ctl, 0, (size_t)(blocks - start));
        ctl->magic = UMM_FMT_MAGIC;
        ctl->version = UMM_FMT_VERSION;
        ctl->index_bytes = (uint8_t)(wide ? 4 : 2);
        ctl->unit_log2 = UMM_FMT_UNIT_LOG2;
        ctl->ptr_bytes = (uint8_t)sizeof(void *);
        ctl->flags = (uint16_t)umm_instr_flags();
        ctl->ctl_bytes = (uint16_t)(blocks - start);
        ctl->unit_count = (uint32_t)units;
        ctl->region_bytes = (uint32_t)usable;
        ctl->class_count = (uint8_t)umm_class_of((uint32_t)units - 2u) + 1u;
        ctl->sl_log2 = UMM_FMT_SL_LOG2;
        ctl->bitmap_off = (uint16_t)(bitmap - start);
        ctl->bins_off = (uint16_t)(bins - start);
        ctl->instr_off = (uint16_t)(record ? record - start : 0);
        ctl->prefix_bytes = (uint8_t)(UMM_HAS_PREFIX ? UMM_PFX_BYTES(sizeof(void *)) : 0);
        ctl->suffix_bytes = (uint8_t)(UMM_HAS_PREFIX ? UMM_SUFFIX_MIN : 0);
        ctl->self = ctl;
        ctl->region = region;

        struct umm_h h;
        umm_h_load(&h, ctl);
        uint32_t last = (uint32_t)units - 1u;
        blk_set(&h, 0, BLK_NEXT, 1);
        blk_set(&h, 0, BLK_PREV, 0);
        block_link(&h, 1, last - 1u, 0, umm_free_flag(&h));
        blk_set(&h, last, BLK_NEXT, 0);
        instr_init(&h);
        freelist_insert(&h, 1, last - 1u);
        instr_fill_free(&h, 1);

        ctl->next_heap = umm_heap_list;
        umm_heap_list = ctl;
        heap->ctl = ctl;
        return;
    }
}

void umm_multi_init_heap(umm_heap *heap, void *ptr, size_t size)
{
    UMM_CRITICAL_DECL(init);
    UMM_CRITICAL_ENTRY(init);
    heap->pheap = ptr;
    heap->heap_size = size;
    heap_layout_core(heap, (uint8_t *)ptr, size);
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

/*
 * Loads `h` for `heap`, initialising it first when the build allows; 0 when
 * the heap cannot be used.
 */
UMM_HOT int heap_ready_core(umm_heap *heap, struct umm_h *h)
{
    if (__builtin_expect(!heap->ctl, 0)) {
#if defined(UMM_HANG_IF_UNINITIALIZED)
        for (;;) {
        }
#elif UMM_INIT_IF_UNINITIALIZED
        if (!heap->pheap)
            return 0;
        heap_layout_core(heap, (uint8_t *)heap->pheap, heap->heap_size);
        if (!heap->ctl)
            return 0;
#else
        return 0;
#endif
    }
    umm_h_load(h, heap->ctl);
    return 1;
}

/* ---- the operations ------------------------------------------------------------ */

UMM_HOT void *malloc_core(const struct umm_h *restrict h, size_t size, uintptr_t owner)
{
    uint32_t b;
    /* One compare sets the rare sizes aside: 0 (wraps), large, too large. */
    if (__builtin_expect(size - 1u < UMM_TOP_BYTES - 1u, 1))
        b = alloc_units_core(h, units_for_small_size(h, size), 0);
    else {
        if (size == 0)
            return NULL;
        uint32_t units = units_for_size(h, size);
        b = units ? alloc_units_core(h, units, 1) : 0;
    }
    if (!b) {
        instr_oom(h);
        return NULL;
    }
    instr_allocated(h, b, size, owner, UMM_NEW_FILL_BYTE);
    return user_ptr(h, b);
}

/* The block `ptr` names in `h`, or 0 after reporting why it is refused. */
UMM_HOT uint32_t block_for_free_core(const struct umm_h *restrict h, void *ptr, unsigned op)
{
    uint32_t b = block_of_user_ptr(h, ptr);
    if (__builtin_expect(!b, 0))
        instr_bad_pointer(h, ptr, op);
    return b;
}

UMM_HOT void free_core(const struct umm_h *restrict h, void *ptr)
{
    uint32_t b = block_for_free_core(h, ptr, UMM_OP_FREE);
    if (!b || !instr_release(h, b, UMM_OP_FREE))
        return;
    block_free_core(h, b);
}

UMM_HOT void *realloc_core(const struct umm_h *restrict h, void *ptr, size_t size, uintptr_t owner)
{
    if (!ptr)
        return malloc_core(h, size, owner);
    uint32_t b = block_for_free_core(h, ptr, UMM_OP_REALLOC);
    if (!b)
        return NULL;
    if (size == 0) {
        if (instr_release(h, b, UMM_OP_REALLOC))
            block_free_core(h, b);
        return NULL;
    }
    uint32_t units = units_for_size(h, size);
    if (!units) {
        instr_oom(h);
        return NULL;
    }
    if (!instr_resize_begin(h, b))
        return NULL;
    uint32_t have = blk_units(h, b);
    uint32_t next = b + have;
    uint32_t next_units;
    uint32_t prev;
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
        size_t keep = instr_kept_bytes(h, b, size);
        uint32_t fresh = alloc_units_core(h, units, 0);
        if (!fresh) {
            instr_oom(h);
            return NULL;
        }
        memcpy(blk_data(h, fresh), blk_data(h, b), umm_prefix(h) + keep);
        instr_resized(h, fresh, size);
        block_free_core(h, b);
        return user_ptr(h, fresh);
    }
slide:;
    size_t keep = instr_kept_bytes(h, b, size);
    uint32_t end = next + next_units;
    freelist_remove(h, prev, b - prev);
    if (next_units)
        freelist_remove(h, next, next_units);
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
    uint32_t units = units_for_size(h, size);
    uint32_t step = (uint32_t)(align >> 3);
    /* A lead-in gap must be able to stand as a free block: at worst one
     * alignment step short of a whole one, plus a step when blocks are wider
     * than a unit. */
    uint32_t slack = step - 1u + (umm_min_units(h) > 1u ? step : 0u);
    uint32_t have;
    uint32_t b = units ? fit_unlink_core(h, units + slack, &have) : 0;
    if (!b) {
        instr_oom(h);
        return NULL;
    }
    instr_free_removed(h, have);
    /* Carved in place: [free gap][units used][free rest], each part that
     * can stand as a block of its own; b's neighbours are used. */
    uint32_t end = b + have;
    uintptr_t user = (uintptr_t)user_ptr(h, b);
    uint32_t gap = (uint32_t)(((align - (user & (align - 1u))) & (align - 1u)) >> 3);
    if (gap && gap < umm_min_units(h))
        gap += step;
    if (gap) {
        blk_set(h, b, BLK_NEXT, (b + gap) | umm_free_flag(h));
        blk_set(h, b + gap, BLK_PREV, b);
        blk_set(h, end, BLK_PREV, b + gap);
        freelist_insert(h, b, gap);
        instr_fill_free(h, b);
        b += gap;
    }
    block_take(h, b, end - b, units, 0);
    instr_allocated(h, b, size, owner, UMM_NEW_FILL_BYTE);
    return user_ptr(h, b);
}

static size_t usable_size_core(const struct umm_h *restrict h, void *ptr)
{
    uint32_t b = block_of_user_ptr(h, ptr);
    if (!b)
        return 0;
    return instr_usable_bytes(h, b);
}

/* ---- public API: the lock, readiness and argument checks only -------------------- */

#define UMM_CALLER() ((uintptr_t)__builtin_return_address(0))

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner);
void *umm_multi_realloc_owned(umm_heap *heap, void *ptr, size_t size, uintptr_t owner);
void *umm_multi_memalign_owned(umm_heap *heap, size_t align, size_t size, uintptr_t owner);
void *umm_multi_calloc_owned(umm_heap *heap, size_t num, size_t size, uintptr_t owner);

UMM_HOT void *malloc_entry(umm_heap *heap, size_t size, uintptr_t owner)
{
    struct umm_h h;
    void *p = NULL;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (heap_ready_core(heap, &h)) {
        UMM_BY_WIDTH(h, p = malloc_core(&h, size, owner));
        instr_after_op(&h, UMM_OP_MALLOC);
    }
    UMM_CRITICAL_EXIT(op);
    return p;
}

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner)
{
    return malloc_entry(heap, size, owner);
}

UMM_HOT void *calloc_entry(umm_heap *heap, size_t num, size_t size, uintptr_t owner)
{
    size_t bytes;
    if (__builtin_mul_overflow(num, size, &bytes))
        return NULL;
    struct umm_h h;
    void *p = NULL;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (heap_ready_core(heap, &h)) {
        UMM_BY_WIDTH(h, p = malloc_core(&h, bytes, owner));
        if (p)
            memset(p, 0, bytes);
        instr_after_op(&h, UMM_OP_MALLOC);
    }
    UMM_CRITICAL_EXIT(op);
    return p;
}

void *umm_multi_calloc_owned(umm_heap *heap, size_t num, size_t size, uintptr_t owner)
{
    return calloc_entry(heap, num, size, owner);
}

UMM_HOT void *realloc_entry(umm_heap *heap, void *ptr, size_t size, uintptr_t owner)
{
    struct umm_h h;
    void *p = NULL;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (heap_ready_core(heap, &h)) {
        UMM_BY_WIDTH(h, p = realloc_core(&h, ptr, size, owner));
        instr_after_op(&h, UMM_OP_REALLOC);
    }
    UMM_CRITICAL_EXIT(op);
    return p;
}

void *umm_multi_realloc_owned(umm_heap *heap, void *ptr, size_t size, uintptr_t owner)
{
    return realloc_entry(heap, ptr, size, owner);
}

UMM_HOT void *memalign_entry(umm_heap *heap, size_t align, size_t size, uintptr_t owner)
{
    struct umm_h h;
    void *p = NULL;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (heap_ready_core(heap, &h)) {
        UMM_BY_WIDTH(h, p = memalign_core(&h, align, size, owner));
        instr_after_op(&h, UMM_OP_MEMALIGN);
    }
    UMM_CRITICAL_EXIT(op);
    return p;
}

void *umm_multi_memalign_owned(umm_heap *heap, size_t align, size_t size, uintptr_t owner)
{
    return memalign_entry(heap, align, size, owner);
}

UMM_HOT void free_entry(umm_heap *heap, void *ptr)
{
    struct umm_h h;
    if (!ptr)
        return;
    UMM_CRITICAL_DECL(op);
    UMM_CRITICAL_ENTRY(op);
    if (heap_ready_core(heap, &h)) {
        UMM_BY_WIDTH(h, free_core(&h, ptr));
        instr_after_op(&h, UMM_OP_FREE);
    }
    UMM_CRITICAL_EXIT(op);
}

void umm_multi_free(umm_heap *heap, void *ptr)
{
    free_entry(heap, ptr);
}

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
size_t umm_usable_size(void *ptr)
{
    return umm_multi_usable_size(&umm_heap_default, ptr);
}
