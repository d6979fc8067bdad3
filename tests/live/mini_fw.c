/*
 * mini_fw.c - the smallest Cortex-M3 program the live-source tests need
 * (QEMU mps2-an385: code at 0x0, data RAM at 0x20000000).  It fills
 * PATTERN with a xorshift32 sequence, sets READY, then keeps rewriting
 * CHURN with a counter so a snapshot of a running target can be torn.
 */
#include <stdint.h>

#define PATTERN ((volatile uint32_t *)0x20000000u)
#define PATTERN_WORDS (0x40000u / 4)            /* 256 KiB */
#define READY ((volatile uint32_t *)0x20040000u)
#define TICKER ((volatile uint32_t *)0x20040004u)
#define CHURN ((volatile uint32_t *)0x20040100u)
#define CHURN_WORDS 256u

void reset_handler(void);
void default_handler(void);

__attribute__((section(".vectors"), used))
static const uintptr_t vectors[16] = {
    0x20400000u,                      /* initial stack pointer: top of data RAM */
    (uintptr_t)reset_handler,
    (uintptr_t)default_handler, (uintptr_t)default_handler,
    (uintptr_t)default_handler, (uintptr_t)default_handler,
    (uintptr_t)default_handler, 0, 0, 0, 0,
    (uintptr_t)default_handler, (uintptr_t)default_handler, 0,
    (uintptr_t)default_handler, (uintptr_t)default_handler,
};

void default_handler(void)
{
    for (;;) {
    }
}

void reset_handler(void)
{
    uint32_t x = 0x12345678u;
    for (uint32_t i = 0; i < PATTERN_WORDS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        PATTERN[i] = x;
    }
    *READY = 0x600df00du;
    for (uint32_t tick = 1;; tick++) {
        *TICKER = tick;
        CHURN[tick % CHURN_WORDS] = tick;
    }
}
