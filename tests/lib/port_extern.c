/* The firmware side of the extern port, for tests: nesting is counted, so a
 * test can tell every enter met its exit. */
#include "port_extern.h"

#if defined(UMM_PORT_EXTERN)
int tport_depth, tport_max_depth;

void umm_port_enter(void)
{
    if (++tport_depth > tport_max_depth)
        tport_max_depth = tport_depth;
}
void umm_port_exit(void) { tport_depth--; }
#else
typedef int port_extern_unused;
#endif
