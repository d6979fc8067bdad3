/*
 * hv_discover.h - finding heaps in a snapshot (lib/FORMAT.md section 8):
 * umm_heap_list and its next_heap chain, umm_heap objects whose ctl points
 * at a control block, upstream's umm_heap_current, and, without symbols, a
 * scan for the magic.
 */
#ifndef HV_DISCOVER_H
#define HV_DISCOVER_H

#include "hv_elf.h"
#include "hv_heap.h"
#include "hv_snapshot.h"

struct hv_heap_ref {
    char name[64];
    int format;              /* enum hv_format */
    uint64_t address;        /* control block, or upstream pheap */
    uint64_t size;           /* upstream heap_size */
    uint32_t numblocks;      /* upstream */
    int big_endian;
};

struct hv_discovery {
    struct hv_heap_ref *refs;
    size_t count, cap;
    char notes[8][192];      /* why a candidate was rejected, for the user */
    size_t note_count;
    int scanned;             /* found by the magic scan */
};

/* Is there a valid control block at addr (magic, version, self)? */
int hv_probe_control(struct hv_snapshot *snap, uint64_t addr, int *big_endian);

/* Fills `d`.  elf may be NULL; scan=1 allows the magic scan when symbols
 * find nothing; upstream=1 also looks for umm_heap_current.  Returns 0, or
 * -1 when out of memory. */
int hv_discover(struct hv_discovery *d, struct hv_snapshot *snap, const struct hv_elf *elf, int scan,
                int upstream);
/* Adds a heap given by address (the --heap option). */
int hv_discovery_add(struct hv_discovery *d, const char *name, int format, uint64_t address);
void hv_discovery_free(struct hv_discovery *d);

#endif /* HV_DISCOVER_H */
