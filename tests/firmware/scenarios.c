/*
 * scenarios.c - heap states for the tools to find, one firmware per
 * scenario (HV_SCENARIO = one of HV_SC_* at build time).  Each builds its
 * state through the public allocator API, damages it by hand where the
 * scenario says so, records what it did in hv_truth and stops at
 * checkpoint 1 (the leak scenario also at checkpoint 2).  After a damaging
 * step the firmware makes no further allocator call: what the dump shows is
 * exactly the damage, not the allocator's reaction to it.
 *
 * Built against the instrumented allocator (-DUMM_INSTRUMENT) so canaries,
 * fill patterns and the instrumentation record are in the heap.  After the
 * last checkpoint each heap gets the allocator's own integrity check and
 * the firmware prints what it found.  The undamaged scenarios are also
 * built on the release allocator, where no check exists.
 */
#include <string.h>

#include "hv_io.h"
#include "hv_truth.h"
#include "umm_diag.h"
#include "umm_format.h"
#include "umm_malloc.h"

#ifndef HV_SCENARIO
#error "build with -DHV_SCENARIO=<HV_SC_* value>"
#endif

#define DEFAULT_HEAP_BYTES (16u * 1024u)
#define SECOND_HEAP_BYTES  (6u * 1024u)
#define CORRUPT_BYTE       0x5Au /* differs from canary, fill and new-fill bytes */

static uint64_t default_region[DEFAULT_HEAP_BYTES / 8u] __attribute__((section(".hv_heap")));
UMM_HEAP_DEFINE(hv_second_heap, SECOND_HEAP_BYTES);

static umm_heap *const dflt = &umm_heap_default;

#if HV_SCENARIO == HV_SC_WIDE
/* More than 32768 units: the allocator must pick 32-bit indices. */
#define WIDE_HEAP_BYTES (320u * 1024u)
UMM_HEAP_DEFINE(hv_wide_heap, WIDE_HEAP_BYTES);
#endif

static void fill(void *p, size_t n, uint8_t seed)
{
    memset(p, seed, n);
}

/* A mix of sizes with a few frees in between: the common ground. */
static void baseline(void)
{
    static const uint16_t sizes[] = { 16, 40, 7, 128, 64, 300, 24, 512, 33, 96 };
    void *held[sizeof sizes / sizeof sizes[0]];
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        held[i] = hv_malloc(dflt, sizes[i]);
        if (held[i] != NULL) {
            fill(held[i], sizes[i], (uint8_t)(0x10 + i));
        }
    }
    hv_free(dflt, held[2]);
    hv_free(dflt, held[5]);
    hv_free(dflt, held[8]);
    hv_check("baseline allocations", hv_truth.live_count == 7);
}

/* Bytes between a block's data area and the user pointer (prefix). */
static uint32_t prefix_bytes(const umm_heap *heap)
{
    return ((const uint8_t *)heap->ctl)[UMM_CTL_PREFIX_BYTES];
}

static uint32_t header_bytes(const umm_heap *heap)
{
    return 2u * ((const uint8_t *)heap->ctl)[UMM_CTL_INDEX_BYTES];
}

static void scenario_healthy(void)
{
    baseline();
    void *more = hv_calloc(dflt, 10, 12);
    void *big = hv_malloc(dflt, 2000);
    hv_check("healthy allocations succeed", more != NULL && big != NULL);
}

static void scenario_fragmented(void)
{
    void *slots[40];
    for (unsigned i = 0; i < 40; i++) {
        slots[i] = hv_malloc(dflt, 64 + (i % 4) * 8);
    }
    /* Every other slot freed: 20 holes that cannot merge. */
    for (unsigned i = 0; i < 40; i += 2) {
        hv_free(dflt, slots[i]);
    }
    void *tail = hv_malloc(dflt, 200); /* fits no hole: comes from the tail */
    int all = tail != NULL;
    for (unsigned i = 1; i < 40; i += 2) {
        all &= slots[i] != NULL;
    }
    hv_check("fragmented heap built", all && hv_truth.live_count == 21);
}

static void scenario_two_heaps(void)
{
    baseline();
    void *a = hv_malloc(&hv_second_heap, 256);
    void *b = hv_malloc(&hv_second_heap, 1000);
    void *c = hv_malloc(&hv_second_heap, 48);
    hv_free(&hv_second_heap, b);
    void *d = hv_memalign(&hv_second_heap, 64, 100);
    hv_check("second heap allocations", a != NULL && c != NULL && d != NULL &&
                                         hv_truth.heaps[1].live_count == 3);
    hv_check("second heap registered", hv_second_heap.ctl != NULL && umm_heap_list != NULL);
}

static void scenario_overrun(void)
{
    baseline();
    uint8_t *victim = hv_malloc(dflt, 24);
    void *after = hv_malloc(dflt, 24);
    hv_check("victim allocated", victim != NULL && after != NULL);
    fill(victim, 24, 0x33);
    /* One byte past the end: the first post-canary byte. */
    victim[24] = CORRUPT_BYTE;
    hv_truth_damage(HV_FAULT_OVERRUN, victim + 24, victim, dflt);
}

static void scenario_underrun(void)
{
    baseline();
    uint8_t *victim = hv_malloc(dflt, 40);
    hv_check("victim allocated", victim != NULL);
    fill(victim, 40, 0x44);
    /* One byte before the start: the last pre-canary byte. */
    victim[-1] = CORRUPT_BYTE;
    hv_truth_damage(HV_FAULT_UNDERRUN, victim - 1, victim, dflt);
}

static void scenario_header_smash(void)
{
    baseline();
    uint8_t *victim = hv_malloc(dflt, 64);
    void *after = hv_malloc(dflt, 64);
    hv_check("victim allocated", victim != NULL && after != NULL);
    /* The block header lies before the data area (lib/FORMAT.md section
     * 3): point `next` past the end of the heap and `prev` forward, an
     * unmistakable break of the address-order chain. */
    uint8_t *header = victim - prefix_bytes(dflt) - header_bytes(dflt);
    memset(header, 0x7E, header_bytes(dflt));
    hv_truth_damage(HV_FAULT_HEADER, header, victim, dflt);
}

static void scenario_write_after_free(void)
{
    baseline();
    void *before = hv_malloc(dflt, 48);
    uint8_t *victim = hv_malloc(dflt, 48);
    void *after = hv_malloc(dflt, 48);
    hv_check("victim allocated", before != NULL && victim != NULL && after != NULL);
    hv_free(dflt, victim);
    /* Its neighbours are used, so the freed block stays on its own and its
     * bytes past the free-list links hold the free fill. */
    victim[8] = CORRUPT_BYTE;
    hv_truth_damage(HV_FAULT_USE_AFTER_FREE, victim + 8, victim, dflt);
}

static void scenario_double_free(void)
{
    baseline();
    void *before = hv_malloc(dflt, 80);
    void *victim = hv_malloc(dflt, 80);
    void *after = hv_malloc(dflt, 80);
    hv_check("victim allocated", before != NULL && victim != NULL && after != NULL);
    hv_free(dflt, victim);
    /* The second free: the allocator must refuse it and say so. */
    umm_multi_free(dflt, victim);
    hv_truth_damage(HV_FAULT_DOUBLE_FREE, victim, victim, dflt);
}

#if HV_SCENARIO == HV_SC_WIDE
static void scenario_wide(void)
{
    baseline();
    hv_truth_add_heap(&hv_wide_heap);
    void *big = hv_malloc(&hv_wide_heap, 100000);   /* larger than a narrow heap's index */
    void *small = hv_malloc(&hv_wide_heap, 20);
    void *mid = hv_malloc(&hv_wide_heap, 5000);
    void *aligned = hv_memalign(&hv_wide_heap, 128, 300);
    void *last = hv_malloc(&hv_wide_heap, 70000);
    hv_free(&hv_wide_heap, mid);
    hv_truth_refresh_heaps();
    hv_check("wide heap allocations", big != NULL && small != NULL && aligned != NULL &&
                                       last != NULL && ((uintptr_t)aligned & 127u) == 0);
    hv_check("wide heap uses 32-bit indices", hv_wide_heap.ctl != NULL &&
                                              header_bytes(&hv_wide_heap) == 8);
}
#endif

static void scenario_leak(void)
{
    baseline();
    hv_reach_checkpoint(1);
    /* A "request handler" that forgets to free its buffer each time. */
    uint32_t live_before = hv_truth.live_count, bytes_before = hv_truth.live_requested;
    for (unsigned i = 0; i < 6; i++) {
        void *scratch = hv_malloc(dflt, 56);
        void *leaked = hv_malloc(dflt, 72 + 8 * i);
        hv_free(dflt, scratch);
        (void)leaked;
    }
    hv_truth.leak_count = hv_truth.live_count - live_before;
    hv_truth.leak_bytes = hv_truth.live_requested - bytes_before;
    hv_check("leak grew by 6 allocations", hv_truth.leak_count == 6);
    hv_reach_checkpoint(2);
}

/*
 * After the last checkpoint (the dumps are taken): the allocator's own
 * check of every heap, printed for the suite to compare with hv_truth.
 * One line per heap: `detect heap I: clean` or
 * `detect heap I: fault kind K op O at 0xADDRESS`.
 */
static void report_detection(void)
{
#if UMM_HAS_RECORD
    for (uint32_t i = 0; i < hv_truth.heap_count; i++) {
        umm_heap *heap = (umm_heap *)(uintptr_t)hv_truth.heaps[i].handle;
        if (heap->ctl == NULL) {
            continue;
        }
        bool intact = umm_multi_integrity_check(heap);
        struct umm_fault fault;
        if (umm_multi_last_fault(heap, &fault)) {
            hv_printf("detect heap %lu: fault kind %u op %u at 0x%08lx (check %s)\n",
                      (unsigned long)i, fault.kind, fault.op, (unsigned long)fault.address,
                      intact ? "passes" : "fails");
        } else {
            hv_printf("detect heap %lu: clean (check %s)\n", (unsigned long)i,
                      intact ? "passes" : "fails");
        }
    }
#endif
}

int main(void)
{
    hv_truth_begin(HV_SCENARIO);
    hv_printf("heapview scenario %u\n", (unsigned)HV_SCENARIO);
    umm_init_heap(default_region, sizeof default_region);
    hv_truth_add_heap(dflt);
    hv_truth_add_heap(&hv_second_heap);
    hv_check("default heap initialised", dflt->ctl != NULL);

    switch (HV_SCENARIO) {
    case HV_SC_HEALTHY: scenario_healthy(); break;
    case HV_SC_FRAGMENTED: scenario_fragmented(); break;
    case HV_SC_TWO_HEAPS: scenario_two_heaps(); break;
    case HV_SC_OVERRUN: scenario_overrun(); break;
    case HV_SC_UNDERRUN: scenario_underrun(); break;
    case HV_SC_HEADER_SMASH: scenario_header_smash(); break;
    case HV_SC_WRITE_AFTER_FREE: scenario_write_after_free(); break;
    case HV_SC_DOUBLE_FREE: scenario_double_free(); break;
    case HV_SC_LEAK: scenario_leak(); break;
#if HV_SCENARIO == HV_SC_WIDE
    case HV_SC_WIDE: scenario_wide(); break;
#endif
    default:
        hv_printf("unknown scenario %u\n", (unsigned)HV_SCENARIO);
        return 2;
    }
    hv_truth_refresh_heaps();
    hv_printf("live: %lu allocations, %lu bytes requested\n", (unsigned long)hv_truth.live_count,
              (unsigned long)hv_truth.live_requested);
    if (hv_truth.fault_kind != HV_FAULT_NONE) {
        hv_printf("damage: kind %lu at 0x%08lx (allocation 0x%08lx)\n",
                  (unsigned long)hv_truth.fault_kind, (unsigned long)hv_truth.damaged_address,
                  (unsigned long)hv_truth.damaged_ptr);
    }
    if (HV_SCENARIO != HV_SC_LEAK) {
        hv_reach_checkpoint(1);
    }
    report_detection();
    hv_printf("done: %lu checks, %lu failed\n", (unsigned long)hv_truth.check_count,
              (unsigned long)hv_truth.check_failures);
    return hv_truth.check_failures == 0 ? 0 : 1;
}
