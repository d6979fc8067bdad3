/*
 * net.h - blocking-style TCP/UNIX socket helpers where every step has a
 * deadline.  The live memory sources (GDB remote, OpenOCD Tcl) talk to
 * peers that may be dead, slow or garbled; these calls turn each of those
 * into an error string instead of a hang.  Errors are one line, lowercase.
 */
#ifndef HV_NET_H
#define HV_NET_H

#include <stddef.h>
#include <sys/types.h>

/* Connects to "HOST:PORT", ":PORT", "PORT", "HOST" (then default_port) or
 * "unix:PATH".  Returns a non-blocking socket, or -1 with `err` filled. */
int net_connect(const char *target, int default_port, int timeout_ms,
                char *err, size_t errlen);

/* Sends all `len` bytes, waiting at most `timeout_ms` for the socket to take
 * each piece.  Returns 0, or -1 with `err` filled. */
int net_send_all(int fd, const void *buf, size_t len, int timeout_ms,
                 char *err, size_t errlen);

/* Receives at least one byte (at most `cap`), waiting at most `timeout_ms`.
 * Returns the count, or -1 with `err` filled ("connection closed by peer",
 * "no reply within N ms", ...). */
ssize_t net_recv_some(int fd, void *buf, size_t cap, int timeout_ms,
                      char *err, size_t errlen);

/* Puts `fd` in non-blocking mode.  Returns 0 or -1. */
int net_set_nonblocking(int fd);

/* Milliseconds on a monotonic clock. */
long long net_now_ms(void);

#endif /* HV_NET_H */
