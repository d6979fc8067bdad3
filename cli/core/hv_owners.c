/*
 * hv_owners.c - live allocations by owner, and the difference of two
 * snapshots by owner.
 */
#include <stdlib.h>
#include <string.h>

#include "hv_analysis.h"

struct owner_table {
    struct hv_owner_stat *slots;
    size_t cap, count;
};

static size_t owner_slot(uint64_t owner, size_t cap)
{
    return (size_t)((owner * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static struct hv_owner_stat *owner_get(struct owner_table *t, uint64_t owner)
{
    if ((t->count + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct hv_owner_stat *s = calloc(cap, sizeof *s);
        if (!s)
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (t->slots[i].count == 0)
                continue;
            size_t k = owner_slot(t->slots[i].owner, cap);
            while (s[k].count)
                k = (k + 1) & (cap - 1);
            s[k] = t->slots[i];
        }
        free(t->slots);
        t->slots = s;
        t->cap = cap;
    }
    size_t k = owner_slot(owner, t->cap);
    while (t->slots[k].count) {
        if (t->slots[k].owner == owner)
            return &t->slots[k];
        k = (k + 1) & (t->cap - 1);
    }
    t->slots[k].owner = owner;
    t->count++;
    return &t->slots[k];   /* count 0: the caller makes it live */
}

static int stat_cmp(const void *a, const void *b)
{
    const struct hv_owner_stat *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->owner < y->owner ? -1 : x->owner > y->owner;
}

int hv_owner_stats(const struct hv_heap *h, struct hv_owner_stat **out, size_t *count)
{
    struct owner_table t = { 0 };
    for (size_t i = 0; i < h->block_count; i++) {
        const struct hv_block *b = &h->blocks[i];
        if (b->state != HV_BLOCK_USED)
            continue;
        struct hv_block_info info;
        hv_block_detail(h, b, &info);
        struct hv_owner_stat *s = owner_get(&t, info.has_owner ? info.owner : 0);
        if (!s) {
            free(t.slots);
            return -1;
        }
        s->count++;
        s->bytes += info.size;
        s->requested += info.requested;
        if (info.seq > s->max_seq)
            s->max_seq = info.seq;
    }
    size_t n = 0;
    struct hv_owner_stat *list = calloc(t.count ? t.count : 1, sizeof *list);
    if (!list) {
        free(t.slots);
        return -1;
    }
    for (size_t i = 0; i < t.cap; i++) {
        if (t.slots[i].count)
            list[n++] = t.slots[i];
    }
    free(t.slots);
    qsort(list, n, sizeof *list, stat_cmp);
    *out = list;
    *count = n;
    return 0;
}

/* Identity of a live allocation across two snapshots: its address plus its
 * sequence number when recorded, else plus its size. */
struct alloc_key {
    uint64_t address;
    uint64_t tag;
};

static int key_cmp(const void *a, const void *b)
{
    const struct alloc_key *x = a, *y = b;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static int delta_cmp(const void *a, const void *b)
{
    const struct hv_owner_delta *x = a, *y = b;
    int64_t gx = (int64_t)(x->bytes_b - x->bytes_a), gy = (int64_t)(y->bytes_b - y->bytes_a);
    if (gx != gy)
        return gx > gy ? -1 : 1;
    if (x->new_bytes != y->new_bytes)
        return x->new_bytes > y->new_bytes ? -1 : 1;
    return x->owner < y->owner ? -1 : x->owner > y->owner;
}

int hv_diff_heaps(const struct hv_heap *a, const struct hv_heap *b, struct hv_owner_delta **out, size_t *count)
{
    struct hv_owner_stat *sa = NULL, *sb = NULL;
    size_t na = 0, nb = 0;
    struct alloc_key *keys = NULL;
    struct hv_owner_delta *d = NULL;
    int rc = -1;
    if (hv_owner_stats(a, &sa, &na) < 0 || hv_owner_stats(b, &sb, &nb) < 0)
        goto out;
    keys = calloc(a->metrics.used_entries + 1, sizeof *keys);
    d = calloc(na + nb + 1, sizeof *d);
    if (!keys || !d)
        goto out;
    size_t nk = 0;
    for (size_t i = 0; i < a->block_count; i++) {
        if (a->blocks[i].state != HV_BLOCK_USED || nk > a->metrics.used_entries)
            continue;
        struct hv_block_info info;
        hv_block_detail(a, &a->blocks[i], &info);
        keys[nk].address = info.address;
        keys[nk].tag = info.has_seq ? info.seq : info.size;
        nk++;
    }
    qsort(keys, nk, sizeof *keys, key_cmp);
    size_t nd = 0;
    for (size_t i = 0; i < na; i++) {
        d[nd].owner = sa[i].owner;
        d[nd].count_a = sa[i].count;
        d[nd].bytes_a = sa[i].bytes;
        nd++;
    }
    for (size_t i = 0; i < nb; i++) {
        size_t j = 0;
        while (j < nd && d[j].owner != sb[i].owner)
            j++;
        if (j == nd)
            d[nd++].owner = sb[i].owner;
        d[j].count_b = sb[i].count;
        d[j].bytes_b = sb[i].bytes;
    }
    for (size_t i = 0; i < b->block_count; i++) {
        if (b->blocks[i].state != HV_BLOCK_USED)
            continue;
        struct hv_block_info info;
        hv_block_detail(b, &b->blocks[i], &info);
        struct alloc_key k = { info.address, info.has_seq ? info.seq : info.size };
        if (bsearch(&k, keys, nk, sizeof *keys, key_cmp))
            continue;
        uint64_t owner = info.has_owner ? info.owner : 0;
        for (size_t j = 0; j < nd; j++) {
            if (d[j].owner == owner) {
                d[j].new_count++;
                d[j].new_bytes += info.size;
                if (info.has_seq && (d[j].first_new_seq == 0 || info.seq < d[j].first_new_seq))
                    d[j].first_new_seq = info.seq;
                break;
            }
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i].count_a != d[i].count_b || d[i].bytes_a != d[i].bytes_b || d[i].new_count)
            d[kept++] = d[i];
    }
    qsort(d, kept, sizeof *d, delta_cmp);
    *out = d;
    *count = kept;
    d = NULL;
    rc = 0;
out:
    free(sa);
    free(sb);
    free(keys);
    free(d);
    return rc;
}
