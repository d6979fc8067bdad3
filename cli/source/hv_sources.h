/*
 * hv_sources.h - constructors of the static memory sources (one file each).
 * The live sources (GDB remote, OpenOCD) declare theirs next to their code.
 * Every constructor returns NULL on failure and leaves one line, lowercase,
 * no trailing period, in `err` (the reason; the caller names the file).
 */
#ifndef HV_SOURCES_H
#define HV_SOURCES_H

#include "hv_source.h"

/* ---- in-memory source (source_mem.c): segments of bytes at target
 * addresses.  The base for every file image and the test/fuzz source. */
struct hv_source *hv_mem_source_new(const char *name);
/* Adds `len` bytes at target address `addr`.  copy=0 borrows `data` (it must
 * outlive the source), copy=1 takes a private copy.  Returns 0 or -1. */
int hv_mem_source_add(struct hv_source *src, uint64_t addr, const void *data, size_t len, int copy);
/* Hands the source a mapping or buffer to release at close. */
void hv_mem_source_own(struct hv_source *src, void *mem, size_t len, int is_mmap);

/* Maps a whole file read-only (copy-on-write).  Returns 0, or -1 with the
 * reason in err.  hv_file_unmap releases it. */
int hv_file_map(const char *path, void **data, size_t *len, char *err, size_t errlen);
void hv_file_unmap(void *data, size_t len);

/* ---- raw image (source_raw.c): the file's bytes at `base`. */
struct hv_source *hv_raw_open(const char *path, uint64_t base, char *err, size_t errlen);

/* ---- Intel HEX (source_ihex.c). */
struct hv_source *hv_ihex_open(const char *path, char *err, size_t errlen);
/* Parses `len` bytes of Intel HEX text (borrowed only during the call). */
struct hv_source *hv_ihex_parse(const char *name, const void *text, size_t len, char *err, size_t errlen);
/* Does this look like Intel HEX (first non-blank byte ':')? */
int hv_ihex_sniff(const void *data, size_t len);

/* ---- ELF core (source_elfcore.c): PT_LOAD segments of gdb's gcore or
 * QEMU's dump-guest-memory. */
struct hv_source *hv_elfcore_open(const char *path, char *err, size_t errlen);
/* Parses an ELF core held in memory; the bytes are borrowed and must outlive
 * the source. */
struct hv_source *hv_elfcore_parse(const char *name, const void *data, size_t len, char *err, size_t errlen);
/* 1 for an ELF core file, 0 for another ELF type, -1 for not ELF. */
int hv_elf_sniff_core(const void *data, size_t len);

/* ---- several images as one (source_multi.c).  Takes ownership of the
 * sources; a read is served by the first source that holds every byte. */
struct hv_source *hv_multi_source_new(const char *name, struct hv_source **sources, size_t count);

#endif /* HV_SOURCES_H */
