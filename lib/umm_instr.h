/*
 * umm_instr.h - private: the points where the allocator core tells the
 * instrumentation what happened.  In a release build every hook is an empty
 * inline function, so the core reads the same either way and pays nothing.
 */
#ifndef UMM_INSTR_H
#define UMM_INSTR_H

#include <stddef.h>
#include <stdint.h>

#include "umm_heap.h"

/* Bytes a used block of `units` offers between its prefix and its last
 * canary. */
static inline size_t umm_units_capacity(const struct umm_h *restrict h, umm_idx units)
{
    return ((size_t)units << 3) - umm_hdr_bytes(h) - umm_prefix(h) - umm_suffix(h);
}
static inline size_t umm_capacity(const struct umm_h *restrict h, umm_idx b)
{
    return umm_units_capacity(h, blk_units(h, b));
}

#if UMM_HAS_RECORD

unsigned umm_instr_flags(void);

/*
 * The hooks proper, in umm_instr.c.  The core calls them through the
 * inline functions of the same names without `on_`, which hand each a copy
 * of the core's context: were the core's own `h` passed, it would escape,
 * and the compiler would then keep it in memory and test its width again
 * after every hook, undoing the per-width copies of UMM_BY_WIDTH (measured:
 * a tenth of the instrumented build's instructions).  -Os builds have one
 * copy of the operations, which tests the width anyway, and pass `h`.
 */
#if defined(__OPTIMIZE_SIZE__)
#define UMM_HOOK_CONTEXT(name, h) const struct umm_h *restrict name = (h)
#else
#define UMM_HOOK_CONTEXT(name, h) const struct umm_h name##_copy = *(h), *restrict name = &name##_copy
#endif
void instr_on_init(const struct umm_h *restrict h);
void instr_on_fill_free(const struct umm_h *restrict h, umm_idx b);
void instr_on_fill_span(const struct umm_h *restrict h, umm_idx head, umm_idx from, umm_idx to);
void instr_on_allocated(const struct umm_h *restrict h, umm_idx b, size_t size, uintptr_t owner, uint8_t fill);
void instr_on_grew_in_place(const struct umm_h *restrict h, umm_idx b);
void instr_on_bad_pointer(const struct umm_h *restrict h, const void *ptr, unsigned op);
int instr_on_release(const struct umm_h *restrict h, umm_idx b, unsigned op);
int instr_on_resize_begin(const struct umm_h *restrict h, umm_idx b);
/* Of used block `b`, whose size the callers know (`units`), the user
 * bytes a move to a block of `size` must carry. */
size_t instr_on_kept_bytes(const struct umm_h *restrict h, umm_idx b, umm_idx units, size_t size);
void instr_on_resized(const struct umm_h *restrict h, umm_idx b, size_t size);
/* Free block `b` (or the block just carved from one) is about to hold a
 * realloc's bytes: its fill must be as free() left it. */
void instr_on_taking(const struct umm_h *restrict h, umm_idx b);
size_t instr_on_usable_bytes(const struct umm_h *restrict h, umm_idx b);
void instr_on_check_after_op(const struct umm_h *restrict h, unsigned op);

static inline void instr_init(const struct umm_h *restrict h)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_init(copy);
}
static inline void instr_fill_free(const struct umm_h *restrict h, umm_idx b)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_fill_free(copy, b);
}
static inline void instr_fill_span(const struct umm_h *restrict h, umm_idx head, umm_idx from, umm_idx to)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_fill_span(copy, head, from, to);
}
static inline void instr_allocated(const struct umm_h *restrict h, umm_idx b, size_t size, uintptr_t owner, uint8_t fill)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_allocated(copy, b, size, owner, fill);
}
static inline void instr_grew_in_place(const struct umm_h *restrict h, umm_idx b)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_grew_in_place(copy, b);
}
static inline void instr_bad_pointer(const struct umm_h *restrict h, const void *ptr, unsigned op)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_bad_pointer(copy, ptr, op);
}
static inline int instr_release(const struct umm_h *restrict h, umm_idx b, unsigned op)
{
    UMM_HOOK_CONTEXT(copy, h);
    return instr_on_release(copy, b, op);
}
static inline int instr_resize_begin(const struct umm_h *restrict h, umm_idx b)
{
    UMM_HOOK_CONTEXT(copy, h);
    return instr_on_resize_begin(copy, b);
}
static inline size_t instr_kept_bytes(const struct umm_h *restrict h, umm_idx b, umm_idx units, size_t size)
{
    UMM_HOOK_CONTEXT(copy, h);
    return instr_on_kept_bytes(copy, b, units, size);
}
static inline void instr_resized(const struct umm_h *restrict h, umm_idx b, size_t size)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_resized(copy, b, size);
}
static inline void instr_taking(const struct umm_h *restrict h, umm_idx b)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_taking(copy, b);
}
static inline size_t instr_usable_bytes(const struct umm_h *restrict h, umm_idx b)
{
    UMM_HOOK_CONTEXT(copy, h);
    return instr_on_usable_bytes(copy, b);
}
static inline void instr_check_after_op(const struct umm_h *restrict h, unsigned op)
{
    UMM_HOOK_CONTEXT(copy, h);
    instr_on_check_after_op(copy, op);
}

/* The record of FORMAT.md section 6. */
static inline struct umm_record *rec(const struct umm_h *restrict h)
{
    return (struct umm_record *)(void *)((uint8_t *)h->ctl + h->ctl->instr_off);
}

static inline void instr_oom(const struct umm_h *restrict h) { rec(h)->oom_count++; }

/* Counters kept inline on every free-list change. */
static inline void instr_free_added(const struct umm_h *restrict h, umm_idx units)
{
    struct umm_record *r = rec(h);
    r->free_blocks++;
    r->free_units += (uint32_t)units;
    r->free_sq_sum += (uint64_t)units * units;
}
static inline void instr_free_removed(const struct umm_h *restrict h, umm_idx units)
{
    struct umm_record *r = rec(h);
    r->free_blocks--;
    r->free_units -= (uint32_t)units;
    r->free_sq_sum -= (uint64_t)units * units;
}
static inline void instr_after_op(const struct umm_h *restrict h, unsigned op)
{
    struct umm_record *r = rec(h);
    r->used_units = h->ctl->unit_count - 2u - r->free_units;
    if (r->free_units < r->min_free_units)
        r->min_free_units = r->free_units;
    if (r->used_units > r->peak_used_units)
        r->peak_used_units = r->used_units;
#if defined(UMM_CHECK_EVERY_OP)
    instr_check_after_op(h, op);
#else
    (void)op;
#endif
}

#else

static inline unsigned umm_instr_flags(void)
{
#if defined(UMM_BEST_FIT)
    return UMM_FLAG_BEST_FIT;
#else
    return 0;
#endif
}
static inline void instr_init(const struct umm_h *restrict h) { (void)h; }
static inline void instr_free_added(const struct umm_h *restrict h, umm_idx units) { (void)h; (void)units; }
static inline void instr_free_removed(const struct umm_h *restrict h, umm_idx units) { (void)h; (void)units; }
static inline void instr_fill_free(const struct umm_h *restrict h, umm_idx b) { (void)h; (void)b; }
static inline void instr_fill_span(const struct umm_h *restrict h, umm_idx head, umm_idx from, umm_idx to)
{
    (void)h; (void)head; (void)from; (void)to;
}
static inline void instr_oom(const struct umm_h *restrict h) { (void)h; }
static inline void instr_grew_in_place(const struct umm_h *restrict h, umm_idx b) { (void)h; (void)b; }
static inline void instr_allocated(const struct umm_h *restrict h, umm_idx b, size_t size, uintptr_t owner,
                                   uint8_t fill)
{
    (void)h; (void)b; (void)size; (void)owner; (void)fill;
}
static inline void instr_bad_pointer(const struct umm_h *restrict h, const void *ptr, unsigned op)
{
    (void)h; (void)ptr; (void)op;
}
static inline int instr_release(const struct umm_h *restrict h, umm_idx b, unsigned op)
{
    (void)h; (void)b; (void)op;
    return 1;
}
static inline int instr_resize_begin(const struct umm_h *restrict h, umm_idx b) { (void)h; (void)b; return 1; }
static inline size_t instr_kept_bytes(const struct umm_h *restrict h, umm_idx b, umm_idx units, size_t size)
{
    (void)b;
    size_t have = umm_units_capacity(h, units);
    return size < have ? size : have;
}
static inline void instr_resized(const struct umm_h *restrict h, umm_idx b, size_t size) { (void)h; (void)b; (void)size; }
static inline void instr_taking(const struct umm_h *restrict h, umm_idx b) { (void)h; (void)b; }
static inline size_t instr_usable_bytes(const struct umm_h *restrict h, umm_idx b) { return umm_capacity(h, b); }
static inline void instr_after_op(const struct umm_h *restrict h, unsigned op) { (void)h; (void)op; }

#endif

#endif /* UMM_INSTR_H */
