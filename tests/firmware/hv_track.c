/*
 * hv_track.c - allocation wrappers that keep hv_truth in step with what the
 * firmware holds, so the truth is never written by hand.
 */
#include "hv_io.h"
#include "hv_truth.h"

static uint32_t alloc_order;

static uint32_t addr_of(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

uint32_t hv_truth_add_heap(umm_heap *heap)
{
    uint32_t index = hv_truth.heap_count;
    if (index >= HV_TRUTH_MAX_HEAPS) {
        hv_printf("hv_truth: more than %u heaps\n", HV_TRUTH_MAX_HEAPS);
        hv_exit(4);
    }
    struct hv_truth_heap *rec = &hv_truth.heaps[index];
    rec->handle = addr_of(heap);
    rec->ctl = addr_of(heap->ctl);
    rec->region = addr_of(heap->pheap);
    rec->region_bytes = (uint32_t)heap->heap_size;
    hv_truth.heap_count = index + 1;
    return index;
}

void hv_truth_refresh_heaps(void)
{
    for (uint32_t i = 0; i < hv_truth.heap_count; i++) {
        const umm_heap *heap = (const umm_heap *)(uintptr_t)hv_truth.heaps[i].handle;
        hv_truth.heaps[i].ctl = addr_of(heap->ctl);
        hv_truth.heaps[i].region = addr_of(heap->pheap);
        hv_truth.heaps[i].region_bytes = (uint32_t)heap->heap_size;
    }
}

static uint32_t heap_index(const umm_heap *heap)
{
    for (uint32_t i = 0; i < hv_truth.heap_count; i++) {
        if (hv_truth.heaps[i].handle == addr_of(heap)) {
            return i;
        }
    }
    hv_printf("hv_truth: heap %p was not registered\n", (const void *)heap);
    hv_exit(4);
}

static struct hv_truth_alloc *slot_of(const void *ptr)
{
    for (uint32_t i = 0; i < HV_TRUTH_MAX_LIVE; i++) {
        if (hv_truth.live[i].ptr == addr_of(ptr)) {
            return &hv_truth.live[i];
        }
    }
    return NULL;
}

static void track_add(const umm_heap *heap, const void *ptr, size_t size)
{
    if (ptr == NULL) {
        return;
    }
    struct hv_truth_alloc *slot = slot_of(NULL);
    if (slot == NULL) {
        hv_printf("hv_truth: more than %u live allocations\n", HV_TRUTH_MAX_LIVE);
        hv_exit(4);
    }
    uint32_t heap_at = heap_index(heap);
    slot->ptr = addr_of(ptr);
    slot->requested = (uint32_t)size;
    slot->heap = heap_at;
    slot->order = ++alloc_order;
    hv_truth.live_count++;
    hv_truth.live_requested += (uint32_t)size;
    hv_truth.heaps[heap_at].live_count++;
    hv_truth.heaps[heap_at].live_requested += (uint32_t)size;
}

uint32_t hv_truth_forget(const void *ptr)
{
    struct hv_truth_alloc *slot = ptr == NULL ? NULL : slot_of(ptr);
    if (slot == NULL) {
        return 0;
    }
    uint32_t size = slot->requested;
    hv_truth.live_count--;
    hv_truth.live_requested -= size;
    hv_truth.heaps[slot->heap].live_count--;
    hv_truth.heaps[slot->heap].live_requested -= size;
    slot->ptr = 0;
    slot->requested = 0;
    slot->heap = 0;
    slot->order = 0;
    return size;
}

/* Heaps initialise on first use: the control block appears then. */
static void *tracked(umm_heap *heap, void *ptr, size_t size)
{
    hv_truth_refresh_heaps();
    track_add(heap, ptr, size);
    return ptr;
}

void *hv_malloc(umm_heap *heap, size_t size)
{
    return tracked(heap, umm_multi_malloc(heap, size), size);
}

void *hv_calloc(umm_heap *heap, size_t count, size_t size)
{
    return tracked(heap, umm_multi_calloc(heap, count, size), count * size);
}

void *hv_memalign(umm_heap *heap, size_t align, size_t size)
{
    return tracked(heap, umm_multi_memalign(heap, align, size), size);
}

void *hv_realloc(umm_heap *heap, void *ptr, size_t size)
{
    void *moved = umm_multi_realloc(heap, ptr, size);
    if (moved == NULL && size != 0) {
        return NULL; /* the old block stays live, as it was */
    }
    hv_truth_forget(ptr);
    return tracked(heap, moved, size);
}

void hv_free(umm_heap *heap, void *ptr)
{
    hv_truth_forget(ptr);
    umm_multi_free(heap, ptr);
}

void hv_truth_damage(uint32_t kind, const void *address, const void *ptr, umm_heap *heap)
{
    hv_truth.fault_kind = kind;
    hv_truth.damaged_address = addr_of(address);
    hv_truth.damaged_ptr = addr_of(ptr);
    hv_truth.damaged_heap = heap_index(heap);
}
