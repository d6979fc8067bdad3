/*
 * size_main.c - the smallest firmware that uses the whole allocation API,
 * linked by `make size` so the linker map shows what the allocator costs in
 * flash.  The arguments come from volatile storage so no call is folded.
 */
#include <stddef.h>
#include <stdint.h>

#include "umm_malloc.h"

static uint64_t heap_region[2048 / 8];
static volatile size_t request = 24;
static volatile uintptr_t sink;

int main(void)
{
    umm_init_heap(heap_region, sizeof heap_region);
    void *a = umm_malloc(request);
    void *b = umm_calloc(request, 2);
    a = umm_realloc(a, request * 3);
    void *c = umm_memalign(32, request);
    sink = (uintptr_t)a ^ (uintptr_t)b ^ (uintptr_t)c;
    umm_free(b);
    umm_free(a);
    umm_free(c);
    return 0;
}
