/*
 * hv_elf.h - what heapview needs from the firmware ELF: the byte order and
 * pointer width, symbols (to find heaps and name owners), section contents
 * (tag strings in .rodata) and, when DWARF is present, file:line.  Parsed
 * with libelf from bytes the caller holds in memory (elf_memory): no I/O.
 */
#ifndef HV_ELF_H
#define HV_ELF_H

#include <stddef.h>
#include <stdint.h>

struct hv_symbol {
    uint64_t address;        /* Thumb bit cleared */
    uint64_t size;
    const char *name;        /* points into the ELF image */
    int is_func;
};

struct hv_elf_section {
    uint64_t address, size, offset;
    int has_data;            /* SHT_PROGBITS with bytes in the file */
    int exec, write;
};

struct hv_elf {
    void *elf;               /* Elf * */
    void *dwarf;             /* Dwarf *, NULL without DWARF */
    int dwarf_tried;
    const uint8_t *image;
    size_t image_len;
    int ptr_bytes, big_endian, machine, is_core;
    struct hv_symbol *syms;  /* sorted by address */
    size_t sym_count;
    struct hv_elf_section *secs;
    size_t sec_count;
    uint64_t lowest_writable;/* lowest address of a writable SHF_ALLOC section */
    int has_writable;
};

/* Parses an ELF image held by the caller (it must outlive `e`; libelf may
 * patch it in place, so hand it a private copy).  Returns 0, or -1 with a
 * reason in err. */
int hv_elf_parse(struct hv_elf *e, void *image, size_t len, char *err, size_t errlen);
void hv_elf_free(struct hv_elf *e);

/* The first symbol called `name` (objects and functions), or NULL. */
const struct hv_symbol *hv_elf_lookup(const struct hv_elf *e, const char *name);
/* The function containing `addr`, or NULL. */
const struct hv_symbol *hv_elf_function_at(const struct hv_elf *e, uint64_t addr);
/* Copies initialised section bytes at addr (e.g. a tag string in .rodata). */
int hv_elf_read(const struct hv_elf *e, uint64_t addr, void *out, size_t len);
/* Is addr inside an executable section? */
int hv_elf_is_code(const struct hv_elf *e, uint64_t addr);
/* file:line for addr from DWARF ("main.c", 42); 0 when found, else -1. */
int hv_elf_source_line(struct hv_elf *e, uint64_t addr, const char **file, int *line);

/* Byte size of the type (typedef or struct) called `name` from DWARF, or 0
 * when there is no DWARF or no such type. */
uint64_t hv_elf_type_size(struct hv_elf *e, const char *name);

#endif /* HV_ELF_H */
