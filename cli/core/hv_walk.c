/*
 * hv_walk.c - the physical block walk shared by both formats, with
 * resynchronisation after damage, plus problem bookkeeping and metrics.
 *
 * The walk trusts an edge b -> n only when n lies strictly after b, inside
 * the array, and n's header points back (prev(n) == b) or n itself is
 * consistent with its own successor.  Indices only increase, so the walk
 * ends after at most N steps whatever the bytes say.
 */
#include "hv_walk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umm_format.h"

struct hv_problem *walk_problem(struct hv_heap *h, int kind, uint64_t address, int64_t block,
                                const char *fmt, ...)
{
    if (h->problem_count >= HV_MAX_PROBLEMS && kind != HV_PROBLEM_TRUNCATED) {
        h->problems_truncated = 1;
        return NULL;
    }
    if (h->problem_count == h->problem_cap) {
        size_t cap = h->problem_cap ? h->problem_cap * 2 : 16;
        struct hv_problem *p = realloc(h->problems, cap * sizeof *p);
        if (!p)
            return NULL;
        h->problems = p;
        h->problem_cap = cap;
    }
    struct hv_problem *p = &h->problems[h->problem_count++];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->address = address;
    if (block >= 0) {
        p->has_block = 1;
        p->block = (uint32_t)block;
        struct hv_block *b = (struct hv_block *)hv_heap_block_at(h, (uint32_t)block);
        if (b)
            b->has_problem = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return p;
}

void walk_owner_text(const struct hv_heap *h, const struct hv_block_info *info, char *buf, size_t len)
{
    const char *name = NULL;
    if (info->has_owner && info->owner && h->opts && h->opts->owner_name)
        name = h->opts->owner_name(h->opts->owner_ctx, info->owner);
    if (name)
        snprintf(buf, len, "%s", name);
    else if (info->has_owner && info->owner)
        snprintf(buf, len, "0x%llx", (unsigned long long)info->owner);
    else
        snprintf(buf, len, "an unknown caller");
}

void walk_set_culprit(struct hv_heap *h, struct hv_problem *p, const struct hv_block *b)
{
    if (!p || !b)
        return;
    struct hv_block_info info;
    hv_block_detail(h, b, &info);
    p->has_culprit = 1;
    p->culprit.block = b->index;
    p->culprit.address = info.address;
    p->culprit.has_owner = info.has_owner;
    p->culprit.owner = info.owner;
    p->culprit.has_seq = info.has_seq;
    p->culprit.seq = info.seq;
    p->culprit.owner_name[0] = '\0';
    if (info.has_owner && info.owner && h->opts && h->opts->owner_name) {
        const char *name = h->opts->owner_name(h->opts->owner_ctx, info.owner);
        if (name)
            snprintf(p->culprit.owner_name, sizeof p->culprit.owner_name, "%s", name);
    }
}

uint8_t *walk_bitmap_new(uint64_t bits)
{
    return calloc((size_t)(bits / 8 + 1), 1);
}

uint64_t walk_mark_free_starts(const struct hv_heap *h, uint8_t *starts)
{
    uint64_t free_blocks = 0;
    for (size_t i = 0; i < h->block_count; i++) {
        if (h->blocks[i].state == HV_BLOCK_FREE) {
            bit_set(starts, h->blocks[i].index);
            free_blocks++;
        }
    }
    return free_blocks;
}

uint64_t walk_count_not(const struct hv_heap *h, uint64_t off, uint64_t len, uint8_t value,
                        uint64_t *first, uint64_t *last)
{
    const uint8_t *p = h->mem.data + off;
    uint64_t bad = 0;
    uint64_t i = 0;
    uint64_t pattern = 0x0101010101010101ull * value;
    while (i < len) {
        /* Skip whole words that match: free-block fill is most of a heap. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w == pattern) {
                i += 8;
                continue;
            }
        }
        if (p[i] != value) {
            if (bad == 0)
                *first = off + i;
            *last = off + i;
            bad++;
        }
        i++;
    }
    return bad;
}

int walk_load(struct hv_heap *h, struct hv_snapshot *snap, uint64_t total)
{
    uint64_t have = total;
    size_t count;
    const struct hv_range *ranges = hv_source_ranges(snap->src, &count);
    if (count > 0) {
        /* Up to the end of the last range that holds any of the heap; the
         * gaps before it become holes the walk reports and steps over. */
        uint64_t end = h->address;
        for (size_t i = 0; i < count; i++) {
            const struct hv_range *r = &ranges[i];
            uint64_t r_end = r->address + r->length;
            if (r_end > h->address && r->address < h->address + total && r_end > end)
                end = r_end;
        }
        have = end - h->address < total ? end - h->address : total;
    } else if (have > (512u << 20)) {
        have = 512u << 20;  /* a live target: never ask for more than this at once */
    }
    if (have == 0)
        return -1;
    const struct hv_span *span = hv_snapshot_load(snap, h->address, have);
    if (!span)
        return -1;
    h->mem = *span;
    if (h->mem.address != h->address) {
        /* An earlier, larger span holds these bytes: view into it. */
        uint64_t off = h->address - span->address;
        h->mem.data = span->data + off;
        h->mem.address = h->address;
        h->mem.length = have;
        h->mem.hole_map = NULL;
        h->mem.owned = NULL;
        if (span->hole_map && !hv_span_readable(span, off, have))
            return -1;
    }
    if (have < total) {
        walk_problem(h, HV_PROBLEM_UNREADABLE, h->address + have, -1,
                     "%llu bytes at 0x%llx are not in the dump (the heap needs 0x%llx+%llu)",
                     (unsigned long long)(total - have), (unsigned long long)(h->address + have),
                     (unsigned long long)h->address, (unsigned long long)total);
    }
    if (h->mem.hole_map) {
        uint64_t grains = (h->mem.length + HV_SNAP_GRAIN - 1) / HV_SNAP_GRAIN;
        for (uint64_t g = 0; g < grains;) {
            if (!h->mem.hole_map[g]) {
                g++;
                continue;
            }
            uint64_t start = g * HV_SNAP_GRAIN;
            while (g < grains && h->mem.hole_map[g])
                g++;
            uint64_t end = g * HV_SNAP_GRAIN < h->mem.length ? g * HV_SNAP_GRAIN : h->mem.length;
            walk_problem(h, HV_PROBLEM_UNREADABLE, h->address + start, -1,
                         "%llu bytes at 0x%llx could not be read from '%s'", (unsigned long long)(end - start),
                         (unsigned long long)(h->address + start), snap->src->name);
        }
    }
    return 0;
}

static int add_block(struct hv_heap *h, uint32_t index, uint32_t units, int is_free)
{
    if (h->block_count == h->block_cap) {
        size_t cap = h->block_cap ? h->block_cap * 2 : 256;
        struct hv_block *b = realloc(h->blocks, cap * sizeof *b);
        if (!b)
            return -1;
        h->blocks = b;
        h->block_cap = cap;
    }
    struct hv_block *b = &h->blocks[h->block_count++];
    b->index = index;
    b->units = units;
    b->state = is_free ? HV_BLOCK_FREE : HV_BLOCK_USED;
    b->has_problem = 0;
    return 0;
}

static int add_gap(struct hv_heap *h, uint32_t first, uint32_t units, int kind)
{
    if (h->gap_count == h->gap_cap) {
        size_t cap = h->gap_cap ? h->gap_cap * 2 : 8;
        struct hv_gap *g = realloc(h->gaps, cap * sizeof *g);
        if (!g)
            return -1;
        h->gaps = g;
        h->gap_cap = cap;
    }
    h->gaps[h->gap_count++] = (struct hv_gap){ first, units, kind };
    return 0;
}

/* Is unit u a plausible block start: its successor lies ahead and points
 * back at it? */
static int plausible_block(const struct hv_heap *h, uint64_t u)
{
    uint64_t n = h->unit_count;
    if (!walk_hdr_readable(h, u))
        return 0;
    if (u == n - 1)
        return walk_next_raw(h, u) == 0 && walk_prev(h, u) < u;
    uint64_t nx = walk_next_raw(h, u) & ~h->free_flag;
    if (nx <= u || nx >= n || walk_prev(h, u) >= u || !walk_hdr_readable(h, nx))
        return 0;
    return walk_prev(h, nx) == u;
}

/* The first plausible block at or after unit `from` (N when none). */
static uint64_t resync(const struct hv_heap *h, uint64_t from)
{
    uint64_t r = from;
    while (r < h->unit_count && !plausible_block(h, r))
        r++;
    return r;
}

static const struct hv_block *last_used_before(const struct hv_heap *h, uint64_t u)
{
    if (h->block_count == 0)
        return NULL;
    const struct hv_block *b = &h->blocks[h->block_count - 1];
    return b->state == HV_BLOCK_USED && b->index < u ? b : NULL;
}

int walk_blocks(struct hv_heap *h, uint32_t min_units)
{
    uint64_t n = h->unit_count;
    uint64_t cur = 0;
    int resynced = 0;
    h->walk_complete = 0;
    if (n < 2)
        return 0;
    if (!walk_hdr_readable(h, 0)) {
        walk_problem(h, HV_PROBLEM_UNREADABLE, walk_unit_address(h, 0), 0,
                     "the head sentinel (unit 0) is not in the dump");
    } else {
        uint64_t raw = walk_next_raw(h, 0);
        if ((raw & h->free_flag) || walk_prev(h, 0) != 0 || raw == 0)
            walk_problem(h, UMM_FAULT_HEADER, walk_unit_address(h, 0), 0,
                         "head sentinel broken: next = 0x%llx, prev = 0x%llx (want next >= 1, "
                         "prev = 0, not free)",
                         (unsigned long long)raw, (unsigned long long)walk_prev(h, 0));
    }
    for (uint64_t steps = 0; steps <= n; steps++) {
        int ok = 0;
        uint64_t nx = 0, raw = 0;
        size_t pending = SIZE_MAX;   /* problem whose culprit is cur, once recorded */
        int smashed = 0;             /* nx's header is damaged, cur's is sound */
        int unreadable = !walk_hdr_readable(h, cur);
        if (!unreadable && cur == n - 1) {
            raw = walk_next_raw(h, cur);
            if (raw != 0)
                walk_problem(h, UMM_FAULT_HEADER, walk_unit_address(h, cur), (int64_t)cur,
                             "end marker (unit %llu) has next = 0x%llx, want 0",
                             (unsigned long long)cur, (unsigned long long)raw);
            h->walk_complete = !resynced;
            return 0;
        }
        if (!unreadable) {
            raw = walk_next_raw(h, cur);
            nx = raw & ~h->free_flag;
            ok = nx > cur && nx < n;
            if (ok && walk_hdr_readable(h, nx) && walk_prev(h, nx) != cur) {
                if (plausible_block(h, nx)) {
                    struct hv_problem *p =
                        walk_problem(h, UMM_FAULT_HEADER, walk_unit_address(h, nx) + h->index_bytes,
                                     (int64_t)nx, "block %llu: prev = %llu, want %llu",
                                     (unsigned long long)nx, (unsigned long long)walk_prev(h, nx),
                                     (unsigned long long)cur);
                    if (p)
                        pending = (size_t)(p - h->problems);
                } else {
                    /* Either cur's next is wrong (a block pointing back at
                     * cur lies before nx) or nx's header is smashed. */
                    uint64_t r = cur + 1;
                    while (r < nx && !(plausible_block(h, r) && walk_prev(h, r) == cur))
                        r++;
                    if (r < nx) {
                        struct hv_problem *p = walk_problem(
                            h, UMM_FAULT_HEADER, walk_unit_address(h, cur), (int64_t)cur,
                            "block %llu: next = %llu, but block %llu follows it", (unsigned long long)cur,
                            (unsigned long long)nx, (unsigned long long)r);
                        walk_set_culprit(h, p, last_used_before(h, cur));
                        nx = r;
                        raw = (raw & h->free_flag) | r;
                    } else {
                        smashed = 1;
                    }
                }
            }
        }
        if (ok) {
            if (cur != 0) {
                uint32_t units = (uint32_t)(nx - cur);
                int is_free = (raw & h->free_flag) != 0;
                /* copy, not a pointer: add_block may move the array */
                struct hv_block prev_copy = h->block_count ? h->blocks[h->block_count - 1] : (struct hv_block){ 0 };
                const struct hv_block *prev = h->block_count ? &prev_copy : NULL;
                if (add_block(h, (uint32_t)cur, units, is_free) < 0)
                    return -1;
                /* prev(nx) damaged: the allocation just before nx overran it. */
                if (pending != SIZE_MAX && !is_free)
                    walk_set_culprit(h, &h->problems[pending], &h->blocks[h->block_count - 1]);
                if (units < min_units)
                    walk_problem(h, UMM_FAULT_HEADER, walk_unit_address(h, cur), (int64_t)cur,
                                 "block %llu is %u unit%s long, less than the smallest block (%u)",
                                 (unsigned long long)cur, units, units == 1 ? "" : "s", min_units);
                if (is_free && prev && prev->state == HV_BLOCK_FREE && prev->index + prev->units == cur)
                    walk_problem(h, UMM_FAULT_HEADER, walk_unit_address(h, cur), (int64_t)cur,
                                 "free block %llu follows free block %u: free blocks are always merged",
                                 (unsigned long long)cur, prev->index);
            }
            if (!smashed) {
                cur = nx;
                continue;
            }
            /* nx's header is smashed: cur is sound and ends where nx begins. */
            uint64_t r = resync(h, nx + 1);
            struct hv_problem *p = walk_problem(
                h, UMM_FAULT_HEADER, walk_unit_address(h, nx), (int64_t)nx,
                "block %llu: header smashed (next = 0x%llx, prev = 0x%llx, want prev = %llu); could not "
                "decode %llu bytes at 0x%llx (units %llu..%llu)", (unsigned long long)nx,
                (unsigned long long)walk_next_raw(h, nx), (unsigned long long)walk_prev(h, nx),
                (unsigned long long)cur, (unsigned long long)((r - nx) * h->unit_bytes),
                (unsigned long long)walk_unit_address(h, nx), (unsigned long long)nx,
                (unsigned long long)(r - 1));
            walk_set_culprit(h, p, last_used_before(h, nx));
            if (add_gap(h, (uint32_t)nx, (uint32_t)(r - nx), UMM_FAULT_HEADER) < 0)
                return -1;
            resynced = 1;
            if (r >= n) {
                walk_problem(h, HV_PROBLEM_TRUNCATED, walk_unit_address(h, nx), -1,
                             "walk stopped at unit %llu: no readable block follows", (unsigned long long)nx);
                return 0;
            }
            cur = r;
            continue;
        }
        /* cur's header cannot be trusted: find the next plausible block. */
        uint64_t r = resync(h, cur + 1);
        struct hv_problem *p;
        uint64_t span_bytes = (r - cur) * h->unit_bytes;
        if (unreadable) {
            p = walk_problem(h, HV_PROBLEM_UNREADABLE, walk_unit_address(h, cur), (int64_t)cur,
                             "block header at unit %llu is not in the dump; skipped %llu bytes "
                             "(units %llu..%llu)", (unsigned long long)cur,
                             (unsigned long long)span_bytes, (unsigned long long)cur,
                             (unsigned long long)(r - 1));
        } else {
            p = walk_problem(h, UMM_FAULT_HEADER, walk_unit_address(h, cur), (int64_t)cur,
                             "block %llu: next = 0x%llx does not lead to a block; could not decode "
                             "%llu bytes at 0x%llx (units %llu..%llu)", (unsigned long long)cur,
                             (unsigned long long)raw, (unsigned long long)span_bytes,
                             (unsigned long long)walk_unit_address(h, cur), (unsigned long long)cur,
                             (unsigned long long)(r - 1));
            /* An overrun from the allocation just before is the usual cause. */
            walk_set_culprit(h, p, last_used_before(h, cur));
        }
        if (add_gap(h, (uint32_t)cur, (uint32_t)(r - cur), unreadable ? HV_PROBLEM_UNREADABLE
                                                                     : UMM_FAULT_HEADER) < 0)
            return -1;
        resynced = 1;
        if (r >= n) {
            walk_problem(h, HV_PROBLEM_TRUNCATED, walk_unit_address(h, cur), -1,
                         "walk stopped at unit %llu: no readable block follows",
                         (unsigned long long)cur);
            return 0;
        }
        cur = r;
    }
    walk_problem(h, HV_PROBLEM_TRUNCATED, walk_unit_address(h, cur), -1,
                 "walk stopped after %llu steps", (unsigned long long)n);
    return 0;
}

static int problem_cmp(const void *a, const void *b)
{
    const struct hv_problem *x = a, *y = b;
    /* truncation notes last, then by address */
    int tx = x->kind == HV_PROBLEM_TRUNCATED, ty = y->kind == HV_PROBLEM_TRUNCATED;
    if (tx != ty)
        return tx - ty;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    return x->kind - y->kind;
}

void walk_mark_problems(struct hv_heap *h)
{
    /* Problems in address order; qsort is not stable, the key is total
     * enough (address, kind) for deterministic output. */
    if (h->problem_count > 1)
        qsort(h->problems, h->problem_count, sizeof *h->problems, problem_cmp);
    for (size_t i = 0; i < h->problem_count; i++) {
        if (!h->problems[i].has_block)
            continue;
        struct hv_block *b = (struct hv_block *)hv_heap_block_at(h, h->problems[i].block);
        if (b)
            b->has_problem = 1;
    }
}

void walk_metrics(struct hv_heap *h, uint64_t overhead)
{
    struct hv_metrics *m = &h->metrics;
    int has_requested = m->has_requested;
    uint64_t requested = m->requested_bytes;
    memset(m, 0, sizeof *m);
    m->has_requested = has_requested;
    m->requested_bytes = requested;
    uint64_t largest_units = 0;
    for (size_t i = 0; i < h->block_count; i++) {
        const struct hv_block *b = &h->blocks[i];
        if (b->state == HV_BLOCK_FREE) {
            m->free_entries++;
            m->free_units += b->units;
            m->free_sq_units += (uint64_t)b->units * b->units;
            if (b->units > largest_units)
                largest_units = b->units;
        } else {
            m->used_entries++;
            m->used_units += b->units;
        }
    }
    m->used_bytes = m->used_units * h->unit_bytes;
    m->free_bytes = m->free_units * h->unit_bytes;
    m->largest_free = largest_units * h->unit_bytes;
    m->largest_alloc = m->largest_free > overhead ? m->largest_free - overhead : 0;
    if (m->free_units)
        m->fragmentation = (unsigned)(100 - hv_isqrt(m->free_sq_units) * 100 / m->free_units);
}

const struct hv_block *hv_heap_block_at(const struct hv_heap *h, uint32_t index)
{
    size_t lo = 0, hi = h->block_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->blocks[mid].index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->block_count && h->blocks[lo].index == index ? &h->blocks[lo] : NULL;
}

const struct hv_block *hv_heap_block_containing(const struct hv_heap *h, uint64_t addr)
{
    if (addr < h->blocks_address)
        return NULL;
    uint64_t u = (addr - h->blocks_address) / h->unit_bytes;
    if (u > UINT32_MAX)
        return NULL;
    size_t lo = 0, hi = h->block_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->blocks[mid].index <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct hv_block *b = &h->blocks[lo - 1];
    return u < (uint64_t)b->index + b->units ? b : NULL;
}

void hv_heap_free(struct hv_heap *h)
{
    free(h->blocks);
    free(h->gaps);
    free(h->problems);
    memset(h, 0, sizeof *h);
}
