/*
 * umm_heap.h - private: the in-band control block and block accessors of
 * lib/FORMAT.md.  Functions named *_core assume the caller holds the
 * critical section and has validated its arguments.
 */
#ifndef UMM_HEAP_H
#define UMM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "umm_config.h"
#include "umm_format.h"
#include "umm_malloc.h"

/* Heap memory is reached through these so the compiler never assumes the
 * user's types and ours cannot alias. */
typedef uint16_t __attribute__((may_alias)) umm_u16a;
typedef uint32_t __attribute__((may_alias)) umm_u32a;
/*
 * Block indices, unit counts and classes in the allocator's arithmetic.
 * Speed builds make them as wide as a pointer, so that 64-bit hosts index
 * memory without zero-extending them first; -Os builds keep 32 bits (the
 * same on 32-bit targets).  The heap stores them as 16 or 32 bits.
 */
#if defined(__OPTIMIZE_SIZE__)
typedef uint32_t umm_idx;
#else
typedef size_t umm_idx;
#endif

/* The fixed part of the control block, FORMAT.md section 2. */
struct umm_ctl {
    uint32_t magic;
    uint8_t version;
    uint8_t index_bytes;
    uint8_t unit_log2;
    uint8_t ptr_bytes;
    uint16_t flags;
    uint16_t ctl_bytes;
    uint32_t unit_count;
    uint32_t region_bytes;
    uint8_t class_count;
    uint8_t sl_log2;
    uint16_t bitmap_off;
    uint16_t bins_off;
    uint16_t instr_off;
    uint8_t prefix_bytes;
    uint8_t suffix_bytes;
    uint16_t reserved;
    struct umm_ctl *self;
    struct umm_ctl *next_heap;
    void *region;
};

_Static_assert(offsetof(struct umm_ctl, flags) == UMM_CTL_FLAGS, "format");
_Static_assert(offsetof(struct umm_ctl, unit_count) == UMM_CTL_UNIT_COUNT, "format");
_Static_assert(offsetof(struct umm_ctl, class_count) == UMM_CTL_CLASS_COUNT, "format");
_Static_assert(offsetof(struct umm_ctl, instr_off) == UMM_CTL_INSTR_OFF, "format");
_Static_assert(offsetof(struct umm_ctl, prefix_bytes) == UMM_CTL_PREFIX_BYTES, "format");
_Static_assert(offsetof(struct umm_ctl, self) == UMM_CTL_SELF, "format");
_Static_assert(offsetof(struct umm_ctl, next_heap) == UMM_CTL_NEXT_HEAP(sizeof(void *)), "format");
_Static_assert(offsetof(struct umm_ctl, region) == UMM_CTL_REGION(sizeof(void *)), "format");
_Static_assert(sizeof(struct umm_ctl) == UMM_CTL_FIXED_BYTES(sizeof(void *)), "format");

/* The instrumentation record, FORMAT.md section 6. */
struct umm_record {
    uint32_t alloc_count;
    uint32_t free_count;
    uint32_t realloc_count;
    uint32_t oom_count;
    uint32_t bad_free_count;
    uint32_t corruption_count;
    uint32_t seq_next;
    uint32_t used_blocks;
    uint32_t free_blocks;
    uint32_t used_units;
    uint32_t free_units;
    uint32_t min_free_units;
    uint32_t peak_used_units;
    uint32_t requested_bytes;
    uint32_t check_cursor;
    uint32_t reserved;
    uint64_t free_sq_sum;
    uint32_t fault_kind;
    uint32_t fault_op;
    uint32_t fault_block;
    uint32_t fault_expected;
    uint32_t fault_found;
    uint32_t fault_seq;
    uintptr_t fault_address;
    uintptr_t fault_owner;
};

_Static_assert(offsetof(struct umm_record, free_sq_sum) == UMM_REC_FREE_SQ_SUM, "format");
_Static_assert(offsetof(struct umm_record, fault_kind) == UMM_REC_FAULT_KIND, "format");
_Static_assert(offsetof(struct umm_record, fault_address) == UMM_REC_FAULT_ADDRESS, "format");
_Static_assert(offsetof(struct umm_record, fault_owner) == UMM_REC_FAULT_OWNER(sizeof(void *)), "format");
_Static_assert(sizeof(struct umm_record) == UMM_REC_BYTES(sizeof(void *)), "format");

/* Accessors and class arithmetic: always folded in when optimising for
 * speed (GCC otherwise leaves some out of line in the larger operations);
 * -Os builds let the compiler choose. */
#if defined(__OPTIMIZE_SIZE__)
#define UMM_INLINE static inline
#else
#define UMM_INLINE static inline __attribute__((always_inline))
#endif

/*
 * What one operation needs of a heap, derived once per public call so the
 * hot paths keep it in registers.  `wide` selects 32-bit indices.
 */
struct umm_h {
    struct umm_ctl *ctl;
    uint8_t *blocks;     /* unit 0 */
    uint8_t *bins;       /* class heads, index_bytes each */
    unsigned wide;
#if defined(__OPTIMIZE_SIZE__)
    umm_idx flag;       /* umm_free_flag: one load instead of a shift at each use */
    int bin0;            /* class 0's list head as a field of block 0 (negative) */
    uint8_t *data;       /* unit 0's data area: blk_data without the header size */
#endif
};

/* The free flag is the top bit of `next`: bit 15 narrow, bit 31 wide. */
#if defined(__OPTIMIZE_SIZE__)
UMM_INLINE umm_idx umm_free_flag(const struct umm_h *restrict h) { return h->flag; }
#else
UMM_INLINE umm_idx umm_free_flag(const struct umm_h *restrict h) { return 0x8000u << (h->wide << 4); }
#endif
/* The smallest block holds a header and two free-list links. */
UMM_INLINE umm_idx umm_min_units(const struct umm_h *restrict h) { return 1u + h->wide; }
/* `units` >= umm_min_units(h), in one compare: `wide` is 0 or 1. */
UMM_INLINE int umm_can_stand(const struct umm_h *restrict h, umm_idx units) { return units > h->wide; }

/*
 * Hot helpers are folded into each public entry point when optimising for
 * speed, so the heap context lives in registers; -Os builds keep one copy.
 */
#if defined(__OPTIMIZE_SIZE__)
#define UMM_HOT static
#else
#define UMM_HOT static inline __attribute__((always_inline))
#endif

/*
 * Runs `narrow_op` with the index width known to the compiler,  or `wide_op` (a
 * call of an out-of-line copy for wide heaps) when the heap is wide: in
 * speed builds the operation is compiled once per width, with no width test
 * in its loops and accessors, and the rarer wide copy stays out of the entry
 * point so it does not weigh on the narrow path's registers.  -Os builds
 * keep one copy that tests the width.
 */
#if defined(__OPTIMIZE_SIZE__)
#define UMM_SPLIT_WIDTH 0
#define UMM_BY_WIDTH(h, narrow_op, wide_op) do { narrow_op; } while (0)
#else
#define UMM_SPLIT_WIDTH 1
#define UMM_BY_WIDTH(h, narrow_op, wide_op)                                   \
    do {                                                                      \
        if ((h).wide) {                                                       \
            wide_op;                                                          \
        } else {                                                              \
            (h).wide = 0;                                                     \
            narrow_op;                                                        \
        }                                                                     \
    } while (0)
#endif

#define UMM_NONE 0xFFFFFFFFu

UMM_INLINE void umm_h_load(struct umm_h *h, struct umm_ctl *ctl)
{
    h->ctl = ctl;
    h->blocks = (uint8_t *)ctl + ctl->ctl_bytes;
#if defined(__OPTIMIZE_SIZE__)
#if UMM_HAS_RECORD
    h->bins = (uint8_t *)ctl + ctl->bins_off; /* (the checks' fault reports; bin_get uses bin0) */
#endif
    unsigned index_bytes = ctl->index_bytes;
    h->wide = index_bytes >> 2;
    h->flag = 0x8000u << (h->wide << 4);
    /* The heads lie before the blocks, a multiple of 4 bytes away. */
    h->bin0 = -(int)((unsigned)(ctl->ctl_bytes - ctl->bins_off) >> (1u + h->wide));
    h->data = h->blocks + 2u * index_bytes; /* past the header: one shift from index_bytes */
#else
    h->bins = (uint8_t *)ctl + ctl->bins_off;
    h->wide = ctl->index_bytes == 4;
#endif
}

/*
 * The free-list bitmap: the summary word, then the class words.  The
 * allocator always lays it out right after the fixed part of the control
 * block (bitmap_off records that for decoders), so it is reached from `ctl`
 * by a constant instead of a register of its own.
 */
#define UMM_BITMAP_OFF sizeof(struct umm_ctl)
_Static_assert(sizeof(struct umm_ctl) % 4 == 0, "bitmap words follow the fixed part");
UMM_INLINE uint32_t *umm_bitmap(const struct umm_h *restrict h)
{
    return (uint32_t *)(void *)((uint8_t *)h->ctl + UMM_BITMAP_OFF);
}

#if defined(__OPTIMIZE_SIZE__)
UMM_INLINE unsigned umm_hdr_bytes(const struct umm_h *restrict h) { return 4u << h->wide; }
#else
UMM_INLINE unsigned umm_hdr_bytes(const struct umm_h *restrict h) { return h->wide ? 8u : 4u; }
#endif

/* Field f of block b: 0 next, 1 prev, 2 next_free, 3 prev_free.  -Os
 * builds also reach the list heads this way (bin_get), with negative f. */
#if defined(__OPTIMIZE_SIZE__)
typedef int umm_field;
#else
typedef unsigned umm_field;
#endif
UMM_INLINE umm_idx blk_get(const struct umm_h *restrict h, umm_idx b, umm_field f)
{
    uint8_t *p = h->blocks + ((size_t)b << 3);
    if (h->wide)
        return ((umm_u32a *)(void *)p)[f];
    return ((umm_u16a *)(void *)p)[f];
}

#if defined(__OPTIMIZE_SIZE__)
/* -Os: also answers the value it replaced, which spares the free-list
 * insert a read of the list head before it is overwritten. */
UMM_INLINE umm_idx blk_set(const struct umm_h *restrict h, umm_idx b, umm_field f, umm_idx v)
{
    uint8_t *p = h->blocks + ((size_t)b << 3);
    umm_idx old;
    if (h->wide) {
        old = ((umm_u32a *)(void *)p)[f];
        ((umm_u32a *)(void *)p)[f] = (uint32_t)v;
    } else {
        old = ((umm_u16a *)(void *)p)[f];
        ((umm_u16a *)(void *)p)[f] = (uint16_t)v;
    }
    return old;
}
#else
UMM_INLINE void blk_set(const struct umm_h *restrict h, umm_idx b, umm_field f, umm_idx v)
{
    uint8_t *p = h->blocks + ((size_t)b << 3);
    if (h->wide)
        ((umm_u32a *)(void *)p)[f] = (uint32_t)v;
    else
        ((umm_u16a *)(void *)p)[f] = (uint16_t)v;
}
#endif

#define BLK_NEXT 0u
#define BLK_PREV 1u
#define BLK_NFREE 2u
#define BLK_PFREE 3u

UMM_INLINE umm_idx blk_next(const struct umm_h *restrict h, umm_idx b)
{
    return blk_get(h, b, BLK_NEXT) & ~umm_free_flag(h);
}
UMM_INLINE int blk_is_free(const struct umm_h *restrict h, umm_idx b)
{
    return (blk_get(h, b, BLK_NEXT) & umm_free_flag(h)) != 0;
}
UMM_INLINE umm_idx blk_units(const struct umm_h *restrict h, umm_idx b)
{
    return blk_next(h, b) - b;
}
UMM_INLINE uint8_t *blk_data(const struct umm_h *restrict h, umm_idx b)
{
#if defined(__OPTIMIZE_SIZE__)
    return h->data + ((size_t)b << 3);
#else
    return h->blocks + ((size_t)b << 3) + umm_hdr_bytes(h);
#endif
}

#if defined(__OPTIMIZE_SIZE__)
UMM_INLINE umm_idx bin_get(const struct umm_h *restrict h, umm_idx c)
{
    return blk_get(h, 0, h->bin0 + (int)c);
}
#else
UMM_INLINE umm_idx bin_get(const struct umm_h *restrict h, umm_idx c)
{
    if (h->wide)
        return ((umm_u32a *)(void *)h->bins)[c];
    return ((umm_u16a *)(void *)h->bins)[c];
}
UMM_INLINE void bin_set(const struct umm_h *restrict h, umm_idx c, umm_idx v)
{
    if (h->wide)
        ((umm_u32a *)(void *)h->bins)[c] = (uint32_t)v;
    else
        ((umm_u16a *)(void *)h->bins)[c] = (uint16_t)v;
}
#endif

/* Index of the highest set bit; x != 0.  Cores without CLZ (Cortex-M0+)
 * get a short search instead of a libgcc call. */
UMM_INLINE unsigned umm_fls(uint32_t x)
{
#if defined(__arm__) && !defined(__ARM_FEATURE_CLZ)
    unsigned r = 0;
    if (x >> 16) { x >>= 16; r += 16; }
    if (x >> 8) { x >>= 8; r += 8; }
    if (x >> 4) { x >>= 4; r += 4; }
    if (x >> 2) { x >>= 2; r += 2; }
    return r + (x >> 1);
#else
    return 31u - (unsigned)__builtin_clz(x);
#endif
}
/* Index of the lowest set bit; x != 0.  Where there is no count-trailing
 * instruction, through umm_fls rather than a second runtime helper. */
UMM_INLINE unsigned umm_ctz(uint32_t x)
{
#if (defined(__arm__) && !defined(__ARM_FEATURE_CLZ)) || (defined(__riscv) && !defined(__riscv_zbb))
    return umm_fls(x & (0u - x));
#else
    return (unsigned)__builtin_ctz(x);
#endif
}

/* FORMAT.md section 4.  A branch, not arithmetic, for the linear classes:
 * the common small sizes then skip the bit search.  -Os: each halving that
 * `units` needs to fall below 16 moves it up one group of 2^SL_LOG2
 * classes, so the class is counted instead of searched for: a few steps
 * for the sizes firmware asks for, 28 at most. */
#if defined(__OPTIMIZE_SIZE__)
UMM_INLINE umm_idx umm_class_of(umm_idx units)
{
    umm_idx c = 0;
    for (; units >= UMM_FMT_LINEAR_CLASSES; units >>= 1)
        c += 1u << UMM_FMT_SL_LOG2;
    return c + units;
}
#else
UMM_INLINE umm_idx umm_class_of(umm_idx units)
{
    if (units < UMM_FMT_LINEAR_CLASSES)
        return units;
    unsigned s = umm_fls((uint32_t)units) - UMM_FMT_SL_LOG2;
    return ((umm_idx)s << UMM_FMT_SL_LOG2) + (units >> s);
}
#endif

/* ---- shared between the allocator and the diagnostics ------------------ */

/* The heap whose block array holds `p`, among registered heaps; NULL if none. */
struct umm_ctl *umm_heap_of_ptr_core(const void *p);
/* Block index for a user pointer into heap `h`, or 0 when `p` is not the
 * user pointer of a block of `h` that looks used. */
uint32_t umm_block_of_ptr_core(const struct umm_h *restrict h, const void *p);
/* Bytes between the data area and the user pointer. */
/* A build without a prefix only ever makes heaps without one: a constant
 * then, not a load on every operation. */
UMM_INLINE unsigned umm_prefix(const struct umm_h *restrict h)
{
#if UMM_HAS_PREFIX
    return h->ctl->prefix_bytes;
#else
    (void)h;
    return 0;
#endif
}
/* Least canary bytes after the user's (FORMAT.md section 5). */
UMM_INLINE unsigned umm_suffix(const struct umm_h *restrict h)
{
#if UMM_HAS_PREFIX
    return h->ctl->suffix_bytes;
#else
    (void)h;
    return 0;
#endif
}

#endif /* UMM_HEAP_H */

