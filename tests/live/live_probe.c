/*
 * live_probe.c - test driver for the live memory sources: connects with
 * source_gdb.c or source_openocd.c, reads address ranges into a file and
 * prints the counters, so tests can compare the bytes with what QEMU's
 * gdbstub hands gdb-multiarch, or with the image behind a simulated JTAG
 * wire.
 *
 *   live-probe gdb|openocd TARGET [--timeout MS] [--no-halt] [--run-ms MS]
 *              [--run-to ADDR] [--leave-halted] [--no-resume] [--reread]
 *              [--gap-ms MS] [--progress]
 *              [--out FILE] ADDR:LEN...
 *
 * Prints `stats round_trips=N bytes=N chunk=N ms=N read_us=N` (ms: open to
 * close; read_us: the range reads only, re-reads excluded) (and per range
 * `stable`/`torn at 0x...` with --reread); errors are one line on stderr,
 * exit status 2.  --gap-ms waits between the read and the re-read, the way
 * heapview decodes before it re-reads the control data.
 */
#define _POSIX_C_SOURCE 200809L

#include "source_live.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RANGES 16

/* --progress: checks the callback's contract and counts the calls. */
struct progress_check {
    unsigned long calls;
    uint64_t last_done;
    int bad;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct progress_check *pc = ctx;
    if (done > total || (pc->calls > 0 && done <= pc->last_done && done != total))
        pc->bad = 1;
    pc->calls++;
    pc->last_done = done == total ? 0 : done;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int fail(const char *target, const char *reason)
{
    fprintf(stderr, "live-probe: cannot read '%s': %s\n", target, reason);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: live-probe gdb|openocd TARGET [options] ADDR:LEN...\n");
        return 2;
    }
    const char *kind = argv[1], *target = argv[2], *out_path = NULL;
    struct hv_live_options opt = { .timeout_ms = 5000, .halt_policy = HV_HALT_POLICY_HALT };
    int reread = 0, resume = 1;
    struct progress_check pc = { 0, 0, 0 };
    long run_ms = 0, gap_ms = 0;
    const char *run_to = NULL;
    struct hv_range ranges[MAX_RANGES];
    size_t nranges = 0;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            opt.timeout_ms = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--no-halt") == 0) {
            opt.halt_policy = HV_HALT_POLICY_NO_HALT;
        } else if (strcmp(argv[i], "--run-ms") == 0 && i + 1 < argc) {
            run_ms = atol(argv[++i]);
        } else if (strcmp(argv[i], "--run-to") == 0 && i + 1 < argc) {
            run_to = argv[++i];
        } else if (strcmp(argv[i], "--gap-ms") == 0 && i + 1 < argc) {
            gap_ms = atol(argv[++i]);
        } else if (strcmp(argv[i], "--progress") == 0) {
            opt.progress = on_progress;
            opt.progress_ctx = &pc;
        } else if (strcmp(argv[i], "--no-resume") == 0) {
            resume = 0;                 /* close() detaches a stopped target */
        } else if (strcmp(argv[i], "--leave-halted") == 0) {
            opt.leave_halted = 1;
        } else if (strcmp(argv[i], "--reread") == 0) {
            reread = 1;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else {
            char *colon = strchr(argv[i], ':');
            if (colon == NULL || nranges == MAX_RANGES) {
                fprintf(stderr, "live-probe: bad argument '%s'\n", argv[i]);
                return 2;
            }
            ranges[nranges].address = strtoull(argv[i], NULL, 0);
            ranges[nranges].length = strtoull(colon + 1, NULL, 0);
            nranges++;
        }
    }

    long long start = net_now_ms();
    char err[256];
    struct hv_source *src;
    if (strcmp(kind, "gdb") == 0)
        src = hv_source_gdb_open(target, &opt, err, sizeof err);
    else if (strcmp(kind, "openocd") == 0)
        src = hv_source_openocd_open(target, &opt, err, sizeof err);
    else
        return fail(target, "unknown source kind");
    if (src == NULL)
        return fail(target, err);

    if (run_ms > 0) {   /* let the firmware run, then stop it for the snapshot */
        if (src->ops->set_halted(src, 0) != 0)
            goto error;
        struct timespec ts = { run_ms / 1000, (run_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (run_to != NULL &&
        hv_source_gdb_run_to(src, strtoull(run_to, NULL, 0), 20000) != 0)
        goto error;
    if (src->ops->set_halted(src, 1) != 0)
        goto error;

    long long read_start = now_us(), read_us = 0;
    FILE *out = NULL;
    if (out_path != NULL && (out = fopen(out_path, "wb")) == NULL) {
        src->ops->close(src);
        return fail(target, "cannot create the output file");
    }
    for (size_t r = 0; r < nranges; r++) {
        size_t len = (size_t)ranges[r].length;
        unsigned char *buf = malloc(len ? len : 1);
        if (buf == NULL || src->ops->read(src, ranges[r].address, buf, len) != 0) {
            free(buf);
            if (out != NULL)
                fclose(out);
            goto error;
        }
        read_us += now_us() - read_start;
        if (out != NULL)
            fwrite(buf, 1, len, out);
        if (reread) {
            struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000L };
            nanosleep(&gap, NULL);
            uint64_t diff = 0;
            int rc = hv_source_reread_compare(src, ranges[r].address, len, buf, &diff);
            if (rc < 0) {
                free(buf);
                if (out != NULL)
                    fclose(out);
                goto error;
            }
            if (rc == 0)
                printf("range 0x%llx stable\n", (unsigned long long)ranges[r].address);
            else
                printf("range 0x%llx torn at 0x%llx\n",
                       (unsigned long long)ranges[r].address, (unsigned long long)diff);
        }
        free(buf);
        read_start = now_us();
    }
    if (out != NULL && fclose(out) != 0) {
        src->ops->close(src);
        return fail(target, "cannot write the output file");
    }
    if (resume && !opt.leave_halted && src->ops->set_halted(src, 0) != 0)
        goto error;
    struct hv_live_stats stats;
    hv_live_get_stats(src, &stats);
    src->ops->close(src);
    if (opt.progress != NULL)
        printf("progress calls=%lu %s\n", pc.calls, pc.bad ? "out-of-order" : "in-order");
    printf("stats round_trips=%llu bytes=%llu chunk=%llu ms=%lld read_us=%lld\n",
           (unsigned long long)stats.round_trips, (unsigned long long)stats.bytes_read,
           (unsigned long long)stats.read_chunk, net_now_ms() - start, read_us);
    return 0;

error:
    snprintf(err, sizeof err, "%s", src->error);
    src->ops->close(src);
    return fail(target, err);
}
