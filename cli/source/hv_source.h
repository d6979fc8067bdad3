/*
 * hv_source.h - where heapview's bytes come from.  Every memory source (raw
 * image, Intel HEX, ELF core, OpenOCD Tcl RPC, GDB remote, in-memory for
 * tests) is one file implementing these ops; the analysis never knows the
 * transport.
 */
#ifndef HV_SOURCE_H
#define HV_SOURCE_H

#include <stddef.h>
#include <stdint.h>

/* One span of target memory the source can supply. */
struct hv_range {
    uint64_t address;
    uint64_t length;
};

struct hv_source;

struct hv_source_ops {
    /* Copies `len` bytes at target address `addr` into `out`.  Returns 0 on
     * success, -1 when any byte is unavailable (then hv_source_error says
     * why).  Never partially succeeds: callers split reads themselves. */
    int (*read)(struct hv_source *src, uint64_t addr, void *out, size_t len);
    /* Ranges known to be readable, in address order; live sources may
     * return none (count 0) and answer reads on demand. */
    const struct hv_range *(*ranges)(struct hv_source *src, size_t *count);
    /* Live sources: stop the target (halt=1) or let it run (halt=0) around
     * a snapshot.  NULL for static images. */
    int (*set_halted)(struct hv_source *src, int halt);
    void (*close)(struct hv_source *src);
    /* Optional (NULL when absent; added after the members above, so older
     * initialisers stay valid): a read-only pointer to `len` bytes at `addr`
     * that stays valid until close, or NULL when the source does not hold
     * them contiguously in memory.  Lets a snapshot of a file image borrow
     * the bytes instead of copying them. */
    const void *(*view)(struct hv_source *src, uint64_t addr, size_t len);
};

struct hv_source {
    const struct hv_source_ops *ops;
    const char *name;        /* what to call it in messages: a path or HOST:PORT */
    char error[256];         /* last error, one line, no trailing newline */
};

int hv_source_read(struct hv_source *src, uint64_t addr, void *out, size_t len);
const struct hv_range *hv_source_ranges(struct hv_source *src, size_t *count);
void hv_source_close(struct hv_source *src);
/* The `view` op when the source has one, else NULL. */
const void *hv_source_view(struct hv_source *src, uint64_t addr, size_t len);
/* Formats the last error of `src` (printf-style) into src->error. */
void hv_source_set_error(struct hv_source *src, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* HV_SOURCE_H */
