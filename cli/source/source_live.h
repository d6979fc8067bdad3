/*
 * source_live.h - options and extras shared by the live memory sources
 * (GDB remote serial protocol, OpenOCD Tcl RPC).  They implement the plain
 * hv_source ops; this header adds what only a running target needs:
 * timeouts, the halt policy, progress, round-trip counting and the
 * re-read check that detects a snapshot torn by a running target.
 *
 * How a front end uses them (e.g. `--gdb-remote HOST:PORT`, `--openocd
 * HOST[:PORT]`, `--halt`/`--no-halt`, `--timeout MS`):
 *
 *     struct hv_live_options opt = { .timeout_ms = 5000,
 *                                    .halt_policy = HV_HALT_POLICY_HALT };
 *     src = hv_source_gdb_open("127.0.0.1:1234", &opt, err, sizeof err);
 *     src->ops->set_halted(src, 1);      // no-op under HV_HALT_POLICY_NO_HALT
 *     ... snapshot: src->ops->read(...) per range, as for any source ...
 *     if (opt.halt_policy == HV_HALT_POLICY_NO_HALT)
 *         torn = hv_source_reread_compare(src, ctl_addr, ctl_len, ctl_bytes, &at);
 *     src->ops->set_halted(src, 0);      // let it run again
 *     src->ops->close(src);
 *
 * ranges() returns none: live sources answer any address on demand, and an
 * unreadable one is an error naming it ("cannot read 64 bytes at 0x30000000:
 * target reported E14 (bad address)").
 */
#ifndef HV_SOURCE_LIVE_H
#define HV_SOURCE_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "hv_source.h"

enum hv_halt_policy {
    /* --halt: the target is stopped while heapview reads (set_halted(1)
     * stops it, set_halted(0) and close let it run again). */
    HV_HALT_POLICY_HALT = 0,
    /* --no-halt: the target keeps running; set_halted() is a no-op that
     * returns 0.  Reads may then be torn: after a snapshot, re-read the
     * control data with hv_source_reread_compare().  (QEMU's gdbstub cannot
     * read a running target, so the GDB source stops it for each read call
     * only, then resumes it.) */
    HV_HALT_POLICY_NO_HALT = 1,
};

/* Called after each chunk of a read: `done` of `total` bytes of the current
 * read call have arrived. */
typedef void hv_live_progress_fn(void *ctx, uint64_t done, uint64_t total);

struct hv_live_options {
    int timeout_ms;                 /* per network step; <= 0 means 5000 */
    enum hv_halt_policy halt_policy;
    hv_live_progress_fn *progress;  /* may be NULL */
    void *progress_ctx;
    /* close() leaves the target stopped: GDB drops the connection without
     * detaching (QEMU keeps the VM stopped, so another tool can read the
     * same moment), OpenOCD skips the resume.  Default 0: close lets a
     * target we stopped run again. */
    int leave_halted;
};

struct hv_live_stats {
    uint64_t round_trips;   /* requests answered by the peer */
    uint64_t bytes_read;    /* target bytes delivered to read() callers */
    uint64_t bytes_sent;    /* protocol bytes on the wire */
    uint64_t bytes_received;
    uint64_t read_chunk;    /* current largest request size, bytes */
};

/* Connects to a GDB stub (gdbserver, QEMU -gdb, OpenOCD's port 3333 ...) at
 * "HOST:PORT" (or "unix:PATH").  NULL on failure, with a one-line reason in
 * `err`.  The target is halted when this returns under HV_HALT_POLICY_HALT
 * (connecting stops it anyway) and running under HV_HALT_POLICY_NO_HALT. */
struct hv_source *hv_source_gdb_open(const char *host_port,
                                     const struct hv_live_options *opt,
                                     char *err, size_t errlen);

/* GDB source only: runs the target until it executes the (Thumb)
 * instruction at `addr` (hardware breakpoint, else software), waiting up to
 * `wait_ms`, then removes the breakpoint; the target is halted on success.
 * Lets tests and `--break SYMBOL`-style options snapshot a known moment.
 * Returns 0, or -1 with src->error set. */
int hv_source_gdb_run_to(struct hv_source *src, uint64_t addr, int wait_ms);

/* Connects to OpenOCD's Tcl RPC server at "HOST[:PORT]" (default port
 * 6666).  The target is left running or halted as it was found; under
 * HV_HALT_POLICY_HALT set_halted(1) halts it and close() restores the state
 * it had at open. */
struct hv_source *hv_source_openocd_open(const char *host_port,
                                         const struct hv_live_options *opt,
                                         char *err, size_t errlen);

/* The same two sources over a stream the caller already holds (a socket
 * pair to a gdbserver started on a pipe, a test harness).  They take
 * ownership of `fd` (closed on failure too); `name` names it in messages. */
struct hv_source *hv_source_gdb_attach(int fd, const char *name,
                                       const struct hv_live_options *opt,
                                       char *err, size_t errlen);
struct hv_source *hv_source_openocd_attach(int fd, const char *name,
                                           const struct hv_live_options *opt,
                                           char *err, size_t errlen);

/* Copies the counters of a live source into `out`.  Returns -1 (and leaves
 * `out` zeroed) when `src` is not a live source. */
int hv_live_get_stats(struct hv_source *src, struct hv_live_stats *out);

/* Reads `len` bytes at `addr` again and compares them with `snapshot`, the
 * bytes an earlier read returned.  Returns 0 when equal, 1 when the target
 * changed them (the snapshot is torn; *first_diff gets the first differing
 * address when non-NULL), -1 when the read fails (src->error says why). */
int hv_source_reread_compare(struct hv_source *src, uint64_t addr, size_t len,
                             const void *snapshot, uint64_t *first_diff);

/* For the live sources' own use: the common head of their state. */
struct hv_live_source {
    struct hv_source base;
    struct hv_live_options opt;
    struct hv_live_stats stats;
    char target[128];        /* HOST:PORT as given, base.name points here */
};

/* Formats `fmt` into src->error (one line, no trailing newline). */
void hv_live_set_error(struct hv_source *src, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int hv_live_is_live(const struct hv_source *src);
/* The stream of a live source being opened: a connection to `target`
 * ("HOST[:PORT]", `default_port` when it names none) when `fd` < 0, else
 * `fd`, adopted; non-blocking either way.  -1 with a one-line reason in
 * `err` on failure (an adopted `fd` is then closed). */
int hv_live_stream(const char *target, int default_port, int fd, int timeout_ms,
                   char *err, size_t errlen);
extern const struct hv_source_ops hv_gdb_source_ops;
extern const struct hv_source_ops hv_openocd_source_ops;

#endif /* HV_SOURCE_LIVE_H */
