/*
 * hv_source.c - the thin wrappers every caller uses instead of the ops, so a
 * source without an optional op never dereferences NULL.
 */
#include "hv_source.h"

#include <stdarg.h>
#include <stdio.h>

int hv_source_read(struct hv_source *src, uint64_t addr, void *out, size_t len)
{
    if (len == 0)
        return 0;
    if (addr + len < addr) {
        hv_source_set_error(src, "address range 0x%llx+%zu wraps", (unsigned long long)addr, len);
        return -1;
    }
    return src->ops->read(src, addr, out, len);
}

const struct hv_range *hv_source_ranges(struct hv_source *src, size_t *count)
{
    *count = 0;
    if (!src->ops->ranges)
        return NULL;
    return src->ops->ranges(src, count);
}

const void *hv_source_view(struct hv_source *src, uint64_t addr, size_t len)
{
    if (!src->ops->view || len == 0 || addr + len < addr)
        return NULL;
    return src->ops->view(src, addr, len);
}

void hv_source_close(struct hv_source *src)
{
    if (src && src->ops->close)
        src->ops->close(src);
}

void hv_source_set_error(struct hv_source *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(src->error, sizeof src->error, fmt, ap);
    va_end(ap);
}
