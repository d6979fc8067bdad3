/*
 * source_elfcore.c - ELF core files: gdb's `gcore` (p_vaddr holds the
 * address, p_paddr 0) and QEMU's `dump-guest-memory` (p_paddr holds the
 * physical address; p_vaddr is 0 without paging).  Only the bytes present in
 * the file (p_filesz) are readable.  Headers are parsed by hand with checked
 * arithmetic: the file is untrusted.
 */
#include "hv_sources.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

struct core_reader {
    const uint8_t *p;
    size_t len;
    int big_endian;
};

static uint64_t rd(const struct core_reader *r, size_t off, size_t width)
{
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++) {
        size_t at = r->big_endian ? off + i : off + width - 1 - i;
        v = v << 8 | r->p[at];
    }
    return v;
}

int hv_elf_sniff_core(const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len < EI_NIDENT + 4 || memcmp(p, ELFMAG, SELFMAG) != 0)
        return -1;
    struct core_reader r = { p, len, p[EI_DATA] == ELFDATA2MSB };
    return rd(&r, 16, 2) == ET_CORE;
}

struct hv_source *hv_elfcore_parse(const char *name, const void *data, size_t len, char *err, size_t errlen)
{
    struct core_reader r = { data, len, 0 };
    if (len < EI_NIDENT || memcmp(r.p, ELFMAG, SELFMAG) != 0) {
        snprintf(err, errlen, "not an ELF file");
        return NULL;
    }
    int cls = r.p[EI_CLASS];
    if (cls != ELFCLASS32 && cls != ELFCLASS64) {
        snprintf(err, errlen, "unknown ELF class %d", cls);
        return NULL;
    }
    if (r.p[EI_DATA] != ELFDATA2LSB && r.p[EI_DATA] != ELFDATA2MSB) {
        snprintf(err, errlen, "unknown ELF byte order %d", r.p[EI_DATA]);
        return NULL;
    }
    r.big_endian = r.p[EI_DATA] == ELFDATA2MSB;
    int is64 = cls == ELFCLASS64;
    size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (len < ehsize) {
        snprintf(err, errlen, "ELF header truncated");
        return NULL;
    }
    if (rd(&r, 16, 2) != ET_CORE) {
        snprintf(err, errlen, "ELF file is not a core dump");
        return NULL;
    }
    uint64_t phoff = is64 ? rd(&r, 32, 8) : rd(&r, 28, 4);
    uint64_t phentsize = is64 ? rd(&r, 54, 2) : rd(&r, 42, 2);
    uint64_t phnum = is64 ? rd(&r, 56, 2) : rd(&r, 44, 2);
    size_t want = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (phnum == PN_XNUM) {
        snprintf(err, errlen, "too many program headers (PN_XNUM)");
        return NULL;
    }
    if (phnum == 0) {
        snprintf(err, errlen, "core has no program headers");
        return NULL;
    }
    if (phentsize < want || phoff > len || phnum > (len - phoff) / phentsize) {
        snprintf(err, errlen, "program headers lie outside the file");
        return NULL;
    }
    struct hv_source *src = hv_mem_source_new(name);
    if (!src) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t loads = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        size_t ph = (size_t)(phoff + i * phentsize);
        uint64_t type = rd(&r, ph, 4);
        if (type != PT_LOAD)
            continue;
        uint64_t offset, vaddr, paddr, filesz;
        if (is64) {
            offset = rd(&r, ph + 8, 8);
            vaddr = rd(&r, ph + 16, 8);
            paddr = rd(&r, ph + 24, 8);
            filesz = rd(&r, ph + 32, 8);
        } else {
            offset = rd(&r, ph + 4, 4);
            vaddr = rd(&r, ph + 8, 4);
            paddr = rd(&r, ph + 12, 4);
            filesz = rd(&r, ph + 16, 4);
        }
        if (filesz == 0)
            continue;
        if (offset > len || filesz > len - offset) {
            snprintf(err, errlen, "segment %llu lies outside the file (offset 0x%llx, %llu bytes)",
                     (unsigned long long)i, (unsigned long long)offset, (unsigned long long)filesz);
            hv_source_close(src);
            return NULL;
        }
        uint64_t addr = (vaddr == 0 && paddr != 0) ? paddr : vaddr;
        if (hv_mem_source_add(src, addr, r.p + offset, (size_t)filesz, 0) < 0) {
            snprintf(err, errlen, "segment %llu at 0x%llx: %s", (unsigned long long)i,
                     (unsigned long long)addr, src->error);
            hv_source_close(src);
            return NULL;
        }
        loads++;
    }
    if (loads == 0) {
        snprintf(err, errlen, "core has no PT_LOAD segment with data");
        hv_source_close(src);
        return NULL;
    }
    return src;
}

struct hv_source *hv_elfcore_open(const char *path, char *err, size_t errlen)
{
    void *data;
    size_t len;
    if (hv_file_map(path, &data, &len, err, errlen) < 0)
        return NULL;
    struct hv_source *src = hv_elfcore_parse(path, data, len, err, errlen);
    if (!src) {
        hv_file_unmap(data, len);
        return NULL;
    }
    hv_mem_source_own(src, data, len, 1);
    return src;
}
