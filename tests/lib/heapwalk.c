#include "heapwalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umm_format.h"

struct hw {
    const uint8_t *ctl, *blocks;
    unsigned ib;
    uint32_t n, flag;
};

static uint32_t rd(const uint8_t *p, unsigned bytes)
{
    if (bytes == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint32_t field(const struct hw *w, uint32_t b, unsigned f)
{
    return rd(w->blocks + (size_t)b * 8 + f * w->ib, w->ib);
}

static unsigned class_of(uint32_t u)
{
    if (u < 16)
        return u;
    unsigned f = 31u - (unsigned)__builtin_clz(u);
    return ((f - 3) << 3) + (u >> (f - 3));
}

static int load(struct hw *w, const void *ctl)
{
    w->ctl = ctl;
    if (rd(w->ctl + UMM_CTL_MAGIC, 4) != UMM_FMT_MAGIC)
        return 0;
    w->ib = w->ctl[UMM_CTL_INDEX_BYTES];
    w->n = rd(w->ctl + UMM_CTL_UNIT_COUNT, 4);
    w->blocks = w->ctl + rd(w->ctl + UMM_CTL_CTL_BYTES, 2);
    w->flag = w->ib == 4 ? 0x80000000u : 0x8000u;
    return 1;
}

static char hw_msg[160];
#define FAIL(...) do { snprintf(hw_msg, sizeof hw_msg, __VA_ARGS__); free(seen); return hw_msg; } while (0)

const char *hw_check(const void *ctl, struct hw_summary *out)
{
    struct hw w;
    uint8_t *seen = NULL;
    memset(out, 0, sizeof *out);
    if (!load(&w, ctl))
        return "bad magic";
    const uint8_t *c = w.ctl;
    unsigned pb = c[UMM_CTL_PTR_BYTES];
    if (c[UMM_CTL_VERSION] != 1 || c[UMM_CTL_UNIT_LOG2] != 3 || (w.ib != 2 && w.ib != 4) ||
        pb != sizeof(void *))
        return "bad control fields";
    uintptr_t self;
    memcpy(&self, c + UMM_CTL_SELF, sizeof self);
    if (self != (uintptr_t)ctl)
        return "self pointer does not match";
    if ((uintptr_t)(w.blocks + 2 * w.ib) % 8)
        return "data area of unit 0 not 8-aligned";
    if (w.n < 3 || (w.ib == 2 && w.n > UMM_FMT_NARROW_MAX_UNITS))
        return "unit_count out of range";
    unsigned classes = c[UMM_CTL_CLASS_COUNT];
    if (classes != class_of(w.n - 2) + 1)
        return "class_count does not match unit_count";
    uint32_t region_bytes = rd(c + UMM_CTL_REGION_BYTES, 4);
    uintptr_t region;
    memcpy(&region, c + UMM_CTL_REGION(pb), sizeof region);
    if ((uintptr_t)(w.blocks + (size_t)w.n * 8) > region + region_bytes)
        return "block array runs past the region";
    unsigned min_units = w.ib == 4 ? 2 : 1;
    out->unit_count = w.n;
    out->index_bytes = w.ib;

    seen = calloc(w.n, 1);
    /* Items 2-5: the physical chain. */
    if (field(&w, 0, 1) != 0 || (field(&w, 0, 0) & w.flag) || field(&w, 0, 0) == 0)
        FAIL("head sentinel broken");
    uint32_t b = 0, steps = 0, free_flagged = 0;
    int prev_free = 0;
    while (b != w.n - 1) {
        uint32_t raw = field(&w, b, 0), next = raw & ~w.flag;
        int is_free = (raw & w.flag) != 0;
        if (next <= b || next > w.n - 1)
            FAIL("block %u: next %u out of order", b, next);
        if (field(&w, next, 1) != b)
            FAIL("block %u: prev %u, expected %u", next, field(&w, next, 1), b);
        if (b != 0) {
            uint32_t units = next - b;
            if (units < min_units)
                FAIL("block %u: %u units, smaller than a block", b, units);
            if (is_free && prev_free)
                FAIL("blocks before %u: two adjacent free blocks", b);
            if (is_free) {
                free_flagged++;
                out->free_blocks++;
                out->free_units += units;
                out->free_sq_sum += (uint64_t)units * units;
                if (units > out->largest_free_units)
                    out->largest_free_units = units;
            } else {
                out->used_blocks++;
                out->used_units += units;
            }
        } else if (is_free)
            FAIL("head sentinel marked free");
        prev_free = is_free;
        if (++steps > w.n)
            FAIL("physical chain longer than the heap");
        b = next;
    }
    if (field(&w, w.n - 1, 0) != 0)
        FAIL("end marker next is not 0");

    /* Item 6: free lists and bitmap. */
    const uint8_t *bins = c + rd(c + UMM_CTL_BINS_OFF, 2);
    const uint8_t *bitmap = c + rd(c + UMM_CTL_BITMAP_OFF, 2);
    uint32_t listed = 0, summary = 0;
    unsigned words = (classes + 31) / 32;
    for (unsigned k = 0; k < classes; k++) {
        uint32_t head = rd(bins + k * w.ib, w.ib);
        uint32_t bit = (rd(bitmap + 4 * (1 + k / 32), 4) >> (k % 32)) & 1;
        if (bit != (head != 0))
            FAIL("bitmap bit of class %u is %u with head %u", k, bit, head);
        uint32_t prev = 0;
        for (uint32_t f = head, len = 0; f; f = field(&w, f, 2)) {
            if (f == 0 || f >= w.n - 1 || !(field(&w, f, 0) & w.flag))
                FAIL("class %u lists %u, which is not a free block", k, f);
            if (seen[f])
                FAIL("free block %u listed twice", f);
            seen[f] = 1;
            uint32_t units = (field(&w, f, 0) & ~w.flag) - f;
            if (class_of(units) != k)
                FAIL("free block %u (%u units) in class %u, belongs in %u", f, units, k, class_of(units));
            if (field(&w, f, 3) != prev)
                FAIL("free block %u: prev_free %u, expected %u", f, field(&w, f, 3), prev);
            prev = f;
            listed++;
            if (++len > w.n)
                FAIL("free list %u loops", k);
        }
        if (head)
            summary |= 1u << (k / 32);
    }
    for (unsigned k = classes; k < words * 32; k++)
        if ((rd(bitmap + 4 * (1 + k / 32), 4) >> (k % 32)) & 1)
            FAIL("bitmap bit of nonexistent class %u set", k);
    if (rd(bitmap, 4) != summary)
        FAIL("summary word 0x%x, expected 0x%x", rd(bitmap, 4), summary);
    if (listed != free_flagged)
        FAIL("%u blocks listed, %u flagged free", listed, free_flagged);
    free(seen);
    return NULL;
}

size_t hw_blocks(const void *ctl, struct hw_block *out, size_t max)
{
    struct hw w;
    if (!load(&w, ctl))
        return 0;
    size_t count = 0;
    uint32_t b = 0;
    for (uint32_t steps = 0; steps <= w.n; steps++) {
        uint32_t raw = field(&w, b, 0);
        if (count < max) {
            out[count].index = b;
            out[count].next = raw & ~w.flag;
            out[count].prev = field(&w, b, 1);
            out[count].free = (raw & w.flag) != 0;
        }
        count++;
        if (b == w.n - 1 || (raw & ~w.flag) <= b)
            break;
        b = raw & ~w.flag;
    }
    return count;
}

uint32_t hw_block_of_user(const void *ctl, const void *user)
{
    const uint8_t *c = (const uint8_t *)ctl;
    const uint8_t *blocks = c + rd(c + UMM_CTL_CTL_BYTES, 2);
    size_t back = 2u * c[UMM_CTL_INDEX_BYTES] + c[UMM_CTL_PREFIX_BYTES];
    return (uint32_t)(((const uint8_t *)user - back - blocks) / 8);
}
