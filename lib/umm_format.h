/*
 * umm_format.h - the constants of lib/FORMAT.md, shared by the allocator and
 * by every decoder (cli/ includes it; gdb/ generates its constants from it).
 * Pure constants: no types that depend on the build, so a 64-bit tool can
 * decode a 32-bit target's heap.
 */
#ifndef UMM_FORMAT_H
#define UMM_FORMAT_H

#define UMM_FMT_MAGIC          0x484D4D55u /* "UMMH" in little-endian memory */
#define UMM_FMT_VERSION        1u
#define UMM_FMT_UNIT_LOG2      3u
#define UMM_FMT_UNIT_BYTES     8u
#define UMM_FMT_SL_LOG2        3u
#define UMM_FMT_LINEAR_CLASSES 16u        /* blocks below this many units have a class each */
#define UMM_FMT_NARROW_MAX_UNITS 32768u   /* 15-bit indices, bit 15 is the free flag */
#define UMM_FMT_WIDE_MAX_UNITS 0x7FFFFFFFu
#define UMM_FMT_MAX_HEAPS      256u       /* bound for walks of umm_heap_list */

/* Control block field offsets (section 2). P = ptr_bytes. */
#define UMM_CTL_MAGIC          0
#define UMM_CTL_VERSION        4
#define UMM_CTL_INDEX_BYTES    5
#define UMM_CTL_UNIT_LOG2      6
#define UMM_CTL_PTR_BYTES      7
#define UMM_CTL_FLAGS          8
#define UMM_CTL_CTL_BYTES      10
#define UMM_CTL_UNIT_COUNT     12
#define UMM_CTL_REGION_BYTES   16
#define UMM_CTL_CLASS_COUNT    20
#define UMM_CTL_SL_LOG2        21
#define UMM_CTL_BITMAP_OFF     22
#define UMM_CTL_BINS_OFF       24
#define UMM_CTL_INSTR_OFF      26
#define UMM_CTL_PREFIX_BYTES   28
#define UMM_CTL_SUFFIX_BYTES   29
#define UMM_CTL_RESERVED       30
#define UMM_CTL_SELF           32
#define UMM_CTL_NEXT_HEAP(P)   (32 + (P))
#define UMM_CTL_REGION(P)      (32 + 2 * (P))
#define UMM_CTL_FIXED_BYTES(P) (32 + 3 * (P))

/* Feature flags. */
#define UMM_FLAG_METRICS   0x0001u
#define UMM_FLAG_POISON    0x0002u
#define UMM_FLAG_OWNERS    0x0004u
#define UMM_FLAG_FILL      0x0008u
#define UMM_FLAG_BEST_FIT  0x0010u
#define UMM_FLAG_INTEGRITY 0x0020u

/* Byte patterns (sections 3 and 5). */
#define UMM_CANARY_BYTE    0xA5u
#define UMM_FREE_FILL_BYTE 0xDDu
#define UMM_NEW_FILL_BYTE  0xCDu
#define UMM_SUFFIX_MIN     4u

/* Used-block prefix (section 5), offsets from the data area. */
#define UMM_PFX_REQUESTED  0
#define UMM_PFX_SEQ        4
#define UMM_PFX_OWNER      8
#define UMM_PFX_BYTES(P)   ((8 + (P) + 4 + 7) & ~7)

/* Instrumentation record (section 6), offsets from instr_off. */
#define UMM_REC_ALLOC_COUNT      0
#define UMM_REC_FREE_COUNT       4
#define UMM_REC_REALLOC_COUNT    8
#define UMM_REC_OOM_COUNT        12
#define UMM_REC_BAD_FREE_COUNT   16
#define UMM_REC_CORRUPTION_COUNT 20
#define UMM_REC_SEQ_NEXT         24
#define UMM_REC_USED_BLOCKS      28
#define UMM_REC_FREE_BLOCKS      32
#define UMM_REC_USED_UNITS       36
#define UMM_REC_FREE_UNITS       40
#define UMM_REC_MIN_FREE_UNITS   44
#define UMM_REC_PEAK_USED_UNITS  48
#define UMM_REC_REQUESTED_BYTES  52
#define UMM_REC_CHECK_CURSOR     56
#define UMM_REC_RESERVED         60
#define UMM_REC_FREE_SQ_SUM      64
#define UMM_REC_FAULT_KIND       72
#define UMM_REC_FAULT_OP         76
#define UMM_REC_FAULT_BLOCK      80
#define UMM_REC_FAULT_EXPECTED   84
#define UMM_REC_FAULT_FOUND      88
#define UMM_REC_FAULT_SEQ        92
#define UMM_REC_FAULT_ADDRESS    96
#define UMM_REC_FAULT_OWNER(P)   (96 + (P))
#define UMM_REC_BYTES(P)         (96 + 2 * (P))

/* Fault kinds (section 6). */
#define UMM_FAULT_NONE           0
#define UMM_FAULT_HEADER         1
#define UMM_FAULT_FREELIST       2
#define UMM_FAULT_UNDERRUN       3
#define UMM_FAULT_OVERRUN        4
#define UMM_FAULT_USE_AFTER_FREE 5
#define UMM_FAULT_DOUBLE_FREE    6
#define UMM_FAULT_INTERIOR_FREE  7
#define UMM_FAULT_FOREIGN_FREE   8
#define UMM_FAULT_WRONG_HEAP     9
#define UMM_FAULT_CONTROL        10

/* Operations that report faults. */
#define UMM_OP_MALLOC   1
#define UMM_OP_FREE     2
#define UMM_OP_REALLOC  3
#define UMM_OP_CHECK    4
#define UMM_OP_MEMALIGN 5

#endif /* UMM_FORMAT_H */
