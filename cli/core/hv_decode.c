/*
 * hv_decode.c - decoder and checker for heapview format v1 (lib/FORMAT.md):
 * the control block (section 2), blocks (3), free lists and bitmap (4),
 * prefixes and canaries (5), the instrumentation record (6), every
 * invariant of section 7.  Dump bytes are hostile: every offset is checked
 * before use and nothing is written to the snapshot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_walk.h"
#include "umm_format.h"

static uint64_t mem_rd(const struct hv_heap *h, uint64_t off, unsigned width)
{
    return hv_rdn(h->mem.data + off, width, h->big_endian);
}

static uint32_t mem_rd32(const struct hv_heap *h, uint64_t off)
{
    return hv_rd32(h->mem.data + off, h->big_endian);
}

static int mem_ok(const struct hv_heap *h, uint64_t off, uint64_t len)
{
    return hv_span_readable(&h->mem, off, len);
}

void hv_block_detail(const struct hv_heap *h, const struct hv_block *b, struct hv_block_info *out)
{
    memset(out, 0, sizeof *out);
    out->address = h->blocks_address + (uint64_t)b->index * h->unit_bytes;
    out->size = (uint64_t)b->units * h->unit_bytes;
    out->data_address = out->address + h->hdr_bytes;
    out->user_address = out->data_address;
    if (b->state != HV_BLOCK_USED)
        return;
    uint64_t d = h->blocks_off + (uint64_t)b->index * h->unit_bytes + h->hdr_bytes;
    if (h->format == HV_FORMAT_UPSTREAM) {
        if (h->opts && h->opts->upstream_poison && mem_ok(h, d, 2)) {
            uint32_t total = (uint32_t)mem_rd(h, d, 2);
            out->user_address = out->data_address + 6;
            out->has_requested = 1;
            out->requested = total >= 10 ? total - 10 : 0;
        }
        return;
    }
    if (h->prefix_bytes == 0)
        return;
    out->user_address = out->data_address + h->prefix_bytes;
    if (!mem_ok(h, d, 8 + h->ptr_bytes))
        return;
    out->has_requested = 1;
    out->requested = mem_rd32(h, d + UMM_PFX_REQUESTED);
    if (h->flags & UMM_FLAG_OWNERS) {
        out->has_seq = out->has_owner = 1;
        out->seq = mem_rd32(h, d + UMM_PFX_SEQ);
        out->owner = mem_rd(h, d + UMM_PFX_OWNER, h->ptr_bytes);
    }
}

/* Reads and checks the control block.  Returns -1 (with err) when there is
 * no heapview control block at h->address, 1 when it is too damaged to
 * walk (problems say why), 0 when the walk can go ahead. */
static int read_control(struct hv_heap *h, struct hv_snapshot *snap, char *err, size_t errlen)
{
    uint8_t fixed[UMM_CTL_FIXED_BYTES(8)];
    if (hv_snapshot_read(snap, h->address, fixed, UMM_CTL_FIXED_BYTES(4)) < 0) {
        snprintf(err, errlen, "cannot read a control block at 0x%llx: %s",
                 (unsigned long long)h->address, snap->src->error);
        return -1;
    }
    uint32_t magic_le = hv_rd32(fixed, 0);
    if (magic_le == UMM_FMT_MAGIC)
        h->big_endian = 0;
    else if (hv_rd32(fixed, 1) == UMM_FMT_MAGIC)
        h->big_endian = 1;
    else {
        snprintf(err, errlen, "no heapview control block at 0x%llx (magic 0x%08x)",
                 (unsigned long long)h->address, magic_le);
        return -1;
    }
    int be = h->big_endian;
    h->ptr_bytes = fixed[UMM_CTL_PTR_BYTES];
    h->index_bytes = fixed[UMM_CTL_INDEX_BYTES];
    unsigned version = fixed[UMM_CTL_VERSION];
    if (version != UMM_FMT_VERSION) {
        snprintf(err, errlen, "control block at 0x%llx has format version %u, this tool reads %u",
                 (unsigned long long)h->address, version, UMM_FMT_VERSION);
        return -1;
    }
    if (h->ptr_bytes != 4 && h->ptr_bytes != 8) {
        snprintf(err, errlen, "control block at 0x%llx has ptr_bytes %u", (unsigned long long)h->address,
                 h->ptr_bytes);
        return -1;
    }
    unsigned p = h->ptr_bytes;
    if (p == 8 && hv_snapshot_read(snap, h->address, fixed, UMM_CTL_FIXED_BYTES(8)) < 0) {
        snprintf(err, errlen, "cannot read a control block at 0x%llx: %s",
                 (unsigned long long)h->address, snap->src->error);
        return -1;
    }
    h->self = hv_rdn(fixed + UMM_CTL_SELF, p, be);
    if (h->self != h->address) {
        snprintf(err, errlen, "control block at 0x%llx names itself 0x%llx",
                 (unsigned long long)h->address, (unsigned long long)h->self);
        return -1;
    }
    h->unit_log2 = fixed[UMM_CTL_UNIT_LOG2];
    h->flags = hv_rd16(fixed + UMM_CTL_FLAGS, be);
    h->ctl_bytes = hv_rd16(fixed + UMM_CTL_CTL_BYTES, be);
    h->unit_count = hv_rd32(fixed + UMM_CTL_UNIT_COUNT, be);
    h->size = hv_rd32(fixed + UMM_CTL_REGION_BYTES, be);
    h->class_count = fixed[UMM_CTL_CLASS_COUNT];
    h->sl_log2 = fixed[UMM_CTL_SL_LOG2];
    h->bitmap_off = hv_rd16(fixed + UMM_CTL_BITMAP_OFF, be);
    h->bins_off = hv_rd16(fixed + UMM_CTL_BINS_OFF, be);
    h->instr_off = hv_rd16(fixed + UMM_CTL_INSTR_OFF, be);
    h->prefix_bytes = fixed[UMM_CTL_PREFIX_BYTES];
    h->suffix_bytes = fixed[UMM_CTL_SUFFIX_BYTES];
    h->reserved = hv_rd16(fixed + UMM_CTL_RESERVED, be);
    h->next_heap = hv_rdn(fixed + UMM_CTL_NEXT_HEAP(p), p, be);
    h->region = hv_rdn(fixed + UMM_CTL_REGION(p), p, be);
    h->unit_bytes = UMM_FMT_UNIT_BYTES;

    uint64_t a = h->address;
    int fatal = 0;
    if (h->index_bytes != 2 && h->index_bytes != 4) {
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_INDEX_BYTES, -1,
                     "control block: index_bytes = %u, want 2 or 4", h->index_bytes);
        fatal = 1;
        h->index_bytes = 2;
    }
    h->hdr_bytes = 2 * h->index_bytes;
    h->free_flag = h->index_bytes == 2 ? 0x8000u : 0x80000000u;
    if (h->unit_log2 != UMM_FMT_UNIT_LOG2)
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_UNIT_LOG2, -1,
                     "control block: unit_log2 = %u, want %u", h->unit_log2, UMM_FMT_UNIT_LOG2);
    if (h->ctl_bytes < UMM_CTL_FIXED_BYTES(p)) {
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_CTL_BYTES, -1,
                     "control block: ctl_bytes = %u is smaller than the control block (%u)",
                     h->ctl_bytes, UMM_CTL_FIXED_BYTES(p));
        fatal = 1;
    }
    uint64_t max_units = h->index_bytes == 2 ? UMM_FMT_NARROW_MAX_UNITS : UMM_FMT_WIDE_MAX_UNITS;
    if (h->unit_count < 3 || h->unit_count > max_units) {
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_UNIT_COUNT, -1,
                     "control block: unit_count = %u is outside 3..%llu", h->unit_count,
                     (unsigned long long)max_units);
        fatal = 1;
    }
    if (h->region > a || a - h->region >= 8 ||
        a - h->region + h->ctl_bytes + (uint64_t)h->unit_count * 8 > h->size)
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_REGION_BYTES, -1,
                     "control block: %u units after %u bytes of control do not fit the %llu-byte "
                     "region at 0x%llx", h->unit_count, h->ctl_bytes, (unsigned long long)h->size,
                     (unsigned long long)h->region);
    if ((a + h->ctl_bytes + h->hdr_bytes) % 8 != 0)
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_CTL_BYTES, -1,
                     "control block: ctl_bytes = %u leaves block data areas unaligned", h->ctl_bytes);
    if (h->sl_log2 != UMM_FMT_SL_LOG2) {
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_SL_LOG2, -1,
                     "control block: sl_log2 = %u, want %u", h->sl_log2, UMM_FMT_SL_LOG2);
        h->sl_log2 = UMM_FMT_SL_LOG2;
    }
    if (!fatal) {
        unsigned want = hv_size_class(h->unit_count - 2, h->sl_log2) + 1;
        if (h->class_count != want)
            walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_CLASS_COUNT, -1,
                         "control block: class_count = %u, want %u for %u units", h->class_count,
                         want, h->unit_count);
    }
    unsigned bitmap_len = 4 * (1 + (h->class_count + 31) / 32);
    if (h->bitmap_off < UMM_CTL_FIXED_BYTES(p) || h->bitmap_off + bitmap_len > h->ctl_bytes)
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_BITMAP_OFF, -1,
                     "control block: bitmap at +%u (%u bytes) lies outside the control area (%u)",
                     h->bitmap_off, bitmap_len, h->ctl_bytes);
    if (h->bins_off < UMM_CTL_FIXED_BYTES(p) ||
        h->bins_off + h->class_count * h->index_bytes > h->ctl_bytes)
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_BINS_OFF, -1,
                     "control block: bins at +%u lie outside the control area (%u)", h->bins_off,
                     h->ctl_bytes);
    if (h->instr_off != 0 && (h->instr_off < UMM_CTL_FIXED_BYTES(p) ||
                              h->instr_off + UMM_REC_BYTES(p) > h->ctl_bytes)) {
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_INSTR_OFF, -1,
                     "control block: record at +%u lies outside the control area (%u)",
                     h->instr_off, h->ctl_bytes);
        h->instr_off = 0;
    }
    int wants_prefix = (h->flags & (UMM_FLAG_POISON | UMM_FLAG_OWNERS)) != 0;
    if (wants_prefix != (h->prefix_bytes != 0) ||
        (h->prefix_bytes != 0 && h->prefix_bytes != UMM_PFX_BYTES(p)) ||
        (h->prefix_bytes != 0 && h->suffix_bytes < UMM_SUFFIX_MIN)) {
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_PREFIX_BYTES, -1,
                     "control block: prefix_bytes = %u, suffix_bytes = %u do not match flags 0x%x",
                     h->prefix_bytes, h->suffix_bytes, h->flags);
        if (h->prefix_bytes != 0 && h->prefix_bytes != UMM_PFX_BYTES(p))
            h->prefix_bytes = 0;   /* do not read user data as prefixes */
    }
    if (h->reserved != 0)
        walk_problem(h, UMM_FAULT_CONTROL, a + UMM_CTL_RESERVED, -1,
                     "control block: reserved = 0x%x, want 0", h->reserved);
    return fatal;
}

static void check_used_block(struct hv_heap *h, struct hv_block *b)
{
    uint64_t start = h->blocks_off + (uint64_t)b->index * 8;
    uint64_t end = start + (uint64_t)b->units * 8;
    uint64_t d = start + h->hdr_bytes;
    unsigned p = h->ptr_bytes;
    if (end <= d || !mem_ok(h, d, end - d))
        return;
    struct hv_block_info info;
    hv_block_detail(h, b, &info);
    char owner[128];
    walk_owner_text(h, &info, owner, sizeof owner);
    uint64_t capacity = end - d;
    if (capacity < (uint64_t)h->prefix_bytes + h->suffix_bytes) {
        walk_problem(h, UMM_FAULT_HEADER, h->address + start, b->index,
                     "used block %u is too small to hold a prefix", b->index);
        return;
    }
    capacity -= h->prefix_bytes + h->suffix_bytes;
    uint64_t first = 0, last = 0;
    uint64_t bad = walk_count_not(h, d + 8 + p, h->prefix_bytes - 8 - p, UMM_CANARY_BYTE, &first, &last);
    if (bad) {
        struct hv_problem *pr = walk_problem(
            h, UMM_FAULT_UNDERRUN, h->address + first, b->index,
            "%llu byte%s changed, up to %llu byte%s before the %u-byte region allocated by %s",
            (unsigned long long)bad, bad == 1 ? "" : "s", (unsigned long long)(d + h->prefix_bytes - first),
            d + h->prefix_bytes - first == 1 ? "" : "s", info.requested, owner);
        walk_set_culprit(h, pr, b);
    }
    if (info.requested > capacity) {
        struct hv_problem *pr = walk_problem(
            h, UMM_FAULT_UNDERRUN, h->address + d, b->index,
            "block %u: requested size %u exceeds the block's capacity %llu (prefix damaged)",
            b->index, info.requested, (unsigned long long)capacity);
        walk_set_culprit(h, pr, b);
        return;
    }
    uint64_t post = d + h->prefix_bytes + info.requested;
    bad = walk_count_not(h, post, end - post, UMM_CANARY_BYTE, &first, &last);
    if (bad) {
        struct hv_problem *pr = walk_problem(
            h, UMM_FAULT_OVERRUN, h->address + first, b->index,
            "%llu byte%s after the %u-byte region allocated by %s", (unsigned long long)(last - post + 1),
            last == post ? "" : "s", info.requested, owner);
        walk_set_culprit(h, pr, b);
    }
}

static void check_free_fill(struct hv_heap *h, struct hv_block *b)
{
    uint64_t start = h->blocks_off + (uint64_t)b->index * 8;
    uint64_t end = start + (uint64_t)b->units * 8;
    uint64_t fill = start + 2u * h->hdr_bytes;   /* header, then the two links */
    if (end <= fill || !mem_ok(h, fill, end - fill))
        return;
    uint64_t first = 0, last = 0;
    uint64_t bad = walk_count_not(h, fill, end - fill, UMM_FREE_FILL_BYTE, &first, &last);
    if (bad)
        walk_problem(h, UMM_FAULT_USE_AFTER_FREE, h->address + first, b->index,
                     "%llu byte%s of free block %u (%llu bytes) changed after it was freed, "
                     "first at +%llu", (unsigned long long)bad, bad == 1 ? "" : "s", b->index,
                     (unsigned long long)b->units * 8, (unsigned long long)(first - start));
}

static const struct hv_block *block_before(const struct hv_heap *h, uint32_t index)
{
    const struct hv_block *b = hv_heap_block_at(h, index);
    if (!b || b == h->blocks)
        return NULL;
    return b - 1;
}

static void check_free_lists(struct hv_heap *h)
{
    uint64_t n = h->unit_count;
    unsigned ib = h->index_bytes;
    unsigned classes = h->class_count;
    if (h->bins_off + (uint64_t)classes * ib > h->ctl_bytes || !mem_ok(h, h->bins_off, (uint64_t)classes * ib))
        return;
    uint8_t *free_start = walk_bitmap_new(n), *on_list = walk_bitmap_new(n);
    if (!free_start || !on_list)
        goto out;
    uint64_t free_blocks = walk_mark_free_starts(h, free_start), members = 0;
    for (unsigned c = 0; c < classes; c++) {
        uint64_t m = mem_rd(h, h->bins_off + (uint64_t)c * ib, ib), prev = 0;
        uint64_t link_addr = h->address + h->bins_off + (uint64_t)c * ib;
        for (uint64_t steps = 0; m != 0; steps++) {
            if (steps > n || m >= n || !bit_get(free_start, m)) {
                struct hv_problem *pr = walk_problem(
                    h, UMM_FAULT_FREELIST, link_addr, prev ? (int64_t)prev : -1,
                    "free list %u: %s links to unit %llu, which is not a free block", c,
                    prev ? "a block" : "the bin", (unsigned long long)m);
                if (prev) {
                    const struct hv_block *before = block_before(h, (uint32_t)prev);
                    if (before && before->state == HV_BLOCK_USED)
                        walk_set_culprit(h, pr, before);
                }
                break;
            }
            if (bit_get(on_list, m)) {
                walk_problem(h, UMM_FAULT_FREELIST, link_addr, (int64_t)m,
                             "free list %u: block %llu is listed twice (a cycle or a shared link)", c,
                             (unsigned long long)m);
                break;
            }
            bit_set(on_list, m);
            members++;
            uint64_t d = h->blocks_off + m * 8 + h->hdr_bytes;
            const struct hv_block *blk = hv_heap_block_at(h, (uint32_t)m);
            unsigned want = hv_size_class(blk->units, h->sl_log2);
            if (want != c)
                walk_problem(h, UMM_FAULT_FREELIST, walk_unit_address(h, m), (int64_t)m,
                             "free block %llu (%u units) is in list %u, belongs in %u",
                             (unsigned long long)m, blk->units, c, want);
            if (!mem_ok(h, d, 2u * ib))
                break;
            uint64_t back = mem_rd(h, d + ib, ib);
            if (back != prev) {
                struct hv_problem *pr = walk_problem(
                    h, UMM_FAULT_FREELIST, h->address + d + ib, (int64_t)m,
                    "free list %u: block %llu has prev_free = %llu, want %llu", c,
                    (unsigned long long)m, (unsigned long long)back, (unsigned long long)prev);
                const struct hv_block *before = block_before(h, (uint32_t)m);
                if (before && before->state == HV_BLOCK_USED)
                    walk_set_culprit(h, pr, before);
            }
            prev = m;
            link_addr = h->address + d;
            m = mem_rd(h, d, ib);
        }
    }
    if (members != free_blocks) {
        for (size_t i = 0; i < h->block_count; i++) {
            const struct hv_block *b = &h->blocks[i];
            if (b->state == HV_BLOCK_FREE && !bit_get(on_list, b->index)) {
                struct hv_problem *pr = walk_problem(
                    h, UMM_FAULT_FREELIST, walk_unit_address(h, b->index), b->index,
                    "free block %u (%u units) is on no free list", b->index, b->units);
                if (i > 0 && h->blocks[i - 1].state == HV_BLOCK_USED)
                    walk_set_culprit(h, pr, &h->blocks[i - 1]);
            }
        }
    }
    /* Bitmap: one summary word, then a bit per class. */
    unsigned words = (classes + 31) / 32;
    if (h->bitmap_off + 4u * (1 + words) <= h->ctl_bytes && mem_ok(h, h->bitmap_off, 4u * (1 + words))) {
        uint32_t summary = mem_rd32(h, h->bitmap_off), want_summary = 0;
        for (unsigned w = 0; w < words; w++) {
            uint32_t word = mem_rd32(h, h->bitmap_off + 4u * (1 + w)), want = 0;
            for (unsigned bit = 0; bit < 32 && w * 32 + bit < classes; bit++) {
                if (mem_rd(h, h->bins_off + (uint64_t)(w * 32 + bit) * ib, ib) != 0)
                    want |= 1u << bit;
            }
            if (word != want)
                walk_problem(h, UMM_FAULT_FREELIST, h->address + h->bitmap_off + 4u * (1 + w), -1,
                             "bitmap word %u is 0x%08x, the bins say 0x%08x", w, word, want);
            if (word)
                want_summary |= 1u << (w & 31);
        }
        if (summary != want_summary)
            walk_problem(h, UMM_FAULT_FREELIST, h->address + h->bitmap_off, -1,
                         "bitmap summary is 0x%08x, the words say 0x%08x", summary, want_summary);
    }
out:
    free(free_start);
    free(on_list);
}

static void read_record(struct hv_heap *h)
{
    unsigned p = h->ptr_bytes;
    uint64_t r = h->instr_off;
    if (r == 0 || !mem_ok(h, r, UMM_REC_BYTES(p)))
        return;
    struct hv_record *rec = &h->record;
    h->has_record = 1;
    rec->alloc_count = mem_rd32(h, r + UMM_REC_ALLOC_COUNT);
    rec->free_count = mem_rd32(h, r + UMM_REC_FREE_COUNT);
    rec->realloc_count = mem_rd32(h, r + UMM_REC_REALLOC_COUNT);
    rec->oom_count = mem_rd32(h, r + UMM_REC_OOM_COUNT);
    rec->bad_free_count = mem_rd32(h, r + UMM_REC_BAD_FREE_COUNT);
    rec->corruption_count = mem_rd32(h, r + UMM_REC_CORRUPTION_COUNT);
    rec->seq_next = mem_rd32(h, r + UMM_REC_SEQ_NEXT);
    rec->used_blocks = mem_rd32(h, r + UMM_REC_USED_BLOCKS);
    rec->free_blocks = mem_rd32(h, r + UMM_REC_FREE_BLOCKS);
    rec->used_units = mem_rd32(h, r + UMM_REC_USED_UNITS);
    rec->free_units = mem_rd32(h, r + UMM_REC_FREE_UNITS);
    rec->min_free_units = mem_rd32(h, r + UMM_REC_MIN_FREE_UNITS);
    rec->peak_used_units = mem_rd32(h, r + UMM_REC_PEAK_USED_UNITS);
    rec->requested_bytes = mem_rd32(h, r + UMM_REC_REQUESTED_BYTES);
    rec->check_cursor = mem_rd32(h, r + UMM_REC_CHECK_CURSOR);
    rec->free_sq_sum = mem_rd(h, r + UMM_REC_FREE_SQ_SUM, 8);
    rec->fault_kind = mem_rd32(h, r + UMM_REC_FAULT_KIND);
    rec->fault_op = mem_rd32(h, r + UMM_REC_FAULT_OP);
    rec->fault_block = mem_rd32(h, r + UMM_REC_FAULT_BLOCK);
    rec->fault_expected = mem_rd32(h, r + UMM_REC_FAULT_EXPECTED);
    rec->fault_found = mem_rd32(h, r + UMM_REC_FAULT_FOUND);
    rec->fault_seq = mem_rd32(h, r + UMM_REC_FAULT_SEQ);
    rec->fault_address = mem_rd(h, r + UMM_REC_FAULT_ADDRESS, p);
    rec->fault_owner = mem_rd(h, r + UMM_REC_FAULT_OWNER(p), p);
}

static void compare_record(struct hv_heap *h)
{
    const struct hv_record *rec = &h->record;
    const struct hv_metrics *m = &h->metrics;
    uint64_t at = h->address + h->instr_off;
    struct { const char *name; uint64_t stored, walked; unsigned off; } rows[] = {
        { "used_blocks", rec->used_blocks, m->used_entries, UMM_REC_USED_BLOCKS },
        { "free_blocks", rec->free_blocks, m->free_entries, UMM_REC_FREE_BLOCKS },
        { "used_units", rec->used_units, m->used_units, UMM_REC_USED_UNITS },
        { "free_units", rec->free_units, m->free_units, UMM_REC_FREE_UNITS },
        { "free_sq_sum", rec->free_sq_sum, m->free_sq_units, UMM_REC_FREE_SQ_SUM },
        { "requested_bytes", rec->requested_bytes, (uint32_t)m->requested_bytes, UMM_REC_REQUESTED_BYTES },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (i == 5 && !m->has_requested)
            continue;
        if (rows[i].stored != rows[i].walked)
            walk_problem(h, UMM_FAULT_CONTROL, at + rows[i].off, -1,
                         "instrumentation record says %s = %llu, the blocks say %llu", rows[i].name,
                         (unsigned long long)rows[i].stored, (unsigned long long)rows[i].walked);
    }
}

static void record_fault(struct hv_heap *h)
{
    const struct hv_record *rec = &h->record;
    int kind = (int)rec->fault_kind;
    if (kind == UMM_FAULT_NONE)
        return;
    for (size_t i = 0; i < h->problem_count; i++) {
        if (h->problems[i].kind == kind && h->problems[i].has_block && h->problems[i].block == rec->fault_block)
            return;   /* already found in the bytes */
    }
    char owner[128] = "";
    if (rec->fault_owner) {
        struct hv_block_info info = { .has_owner = 1, .owner = rec->fault_owner };
        walk_owner_text(h, &info, owner, sizeof owner);
    }
    char values[64] = "";
    if (rec->fault_expected || rec->fault_found)
        snprintf(values, sizeof values, " (expected 0x%x, found 0x%x)", rec->fault_expected, rec->fault_found);
    struct hv_problem *pr = walk_problem(
        h, kind, rec->fault_address, rec->fault_block ? (int64_t)rec->fault_block : -1,
        "the allocator recorded a %s fault during %s at 0x%llx%s%s%s", hv_problem_kind_name(kind),
        hv_op_name(rec->fault_op), (unsigned long long)rec->fault_address, values,
        owner[0] ? "; allocation by " : "", owner);
    if (pr && (rec->fault_owner || rec->fault_seq)) {
        pr->has_culprit = 1;
        pr->culprit.block = rec->fault_block;
        pr->culprit.address = rec->fault_block ? walk_unit_address(h, rec->fault_block) : 0;
        pr->culprit.has_owner = rec->fault_owner != 0;
        pr->culprit.owner = rec->fault_owner;
        pr->culprit.has_seq = rec->fault_seq != 0;
        pr->culprit.seq = rec->fault_seq;
        if (rec->fault_owner && h->opts && h->opts->owner_name) {
            const char *name = h->opts->owner_name(h->opts->owner_ctx, rec->fault_owner);
            if (name)
                snprintf(pr->culprit.owner_name, sizeof pr->culprit.owner_name, "%s", name);
        }
    }
}

int hv_decode_heapview(struct hv_heap *h, struct hv_snapshot *snap, uint64_t ctl, const char *name,
                       const struct hv_decode_opts *opts, char *err, size_t errlen)
{
    static const struct hv_decode_opts no_opts;
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->format = HV_FORMAT_HEAPVIEW;
    h->address = ctl;
    h->opts = opts ? opts : &no_opts;
    int rc = read_control(h, snap, err, errlen);
    if (rc < 0)
        return -1;
    h->blocks_address = ctl + h->ctl_bytes;
    h->blocks_off = h->ctl_bytes;
    if (rc > 0) {
        /* Too damaged to walk: keep the control area readable for the record. */
        uint64_t len = h->ctl_bytes >= UMM_CTL_FIXED_BYTES(h->ptr_bytes) ? h->ctl_bytes
                                                                         : UMM_CTL_FIXED_BYTES(h->ptr_bytes);
        const struct hv_span *s = hv_snapshot_load(snap, ctl, len);
        if (s)
            h->mem = *s;
        return 0;
    }
    uint64_t total = h->ctl_bytes + (uint64_t)h->unit_count * 8;
    if (walk_load(h, snap, total) < 0) {
        snprintf(err, errlen, "cannot read the heap at 0x%llx (%llu bytes)", (unsigned long long)ctl,
                 (unsigned long long)total);
        return -1;
    }
    uint64_t avail = h->mem.length > h->blocks_off ? h->mem.length - h->blocks_off : 0;
    h->units_readable = (uint32_t)(avail / 8 < h->unit_count ? avail / 8 : h->unit_count);
    if (walk_blocks(h, h->index_bytes == 2 ? 1 : 2) < 0) {
        snprintf(err, errlen, "out of memory decoding the heap at 0x%llx", (unsigned long long)ctl);
        return -1;
    }
    if (h->prefix_bytes) {
        h->metrics.has_requested = 1;
        for (size_t i = 0; i < h->block_count; i++) {
            struct hv_block *b = &h->blocks[i];
            if (b->state != HV_BLOCK_USED)
                continue;
            struct hv_block_info info;
            hv_block_detail(h, b, &info);
            h->metrics.requested_bytes += info.requested;
            check_used_block(h, b);
        }
    }
    if (h->flags & UMM_FLAG_FILL) {
        for (size_t i = 0; i < h->block_count; i++) {
            if (h->blocks[i].state == HV_BLOCK_FREE)
                check_free_fill(h, &h->blocks[i]);
        }
    }
    check_free_lists(h);
    walk_metrics(h, h->hdr_bytes + h->prefix_bytes + h->suffix_bytes);
    read_record(h);
    if (h->has_record) {
        if (h->walk_complete && h->gap_count == 0)
            compare_record(h);
        record_fault(h);
    }
    if (h->problems_truncated)
        walk_problem(h, HV_PROBLEM_TRUNCATED, h->address, -1, "more than %u problems; the rest are not listed",
                     HV_MAX_PROBLEMS);
    walk_mark_problems(h);
    return 0;
}
