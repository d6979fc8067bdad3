/*
 * source_mem.c - memory source over segments held in host memory.  File
 * images (raw, Intel HEX, ELF core) are built on it, and tests and fuzzers
 * use it directly.  Segments are kept sorted by address; a read may span
 * adjacent segments but never a gap.
 */
#include "hv_sources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct mem_segment {
    uint64_t address;
    uint64_t length;
    const uint8_t *data;
    uint8_t *owned;            /* private copy, freed at close */
};

struct mem_source {
    struct hv_source base;
    char *name;
    struct mem_segment *segs;
    size_t seg_count, seg_cap;
    struct hv_range *ranges;   /* rebuilt when dirty */
    size_t range_count;
    int dirty;
    void *backing;
    size_t backing_len;
    int backing_is_mmap;
};

static struct mem_source *mem_of(struct hv_source *src)
{
    return (struct mem_source *)(void *)src;
}

static int segment_cmp(const void *a, const void *b)
{
    const struct mem_segment *x = a, *y = b;
    return x->address < y->address ? -1 : x->address > y->address;
}

static void mem_sort(struct mem_source *m)
{
    if (!m->dirty)
        return;
    if (m->seg_count > 1)
        qsort(m->segs, m->seg_count, sizeof *m->segs, segment_cmp);
    free(m->ranges);
    m->ranges = calloc(m->seg_count ? m->seg_count : 1, sizeof *m->ranges);
    m->range_count = 0;
    for (size_t i = 0; m->ranges && i < m->seg_count; i++) {
        struct hv_range *last = m->range_count ? &m->ranges[m->range_count - 1] : NULL;
        uint64_t a = m->segs[i].address, l = m->segs[i].length;
        if (last && a <= last->address + last->length) {
            uint64_t end = a + l > last->address + last->length ? a + l : last->address + last->length;
            last->length = end - last->address;
        } else {
            m->ranges[m->range_count].address = a;
            m->ranges[m->range_count].length = l;
            m->range_count++;
        }
    }
    m->dirty = 0;
}

/* The last segment starting at or below addr that contains it, or NULL. */
static const struct mem_segment *segment_at(struct mem_source *m, uint64_t addr)
{
    size_t lo = 0, hi = m->seg_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->segs[mid].address <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* segs[lo-1] is the last with address <= addr; earlier ones may be
     * longer (overlaps), so look back a little. */
    for (size_t i = lo; i > 0; i--) {
        const struct mem_segment *s = &m->segs[i - 1];
        if (addr - s->address < s->length)
            return s;
        if (lo - i > 8)
            break;
    }
    return NULL;
}

static int mem_read(struct hv_source *src, uint64_t addr, void *out, size_t len)
{
    struct mem_source *m = mem_of(src);
    uint8_t *dst = out;
    mem_sort(m);
    while (len > 0) {
        const struct mem_segment *s = segment_at(m, addr);
        if (!s) {
            hv_source_set_error(src, "no data at 0x%llx", (unsigned long long)addr);
            return -1;
        }
        uint64_t off = addr - s->address;
        uint64_t avail = s->length - off;
        size_t n = avail < len ? (size_t)avail : len;
        memcpy(dst, s->data + off, n);
        dst += n;
        addr += n;
        len -= n;
    }
    return 0;
}

static const void *mem_view(struct hv_source *src, uint64_t addr, size_t len)
{
    struct mem_source *m = mem_of(src);
    mem_sort(m);
    const struct mem_segment *s = segment_at(m, addr);
    if (!s || s->length - (addr - s->address) < len)
        return NULL;
    return s->data + (addr - s->address);
}

static const struct hv_range *mem_ranges(struct hv_source *src, size_t *count)
{
    struct mem_source *m = mem_of(src);
    mem_sort(m);
    *count = m->range_count;
    return m->ranges;
}

static void mem_close(struct hv_source *src)
{
    struct mem_source *m = mem_of(src);
    for (size_t i = 0; i < m->seg_count; i++)
        free(m->segs[i].owned);
    free(m->segs);
    free(m->ranges);
    if (m->backing) {
        if (m->backing_is_mmap)
            hv_file_unmap(m->backing, m->backing_len);
        else
            free(m->backing);
    }
    free(m->name);
    free(m);
}

static const struct hv_source_ops mem_ops = {
    .read = mem_read,
    .ranges = mem_ranges,
    .set_halted = NULL,
    .close = mem_close,
    .view = mem_view,
};

struct hv_source *hv_mem_source_new(const char *name)
{
    struct mem_source *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->name = strdup(name ? name : "memory");
    if (!m->name) {
        free(m);
        return NULL;
    }
    m->base.ops = &mem_ops;
    m->base.name = m->name;
    return &m->base;
}

int hv_mem_source_add(struct hv_source *src, uint64_t addr, const void *data, size_t len, int copy)
{
    struct mem_source *m = mem_of(src);
    if (len == 0)
        return 0;
    if (addr + len < addr || addr + len == 0) {
        hv_source_set_error(src, "segment at 0x%llx of %zu bytes wraps the address space",
                            (unsigned long long)addr, len);
        return -1;
    }
    if (m->seg_count == m->seg_cap) {
        size_t cap = m->seg_cap ? m->seg_cap * 2 : 8;
        struct mem_segment *segs = realloc(m->segs, cap * sizeof *segs);
        if (!segs)
            return -1;
        m->segs = segs;
        m->seg_cap = cap;
    }
    struct mem_segment *s = &m->segs[m->seg_count];
    memset(s, 0, sizeof *s);
    if (copy) {
        s->owned = malloc(len);
        if (!s->owned)
            return -1;
        memcpy(s->owned, data, len);
        s->data = s->owned;
    } else {
        s->data = data;
    }
    s->address = addr;
    s->length = len;
    m->seg_count++;
    m->dirty = 1;
    return 0;
}

void hv_mem_source_own(struct hv_source *src, void *mem, size_t len, int is_mmap)
{
    struct mem_source *m = mem_of(src);
    m->backing = mem;
    m->backing_len = len;
    m->backing_is_mmap = is_mmap;
}

int hv_file_map(const char *path, void **data, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "is a directory");
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        snprintf(err, errlen, "file is empty");
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    /* Private and writable so libraries that patch bytes in place (libelf
     * converting byte order) never touch the file. */
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    *data = p;
    *len = n;
    return 0;
}

void hv_file_unmap(void *data, size_t len)
{
    if (data)
        munmap(data, len);
}
