/*
 * source_openocd.c - a memory source that reads a live target through
 * OpenOCD's Tcl RPC server (port 6666).
 *
 * A command is its text followed by 0x1a; the reply is the result text
 * followed by 0x1a.  The reply carries no error flag, so every command is
 * wrapped as `set rc [catch {CMD} r]; list $rc $r`, answered `0 RESULT` or
 * `1 MESSAGE` (RESULT braced when it has several words).  With
 * `tcl_notifications on`, records such as `type target_event event halted`
 * interleave with replies; a record that does not start with our 0/1
 * status is one of those and is skipped.
 *
 * Memory comes from `read_memory ADDR 32 COUNT`: a Tcl list of `0x...`
 * words without zero padding.  Unaligned 32-bit reads come back rotated,
 * so we read the aligned words covering the request and trim.
 */
#define _POSIX_C_SOURCE 200809L

#include "source_live.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OCD_DEFAULT_PORT 6666
/* Words per read_memory (OpenOCD allows 65536).  16 KiB keeps each reply
 * well inside the timeout even on a slow adapter (a bit-banged JTAG wire
 * moves ~100 KB/s) and gives the progress callback something to report. */
#define OCD_READ_WORDS 4096u
#define OCD_MAX_REPLY (8u << 20)

struct ocd_source {
    struct hv_live_source live;
    int fd;
    int timeout_ms;
    int big_endian;
    int halted_by_us;     /* we halted it: resume on set_halted(0)/close */
    int broken;           /* a send or receive failed: the stream is out of step */
    char *rx;             /* received, not yet consumed bytes */
    size_t rx_len, rx_cap;
    char *result;         /* result text of the last command, NUL-terminated */
    size_t result_cap;
    int result_rc;        /* Tcl catch code of the last command */
};

static struct ocd_source *to_ocd(struct hv_source *src)
{
    return (struct ocd_source *)src;
}

static int grow(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t new_cap = *cap ? *cap : 1024;
    while (new_cap < need)
        new_cap *= 2;
    char *p = realloc(*buf, new_cap);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = new_cap;
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads one 0x1a-terminated record and returns its length (the record
 * starts at o->rx; the caller consumes length + 1). */
static long next_record(struct ocd_source *o, long long deadline, const char *what)
{
    size_t scanned = 0;
    for (;;) {
        char *end = o->rx_len > scanned ? memchr(o->rx + scanned, 0x1a, o->rx_len - scanned)
                                        : NULL;
        if (end != NULL)
            return (long)(end - o->rx);
        scanned = o->rx_len;
        if (o->rx_len > OCD_MAX_REPLY) {
            o->broken = 1;
            hv_live_set_error(&o->live.base, "%s: reply too long", what);
            return -1;
        }
        long long left = deadline - net_now_ms();
        if (left <= 0) {
            o->broken = 1;
            hv_live_set_error(&o->live.base, "%s: no complete reply within %d ms",
                              what, o->timeout_ms);
            return -1;
        }
        if (grow(&o->rx, &o->rx_cap, o->rx_len + 65536) < 0) {
            hv_live_set_error(&o->live.base, "%s: out of memory", what);
            return -1;
        }
        char err[160];
        ssize_t n = net_recv_some(o->fd, o->rx + o->rx_len, o->rx_cap - o->rx_len,
                                  (int)left, err, sizeof err);
        if (n < 0) {
            o->broken = 1;
            if (net_now_ms() >= deadline)
                hv_live_set_error(&o->live.base, "%s: no complete reply within %d ms",
                                  what, o->timeout_ms);
            else
                hv_live_set_error(&o->live.base, "%s: %s", what, err);
            return -1;
        }
        o->rx_len += (size_t)n;
        o->live.stats.bytes_received += (uint64_t)n;
    }
}

/*
 * Runs `cmd` on OpenOCD and leaves its result text in o->result and its
 * catch code in o->result_rc.  Returns -1 on transport failure or a reply
 * that is not ours; a failing command is rc 1, not -1.
 */
static int ocd_command(struct ocd_source *o, const char *cmd, const char *what)
{
    char *wire = NULL;
    size_t wire_cap = 0;
    const char *fmt = "set rc [catch {%s} r]; list $rc $r\x1a";
    size_t need = strlen(fmt) + strlen(cmd) + 1;
    if (grow(&wire, &wire_cap, need) < 0) {
        hv_live_set_error(&o->live.base, "%s: out of memory", what);
        return -1;
    }
    int n = snprintf(wire, wire_cap, "set rc [catch {%s} r]; list $rc $r\x1a", cmd);
    char err[160];
    int sent = net_send_all(o->fd, wire, (size_t)n, o->timeout_ms, err, sizeof err);
    free(wire);
    if (sent < 0) {
        o->broken = 1;
        hv_live_set_error(&o->live.base, "%s: %s", what, err);
        return -1;
    }
    o->live.stats.bytes_sent += (uint64_t)n;

    /* The whole reply must arrive within the timeout, notifications or not. */
    long long deadline = net_now_ms() + o->timeout_ms;
    for (;;) {
        long len = next_record(o, deadline, what);
        if (len < 0)
            return -1;
        size_t begin = 0, end = (size_t)len;
        while (begin < end && is_space(o->rx[begin]))
            begin++;
        while (end > begin && is_space(o->rx[end - 1]))
            end--;
        const char *rec = o->rx + begin;
        size_t rec_len = end - begin;
        int ours = rec_len >= 1 && (rec[0] == '0' || rec[0] == '1') &&
                   (rec_len == 1 || rec[1] == ' ');
        if (!ours) {                       /* a tcl_notifications record */
            memmove(o->rx, o->rx + len + 1, o->rx_len - (size_t)len - 1);
            o->rx_len -= (size_t)len + 1;
            continue;
        }
        o->result_rc = rec[0] - '0';
        const char *body = rec_len > 2 ? rec + 2 : rec + rec_len;
        size_t body_len = rec_len > 2 ? rec_len - 2 : 0;
        if (body_len >= 2 && body[0] == '{' && body[body_len - 1] == '}') {
            body++;
            body_len -= 2;
        }
        if (grow(&o->result, &o->result_cap, body_len + 1) < 0) {
            hv_live_set_error(&o->live.base, "%s: out of memory", what);
            return -1;
        }
        memcpy(o->result, body, body_len);
        o->result[body_len] = '\0';
        memmove(o->rx, o->rx + len + 1, o->rx_len - (size_t)len - 1);
        o->rx_len -= (size_t)len + 1;
        o->live.stats.round_trips++;
        return 0;
    }
}

/* Runs `cmd` and turns a Tcl error into a source error. */
static int ocd_command_ok(struct ocd_source *o, const char *cmd, const char *what)
{
    if (ocd_command(o, cmd, what) < 0)
        return -1;
    if (o->result_rc != 0) {
        hv_live_set_error(&o->live.base, "%s: openocd: %s", what,
                          o->result[0] ? o->result : "command failed");
        return -1;
    }
    return 0;
}

/* Parses o->result as exactly `count` 32-bit words into out (4*count bytes). */
static int parse_words(struct ocd_source *o, unsigned char *out, size_t count)
{
    const char *p = o->result;
    for (size_t i = 0; i < count; i++) {
        while (is_space(*p))
            p++;
        if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
            return -1;
        p += 2;
        uint64_t value = 0;
        int digits = 0;
        for (;; p++, digits++) {
            int h;
            if (*p >= '0' && *p <= '9')
                h = *p - '0';
            else if (*p >= 'a' && *p <= 'f')
                h = *p - 'a' + 10;
            else if (*p >= 'A' && *p <= 'F')
                h = *p - 'A' + 10;
            else
                break;
            value = value * 16 + (uint64_t)h;
            if (value > 0xffffffffu)
                return -1;
        }
        if (digits == 0 || (*p != '\0' && !is_space(*p)))
            return -1;
        for (int b = 0; b < 4; b++) {
            int shift = o->big_endian ? 8 * (3 - b) : 8 * b;
            out[4 * i + (size_t)b] = (unsigned char)(value >> shift);
        }
    }
    while (is_space(*p))
        p++;
    return *p == '\0' ? 0 : -1;
}

static int ocd_read(struct hv_source *src, uint64_t addr, void *out, size_t len)
{
    struct ocd_source *o = to_ocd(src);
    if (o->broken) {
        hv_live_set_error(src, "connection is out of step after an earlier error");
        return -1;
    }
    if (len == 0)
        return 0;
    if (addr > UINT64_MAX - len) {
        hv_live_set_error(src, "cannot read %zu bytes at 0x%llx: address overflows",
                          len, (unsigned long long)addr);
        return -1;
    }
    uint64_t first = addr & ~(uint64_t)3;
    uint64_t last = (addr + len + 3) & ~(uint64_t)3;
    unsigned char *words = malloc(OCD_READ_WORDS * 4);
    if (words == NULL) {
        hv_live_set_error(src, "out of memory");
        return -1;
    }
    unsigned char *dst = out;
    uint64_t done = 0;
    for (uint64_t at = first; at < last;) {
        size_t count = (size_t)((last - at) / 4 < OCD_READ_WORDS ? (last - at) / 4
                                                                 : OCD_READ_WORDS);
        char what[96], cmd[96];
        snprintf(what, sizeof what, "cannot read %zu bytes at 0x%llx", count * 4,
                 (unsigned long long)at);
        snprintf(cmd, sizeof cmd, "read_memory 0x%llx 32 %zu", (unsigned long long)at, count);
        if (ocd_command_ok(o, cmd, what) < 0) {
            free(words);
            return -1;
        }
        if (parse_words(o, words, count) < 0) {
            hv_live_set_error(src, "%s: garbled reply to read_memory", what);
            free(words);
            return -1;
        }
        /* Copy the requested part of [at, at + 4*count). */
        uint64_t lo = at > addr ? at : addr;
        uint64_t hi = at + 4 * count < addr + len ? at + 4 * count : addr + len;
        memcpy(dst + (lo - addr), words + (lo - at), (size_t)(hi - lo));
        done += hi - lo;
        at += 4 * count;
        if (o->live.opt.progress != NULL)
            o->live.opt.progress(o->live.opt.progress_ctx, done, len);
    }
    free(words);
    o->live.stats.bytes_read += len;
    o->live.stats.read_chunk = OCD_READ_WORDS * 4;
    return 0;
}

static const struct hv_range *ocd_ranges(struct hv_source *src, size_t *count)
{
    (void)src;
    *count = 0;
    return NULL;
}

/* 1 halted, 0 running or other, -1 error. */
static int ocd_is_halted(struct ocd_source *o)
{
    if (ocd_command_ok(o, "[target current] curstate", "cannot query the target state") < 0)
        return -1;
    return strcmp(o->result, "halted") == 0;
}

static int ocd_set_halted(struct hv_source *src, int halt)
{
    struct ocd_source *o = to_ocd(src);
    if (o->live.opt.halt_policy == HV_HALT_POLICY_NO_HALT)
        return 0;
    if (o->broken) {
        hv_live_set_error(src, "connection is out of step after an earlier error");
        return -1;
    }
    if (halt) {
        int state = ocd_is_halted(o);
        if (state < 0)
            return -1;
        if (state == 1)
            return 0;
        /* OpenOCD's `halt` itself waits up to 5 s for the core. */
        int saved = o->timeout_ms;
        if (o->timeout_ms < 6000)
            o->timeout_ms = 6000;
        int rc = ocd_command_ok(o, "halt", "cannot halt the target");
        o->timeout_ms = saved;
        if (rc < 0)
            return -1;
        state = ocd_is_halted(o);
        if (state < 0)
            return -1;
        if (state == 0) {
            hv_live_set_error(src, "cannot halt the target: it is still running");
            return -1;
        }
        o->halted_by_us = 1;
        return 0;
    }
    if (!o->halted_by_us)
        return 0;
    if (ocd_command_ok(o, "resume", "cannot resume the target") < 0)
        return -1;
    o->halted_by_us = 0;
    return 0;
}

static void ocd_free(struct ocd_source *o)
{
    if (o->fd >= 0)
        close(o->fd);
    free(o->rx);
    free(o->result);
    free(o);
}

static void ocd_close(struct hv_source *src)
{
    struct ocd_source *o = to_ocd(src);
    if (o->fd >= 0 && !o->broken && o->halted_by_us && !o->live.opt.leave_halted)
        (void)ocd_command(o, "resume", "cannot resume the target");
    ocd_free(o);
}

const struct hv_source_ops hv_openocd_source_ops = {
    .read = ocd_read,
    .ranges = ocd_ranges,
    .set_halted = ocd_set_halted,
    .close = ocd_close,
};

static struct ocd_source *ocd_new(const char *name, const struct hv_live_options *opt)
{
    struct ocd_source *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->fd = -1;
    if (opt != NULL)
        o->live.opt = *opt;
    o->timeout_ms = o->live.opt.timeout_ms > 0 ? o->live.opt.timeout_ms : 5000;
    o->live.base.ops = &hv_openocd_source_ops;
    snprintf(o->live.target, sizeof o->live.target, "%s", name);
    o->live.base.name = o->live.target;
    return o;
}

/* Proves the peer speaks Tcl RPC and has a target; frees `o` on failure. */
static struct hv_source *ocd_handshake(struct ocd_source *o, char *err, size_t errlen)
{
    if (ocd_command_ok(o, "[target current] cget -endian", "cannot query the target") < 0) {
        snprintf(err, errlen, "%s", o->live.base.error);
        ocd_free(o);
        return NULL;
    }
    o->big_endian = strcmp(o->result, "big") == 0;
    return &o->live.base;
}

/* Opens the source over a connection to `target` (`fd` < 0) or over `fd`. */
static struct hv_source *ocd_connect(const char *target, int fd, const struct hv_live_options *opt,
                                     char *err, size_t errlen)
{
    struct ocd_source *o = ocd_new(target, opt);
    if (o == NULL) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->fd = hv_live_stream(target, OCD_DEFAULT_PORT, fd, o->timeout_ms, err, errlen);
    if (o->fd < 0) {
        ocd_free(o);
        return NULL;
    }
    return ocd_handshake(o, err, errlen);
}

struct hv_source *hv_source_openocd_open(const char *host_port,
                                         const struct hv_live_options *opt,
                                         char *err, size_t errlen)
{
    return ocd_connect(host_port, -1, opt, err, errlen);
}

struct hv_source *hv_source_openocd_attach(int fd, const char *name,
                                           const struct hv_live_options *opt,
                                           char *err, size_t errlen)
{
    return ocd_connect(name, fd, opt, err, errlen);
}
