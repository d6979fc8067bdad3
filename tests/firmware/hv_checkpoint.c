/*
 * hv_checkpoint.c - the truth record, self-checks and the checkpoint
 * symbol.  Needs no allocator, so the bare firmware links it too.
 */
#include "hv_io.h"
#include "hv_truth.h"

struct hv_truth hv_truth;
volatile uint32_t hv_checkpoint_id;

void hv_truth_begin(uint32_t scenario)
{
    hv_truth.magic = HV_TRUTH_MAGIC;
    hv_truth.version = HV_TRUTH_VERSION;
    hv_truth.size = (uint32_t)sizeof hv_truth;
    hv_truth.scenario = scenario;
}

int hv_check(const char *name, int ok)
{
    hv_truth.check_count++;
    if (!ok) {
        hv_truth.check_failures++;
    }
    hv_printf("check %s: %s\n", name, ok ? "OK" : "FAILED");
    return ok;
}

/*
 * The breakpoint target: its own symbol, no prologue, so `break
 * *hv_checkpoint` stops before anything of it runs and every store the
 * firmware made (hv_truth, hv_checkpoint_id, the heap) is in memory.
 */
__attribute__((naked, noinline)) void hv_checkpoint(uint32_t id)
{
    (void)id;
    __asm__ volatile("bx lr\n");
}

void hv_reach_checkpoint(uint32_t id)
{
    hv_truth.checkpoint = id;
    hv_checkpoint_id = id;
    __asm__ volatile("dsb" ::: "memory");
    hv_checkpoint(id);
    hv_printf("checkpoint %lu\n", (unsigned long)id);
}
