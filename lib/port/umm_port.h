/*
 * umm_port.h - critical sections around every heap operation.  Pick one port
 * with -D, or define UMM_CRITICAL_DECL/ENTRY/EXIT yourself (upstream names):
 *
 *   (none)              no protection: single context only
 *   UMM_PORT_EXTERN     calls umm_port_enter()/umm_port_exit(), which the
 *                       firmware supplies; they must allow nesting
 *   UMM_PORT_CORTEXM    saves PRIMASK, disables interrupts, restores it
 *                       (nests naturally)
 *   UMM_PORT_PTHREAD    one process-wide recursive pthread mutex (host builds)
 */
#ifndef UMM_PORT_H
#define UMM_PORT_H

#include <stdint.h>

#if !defined(UMM_CRITICAL_ENTRY)

#if defined(UMM_PORT_EXTERN)
void umm_port_enter(void);
void umm_port_exit(void);
#define UMM_CRITICAL_DECL(tag)
#define UMM_CRITICAL_ENTRY(tag) umm_port_enter()
#define UMM_CRITICAL_EXIT(tag) umm_port_exit()

#elif defined(UMM_PORT_CORTEXM)
#define UMM_CRITICAL_DECL(tag) uint32_t umm_primask_##tag
#define UMM_CRITICAL_ENTRY(tag) \
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(umm_primask_##tag) : : "memory")
#define UMM_CRITICAL_EXIT(tag) \
    __asm volatile("msr primask, %0" : : "r"(umm_primask_##tag) : "memory")

#elif defined(UMM_PORT_PTHREAD)
void umm_port_pthread_lock(void);
void umm_port_pthread_unlock(void);
#define UMM_CRITICAL_DECL(tag)
#define UMM_CRITICAL_ENTRY(tag) umm_port_pthread_lock()
#define UMM_CRITICAL_EXIT(tag) umm_port_pthread_unlock()

#else
#define UMM_CRITICAL_DECL(tag)
#define UMM_CRITICAL_ENTRY(tag) ((void)0)
#define UMM_CRITICAL_EXIT(tag) ((void)0)
#endif

#endif /* !UMM_CRITICAL_ENTRY */

#endif /* UMM_PORT_H */
