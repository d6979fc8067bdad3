#ifndef PORT_EXTERN_H
#define PORT_EXTERN_H
#include "umm_port.h"
#if defined(UMM_PORT_EXTERN)
extern int tport_depth, tport_max_depth;
#endif
#endif
