/*
 * source_multi.c - several sources seen as one address space (a RAM dump
 * plus a separate dump of another bank, say).  A read or view is served by
 * the first source that holds all of it.
 */
#include "hv_sources.h"

#include <stdlib.h>
#include <string.h>

struct multi_source {
    struct hv_source base;
    char *name;
    struct hv_source **parts;
    size_t count;
    struct hv_range *ranges;
    size_t range_count;
};

static struct multi_source *multi_of(struct hv_source *src)
{
    return (struct multi_source *)(void *)src;
}

static int multi_read(struct hv_source *src, uint64_t addr, void *out, size_t len)
{
    struct multi_source *m = multi_of(src);
    for (size_t i = 0; i < m->count; i++) {
        if (hv_source_read(m->parts[i], addr, out, len) == 0)
            return 0;
    }
    hv_source_set_error(src, "no image holds 0x%llx+%zu", (unsigned long long)addr, len);
    return -1;
}

static const void *multi_view(struct hv_source *src, uint64_t addr, size_t len)
{
    struct multi_source *m = multi_of(src);
    for (size_t i = 0; i < m->count; i++) {
        const void *p = hv_source_view(m->parts[i], addr, len);
        if (p)
            return p;
    }
    return NULL;
}

static int range_cmp(const void *a, const void *b)
{
    const struct hv_range *x = a, *y = b;
    return x->address < y->address ? -1 : x->address > y->address;
}

static const struct hv_range *multi_ranges(struct hv_source *src, size_t *count)
{
    struct multi_source *m = multi_of(src);
    if (!m->ranges) {
        size_t total = 0;
        for (size_t i = 0; i < m->count; i++) {
            size_t n;
            hv_source_ranges(m->parts[i], &n);
            total += n;
        }
        m->ranges = calloc(total ? total : 1, sizeof *m->ranges);
        if (!m->ranges) {
            *count = 0;
            return NULL;
        }
        for (size_t i = 0; i < m->count; i++) {
            size_t n;
            const struct hv_range *r = hv_source_ranges(m->parts[i], &n);
            if (n)
                memcpy(m->ranges + m->range_count, r, n * sizeof *r);
            m->range_count += n;
        }
        if (m->range_count > 1)
            qsort(m->ranges, m->range_count, sizeof *m->ranges, range_cmp);
    }
    *count = m->range_count;
    return m->ranges;
}

static int multi_set_halted(struct hv_source *src, int halt)
{
    struct multi_source *m = multi_of(src);
    int rc = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (m->parts[i]->ops->set_halted && m->parts[i]->ops->set_halted(m->parts[i], halt) < 0)
            rc = -1;
    }
    return rc;
}

static void multi_close(struct hv_source *src)
{
    struct multi_source *m = multi_of(src);
    for (size_t i = 0; i < m->count; i++)
        hv_source_close(m->parts[i]);
    free(m->parts);
    free(m->ranges);
    free(m->name);
    free(m);
}

static const struct hv_source_ops multi_ops = {
    .read = multi_read,
    .ranges = multi_ranges,
    .set_halted = multi_set_halted,
    .close = multi_close,
    .view = multi_view,
};

struct hv_source *hv_multi_source_new(const char *name, struct hv_source **sources, size_t count)
{
    struct multi_source *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->name = strdup(name);
    m->parts = calloc(count ? count : 1, sizeof *m->parts);
    if (!m->name || !m->parts) {
        free(m->name);
        free(m->parts);
        free(m);
        return NULL;
    }
    memcpy(m->parts, sources, count * sizeof *sources);
    m->count = count;
    m->base.ops = &multi_ops;
    m->base.name = m->name;
    return &m->base;
}
