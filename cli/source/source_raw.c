/*
 * source_raw.c - a raw memory image: the file's bytes, in order, at a base
 * address the caller knows (--base, or the firmware's lowest writable
 * section).
 */
#include "hv_sources.h"

#include <stdio.h>

struct hv_source *hv_raw_open(const char *path, uint64_t base, char *err, size_t errlen)
{
    void *data;
    size_t len;
    if (hv_file_map(path, &data, &len, err, errlen) < 0)
        return NULL;
    if (base + len < base) {
        snprintf(err, errlen, "%zu bytes at base 0x%llx wrap the address space", len,
                 (unsigned long long)base);
        hv_file_unmap(data, len);
        return NULL;
    }
    struct hv_source *src = hv_mem_source_new(path);
    if (!src || hv_mem_source_add(src, base, data, len, 0) < 0) {
        snprintf(err, errlen, "out of memory");
        hv_source_close(src);
        hv_file_unmap(data, len);
        return NULL;
    }
    hv_mem_source_own(src, data, len, 1);
    return src;
}
