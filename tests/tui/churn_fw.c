/*
 * churn_fw.c - a Cortex-M3 firmware (QEMU mps2-an385, tests/firmware's
 * start-up and linker script) whose heap never stops changing: it
 * allocates and frees pseudo-random sizes forever, so every live refresh
 * of `heapview tui --gdb-remote` sees blocks that changed.  It never
 * exits; the test kills QEMU.
 */
#include <stdint.h>

#include "umm_malloc.h"

#define HEAP_BYTES (8u * 1024u)
#define SLOTS 24u

static uint64_t churn_region[HEAP_BYTES / 8u] __attribute__((section(".hv_heap")));
volatile uint32_t churn_ops;

int main(void)
{
    umm_init_heap(churn_region, sizeof churn_region);
    void *slot[SLOTS] = { 0 };
    uint32_t x = 0x2545F491u;
    for (;;) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t i = x % SLOTS;
        if (slot[i] != NULL) {
            umm_free(slot[i]);
            slot[i] = NULL;
        } else {
            slot[i] = umm_malloc(16u + (x >> 8) % 200u);
        }
        churn_ops++;
        for (volatile uint32_t d = 0; d < 3000000u; d++) {
        }
    }
}
