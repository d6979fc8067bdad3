/*
 * umm_stdlib.c - with UMM_BIND_STDLIB, the C library's allocation entry
 * points (and newlib's reentrant twins, which printf and friends call) are
 * served by the default heap: the C counterpart of a Rust global allocator.
 * Owners recorded by the instrumented build are the callers of malloc, not
 * this file.
 */
#include "umm_malloc.h"

#if defined(UMM_BIND_STDLIB)
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

void *umm_multi_malloc_owned(umm_heap *heap, size_t size, uintptr_t owner);
void *umm_multi_calloc_owned(umm_heap *heap, size_t num, size_t size, uintptr_t owner);
void *umm_multi_realloc_owned(umm_heap *heap, void *ptr, size_t size, uintptr_t owner);
void *umm_multi_memalign_owned(umm_heap *heap, size_t align, size_t size, uintptr_t owner);

#define CALLER() ((uintptr_t)__builtin_return_address(0))

/* Declared here because the build may not include the C library's headers. */
void *malloc(size_t size);
void free(void *ptr);
void *calloc(size_t num, size_t size);
void *realloc(void *ptr, size_t size);
void *memalign(size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);
int posix_memalign(void **out, size_t align, size_t size);
struct _reent;
void *_malloc_r(struct _reent *r, size_t size);
void _free_r(struct _reent *r, void *ptr);
void *_calloc_r(struct _reent *r, size_t num, size_t size);
void *_realloc_r(struct _reent *r, void *ptr, size_t size);
void *_memalign_r(struct _reent *r, size_t align, size_t size);

void *malloc(size_t size) { return umm_multi_malloc_owned(&umm_heap_default, size, CALLER()); }
void free(void *ptr) { umm_multi_free(&umm_heap_default, ptr); }
void *calloc(size_t num, size_t size) { return umm_multi_calloc_owned(&umm_heap_default, num, size, CALLER()); }
void *realloc(void *ptr, size_t size) { return umm_multi_realloc_owned(&umm_heap_default, ptr, size, CALLER()); }
void *memalign(size_t align, size_t size)
{
    return umm_multi_memalign_owned(&umm_heap_default, align, size, CALLER());
}
/* C11: the size need not be a multiple of the alignment here. */
void *aligned_alloc(size_t align, size_t size)
{
    return umm_multi_memalign_owned(&umm_heap_default, align, size, CALLER());
}
int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1u)))
        return EINVAL;
    void *p = umm_multi_memalign_owned(&umm_heap_default, align, size, CALLER());
    if (!p && size)
        return ENOMEM;
    *out = p;
    return 0;
}

void *_malloc_r(struct _reent *r, size_t size)
{
    (void)r;
    return umm_multi_malloc_owned(&umm_heap_default, size, CALLER());
}
void _free_r(struct _reent *r, void *ptr)
{
    (void)r;
    umm_multi_free(&umm_heap_default, ptr);
}
void *_calloc_r(struct _reent *r, size_t num, size_t size)
{
    (void)r;
    return umm_multi_calloc_owned(&umm_heap_default, num, size, CALLER());
}
void *_realloc_r(struct _reent *r, void *ptr, size_t size)
{
    (void)r;
    return umm_multi_realloc_owned(&umm_heap_default, ptr, size, CALLER());
}
void *_memalign_r(struct _reent *r, size_t align, size_t size)
{
    (void)r;
    return umm_multi_memalign_owned(&umm_heap_default, align, size, CALLER());
}
#else
typedef int umm_stdlib_unused;
#endif
