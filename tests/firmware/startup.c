/*
 * startup.c - reset and fault handling for the Cortex-M3 test firmwares:
 * the vector table, a reset handler that copies .data from its load image,
 * zeroes .bss and calls main, and a fault handler that reports where the
 * fault happened and ends the run with status 3.
 */
#include <stdint.h>

#include "hv_io.h"

extern uint32_t __hv_data_start[], __hv_data_end[], __hv_data_load[];
extern uint32_t __hv_bss_start[], __hv_bss_end[];
extern uint32_t __hv_stack_top[];

int main(void);
void hv_reset_handler(void);
void hv_fault_handler(void);
void hv_fault_report(const uint32_t *frame, uint32_t exc_return);

#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR  (*(volatile uint32_t *)0xE000ED38u)
#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_CCR   (*(volatile uint32_t *)0xE000ED14u)
#define SHCSR_FAULTS_ENABLE 0x00070000u /* MemManage, BusFault, UsageFault */
#define CCR_DIV_0_TRP 0x10u

typedef void (*vector)(void);

/* Core exceptions only: the firmwares enable no interrupts. */
__attribute__((section(".vectors"), used)) static const vector vector_table[16] = {
    (vector)(uintptr_t)__hv_stack_top,
    hv_reset_handler,
    hv_fault_handler, /* NMI */
    hv_fault_handler, /* HardFault */
    hv_fault_handler, /* MemManage */
    hv_fault_handler, /* BusFault */
    hv_fault_handler, /* UsageFault */
    0, 0, 0, 0,
    hv_fault_handler, /* SVCall */
    hv_fault_handler, /* DebugMonitor */
    0,
    hv_fault_handler, /* PendSV */
    hv_fault_handler, /* SysTick */
};

void hv_reset_handler(void)
{
    /* Word loops, not memcpy: nothing in the C library may run before
     * .data and .bss hold their initial values. */
    const uint32_t *load = __hv_data_load;
    for (uint32_t *word = __hv_data_start; word < __hv_data_end; word++) {
        *word = *load++;
    }
    for (uint32_t *word = __hv_bss_start; word < __hv_bss_end; word++) {
        *word = 0;
    }
    SCB_SHCSR |= SHCSR_FAULTS_ENABLE;
    SCB_CCR |= CCR_DIV_0_TRP;
    hv_exit(main());
}

/* Picks the stack the fault frame was pushed on and hands it over. */
__attribute__((naked)) void hv_fault_handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b hv_fault_report\n");
}

void hv_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    hv_printf("FAULT exception %lu pc 0x%08lx lr 0x%08lx cfsr 0x%08lx hfsr 0x%08lx "
              "mmfar 0x%08lx bfar 0x%08lx exc_return 0x%08lx\n",
              (unsigned long)(ipsr & 0x1FFu), (unsigned long)frame[6], (unsigned long)frame[5],
              (unsigned long)SCB_CFSR, (unsigned long)SCB_HFSR, (unsigned long)SCB_MMFAR,
              (unsigned long)SCB_BFAR, (unsigned long)exc_return);
    hv_exit(3);
}
