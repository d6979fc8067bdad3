/*
 * umm_instr.c - the instrumented build: inline counters, per-allocation
 * prefix (requested size, sequence number, owner) with canaries, fill
 * patterns, read-only checks, fault records and the heap report.
 *
 * Everything is kept in band (FORMAT.md sections 5 and 6), so a RAM dump
 * shows what the firmware knew.  Checks never write to the heap except
 * the record's fault fields and the incremental cursor.
 */
#include <string.h>

#include "umm_diag.h"
#include "umm_heap.h"
#include "umm_instr.h"
#include "umm_port.h"

#if UMM_HAS_RECORD

static umm_corruption_hook_fn corruption_hook;


unsigned umm_instr_flags(void)
{
    unsigned flags = 0;
#if defined(UMM_INLINE_METRICS)
    flags |= UMM_FLAG_METRICS;
#endif
#if defined(UMM_POISON_CHECK)
    flags |= UMM_FLAG_POISON | UMM_FLAG_FILL;
#endif
#if defined(UMM_OWNERS)
    flags |= UMM_FLAG_OWNERS;
#endif
#if defined(UMM_BEST_FIT)
    flags |= UMM_FLAG_BEST_FIT;
#endif
#if defined(UMM_CHECK_EVERY_OP)
    flags |= UMM_FLAG_INTEGRITY;
#endif
    return flags;
}

static int has_fill(const struct umm_h *restrict h) { return (h->ctl->flags & UMM_FLAG_FILL) != 0; }

/* ---- prefix access (FORMAT.md section 5) ---------------------------------- */

/* Heap bytes at any alignment, read as a word. */
static uint32_t load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t pfx_requested(const struct umm_h *restrict h, umm_idx b)
{
    return load32(blk_data(h, b) + UMM_PFX_REQUESTED);
}
static uint32_t pfx_seq(const struct umm_h *restrict h, umm_idx b)
{
    return load32(blk_data(h, b) + UMM_PFX_SEQ);
}
static uintptr_t pfx_owner(const struct umm_h *restrict h, umm_idx b)
{
    uintptr_t v;
    memcpy(&v, blk_data(h, b) + UMM_PFX_OWNER, sizeof v);
    return v;
}

/* ---- faults ------------------------------------------------------------------ */

static void fault_report(const struct umm_h *restrict h, unsigned kind, unsigned op, umm_idx block,
                         uintptr_t address, umm_idx expected, umm_idx found)
{
    struct umm_record *r = rec(h);
    struct umm_fault fault;
    memset(&fault, 0, sizeof fault);
    fault.kind = kind;
    fault.op = op;
    fault.ctl = h->ctl;
    fault.block = (uint32_t)block;
    fault.address = address;
    fault.expected = (uint32_t)expected;
    fault.found = (uint32_t)found;
    /* Owner and sequence only from a block whose header still reads as used. */
    if (umm_prefix(h) && block && block < h->ctl->unit_count - 1u && !blk_is_free(h, block) &&
        blk_next(h, block) > block && blk_next(h, block) < h->ctl->unit_count) {
        fault.owner = pfx_owner(h, block);
        fault.seq = pfx_seq(h, block);
    }
    if (kind >= UMM_FAULT_DOUBLE_FREE && kind <= UMM_FAULT_WRONG_HEAP)
        r->bad_free_count++;
    else
        r->corruption_count++;
    r->fault_kind = kind;
    r->fault_op = op;
    r->fault_block = (uint32_t)block;
    r->fault_expected = (uint32_t)expected;
    r->fault_found = (uint32_t)found;
    r->fault_seq = fault.seq;
    r->fault_address = address;
    r->fault_owner = fault.owner;
    if (corruption_hook)
        corruption_hook(&fault);
}

void umm_set_corruption_hook(umm_corruption_hook_fn hook) { corruption_hook = hook; }

bool umm_multi_last_fault(umm_heap *heap, struct umm_fault *out)
{
    if (!heap->ctl)
        return false;
    struct umm_h h;
    umm_h_load(&h, heap->ctl);
    const struct umm_record *r = rec(&h);
    if (!r->fault_kind)
        return false;
    memset(out, 0, sizeof *out);
    out->kind = r->fault_kind;
    out->op = r->fault_op;
    out->ctl = heap->ctl;
    out->block = r->fault_block;
    out->address = r->fault_address;
    out->expected = r->fault_expected;
    out->found = r->fault_found;
    out->owner = r->fault_owner;
    out->seq = r->fault_seq;
    return true;
}

/* First byte in [p, p+n) that is not `want`, or NULL.  Only a fault
 * report asks, after a fast check failed, so a byte loop will do. */
static const uint8_t *first_not(const uint8_t *p, size_t n, uint8_t want)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != want)
            return p + i;
    return NULL;
}

/*
 * Whether all `n` (at least 4) bytes at `p` are `byte`.  Canaries are 4 to
 * 11 bytes long unless a shrink in place left more: two overlapping word
 * loads, their differences or-ed so that an intact span takes no branch.
 */
static inline int span_is(const uint8_t *p, size_t n, uint8_t byte)
{
    uint64_t want = byte * 0x0101010101010101u;
    if (n < 8)
        return ((load32(p) ^ (uint32_t)want) | (load32(p + n - 4) ^ (uint32_t)want)) == 0;
    uint64_t diff = load64(p + n - 8) ^ want;
    for (size_t i = 0; i + 8 < n; i += 8)
        diff |= load64(p + i) ^ want;
    return diff == 0;
}

/* Sets the `n` (at least 4) bytes at `p` to `byte`, as span_is reads them. */
static void span_set(uint8_t *p, size_t n, uint8_t byte)
{
    uint64_t word = byte * 0x0101010101010101u;
    if (n < 8) {
        memcpy(p, &word, 4);
        memcpy(p + n - 4, &word, 4);
        return;
    }
    for (size_t i = 0; i + 8 < n; i += 8)
        memcpy(p + i, &word, 8);
    memcpy(p + n - 8, &word, 8);
}

/*
 * Whether the `n` bytes at `p` all hold the free fill: compared against a
 * constant copy, as libc's memcmp does it far quicker than a loop of ours.
 * The copy is as long as an allocation's check (both windows), so that
 * check is one call.
 */
static int fill_is(const uint8_t *p, size_t n)
{
#define UMM_X8(v) v, v, v, v, v, v, v, v
#define UMM_X32(v) UMM_X8(v), UMM_X8(v), UMM_X8(v), UMM_X8(v)
    static const uint8_t free_pattern[128] = {UMM_X32(UMM_FREE_FILL_BYTE), UMM_X32(UMM_FREE_FILL_BYTE),
                                              UMM_X32(UMM_FREE_FILL_BYTE), UMM_X32(UMM_FREE_FILL_BYTE)};
#undef UMM_X32
#undef UMM_X8
    for (; n > sizeof free_pattern; p += sizeof free_pattern, n -= sizeof free_pattern)
        if (memcmp(p, free_pattern, sizeof free_pattern) != 0)
            return 0;
    return memcmp(p, free_pattern, n) == 0;
}

/* Bytes of block `b` past its header. */
static inline size_t block_bytes(const struct umm_h *restrict h, umm_idx b)
{
    return ((size_t)blk_units(h, b) << 3) - umm_hdr_bytes(h);
}

/* Reports what canaries_check found damaged in used block `b` (`capacity`
 * bytes past its header at `data`) and returns 0. */
static __attribute__((noinline, cold)) int canaries_fault(const struct umm_h *restrict h, umm_idx b, unsigned op,
                                                          const uint8_t *data, size_t capacity)
{
    unsigned prefix = umm_prefix(h);
    unsigned pre_at = UMM_PFX_OWNER + (unsigned)sizeof(uintptr_t);
    uint32_t requested = load32(data + UMM_PFX_REQUESTED);
    const uint8_t *bad = first_not(data + pre_at, prefix - pre_at, UMM_CANARY_BYTE);
    if (bad)
        fault_report(h, UMM_FAULT_UNDERRUN, op, b, (uintptr_t)bad, UMM_CANARY_BYTE, *bad);
    else if ((size_t)requested + prefix + UMM_SUFFIX_MIN > capacity)
        /* The size field itself was overwritten: an underrun reached it. */
        fault_report(h, UMM_FAULT_UNDERRUN, op, b, (uintptr_t)(data + UMM_PFX_REQUESTED),
                     (uint32_t)(capacity - prefix - UMM_SUFFIX_MIN), requested);
    else if ((bad = first_not(data + prefix + requested, capacity - prefix - requested, UMM_CANARY_BYTE)) != NULL)
        fault_report(h, UMM_FAULT_OVERRUN, op, b, (uintptr_t)bad, UMM_CANARY_BYTE, *bad);
    else
        return 1; /* read the same bytes as the check: only a write racing the lock gets here */
    return 0;
}

/* Checks the canaries of used block `b`; reports and returns 0 on damage.
 * All intact, the common case, is a few word compares. */
static inline int canaries_check(const struct umm_h *restrict h, umm_idx b, unsigned op)
{
    unsigned prefix = umm_prefix(h);
    if (!prefix)
        return 1;
    uint8_t *data = blk_data(h, b);
    size_t capacity = block_bytes(h, b);
    unsigned pre_at = UMM_PFX_OWNER + (unsigned)sizeof(uintptr_t);
    uint32_t requested = load32(data + UMM_PFX_REQUESTED);
    if (span_is(data + pre_at, prefix - pre_at, UMM_CANARY_BYTE) &&
        (size_t)requested + prefix + UMM_SUFFIX_MIN <= capacity &&
        span_is(data + prefix + requested, capacity - prefix - requested, UMM_CANARY_BYTE))
        return 1;
    return canaries_fault(h, b, op, data, capacity);
}

/* Reports the first changed byte of free block `b`'s fill, reading all of
 * it (fill_check may have read only its ends), and returns 0. */
static __attribute__((noinline, cold)) int fill_fault(const struct umm_h *restrict h, umm_idx b, unsigned op)
{
    size_t links = 2u * h->ctl->index_bytes;
    const uint8_t *start = blk_data(h, b) + links;
    const uint8_t *bad = first_not(start, block_bytes(h, b) - links, UMM_FREE_FILL_BYTE);
    if (!bad)
        return 1; /* read the same bytes as the check: only a write racing the lock gets here */
    fault_report(h, UMM_FAULT_USE_AFTER_FREE, op, b, (uintptr_t)bad, UMM_FREE_FILL_BYTE, *bad);
    return 0;
}

/*
 * Checks the fill of free block `b` (`bytes` past its header at `data`)
 * beyond its links.  With `window` non-zero only that many bytes at each
 * end are read: what an allocation can afford on every call.  Writes
 * through a stale pointer land mostly in the first fields of the old
 * object; the full checks read every byte.
 */
static inline int fill_check(const struct umm_h *restrict h, umm_idx b, const uint8_t *data, size_t bytes,
                             unsigned op, size_t window)
{
    if (!has_fill(h))
        return 1;
    size_t links = 2u * h->ctl->index_bytes;
    const uint8_t *start = data + links;
    bytes -= links;
    if (window && bytes > 2 * window ? fill_is(start, window) && fill_is(start + bytes - window, window)
                                     : fill_is(start, bytes))
        return 1;
    return fill_fault(h, b, op);
}

/* fill_check of free block `b`, measured here. */
static int block_fill_check(const struct umm_h *restrict h, umm_idx b, unsigned op, size_t window)
{
    return fill_check(h, b, blk_data(h, b), block_bytes(h, b), op, window);
}

/* ---- hooks called by the core ---------------------------------------------------- */

void instr_on_init(const struct umm_h *restrict h)
{
    struct umm_record *r = rec(h);
    r->seq_next = 1;
    r->min_free_units = UMM_NONE;
}



void instr_on_fill_free(const struct umm_h *restrict h, umm_idx b)
{
    if (!has_fill(h))
        return;
    size_t links = 2u * h->ctl->index_bytes;
    size_t bytes = ((size_t)blk_units(h, b) << 3) - umm_hdr_bytes(h);
    memset(blk_data(h, b) + links, UMM_FREE_FILL_BYTE, bytes - links);
}

/*
 * Fills units [from, to) of free block `head`, skipping its header and
 * links: what a free or trim newly adds to a free block.  The rest of a
 * merged block kept its fill, so freeing costs what was freed, not the
 * size of the free block it joins.
 */
void instr_on_fill_span(const struct umm_h *restrict h, umm_idx head, umm_idx from, umm_idx to)
{
    if (!has_fill(h))
        return;
    uint8_t *lo = h->blocks + ((size_t)from << 3);
    uint8_t *links_end = blk_data(h, head) + 2u * h->ctl->index_bytes;
    uint8_t *hi = h->blocks + ((size_t)to << 3);
    if (lo < links_end)
        lo = links_end;
    if (hi > lo)
        memset(lo, UMM_FREE_FILL_BYTE, (size_t)(hi - lo));
}

/* Writes the requested size and the post-canary for `size` user bytes of
 * the used block whose `capacity` bytes past the header start at `data`. */
static void prefix_write_size(uint8_t *data, size_t capacity, unsigned prefix, size_t size)
{
    uint32_t requested = (uint32_t)size;
    memcpy(data + UMM_PFX_REQUESTED, &requested, 4);
    span_set(data + prefix + size, capacity - prefix - size, UMM_CANARY_BYTE);
}

/* Used block `b` has grown at its end without a resize (a memalign's
 * lead-in gap joined it): its post-canary reaches the new end. */
void instr_on_grew_in_place(const struct umm_h *restrict h, umm_idx b)
{
    if (umm_prefix(h))
        prefix_write_size(blk_data(h, b), block_bytes(h, b), umm_prefix(h), pfx_requested(h, b));
}

void instr_on_allocated(const struct umm_h *restrict h, umm_idx b, size_t size, uintptr_t owner, uint8_t fill)
{
    struct umm_record *r = rec(h);
    uint8_t *data = blk_data(h, b);
    size_t capacity = block_bytes(h, b);
    /* The block came off a free list: its fill must be as free() left it. */
    fill_check(h, b, data, capacity, UMM_OP_MALLOC, UMM_FILL_CHECK_WINDOW);
    r->alloc_count++;
    r->used_blocks++;
    unsigned prefix = umm_prefix(h);
    if (!prefix)
        return;
    uint32_t seq = 0;
#if defined(UMM_OWNERS)
    seq = r->seq_next++;
#else
    owner = 0;
#endif
    memcpy(data + UMM_PFX_SEQ, &seq, 4);
    memcpy(data + UMM_PFX_OWNER, &owner, sizeof owner);
    unsigned pre_at = UMM_PFX_OWNER + (unsigned)sizeof(uintptr_t);
    span_set(data + pre_at, prefix - pre_at, UMM_CANARY_BYTE);
    if (has_fill(h))
        memset(data + prefix, fill, size);
    prefix_write_size(data, capacity, prefix, size);
    r->requested_bytes += (uint32_t)size;
}

/* Finds what `ptr` is, for a free or realloc that the core refused. */
void instr_on_bad_pointer(const struct umm_h *restrict h, const void *ptr, unsigned op)
{
    const uint8_t *p = ptr;
    const uint8_t *first = h->blocks;
    const uint8_t *end = first + ((size_t)h->ctl->unit_count << 3);
    if (p < first || p >= end) {
        struct umm_ctl *owner_heap = umm_heap_of_ptr_core(ptr);
        fault_report(h, owner_heap ? UMM_FAULT_WRONG_HEAP : UMM_FAULT_FOREIGN_FREE, op, 0, (uintptr_t)ptr, 0, 0);
        return;
    }
    /* Only on this error path: walk to the block that holds `p`. */
    umm_idx b = 0, n = h->ctl->unit_count;
    for (uint32_t steps = 0; steps < n; steps++) {
        umm_idx next = blk_next(h, b);
        /* A broken chain on the way is the real news: name the block whose
         * header no longer fits its neighbours. */
        if (next <= b || next >= n) {
            fault_report(h, UMM_FAULT_HEADER, op, b, (uintptr_t)(h->blocks + ((size_t)b << 3)), 0, next);
            return;
        }
        if (blk_get(h, next, BLK_PREV) != b) {
            /* Either b's next or next's prev was overwritten: if `next`
             * still links forward like a real block, its prev is the
             * damage; otherwise b's next points into the middle of data. */
            umm_idx after = blk_next(h, next);
            umm_idx bad = after > next && after < n && blk_get(h, after, BLK_PREV) == next ? next : b;
            fault_report(h, UMM_FAULT_HEADER, op, bad, (uintptr_t)(h->blocks + ((size_t)bad << 3)), b,
                         blk_get(h, next, BLK_PREV));
            return;
        }
        if (p < h->blocks + ((size_t)next << 3)) {
            unsigned kind = blk_is_free(h, b) ? UMM_FAULT_DOUBLE_FREE : UMM_FAULT_INTERIOR_FREE;
            fault_report(h, kind, op, b, (uintptr_t)ptr, 0, 0);
            return;
        }
        b = next;
    }
    fault_report(h, UMM_FAULT_INTERIOR_FREE, op, 0, (uintptr_t)ptr, 0, 0);
}

int instr_on_release(const struct umm_h *restrict h, umm_idx b, unsigned op)
{
    struct umm_record *r = rec(h);
    /* A damaged canary is reported, but the header is sound, so the block
     * is still freed: keeping it would only leak on top of the damage. */
    canaries_check(h, b, op);
    r->free_count++;
    r->used_blocks--;
    if (umm_prefix(h))
        r->requested_bytes -= pfx_requested(h, b);
    return 1;
}

int instr_on_resize_begin(const struct umm_h *restrict h, umm_idx b)
{
    canaries_check(h, b, UMM_OP_REALLOC);
    return 1;
}

size_t instr_on_kept_bytes(const struct umm_h *restrict h, umm_idx b, umm_idx units, size_t size)
{
    size_t capacity = umm_units_capacity(h, units);
    size_t have = umm_prefix(h) ? pfx_requested(h, b) : capacity;
    if (have > capacity)
        have = capacity;
    return size < have ? size : have;
}

void instr_on_taking(const struct umm_h *restrict h, umm_idx b)
{
    block_fill_check(h, b, UMM_OP_REALLOC, UMM_FILL_CHECK_WINDOW);
}

void instr_on_resized(const struct umm_h *restrict h, umm_idx b, size_t size)
{
    struct umm_record *r = rec(h);
    r->realloc_count++;
    unsigned prefix = umm_prefix(h);
    if (!prefix)
        return;
    uint8_t *data = blk_data(h, b);
    uint32_t old = load32(data + UMM_PFX_REQUESTED);
    if (size > old && has_fill(h))
        memset(data + prefix + old, UMM_NEW_FILL_BYTE, size - old);
    prefix_write_size(data, block_bytes(h, b), prefix, size);
    r->requested_bytes += (uint32_t)size - old;
}

size_t instr_on_usable_bytes(const struct umm_h *restrict h, umm_idx b)
{
    /* Using more than was asked would overwrite the canary. */
    return umm_prefix(h) ? pfx_requested(h, b) : umm_capacity(h, b);
}

static int heap_check_core(const struct umm_h *restrict h, unsigned op, int poison_only);

void instr_on_check_after_op(const struct umm_h *restrict h, unsigned op)
{
    heap_check_core(h, op, 0);
}

/* ---- read-only checks (FORMAT.md section 7) ------------------------------------------ */

/* Local invariants of block `b` (not a sentinel) whose predecessor is `prev`. */
static int block_check(const struct umm_h *restrict h, umm_idx b, umm_idx prev, unsigned op)
{
    uint32_t n = h->ctl->unit_count;
    umm_idx next = blk_next(h, b);
    uintptr_t at = (uintptr_t)(h->blocks + ((size_t)b << 3));
    if (next <= b || next > n - 1u || next - b < umm_min_units(h)) {
        fault_report(h, UMM_FAULT_HEADER, op, b, at, 0, next);
        return 0;
    }
    if (blk_get(h, b, BLK_PREV) != prev) {
        fault_report(h, UMM_FAULT_HEADER, op, b, at + h->ctl->index_bytes, prev, blk_get(h, b, BLK_PREV));
        return 0;
    }
    if (!blk_is_free(h, b))
        return canaries_check(h, b, op);
    if (blk_is_free(h, prev) || blk_is_free(h, next)) {
        fault_report(h, UMM_FAULT_HEADER, op, b, at, 0, 0);
        return 0;
    }
    /* Membership of its class list, checked locally. */
    umm_idx nf = blk_get(h, b, BLK_NFREE), pf = blk_get(h, b, BLK_PFREE);
    umm_idx c = umm_class_of(next - b);
    int linked = pf ? (pf < n - 1u && blk_is_free(h, pf) && blk_get(h, pf, BLK_NFREE) == b)
                    : bin_get(h, c) == b;
    if (linked && nf)
        linked = nf < n - 1u && blk_is_free(h, nf) && blk_get(h, nf, BLK_PFREE) == b &&
                 umm_class_of(blk_units(h, nf)) == c;
    if (!linked) {
        fault_report(h, UMM_FAULT_FREELIST, op, b, (uintptr_t)blk_data(h, b), pf, nf);
        return 0;
    }
    return block_fill_check(h, b, op, 0);
}

/* Bins, bitmap and counters against a completed walk's totals. */
static int lists_check(const struct umm_h *restrict h, uint32_t free_blocks, uint32_t free_units,
                       uint32_t used_blocks, unsigned op)
{
    const struct umm_ctl *ctl = h->ctl;
    uint32_t listed = 0, summary = 0;
    for (unsigned c = 0; c < ctl->class_count; c++) {
        umm_idx head = bin_get(h, c);
        int bit = (umm_bitmap(h)[1 + (c >> 5)] >> (c & 31)) & 1;
        if (bit != (head != 0)) {
            fault_report(h, UMM_FAULT_FREELIST, op, head, (uintptr_t)&umm_bitmap(h)[1 + (c >> 5)], (uint32_t)(head != 0),
                         (uint32_t)bit);
            return 0;
        }
        if (head)
            summary |= 1u << (c >> 5);
        umm_idx prev = 0;
        for (umm_idx f = head; f; f = blk_get(h, f, BLK_NFREE)) {
            /* More members than free blocks means a loop or a stray link. */
            if (++listed > free_blocks || f >= ctl->unit_count - 1u || !blk_is_free(h, f) ||
                blk_get(h, f, BLK_PFREE) != prev || umm_class_of(blk_units(h, f)) != c) {
                fault_report(h, UMM_FAULT_FREELIST, op, f, (uintptr_t)(h->bins + c * ctl->index_bytes), prev, f);
                return 0;
            }
            prev = f;
        }
    }
    if (listed != free_blocks || umm_bitmap(h)[0] != summary) {
        fault_report(h, UMM_FAULT_FREELIST, op, 0, (uintptr_t)umm_bitmap(h), free_blocks, listed);
        return 0;
    }
    const struct umm_record *r = rec(h);
    if (r->free_blocks != free_blocks || r->free_units != free_units || r->used_blocks != used_blocks) {
        fault_report(h, UMM_FAULT_CONTROL, op, 0, (uintptr_t)r, free_units, r->free_units);
        return 0;
    }
    return 1;
}

static int control_check(const struct umm_h *restrict h, unsigned op)
{
    const struct umm_ctl *ctl = h->ctl;
    uint32_t n = ctl->unit_count;
    if (ctl->magic != UMM_FMT_MAGIC || ctl->version != UMM_FMT_VERSION || ctl->self != ctl ||
        blk_next(h, 0) == 0 || blk_is_free(h, 0) || blk_get(h, 0, BLK_PREV) != 0 ||
        blk_get(h, n - 1u, BLK_NEXT) != 0) {
        fault_report(h, UMM_FAULT_CONTROL, op, 0, (uintptr_t)ctl, 0, 0);
        return 0;
    }
    return 1;
}

/* The whole heap; with `poison_only`, only canaries and fill. */
static int heap_check_core(const struct umm_h *restrict h, unsigned op, int poison_only)
{
    if (!control_check(h, op))
        return 0;
    uint32_t n = h->ctl->unit_count;
    uint32_t free_blocks = 0, free_units = 0, used_blocks = 0;
    umm_idx prev = 0, b = blk_next(h, 0);
    /* Indices strictly increase, so this ends within n steps. */
    while (b != n - 1u) {
        if (b <= prev || b >= n) {
            fault_report(h, UMM_FAULT_HEADER, op, prev, (uintptr_t)(h->blocks + ((size_t)prev << 3)), 0, b);
            return 0;
        }
        if (poison_only) {
            if (blk_next(h, b) <= b || blk_next(h, b) >= n) {
                fault_report(h, UMM_FAULT_HEADER, op, b, (uintptr_t)(h->blocks + ((size_t)b << 3)), 0, blk_next(h, b));
                return 0;
            }
            if (!(blk_is_free(h, b) ? block_fill_check(h, b, op, 0) : canaries_check(h, b, op)))
                return 0;
        } else if (!block_check(h, b, prev, op))
            return 0;
        if (blk_is_free(h, b)) {
            free_blocks++;
            free_units += (uint32_t)blk_units(h, b);
        } else
            used_blocks++;
        prev = b;
        b = blk_next(h, b);
    }
    if (poison_only)
        return 1;
    if (blk_get(h, n - 1u, BLK_PREV) != prev) {
        fault_report(h, UMM_FAULT_HEADER, op, n - 1u, (uintptr_t)(h->blocks + ((size_t)(n - 1u) << 3)), prev,
                     blk_get(h, n - 1u, BLK_PREV));
        return 0;
    }
    return lists_check(h, free_blocks, free_units, used_blocks, op);
}

/* Runs `check` on `heap` inside the critical section. */
static bool heap_check_locked(umm_heap *heap, int poison_only)
{
    if (!heap->ctl)
        return false;
    bool ok;
    UMM_CRITICAL_DECL(check);
    UMM_CRITICAL_ENTRY(check);
    struct umm_h h;
    umm_h_load(&h, heap->ctl);
    ok = heap_check_core(&h, UMM_OP_CHECK, poison_only) != 0;
    UMM_CRITICAL_EXIT(check);
    return ok;
}

bool umm_multi_integrity_check(umm_heap *heap) { return heap_check_locked(heap, 0); }
bool umm_integrity_check(void) { return umm_multi_integrity_check(&umm_heap_default); }
bool umm_multi_poison_check(umm_heap *heap) { return heap_check_locked(heap, 1); }
bool umm_poison_check(void) { return umm_multi_poison_check(&umm_heap_default); }

bool umm_multi_integrity_step(umm_heap *heap, unsigned max_blocks)
{
    if (!heap->ctl)
        return false;
    bool ok = true;
    UMM_CRITICAL_DECL(check);
    UMM_CRITICAL_ENTRY(check);
    struct umm_h h;
    umm_h_load(&h, heap->ctl);
    struct umm_record *r = rec(&h);
    uint32_t n = h.ctl->unit_count;
    umm_idx b = r->check_cursor;
    /* The cursor may name a block that has since merged away: a block is
     * only resumed from if its neighbours still point at it. */
    if (b == 0 || b >= n - 1u || blk_next(&h, b) <= b || blk_next(&h, b) >= n ||
        blk_get(&h, blk_next(&h, b), BLK_PREV) != b || blk_get(&h, b, BLK_PREV) >= b ||
        blk_next(&h, blk_get(&h, b, BLK_PREV)) != b) {
        if (!control_check(&h, UMM_OP_CHECK))
            ok = false;
        b = blk_next(&h, 0);
    }
    for (unsigned k = 0; ok && k < max_blocks; k++) {
        if (b == n - 1u) {
            /* A pass is complete: the global invariants, in one bounded go. */
            ok = heap_check_core(&h, UMM_OP_CHECK, 0) != 0;
            b = blk_next(&h, 0);
            break;
        }
        if (!block_check(&h, b, blk_get(&h, b, BLK_PREV), UMM_OP_CHECK)) {
            ok = false;
            break;
        }
        b = blk_next(&h, b);
    }
    r->check_cursor = ok ? (uint32_t)b : 0;
    UMM_CRITICAL_EXIT(check);
    return ok;
}

/* ---- metrics ------------------------------------------------------------------------------ */

static uint32_t isqrt64(uint64_t x)
{
    uint64_t root = 0, bit = (uint64_t)1 << 62;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else
            root >>= 1;
        bit >>= 2;
    }
    return (uint32_t)root;
}

/* The largest free block in units: the top non-empty class, then its list. */
static uint32_t largest_free_units(const struct umm_h *restrict h)
{
    unsigned words = ((unsigned)h->ctl->class_count + 31u) >> 5;
    for (unsigned w = words; w-- > 0;) {
        uint32_t bits = umm_bitmap(h)[1 + w];
        if (!bits)
            continue;
        unsigned c = (w << 5) + umm_fls(bits);
        umm_idx best = 0;
        uint32_t seen = 0;
        for (umm_idx f = bin_get(h, c); f && seen < h->ctl->unit_count; f = blk_get(h, f, BLK_NFREE), seen++)
            if (blk_units(h, f) > best)
                best = blk_units(h, f);
        return (uint32_t)best;
    }
    return 0;
}

static bool info_core(const struct umm_h *restrict h, struct umm_heap_info *info)
{
    const struct umm_record *r = rec(h);
    size_t overhead = umm_hdr_bytes(h) + umm_prefix(h) + h->ctl->suffix_bytes;
    uint32_t largest = largest_free_units(h);
    memset(info, 0, sizeof *info);
    info->used_entries = r->used_blocks;
    info->free_entries = r->free_blocks;
    info->used_bytes = (size_t)r->used_units << 3;
    info->free_bytes = (size_t)r->free_units << 3;
    info->largest_free_bytes = (size_t)largest << 3;
    info->largest_alloc_bytes = info->largest_free_bytes > overhead ? info->largest_free_bytes - overhead : 0;
    info->requested_bytes = r->requested_bytes;
    info->min_free_bytes = (size_t)(r->min_free_units == UMM_NONE ? r->free_units : r->min_free_units) << 3;
    info->peak_used_bytes = (size_t)r->peak_used_units << 3;
    info->usage_metric = r->free_units ? (int)((uint64_t)r->used_units * 100u / r->free_units) : -1;
    info->fragmentation_metric =
        r->free_units ? 100 - (int)((uint64_t)isqrt64(r->free_sq_sum) * 100u / r->free_units) : 0;
    info->largest_free_ratio_metric = r->free_units ? 100 - (int)((uint64_t)largest * 100u / r->free_units) : 0;
    info->alloc_count = r->alloc_count;
    info->free_count = r->free_count;
    info->realloc_count = r->realloc_count;
    info->oom_count = r->oom_count;
    info->bad_free_count = r->bad_free_count;
    info->corruption_count = r->corruption_count;
    info->overhead_per_alloc_bytes = overhead;
    return true;
}

bool umm_multi_info(umm_heap *heap, struct umm_heap_info *info)
{
    if (!heap->ctl)
        return false;
    UMM_CRITICAL_DECL(info);
    UMM_CRITICAL_ENTRY(info);
    struct umm_h h;
    umm_h_load(&h, heap->ctl);
    info_core(&h, info);
    UMM_CRITICAL_EXIT(info);
    return true;
}
bool umm_info(struct umm_heap_info *info) { return umm_multi_info(&umm_heap_default, info); }

size_t umm_multi_free_heap_size(umm_heap *heap)
{
    struct umm_heap_info info;
    return umm_multi_info(heap, &info) ? info.free_bytes : 0;
}
size_t umm_free_heap_size(void) { return umm_multi_free_heap_size(&umm_heap_default); }
size_t umm_multi_max_free_block_size(umm_heap *heap)
{
    struct umm_heap_info info;
    return umm_multi_info(heap, &info) ? info.largest_alloc_bytes : 0;
}
size_t umm_max_free_block_size(void) { return umm_multi_max_free_block_size(&umm_heap_default); }
int umm_multi_usage_metric(umm_heap *heap)
{
    struct umm_heap_info info;
    return umm_multi_info(heap, &info) ? info.usage_metric : -1;
}
int umm_usage_metric(void) { return umm_multi_usage_metric(&umm_heap_default); }
int umm_multi_fragmentation_metric(umm_heap *heap)
{
    struct umm_heap_info info;
    return umm_multi_info(heap, &info) ? info.fragmentation_metric : 0;
}
int umm_fragmentation_metric(void) { return umm_multi_fragmentation_metric(&umm_heap_default); }

/* ---- owners --------------------------------------------------------------------------------- */

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner);

void *umm_multi_malloc_tagged(umm_heap *heap, size_t size, const char *tag)
{
    return umm_multi_malloc_owned(heap, size, (uintptr_t)tag);
}
void *umm_malloc_tagged(size_t size, const char *tag)
{
    return umm_multi_malloc_owned(&umm_heap_default, size, (uintptr_t)tag);
}

/* ---- the report ------------------------------------------------------------------------------- */

struct out {
    umm_putc_fn putc;
    void *ctx;
};

static void out_str(const struct out *o, const char *s)
{
    while (*s)
        o->putc(*s++, o->ctx);
}

static void out_num(const struct out *o, uint64_t v, unsigned base, unsigned width)
{
    char digits[24];
    unsigned n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v && n < sizeof digits);
    while (width-- > n)
        o->putc(' ', o->ctx);
    while (n)
        o->putc(digits[--n], o->ctx);
}

static void out_field(const struct out *o, const char *name, uint64_t v)
{
    out_str(o, name);
    out_num(o, v, 10, 1);
    out_str(o, "\n");
}

void umm_multi_heap_report(umm_heap *heap, umm_putc_fn putc, void *ctx)
{
    struct out o = {putc, ctx};
    if (!heap->ctl) {
        out_str(&o, "heap not initialised\n");
        return;
    }
    UMM_CRITICAL_DECL(report);
    UMM_CRITICAL_ENTRY(report);
    struct umm_h h;
    umm_h_load(&h, heap->ctl);
    struct umm_heap_info info;
    info_core(&h, &info);
    out_str(&o, "heap at 0x");
    out_num(&o, (uintptr_t)h.ctl, 16, 1);
    out_str(&o, "\n  block     next     prev  state     bytes requested      seq\n");
    umm_idx n = h.ctl->unit_count, b = 0;
    for (uint32_t steps = 0; steps < n; steps++) {
        umm_idx next = blk_next(&h, b);
        out_num(&o, b, 10, 7);
        out_num(&o, next, 10, 9);
        out_num(&o, blk_get(&h, b, BLK_PREV), 10, 9);
        if (b == 0 || b == n - 1u)
            out_str(&o, "  edge ");
        else
            out_str(&o, blk_is_free(&h, b) ? "  free " : "  used ");
        if (b == n - 1u || next <= b || next >= n) {
            out_str(&o, "\n");
            break;
        }
        out_num(&o, (uint64_t)(next - b) << 3, 10, 9);
        if (b && !blk_is_free(&h, b) && umm_prefix(&h)) {
            out_num(&o, pfx_requested(&h, b), 10, 10);
            out_num(&o, pfx_seq(&h, b), 10, 9);
        }
        out_str(&o, "\n");
        b = next;
    }
    out_field(&o, "used entries     ", info.used_entries);
    out_field(&o, "free entries     ", info.free_entries);
    out_field(&o, "used bytes       ", info.used_bytes);
    out_field(&o, "free bytes       ", info.free_bytes);
    out_field(&o, "requested bytes  ", info.requested_bytes);
    out_field(&o, "largest free     ", info.largest_free_bytes);
    out_field(&o, "largest alloc    ", info.largest_alloc_bytes);
    out_field(&o, "min free bytes   ", info.min_free_bytes);
    out_field(&o, "usage metric     ", (uint64_t)(int64_t)info.usage_metric);
    out_field(&o, "fragmentation    ", (uint64_t)info.fragmentation_metric);
    out_field(&o, "allocs           ", info.alloc_count);
    out_field(&o, "frees            ", info.free_count);
    out_field(&o, "out of memory    ", info.oom_count);
    out_field(&o, "bad frees        ", info.bad_free_count);
    out_field(&o, "corruptions      ", info.corruption_count);
    UMM_CRITICAL_EXIT(report);
}

#else
/* A release build has no record: nothing here is compiled. */
typedef int umm_instr_unused;
#endif /* UMM_HAS_RECORD */
