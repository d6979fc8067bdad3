/*
 * hv_problem.c - names of problem kinds, operations and flags, and the
 * small arithmetic every decoder shares.
 */
#include "hv_heap.h"

#include <stdio.h>
#include <string.h>

#include "umm_format.h"

const char *hv_problem_kind_name(int kind)
{
    static const char *const names[] = {
        [UMM_FAULT_HEADER] = "header",
        [UMM_FAULT_FREELIST] = "freelist",
        [UMM_FAULT_UNDERRUN] = "underrun",
        [UMM_FAULT_OVERRUN] = "overrun",
        [UMM_FAULT_USE_AFTER_FREE] = "use_after_free",
        [UMM_FAULT_DOUBLE_FREE] = "double_free",
        [UMM_FAULT_INTERIOR_FREE] = "interior_free",
        [UMM_FAULT_FOREIGN_FREE] = "foreign_free",
        [UMM_FAULT_WRONG_HEAP] = "wrong_heap",
        [UMM_FAULT_CONTROL] = "control",
    };
    if (kind == HV_PROBLEM_UNREADABLE)
        return "unreadable";
    if (kind == HV_PROBLEM_TRUNCATED)
        return "truncated";
    if (kind > 0 && (size_t)kind < sizeof names / sizeof names[0] && names[kind])
        return names[kind];
    return "unknown";
}

const char *hv_op_name(unsigned op)
{
    switch (op) {
    case UMM_OP_MALLOC: return "malloc";
    case UMM_OP_FREE: return "free";
    case UMM_OP_REALLOC: return "realloc";
    case UMM_OP_CHECK: return "check";
    case UMM_OP_MEMALIGN: return "memalign";
    default: return "unknown";
    }
}

const char *hv_flag_name(unsigned bit)
{
    switch (bit) {
    case UMM_FLAG_METRICS: return "metrics";
    case UMM_FLAG_POISON: return "poison";
    case UMM_FLAG_OWNERS: return "owners";
    case UMM_FLAG_FILL: return "fill";
    case UMM_FLAG_BEST_FIT: return "best_fit";
    case UMM_FLAG_INTEGRITY: return "integrity";
    default: return NULL;
    }
}

void hv_flag_names(unsigned flags, const char *sep, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned bit = 1; bit <= 0x8000u && len > 0; bit <<= 1) {
        if (!(flags & bit))
            continue;
        const char *name = hv_flag_name(bit);
        char unknown[16];
        if (!name) {
            snprintf(unknown, sizeof unknown, "bit%u", (unsigned)__builtin_ctz(bit));
            name = unknown;
        }
        int n = snprintf(buf + used, len - used, "%s%s", used ? sep : "", name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

uint64_t hv_isqrt(uint64_t v)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > v)
        bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return r;
}

unsigned hv_size_class(uint32_t units, unsigned sl_log2)
{
    if (units < (1u << (sl_log2 + 1)))
        return units;
    unsigned f = 31u - (unsigned)__builtin_clz(units);
    unsigned s = sl_log2;
    return ((f - s) << s) + (units >> (f - s));
}
