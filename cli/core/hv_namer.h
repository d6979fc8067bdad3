/*
 * hv_namer.h - owner values to names: a code address becomes
 * "function+0x1c (file.c:42)" (file:line only with DWARF), a tag string's
 * address becomes "\"tag\"".  Results are cached per address, since a heap
 * of a million blocks has only a few hundred owners.
 */
#ifndef HV_NAMER_H
#define HV_NAMER_H

#include "hv_elf.h"
#include "hv_snapshot.h"

struct hv_namer_entry {
    uint64_t owner;
    char *name;              /* NULL: no name */
    int used;
};

struct hv_namer {
    struct hv_elf *elf;      /* may be NULL */
    struct hv_snapshot *snap;/* for tag strings in RAM; may be NULL */
    struct hv_namer_entry *table;
    size_t cap, count;
};

void hv_namer_init(struct hv_namer *n, struct hv_elf *elf, struct hv_snapshot *snap);
void hv_namer_free(struct hv_namer *n);
/* hv_owner_namer-compatible: ctx is a struct hv_namer. */
const char *hv_namer_name(void *ctx, uint64_t owner);

#endif /* HV_NAMER_H */
