#define _GNU_SOURCE /* PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP */
/* The pthread port: one recursive mutex for every heap in the process, so
 * a heap operation is never interleaved with another on any thread. */
#include "umm_port.h"

#if defined(UMM_PORT_PTHREAD)
#include <pthread.h>

static pthread_mutex_t umm_port_mutex = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void umm_port_pthread_lock(void) { (void)pthread_mutex_lock(&umm_port_mutex); }
void umm_port_pthread_unlock(void) { (void)pthread_mutex_unlock(&umm_port_mutex); }
#else
/* Nothing to build without the pthread port; ISO C wants a declaration. */
typedef int umm_port_pthread_unused;
#endif
