/*
 * test_bind.c - built with UMM_BIND_STDLIB and UMM_DEFAULT_HEAP_BYTES: the
 * program's own malloc family (and the C library's internal users of it,
 * like strdup) must be served from the default heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heapwalk.h"
#include "tcheck.h"
#include "umm_malloc.h"

static int in_default_heap(const void *p)
{
    const uint8_t *lo = umm_heap_default.pheap;
    return p && (const uint8_t *)p >= lo && (const uint8_t *)p < lo + umm_heap_default.heap_size;
}

static void test_malloc_family_bound(void)
{
    void *m = malloc(100);
    void *c = calloc(10, 10);
    void *r = realloc(NULL, 50);
    void *a = memalign(64, 10);
    void *al = aligned_alloc(128, 100);
    void *pm = NULL;
    int rc = posix_memalign(&pm, 256, 10);
    EXPECT(in_default_heap(m) && in_default_heap(c) && in_default_heap(r), "malloc/calloc/realloc bound");
    EXPECT(in_default_heap(a) && ((uintptr_t)a & 63) == 0, "memalign bound and aligned");
    EXPECT(in_default_heap(al) && ((uintptr_t)al & 127) == 0, "aligned_alloc bound and aligned");
    EXPECT(rc == 0 && in_default_heap(pm) && ((uintptr_t)pm & 255) == 0, "posix_memalign bound and aligned");
    void *bad = NULL;
    EXPECT(posix_memalign(&bad, 3, 10) == EINVAL, "posix_memalign rejects a bad alignment");
    char *s = strdup("from the C library");
    EXPECT(in_default_heap(s), "the C library's own allocations come from our heap");
    free(s);
    free(m);
    free(c);
    free(r);
    free(a);
    free(al);
    free(pm);
    struct hw_summary sum;
    const char *why = hw_check(umm_heap_default.ctl, &sum);
    EXPECT(!why, "%s", why);
}

int main(int argc, char **argv)
{
    static const struct tcheck_case cases[] = {
        {"malloc family bound to the default heap", test_malloc_family_bound},
        {NULL, NULL},
    };
    return tcheck_main("bind", cases, argc, argv);
}
