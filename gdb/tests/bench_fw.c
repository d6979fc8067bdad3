/*
 * bench_fw.c - firmware for the umm-walk benchmark on QEMU (mps2-an385):
 * a 256 KiB heap filled with 1..4-byte allocations (one unit each in the
 * release build), every seventh freed, about 30,000 blocks in all.  Stops at
 * checkpoint 1 (break *hv_checkpoint) with the heap stable.
 */
#include "hv_io.h"
#include "hv_truth.h"
#include "umm_malloc.h"

#define BENCH_HEAP_BYTES (256u * 1024u)
#define BENCH_MAX_ALLOCS 34000u

static uint64_t bench_region[BENCH_HEAP_BYTES / 8u] __attribute__((section(".hv_heap")));
umm_heap bench_heap = UMM_HEAP_INITIALIZER(bench_region, sizeof(bench_region));
static void *bench_ptrs[BENCH_MAX_ALLOCS];

int main(void)
{
    uint32_t x = 2463534242u;
    uint32_t count = 0;
    umm_multi_init(&bench_heap);
    while (count < BENCH_MAX_ALLOCS) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        void *p = umm_multi_malloc(&bench_heap, 1u + x % 4u);
        if (p == NULL) {
            break;
        }
        bench_ptrs[count++] = p;
    }
    uint32_t freed = 0;
    for (uint32_t i = 0; i < count; i += 7u) {
        umm_multi_free(&bench_heap, bench_ptrs[i]);
        freed++;
    }
    hv_printf("bench: %lu allocations, %lu freed\n", (unsigned long)count, (unsigned long)freed);
    hv_reach_checkpoint(1);
    return 0;
}
