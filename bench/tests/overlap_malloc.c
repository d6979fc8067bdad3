/*
 * overlap_malloc.c - a deliberately broken malloc for the replayer's own
 * test: preloaded (LD_PRELOAD) under `replay --backend libc`, it hands out
 * blocks from a bump region and, at the OVERLAP_AT-th call, a block that
 * overlaps the previous one.  The replayer must notice and exit 3.
 */
#define _GNU_SOURCE /* memalign */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REGION_BYTES (256u << 20)
#define OVERLAP_AT 20000

static _Alignas(64) unsigned char region[REGION_BYTES];
static size_t used;      /* bytes handed out from region */
static size_t last;      /* offset of the last block handed out */
static unsigned long calls;

/* Each block: 64 bytes of header (its size at -8), then the data. */
void *malloc(size_t size)
{
    size_t need = (size + 64 + 63) & ~(size_t)63;
    calls++;
    if (calls == OVERLAP_AT && used > 0)
        return region + last + 64 + 16; /* inside the previous block */
    if (size > REGION_BYTES || need > REGION_BYTES - used)
        return NULL;
    unsigned char *p = region + used + 64;
    memcpy(p - 8, &size, sizeof size);
    last = used;
    used += need;
    return p;
}

void free(void *ptr)
{
    (void)ptr; /* never reused: only the overlap above can corrupt */
}

void *calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *realloc(void *ptr, size_t size)
{
    void *q = malloc(size);
    if (q && ptr) {
        size_t old;
        memcpy(&old, (unsigned char *)ptr - 8, sizeof old);
        memcpy(q, ptr, old < size ? old : size);
    }
    return q;
}

void *memalign(size_t align, size_t size)
{
    if (align > 64)
        return NULL; /* every block is 64-byte aligned, no more */
    return malloc(size);
}
