/*
 * hv_elf.c - symbols, sections and line numbers of the firmware ELF.
 */
#include "hv_elf.h"

#include <elf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int symbol_cmp(const void *a, const void *b)
{
    const struct hv_symbol *x = a, *y = b;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    /* functions first, then larger, so lookups prefer them */
    if (x->is_func != y->is_func)
        return y->is_func - x->is_func;
    return x->size > y->size ? -1 : x->size < y->size;
}

static int load_symbols(struct hv_elf *e, Elf *elf)
{
    Elf_Scn *scn = NULL;
    int found_symtab = 0;
    for (int pass = 0; pass < 2 && !found_symtab; pass++) {
        Elf_Scn *want = NULL;
        while ((scn = elf_nextscn(elf, scn)) != NULL) {
            GElf_Shdr sh;
            if (!gelf_getshdr(scn, &sh))
                continue;
            if (sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM)) {
                want = scn;
                break;
            }
        }
        scn = NULL;
        if (!want)
            continue;
        found_symtab = 1;
        GElf_Shdr sh;
        Elf_Data *data = elf_getdata(want, NULL);
        if (!gelf_getshdr(want, &sh) || !data || sh.sh_entsize == 0)
            return 0;
        size_t n = sh.sh_size / sh.sh_entsize;
        e->syms = calloc(n ? n : 1, sizeof *e->syms);
        if (!e->syms)
            return -1;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym))
                break;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_OBJECT)
                continue;
            if (sym.st_shndx == SHN_UNDEF)
                continue;
            const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
            if (!name || !*name || name[0] == '$')
                continue;
            struct hv_symbol *s = &e->syms[e->sym_count++];
            s->address = sym.st_value;
            if (e->machine == EM_ARM && type == STT_FUNC)
                s->address &= ~(uint64_t)1;
            s->size = sym.st_size;
            s->name = name;
            s->is_func = type == STT_FUNC;
        }
    }
    if (e->sym_count > 1)
        qsort(e->syms, e->sym_count, sizeof *e->syms, symbol_cmp);
    return 0;
}

int hv_elf_parse(struct hv_elf *e, void *image, size_t len, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    if (elf_version(EV_CURRENT) == EV_NONE) {
        snprintf(err, errlen, "libelf is out of date");
        return -1;
    }
    Elf *elf = elf_memory(image, len);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        snprintf(err, errlen, "not an ELF file");
        if (elf)
            elf_end(elf);
        return -1;
    }
    e->elf = elf;
    e->image = image;
    e->image_len = len;
    GElf_Ehdr eh;
    if (!gelf_getehdr(elf, &eh)) {
        snprintf(err, errlen, "bad ELF header: %s", elf_errmsg(-1));
        hv_elf_free(e);
        return -1;
    }
    e->ptr_bytes = eh.e_ident[EI_CLASS] == ELFCLASS64 ? 8 : 4;
    e->big_endian = eh.e_ident[EI_DATA] == ELFDATA2MSB;
    e->machine = eh.e_machine;
    e->is_core = eh.e_type == ET_CORE;

    size_t shnum = 0;
    if (elf_getshdrnum(elf, &shnum) < 0)
        shnum = 0;
    e->secs = calloc(shnum ? shnum : 1, sizeof *e->secs);
    if (!e->secs) {
        snprintf(err, errlen, "out of memory");
        hv_elf_free(e);
        return -1;
    }
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL && e->sec_count < shnum) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0)
            continue;
        struct hv_elf_section *s = &e->secs[e->sec_count++];
        s->address = sh.sh_addr;
        s->size = sh.sh_size;
        s->offset = sh.sh_offset;
        s->has_data = sh.sh_type != SHT_NOBITS && sh.sh_offset <= len && sh.sh_size <= len - sh.sh_offset;
        s->exec = (sh.sh_flags & SHF_EXECINSTR) != 0;
        s->write = (sh.sh_flags & SHF_WRITE) != 0;
        if (s->write && (!e->has_writable || s->address < e->lowest_writable)) {
            e->lowest_writable = s->address;
            e->has_writable = 1;
        }
    }
    if (load_symbols(e, elf) < 0) {
        snprintf(err, errlen, "out of memory");
        hv_elf_free(e);
        return -1;
    }
    return 0;
}

void hv_elf_free(struct hv_elf *e)
{
    if (e->dwarf)
        dwarf_end(e->dwarf);
    if (e->elf)
        elf_end(e->elf);
    free(e->syms);
    free(e->secs);
    memset(e, 0, sizeof *e);
}

const struct hv_symbol *hv_elf_lookup(const struct hv_elf *e, const char *name)
{
    for (size_t i = 0; i < e->sym_count; i++) {
        if (strcmp(e->syms[i].name, name) == 0)
            return &e->syms[i];
    }
    return NULL;
}

const struct hv_symbol *hv_elf_function_at(const struct hv_elf *e, uint64_t addr)
{
    if (e->machine == EM_ARM)
        addr &= ~(uint64_t)1;
    size_t lo = 0, hi = e->sym_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->syms[mid].address <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Walk back over objects and zero-sized neighbours to the nearest
     * function that can contain addr. */
    for (size_t i = lo; i > 0 && lo - i < 64; i--) {
        const struct hv_symbol *s = &e->syms[i - 1];
        if (!s->is_func)
            continue;
        if (s->size == 0 || addr - s->address < s->size)
            return s;
        return NULL;
    }
    return NULL;
}

static const struct hv_elf_section *section_at(const struct hv_elf *e, uint64_t addr)
{
    for (size_t i = 0; i < e->sec_count; i++) {
        const struct hv_elf_section *s = &e->secs[i];
        if (addr >= s->address && addr - s->address < s->size)
            return s;
    }
    return NULL;
}

int hv_elf_is_code(const struct hv_elf *e, uint64_t addr)
{
    if (e->machine == EM_ARM)
        addr &= ~(uint64_t)1;
    const struct hv_elf_section *s = section_at(e, addr);
    return s && s->exec;
}

int hv_elf_read(const struct hv_elf *e, uint64_t addr, void *out, size_t len)
{
    const struct hv_elf_section *s = section_at(e, addr);
    if (!s || !s->has_data || len > s->size - (addr - s->address))
        return -1;
    memcpy(out, e->image + s->offset + (addr - s->address), len);
    return 0;
}

/*
 * The unit whose subprogram starts where the function holding `addr` starts.
 * With --gc-sections, discarded functions keep their DWARF with addresses
 * from 0, so in firmware linked at 0 several units claim low addresses and
 * the first one dwarf_addrdie finds may describe code that is not there.
 * Bounded by the number of units and their top-level entries.
 */
static int cu_defining_function(struct hv_elf *e, uint64_t addr, Dwarf_Die *out)
{
    const struct hv_symbol *fn = hv_elf_function_at(e, addr);
    if (!fn)
        return 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(e->dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, child;
        if (dwarf_offdie(e->dwarf, off + hsize, &cu) && dwarf_haspc(&cu, (Dwarf_Addr)addr) == 1 &&
            dwarf_child(&cu, &child) == 0) {
            do {
                Dwarf_Addr low;
                if (dwarf_tag(&child) == DW_TAG_subprogram && dwarf_lowpc(&child, &low) == 0 &&
                    (low & ~(Dwarf_Addr)1) == fn->address) {
                    *out = cu;
                    return 1;
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        off = next;
    }
    return 0;
}

int hv_elf_source_line(struct hv_elf *e, uint64_t addr, const char **file, int *line)
{
    if (!e->dwarf_tried) {
        e->dwarf_tried = 1;
        e->dwarf = dwarf_begin_elf(e->elf, DWARF_C_READ, NULL);
    }
    if (!e->dwarf)
        return -1;
    Dwarf_Die cu;
    if (!cu_defining_function(e, addr, &cu) && !dwarf_addrdie(e->dwarf, (Dwarf_Addr)addr, &cu))
        return -1;
    Dwarf_Line *dl = dwarf_getsrc_die(&cu, (Dwarf_Addr)addr);
    if (!dl)
        return -1;
    const char *path = dwarf_linesrc(dl, NULL, NULL);
    int lineno = 0;
    if (!path || dwarf_lineno(dl, &lineno) != 0)
        return -1;
    const char *slash = strrchr(path, '/');
    *file = slash ? slash + 1 : path;
    *line = lineno;
    return 0;
}

uint64_t hv_elf_type_size(struct hv_elf *e, const char *name)
{
    if (!e->dwarf_tried) {
        e->dwarf_tried = 1;
        e->dwarf = dwarf_begin_elf(e->elf, DWARF_C_READ, NULL);
    }
    if (!e->dwarf)
        return 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    /* Types are declared at the top level of a CU; bounded by the CUs. */
    while (dwarf_nextcu(e->dwarf, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu, child;
        if (dwarf_offdie(e->dwarf, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
            do {
                int tag = dwarf_tag(&child);
                if (tag != DW_TAG_typedef && tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
                    continue;
                const char *n = dwarf_diename(&child);
                if (!n || strcmp(n, name) != 0)
                    continue;
                Dwarf_Die type;
                Dwarf_Word size;
                if (dwarf_peel_type(&child, &type) == 0 && dwarf_aggregate_size(&type, &size) == 0)
                    return size;
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        off = next;
    }
    return 0;
}
