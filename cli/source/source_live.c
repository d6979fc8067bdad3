/*
 * source_live.c - helpers shared by the live memory sources: error text,
 * counters, and the re-read check for snapshots of a running target.
 */
#include "source_live.h"
#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void hv_live_set_error(struct hv_source *src, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(src->error, sizeof src->error, fmt, ap);
    va_end(ap);
    /* One printable line: the peer's text may carry newlines or escapes. */
    for (char *p = src->error; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
        else if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
            *p = '?';
}

int hv_live_stream(const char *target, int default_port, int fd, int timeout_ms,
                   char *err, size_t errlen)
{
    if (fd < 0) {
        char cerr[160];
        fd = net_connect(target, default_port, timeout_ms, cerr, sizeof cerr);
        if (fd < 0)
            snprintf(err, errlen, "cannot connect: %s", cerr);
        return fd;
    }
    if (net_set_nonblocking(fd) < 0) {
        close(fd);
        snprintf(err, errlen, "cannot use the connection");
        return -1;
    }
    return fd;
}

int hv_live_is_live(const struct hv_source *src)
{
    return src != NULL &&
           (src->ops == &hv_gdb_source_ops || src->ops == &hv_openocd_source_ops);
}

int hv_live_get_stats(struct hv_source *src, struct hv_live_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!hv_live_is_live(src))
        return -1;
    *out = ((struct hv_live_source *)src)->stats;
    return 0;
}

int hv_source_reread_compare(struct hv_source *src, uint64_t addr, size_t len,
                             const void *snapshot, uint64_t *first_diff)
{
    if (len == 0)
        return 0;
    unsigned char *again = malloc(len);
    if (again == NULL) {
        hv_live_set_error(src, "out of memory re-reading %zu bytes", len);
        return -1;
    }
    if (src->ops->read(src, addr, again, len) != 0) {
        free(again);
        return -1;
    }
    const unsigned char *before = snapshot;
    int torn = 0;
    for (size_t i = 0; i < len; i++) {
        if (before[i] != again[i]) {
            if (first_diff != NULL)
                *first_diff = addr + i;
            torn = 1;
            break;
        }
    }
    free(again);
    return torn;
}
