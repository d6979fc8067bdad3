/*
 * hv_heap.h - the block model: what the decoder makes of one heap in a
 * snapshot.  Renderers, the TUI and tests read these structs; nothing here
 * prints.  Blocks are kept compact (12 bytes) so a 16 MiB heap of a million
 * blocks fits in a few times its own size; the prefix fields are read on
 * demand from the snapshot bytes (hv_block_detail).
 */
#ifndef HV_HEAP_H
#define HV_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "hv_snapshot.h"

enum hv_format { HV_FORMAT_HEAPVIEW = 0, HV_FORMAT_UPSTREAM = 1 };
enum hv_block_state { HV_BLOCK_USED = 0, HV_BLOCK_FREE = 1 };

/* Problem kinds: 1..10 are FORMAT.md section 6's fault kinds; these two
 * are the tool's own (cli/JSON.md). */
#define HV_PROBLEM_UNREADABLE 32
#define HV_PROBLEM_TRUNCATED  33

#define HV_MAX_PROBLEMS 1000u  /* per heap; past it one `truncated` problem says so */

struct hv_block {
    uint32_t index;          /* first unit */
    uint32_t units;          /* length in units (blocks for upstream) */
    uint8_t state;           /* enum hv_block_state */
    uint8_t has_problem;     /* a problem names this block */
};

/* A run of units the walk could not decode (damaged or unreadable). */
struct hv_gap {
    uint32_t first;
    uint32_t units;
    int kind;                /* HV_PROBLEM_UNREADABLE or UMM_FAULT_HEADER */
};

/* The allocation a problem is most likely caused by. */
struct hv_culprit {
    uint32_t block;
    uint64_t address;        /* the block's first byte */
    int has_owner, has_seq;
    uint64_t owner;
    uint32_t seq;
    char owner_name[96];     /* empty without symbols */
};

struct hv_problem {
    int kind;
    uint64_t address;
    int has_block;
    uint32_t block;
    int has_culprit;
    struct hv_culprit culprit;
    char message[224];
};

struct hv_record {
    uint32_t alloc_count, free_count, realloc_count, oom_count, bad_free_count,
             corruption_count, seq_next, used_blocks, free_blocks, used_units,
             free_units, min_free_units, peak_used_units, requested_bytes, check_cursor;
    uint64_t free_sq_sum;
    uint32_t fault_kind, fault_op, fault_block, fault_expected, fault_found, fault_seq;
    uint64_t fault_address, fault_owner;
};

struct hv_metrics {
    uint64_t used_entries, free_entries;
    uint64_t used_bytes, free_bytes;       /* sizes, headers included */
    uint64_t used_units, free_units;
    uint64_t largest_free, largest_alloc;  /* bytes */
    uint64_t free_sq_units;                /* sum of units^2 over free blocks */
    unsigned fragmentation;                /* percent, FORMAT.md section 9 */
    int has_requested;
    uint64_t requested_bytes;
};

/* Turns an owner value into "func+0x1c (file.c:42)" or a tag; returns NULL
 * when it cannot.  The string stays valid as long as the namer does. */
typedef const char *(*hv_owner_namer)(void *ctx, uint64_t owner);

struct hv_decode_opts {
    unsigned upstream_block_size;   /* 0: derive (heap_size / numblocks), else 8 */
    int upstream_poison;            /* upstream built with UMM_POISON_CHECK */
    hv_owner_namer owner_name;      /* optional */
    void *owner_ctx;
};

struct hv_heap {
    char name[64];                  /* the symbol it was found through */
    int format;                     /* enum hv_format */
    int big_endian;
    uint64_t address;               /* control block (upstream: first block) */
    uint64_t size;                  /* region_bytes (upstream: heap_size) */

    /* control block fields (FORMAT.md section 2) */
    unsigned index_bytes, ptr_bytes, unit_log2, flags, ctl_bytes, class_count, sl_log2;
    unsigned bitmap_off, bins_off, instr_off, prefix_bytes, suffix_bytes, reserved;
    uint32_t unit_count;
    uint64_t self, next_heap, region;

    /* derived geometry */
    unsigned unit_bytes;            /* 8 (upstream: the block size) */
    unsigned hdr_bytes;             /* 2 * index_bytes */
    uint64_t free_flag;
    uint64_t blocks_address;        /* unit 0 */
    struct hv_span mem;             /* bytes from `address` to the end of the last unit */
    uint64_t blocks_off;            /* offset of unit 0 in mem */
    uint32_t units_readable;        /* units wholly inside mem */

    struct hv_block *blocks;        /* between the sentinels, address order */
    size_t block_count;
    struct hv_gap *gaps;
    size_t gap_count;
    struct hv_problem *problems;
    size_t problem_count;
    int problems_truncated;
    int walk_complete;              /* reached the end marker without resynchronising */

    struct hv_metrics metrics;
    int has_record;
    struct hv_record record;

    /* internal */
    size_t block_cap, gap_cap, problem_cap;
    const struct hv_decode_opts *opts;
};

/* Everything a renderer wants to know about one block. */
struct hv_block_info {
    uint64_t address;               /* first byte (header) */
    uint64_t size;                  /* bytes, header included */
    uint64_t data_address;          /* right after the header */
    uint64_t user_address;          /* what malloc returned */
    int has_requested, has_seq, has_owner;
    uint32_t requested, seq;
    uint64_t owner;
};

/* Decodes the heapview heap whose control block is at `ctl`.  Returns 0 with
 * the heap filled in (problems included), or -1 when there is no valid
 * control block there, with the reason in err. */
int hv_decode_heapview(struct hv_heap *h, struct hv_snapshot *snap, uint64_t ctl, const char *name,
                       const struct hv_decode_opts *opts, char *err, size_t errlen);
/* Decodes an upstream umm_malloc heap of `numblocks` blocks at `pheap`. */
int hv_decode_upstream(struct hv_heap *h, struct hv_snapshot *snap, uint64_t pheap, uint64_t heap_size,
                       uint32_t numblocks, int big_endian, const char *name,
                       const struct hv_decode_opts *opts, char *err, size_t errlen);
void hv_heap_free(struct hv_heap *h);

void hv_block_detail(const struct hv_heap *h, const struct hv_block *b, struct hv_block_info *out);
/* The block starting at unit `index`, or NULL. */
const struct hv_block *hv_heap_block_at(const struct hv_heap *h, uint32_t index);
/* The block containing address `addr`, or NULL. */
const struct hv_block *hv_heap_block_containing(const struct hv_heap *h, uint64_t addr);

const char *hv_problem_kind_name(int kind);
const char *hv_op_name(unsigned op);
/* Lowercase names of the set flag bits, joined by `sep`, into buf. */
void hv_flag_names(unsigned flags, const char *sep, char *buf, size_t len);
const char *hv_flag_name(unsigned bit);

/* floor(sqrt(v)) exactly. */
uint64_t hv_isqrt(uint64_t v);
/* FORMAT.md section 4 class of a free block of `units` units. */
unsigned hv_size_class(uint32_t units, unsigned sl_log2);

#endif /* HV_HEAP_H */
