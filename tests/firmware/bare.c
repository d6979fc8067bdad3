/*
 * bare.c - a firmware that does not allocate: it proves the start-up code
 * (.data copied, .bss zeroed), the output path and the checkpoint, and
 * leaves a known pattern in RAM for the capture methods to agree on.
 * Built with -DHV_BARE_FAULT (bare-fault.elf) it faults after its checkpoint;
 * with -DHV_BARE_HANG (bare-hang.elf) it spins forever before it.
 */
#include "hv_io.h"
#include "hv_truth.h"

#define PATTERN_WORDS 1024u

static volatile uint32_t initialised_word = 0x600DF00Du;
static uint32_t zeroed_words[16];
uint32_t hv_bare_pattern[PATTERN_WORDS];

int main(void)
{
    hv_truth_begin(HV_SC_BARE);
    hv_puts("bare firmware: start\n");
    hv_check("data copied", initialised_word == 0x600DF00Du);
    int all_zero = 1;
    for (unsigned i = 0; i < sizeof zeroed_words / sizeof zeroed_words[0]; i++) {
        all_zero &= zeroed_words[i] == 0;
    }
    hv_check("bss zeroed", all_zero);
    /* An xorshift sequence: every byte differs from its neighbours, so a
     * capture that shifts or drops bytes shows. */
    uint32_t state = 0x2545F491u;
    for (unsigned i = 0; i < PATTERN_WORDS; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        hv_bare_pattern[i] = state;
    }
    hv_printf("pattern at %p, %u words, last 0x%08lx\n", (void *)hv_bare_pattern,
              PATTERN_WORDS, (unsigned long)hv_bare_pattern[PATTERN_WORDS - 1]);
#ifdef HV_BARE_HANG
    /* Never reaches its checkpoint nor exits: the drivers' timeouts. */
    static volatile int hang = 1; /* volatile: the code after stays linked */
    hv_puts("bare firmware: hanging\n");
    while (hang) {
        __asm__ volatile("nop");
    }
#endif
    hv_reach_checkpoint(1);
#ifdef HV_BARE_FAULT
    /* The fault path: an undefined instruction ends the run through the
     * fault handler (status 3) instead of main's return. */
    hv_puts("bare firmware: executing an undefined instruction\n");
    __asm__ volatile("udf #0");
#endif
    hv_printf("done: %lu checks, %lu failed\n", (unsigned long)hv_truth.check_count,
              (unsigned long)hv_truth.check_failures);
    return hv_truth.check_failures == 0 ? 0 : 1;
}
