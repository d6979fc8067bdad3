/*
 * hv_snapshot.h - the bytes of a target at one moment: address spans read
 * through an hv_source.  Heaps are read in bulk (one span per region); a
 * span the source cannot supply whole is read in chunks and the holes are
 * remembered, so the decoder can say which bytes it could not see.  Spans
 * are never written after loading.
 */
#ifndef HV_SNAPSHOT_H
#define HV_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "../source/hv_source.h"

#define HV_SNAP_CHUNK 1024u   /* reads of a partly readable span, first pass */
#define HV_SNAP_GRAIN 8u      /* granularity of its holes (failed chunks are re-read by grain) */

struct hv_span {
    uint64_t address;
    uint64_t length;
    const uint8_t *data;      /* borrowed from the source (view) or owned */
    uint8_t *owned;
    uint8_t *hole_map;        /* NULL when whole; else one byte per grain, 1 = unreadable */
};

struct hv_snapshot {
    struct hv_source *src;
    struct hv_span *spans;
    size_t span_count, span_cap;
    int frozen;               /* answer from loaded spans only, never the source */
};

void hv_snapshot_init(struct hv_snapshot *snap, struct hv_source *src);
void hv_snapshot_free(struct hv_snapshot *snap);

/* Copies `len` bytes at `addr` (from a loaded span, else from the source).
 * Returns 0, or -1 when any byte is unavailable. */
int hv_snapshot_read(struct hv_snapshot *snap, uint64_t addr, void *out, size_t len);

/* Loads [addr, addr+len) as one span (bulk read; chunked with holes when the
 * bulk read fails) and returns it, or NULL when not a single byte could be
 * read or memory ran out. */
const struct hv_span *hv_snapshot_load(struct hv_snapshot *snap, uint64_t addr, uint64_t len);

/* Is [off, off+len) of the span readable (no hole)? */
int hv_span_readable(const struct hv_span *span, uint64_t off, uint64_t len);

/* The span that holds all of [addr, addr+len), or NULL. */
const struct hv_span *hv_snapshot_find(const struct hv_snapshot *snap, uint64_t addr, uint64_t len);

#endif /* HV_SNAPSHOT_H */
