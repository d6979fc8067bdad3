/*
 * hv_snapshot.c - spans of target memory, borrowed from a file image when
 * the source can lend them, else copied once.
 */
#include "hv_snapshot.h"

#include <stdlib.h>
#include <string.h>

void hv_snapshot_init(struct hv_snapshot *snap, struct hv_source *src)
{
    memset(snap, 0, sizeof *snap);
    snap->src = src;
}

void hv_snapshot_free(struct hv_snapshot *snap)
{
    for (size_t i = 0; i < snap->span_count; i++) {
        free(snap->spans[i].owned);
        free(snap->spans[i].hole_map);
    }
    free(snap->spans);
    memset(snap, 0, sizeof *snap);
}

const struct hv_span *hv_snapshot_find(const struct hv_snapshot *snap, uint64_t addr, uint64_t len)
{
    for (size_t i = 0; i < snap->span_count; i++) {
        const struct hv_span *s = &snap->spans[i];
        if (addr >= s->address && addr - s->address <= s->length &&
            len <= s->length - (addr - s->address))
            return s;
    }
    return NULL;
}

int hv_span_readable(const struct hv_span *span, uint64_t off, uint64_t len)
{
    if (off > span->length || len > span->length - off)
        return 0;
    if (!span->hole_map || len == 0)
        return 1;
    for (uint64_t g = off / HV_SNAP_GRAIN; g <= (off + len - 1) / HV_SNAP_GRAIN; g++) {
        if (span->hole_map[g])
            return 0;
    }
    return 1;
}

int hv_snapshot_read(struct hv_snapshot *snap, uint64_t addr, void *out, size_t len)
{
    const struct hv_span *s = hv_snapshot_find(snap, addr, len);
    if (s && hv_span_readable(s, addr - s->address, len)) {
        memcpy(out, s->data + (addr - s->address), len);
        return 0;
    }
    if (snap->frozen)
        return -1;
    return hv_source_read(snap->src, addr, out, len);
}

const struct hv_span *hv_snapshot_load(struct hv_snapshot *snap, uint64_t addr, uint64_t len)
{
    if (len == 0 || addr + len < addr || len > SIZE_MAX)
        return NULL;
    const struct hv_span *have = hv_snapshot_find(snap, addr, len);
    if (have)
        return have;
    if (snap->span_count == snap->span_cap) {
        size_t cap = snap->span_cap ? snap->span_cap * 2 : 8;
        struct hv_span *spans = realloc(snap->spans, cap * sizeof *spans);
        if (!spans)
            return NULL;
        snap->spans = spans;
        snap->span_cap = cap;
    }
    struct hv_span span = { .address = addr, .length = len };
    span.data = hv_source_view(snap->src, addr, (size_t)len);
    if (!span.data) {
        span.owned = malloc((size_t)len);
        if (!span.owned)
            return NULL;
        if (hv_source_read(snap->src, addr, span.owned, (size_t)len) < 0) {
            /* Some bytes are missing: read chunk by chunk, and a chunk that
             * fails grain by grain, so holes are known to 8 bytes. */
            uint64_t chunks = (len + HV_SNAP_CHUNK - 1) / HV_SNAP_CHUNK, good = 0;
            span.hole_map = calloc((size_t)((len + HV_SNAP_GRAIN - 1) / HV_SNAP_GRAIN), 1);
            if (!span.hole_map) {
                free(span.owned);
                return NULL;
            }
            for (uint64_t c = 0; c < chunks; c++) {
                uint64_t off = c * HV_SNAP_CHUNK;
                size_t n = (size_t)(len - off < HV_SNAP_CHUNK ? len - off : HV_SNAP_CHUNK);
                if (hv_source_read(snap->src, addr + off, span.owned + off, n) == 0) {
                    good++;
                    continue;
                }
                for (uint64_t g = off; g < off + n; g += HV_SNAP_GRAIN) {
                    size_t gn = (size_t)(off + n - g < HV_SNAP_GRAIN ? off + n - g : HV_SNAP_GRAIN);
                    if (hv_source_read(snap->src, addr + g, span.owned + g, gn) == 0) {
                        good++;
                    } else {
                        memset(span.owned + g, 0, gn);
                        span.hole_map[g / HV_SNAP_GRAIN] = 1;
                    }
                }
            }
            if (good == 0) {
                free(span.owned);
                free(span.hole_map);
                return NULL;
            }
        }
        span.data = span.owned;
    }
    snap->spans[snap->span_count] = span;
    return &snap->spans[snap->span_count++];
}
