/*
 * source_gdb.c - a memory source that reads a live target through the GDB
 * Remote Serial Protocol (QEMU's gdbstub, gdbserver, OpenOCD's GDB port).
 *
 * Packets are `$payload#xx`, xx the payload byte sum mod 256 in hex, each
 * acknowledged with `+` (or `-`: send again).  Replies may be run-length
 * encoded (`c*n`: n - 29 more copies of c).  Memory comes from `m ADDR,LEN`
 * in the largest chunk the stub accepts: qSupported's PacketSize is hex and
 * bounds the reply, so we start at PacketSize/2 bytes and halve when a
 * larger ask is refused (QEMU 7.2 answers E22 above 2048 bytes).
 * In all-stop mode a running target only listens for 0x03, so every read
 * of a running target is interrupt (0x03, wait for the stop reply), `m`,
 * then `c`.
 */
#define _POSIX_C_SOURCE 200809L

#include "source_live.h"
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GDB_DEFAULT_PORT 1234
#define GDB_MIN_READ 16u            /* smallest `m` before an error is final */
#define GDB_MAX_PACKET (1u << 20)   /* refuse replies longer than this */
#define GDB_RETRIES 3               /* `-` naks tolerated per packet */

struct gdb_source {
    struct hv_live_source live;
    int fd;
    int timeout_ms;
    size_t packet_size;   /* from qSupported, bytes */
    size_t max_read;      /* bytes per `m`, learned */
    size_t proven_read;   /* largest `m` that has succeeded */
    int multiprocess;     /* multiprocess+ negotiated: detach is D;1 */
    int running;          /* we resumed it and have not stopped it since */
    int broken;           /* a send or receive failed: the stream is out of step */
    unsigned char *rx;    /* received, not yet consumed bytes */
    size_t rx_len, rx_cap;
    char *reply;          /* last decoded reply payload, NUL-terminated */
    size_t reply_len, reply_cap;
    char *tx;             /* last packet sent, for resending after `-` */
    size_t tx_len, tx_cap;
};

static struct gdb_source *to_gdb(struct hv_source *src)
{
    return (struct gdb_source *)src;
}

static void gdb_error(struct gdb_source *g, const char *what, const char *reason)
{
    hv_live_set_error(&g->live.base, "%s: %s", what, reason);
}

static int grow(void *bufp, size_t *cap, size_t need)
{
    char **buf = bufp;
    if (need <= *cap)
        return 0;
    size_t new_cap = *cap ? *cap : 256;
    while (new_cap < need)
        new_cap *= 2;
    char *p = realloc(*buf, new_cap);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = new_cap;
    return 0;
}

static int wire_send(struct gdb_source *g, const void *buf, size_t len, const char *what)
{
    char err[160];
    if (net_send_all(g->fd, buf, len, g->timeout_ms, err, sizeof err) < 0) {
        g->broken = 1;
        gdb_error(g, what, err);
        return -1;
    }
    g->live.stats.bytes_sent += len;
    return 0;
}

/* Appends at least one received byte to g->rx, waiting until `deadline`. */
static int rx_fill(struct gdb_source *g, long long deadline, const char *what)
{
    char err[160];
    long long left = deadline - net_now_ms();
    if (left <= 0) {
        g->broken = 1;
        hv_live_set_error(&g->live.base, "%s: no complete reply within %d ms",
                          what, g->timeout_ms);
        return -1;
    }
    if (grow(&g->rx, &g->rx_cap, g->rx_len + 65536) < 0) {
        gdb_error(g, what, "out of memory");
        return -1;
    }
    ssize_t n = net_recv_some(g->fd, g->rx + g->rx_len, g->rx_cap - g->rx_len,
                              (int)left, err, sizeof err);
    if (n < 0) {
        g->broken = 1;
        if (net_now_ms() >= deadline)
            hv_live_set_error(&g->live.base, "%s: no complete reply within %d ms",
                              what, g->timeout_ms);
        else
            gdb_error(g, what, err);
        return -1;
    }
    g->rx_len += (size_t)n;
    g->live.stats.bytes_received += (uint64_t)n;
    return 0;
}

static void rx_consume(struct gdb_source *g, size_t n)
{
    if (n == 0)
        return;
    memmove(g->rx, g->rx + n, g->rx_len - n);
    g->rx_len -= n;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Expands run-length encoding of raw payload `p[0..n)` into g->reply. */
static int decode_payload(struct gdb_source *g, const unsigned char *p, size_t n,
                          const char *what)
{
    g->reply_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t count = 1;
        unsigned char c = p[i];
        if (c == '*') {
            if (g->reply_len == 0 || i + 1 >= n || p[i + 1] < 29) {
                gdb_error(g, what, "garbled run-length encoding in reply");
                return -1;
            }
            c = (unsigned char)g->reply[g->reply_len - 1];
            count = (size_t)(p[i + 1] - 29);
            i++;
        }
        if (grow(&g->reply, &g->reply_cap, g->reply_len + count + 1) < 0) {
            gdb_error(g, what, "out of memory");
            return -1;
        }
        memset(g->reply + g->reply_len, c, count);
        g->reply_len += count;
    }
    if (grow(&g->reply, &g->reply_cap, g->reply_len + 1) < 0) {
        gdb_error(g, what, "out of memory");
        return -1;
    }
    g->reply[g->reply_len] = '\0';
    return 0;
}

/*
 * Receives one reply packet into g->reply, acking it.  Skips stray acks,
 * notification packets (`%...#xx`) and line noise before the `$`.  The
 * whole packet must arrive within the timeout, so a peer that trickles
 * junk forever cannot hold us either.
 */
static int get_packet(struct gdb_source *g, const char *what)
{
    long long deadline = net_now_ms() + g->timeout_ms;
    int bad_checksums = 0;
    for (;;) {
        size_t start = 0;
        while (start < g->rx_len && g->rx[start] != '$' && g->rx[start] != '%')
            start++;
        rx_consume(g, start);
        if (g->rx_len == 0) {
            if (rx_fill(g, deadline, what) < 0)
                return -1;
            continue;
        }
        unsigned char *hash = memchr(g->rx, '#', g->rx_len);
        if (hash == NULL || (size_t)(hash - g->rx) + 3 > g->rx_len) {
            if (g->rx_len > GDB_MAX_PACKET) {
                g->broken = 1;
                gdb_error(g, what, "reply packet too long");
                return -1;
            }
            if (rx_fill(g, deadline, what) < 0)
                return -1;
            continue;
        }
        size_t payload_len = (size_t)(hash - g->rx) - 1;
        int hi = hex_value(hash[1]), lo = hex_value(hash[2]);
        unsigned sum = 0;
        for (size_t i = 1; i <= payload_len; i++)
            sum += g->rx[i];
        int notification = g->rx[0] == '%';
        if (hi < 0 || lo < 0 || (unsigned)(hi * 16 + lo) != (sum & 0xffu)) {
            rx_consume(g, payload_len + 4);
            if (notification)
                continue;
            if (++bad_checksums > GDB_RETRIES) {
                g->broken = 1;
                gdb_error(g, what, "reply checksums keep failing");
                return -1;
            }
            if (wire_send(g, "-", 1, what) < 0)
                return -1;
            continue;
        }
        if (notification) {
            rx_consume(g, payload_len + 4);
            continue;
        }
        if (wire_send(g, "+", 1, what) < 0)
            return -1;
        int rc = decode_payload(g, g->rx + 1, payload_len, what);
        rx_consume(g, payload_len + 4);
        return rc;
    }
}

/* Sends `$payload#xx` and waits for its `+`; resends after `-`. */
static int put_packet(struct gdb_source *g, const char *payload, const char *what)
{
    size_t n = strlen(payload);
    if (grow(&g->tx, &g->tx_cap, n + 5) < 0) {
        gdb_error(g, what, "out of memory");
        return -1;
    }
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (unsigned char)payload[i];
    g->tx[0] = '$';
    memcpy(g->tx + 1, payload, n);
    snprintf(g->tx + 1 + n, 4, "#%02x", sum & 0xffu);
    g->tx_len = n + 4;

    long long deadline = net_now_ms() + g->timeout_ms;
    for (int attempt = 0; attempt <= GDB_RETRIES; attempt++) {
        if (wire_send(g, g->tx, g->tx_len, what) < 0)
            return -1;
        for (;;) {
            size_t i = 0;
            while (i < g->rx_len && g->rx[i] != '+' && g->rx[i] != '-' &&
                   g->rx[i] != '$' && g->rx[i] != '%')
                i++;
            if (i < g->rx_len && g->rx[i] == '%') {
                /* A notification: skip it whole, its body may hold +/-. */
                unsigned char *hash = memchr(g->rx + i, '#', g->rx_len - i);
                if (hash != NULL && (size_t)(hash - g->rx) + 3 <= g->rx_len) {
                    rx_consume(g, (size_t)(hash - g->rx) + 3);
                    continue;
                }
                rx_consume(g, i);
                if (g->rx_len > GDB_MAX_PACKET) {
                    g->broken = 1;
                    gdb_error(g, what, "notification packet too long");
                    return -1;
                }
            } else if (i < g->rx_len) {
                unsigned char c = g->rx[i];
                if (c == '$') {          /* reply without an ack: accept */
                    rx_consume(g, i);
                    return 0;
                }
                rx_consume(g, i + 1);
                if (c == '+')
                    return 0;
                break;                    /* '-': send again */
            } else {
                rx_consume(g, g->rx_len);
            }
            if (rx_fill(g, deadline, what) < 0)
                return -1;
        }
    }
    g->broken = 1;
    gdb_error(g, what, "peer keeps rejecting our packets");
    return -1;
}

static int transact(struct gdb_source *g, const char *payload, const char *what)
{
    if (put_packet(g, payload, what) < 0 || get_packet(g, what) < 0)
        return -1;
    g->live.stats.round_trips++;
    return 0;
}

/* Stops a running target: 0x03, then the stop reply (console output
 * packets `O...` may come first). */
static int interrupt_target(struct gdb_source *g)
{
    const char *what = "cannot stop the target";
    if (wire_send(g, "\x03", 1, what) < 0)
        return -1;
    for (;;) {
        if (get_packet(g, what) < 0)
            return -1;
        char kind = g->reply_len ? g->reply[0] : '\0';
        if (kind == 'T' || kind == 'S')
            break;
        if (kind == 'W' || kind == 'X') {
            gdb_error(g, what, "the target has exited");
            g->broken = 1;        /* nothing left to read or detach from */
            return -1;
        }
    }
    g->live.stats.round_trips++;
    g->running = 0;
    return 0;
}

static int resume_target(struct gdb_source *g)
{
    /* `c` gets no reply until the target stops again; only the ack. */
    if (put_packet(g, "c", "cannot resume the target") < 0)
        return -1;
    g->running = 1;
    return 0;
}

/* `Exx` (two hex digits) or the newer `E.text`. */
static int is_error_reply(const char *reply, size_t len)
{
    if (len == 3 && reply[0] == 'E')
        return hex_value(reply[1]) >= 0 && hex_value(reply[2]) >= 0;
    return len >= 2 && reply[0] == 'E' && reply[1] == '.';
}

static void describe_error_reply(const char *reply, char *out, size_t outlen)
{
    if (reply[1] == '.')
        snprintf(out, outlen, "target reported an error: %.60s", reply + 2);
    else if (strcmp(reply, "E14") == 0)
        snprintf(out, outlen, "target reported E14 (bad address)");
    else if (strcmp(reply, "E22") == 0)
        snprintf(out, outlen, "target reported E22 (invalid argument)");
    else
        snprintf(out, outlen, "target reported %.16s", reply);
}

/* Decodes the hex reply of `m` into out; returns bytes decoded or -1. */
static long decode_memory(struct gdb_source *g, unsigned char *out, size_t want)
{
    if (g->reply_len % 2 != 0 || g->reply_len / 2 > want)
        return -1;
    for (size_t i = 0; i < g->reply_len / 2; i++) {
        int hi = hex_value(g->reply[2 * i]), lo = hex_value(g->reply[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return (long)(g->reply_len / 2);
}

static int read_halted(struct gdb_source *g, uint64_t addr, unsigned char *out, size_t len)
{
    size_t done = 0;
    size_t initial_max = g->max_read;
    while (done < len) {
        uint64_t at = addr + done;
        size_t ask = len - done < g->max_read ? len - done : g->max_read;
        char what[96];
        snprintf(what, sizeof what, "cannot read %zu bytes at 0x%llx", ask,
                 (unsigned long long)at);
        char cmd[64];
        snprintf(cmd, sizeof cmd, "m%llx,%zx", (unsigned long long)at, ask);
        if (transact(g, cmd, what) < 0)
            return -1;
        if (g->reply_len == 0) {
            gdb_error(g, what, "the stub does not support memory reads");
            return -1;
        }
        if (is_error_reply(g->reply, g->reply_len)) {
            /* A refused size we have not seen work: try half as much. */
            if (ask > g->proven_read && ask > GDB_MIN_READ) {
                size_t half = ask / 2;
                g->max_read = half < GDB_MIN_READ ? GDB_MIN_READ : half;
                continue;
            }
            char reason[96];
            describe_error_reply(g->reply, reason, sizeof reason);
            gdb_error(g, what, reason);
            if (g->proven_read == 0)
                g->max_read = initial_max;
            return -1;
        }
        long got = decode_memory(g, out + done, ask);
        if (got <= 0) {
            gdb_error(g, what, "garbled reply to 'm'");
            return -1;
        }
        if ((size_t)got == ask && ask > g->proven_read)
            g->proven_read = ask;
        done += (size_t)got;
        g->live.stats.read_chunk = g->max_read;
        if (g->live.opt.progress != NULL)
            g->live.opt.progress(g->live.opt.progress_ctx, done, len);
    }
    g->live.stats.bytes_read += len;
    return 0;
}

static int gdb_read(struct hv_source *src, uint64_t addr, void *out, size_t len)
{
    struct gdb_source *g = to_gdb(src);
    if (g->broken) {
        hv_live_set_error(src, "connection is out of step after an earlier error");
        return -1;
    }
    if (len == 0)
        return 0;
    int was_running = g->running;
    if (was_running && interrupt_target(g) < 0)
        return -1;
    int rc = read_halted(g, addr, out, len);
    if (was_running && resume_target(g) < 0)
        return -1;
    return rc;
}

static const struct hv_range *gdb_ranges(struct hv_source *src, size_t *count)
{
    (void)src;
    *count = 0;
    return NULL;
}

static int gdb_set_halted(struct hv_source *src, int halt)
{
    struct gdb_source *g = to_gdb(src);
    if (g->live.opt.halt_policy == HV_HALT_POLICY_NO_HALT)
        return 0;
    if (g->broken) {
        hv_live_set_error(src, "connection is out of step after an earlier error");
        return -1;
    }
    if (halt && g->running)
        return interrupt_target(g);
    if (!halt && !g->running)
        return resume_target(g);
    return 0;
}

static void gdb_free(struct gdb_source *g)
{
    if (g->fd >= 0)
        close(g->fd);
    free(g->rx);
    free(g->reply);
    free(g->tx);
    free(g);
}

static void gdb_close(struct hv_source *src)
{
    struct gdb_source *g = to_gdb(src);
    /* A running target is left running by just hanging up: stopping it
     * only to say `D` would halt it needlessly (and OpenOCD's GDB server
     * does not resume on `D` unless told to).  A stopped one is detached,
     * which resumes it on QEMU and gdbserver.  Best effort: a dead peer
     * must not delay exit past the timeouts. */
    if (g->fd >= 0 && !g->broken && !g->running) {
        if (g->live.opt.leave_halted == 0)
            (void)transact(g, g->multiprocess ? "D;1" : "D", "cannot detach");
    }
    gdb_free(g);
}

/* Waits up to `wait_ms` for a stop reply to a `c` already sent. */
static int wait_stop(struct gdb_source *g, int wait_ms, const char *what)
{
    int saved = g->timeout_ms;
    g->timeout_ms = wait_ms;
    int rc;
    for (;;) {
        rc = get_packet(g, what);
        if (rc < 0)
            break;
        char kind = g->reply_len ? g->reply[0] : '\0';
        if (kind == 'T' || kind == 'S')
            break;
        if (kind == 'W' || kind == 'X') {
            gdb_error(g, what, "the target exited before stopping there");
            g->broken = 1;        /* nothing left to detach from */
            rc = -1;
            break;
        }
    }
    g->timeout_ms = saved;
    if (rc == 0)
        g->running = 0;
    return rc;
}

int hv_source_gdb_run_to(struct hv_source *src, uint64_t addr, int wait_ms)
{
    if (src == NULL || src->ops != &hv_gdb_source_ops)
        return -1;
    struct gdb_source *g = to_gdb(src);
    char what[96], cmd[64];
    snprintf(what, sizeof what, "cannot run to 0x%llx", (unsigned long long)addr);
    if (g->broken) {
        hv_live_set_error(src, "connection is out of step after an earlier error");
        return -1;
    }
    if (g->running && interrupt_target(g) < 0)
        return -1;
    /* Hardware breakpoint first (code may be in flash), then software;
     * kind 2: a Thumb instruction.  Empty reply = type unsupported. */
    char type = '1';
    snprintf(cmd, sizeof cmd, "Z1,%llx,2", (unsigned long long)addr);
    if (transact(g, cmd, what) < 0)
        return -1;
    if (g->reply_len == 0) {
        type = '0';
        snprintf(cmd, sizeof cmd, "Z0,%llx,2", (unsigned long long)addr);
        if (transact(g, cmd, what) < 0)
            return -1;
    }
    if (strcmp(g->reply, "OK") != 0) {
        hv_live_set_error(src, "%s: the stub refused a breakpoint ('%.16s')", what,
                          g->reply_len ? g->reply : "unsupported");
        return -1;
    }
    if (put_packet(g, "c", what) < 0 || wait_stop(g, wait_ms, what) < 0)
        return -1;
    g->live.stats.round_trips++;
    snprintf(cmd, sizeof cmd, "z%c,%llx,2", type, (unsigned long long)addr);
    if (transact(g, cmd, what) < 0)
        return -1;
    return 0;
}

const struct hv_source_ops hv_gdb_source_ops = {
    .read = gdb_read,
    .ranges = gdb_ranges,
    .set_halted = gdb_set_halted,
    .close = gdb_close,
};

/* Reads qSupported's answer: PacketSize (hex) and multiprocess+. */
static void parse_supported(struct gdb_source *g)
{
    const char *p = g->reply;
    while (*p != '\0') {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 11 && strncmp(p, "PacketSize=", 11) == 0) {
            size_t value = 0;
            int ok = 1;
            for (size_t i = 11; i < n; i++) {
                int h = hex_value(p[i]);
                if (h < 0 || value > GDB_MAX_PACKET) {
                    ok = 0;
                    break;
                }
                value = value * 16 + (size_t)h;
            }
            if (ok && value >= 2 * GDB_MIN_READ + 8)
                g->packet_size = value < GDB_MAX_PACKET ? value : GDB_MAX_PACKET;
        } else if (n == 13 && strncmp(p, "multiprocess+", 13) == 0) {
            g->multiprocess = 1;
        }
        p += n;
        if (*p == ';')
            p++;
    }
}

static int is_stop_reply(const char *reply)
{
    return (reply[0] == 'T' || reply[0] == 'S') && hex_value(reply[1]) >= 0 &&
           hex_value(reply[2]) >= 0;
}

static struct gdb_source *gdb_new(const char *name, const struct hv_live_options *opt)
{
    struct gdb_source *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->fd = -1;
    if (opt != NULL)
        g->live.opt = *opt;
    g->timeout_ms = g->live.opt.timeout_ms > 0 ? g->live.opt.timeout_ms : 5000;
    g->live.base.ops = &hv_gdb_source_ops;
    snprintf(g->live.target, sizeof g->live.target, "%s", name);
    g->live.base.name = g->live.target;
    g->packet_size = 1024;   /* assumed when qSupported does not say */
    return g;
}

/* Negotiates features and checks the target answers; frees `g` on failure. */
static struct hv_source *gdb_handshake(struct gdb_source *g, char *err, size_t errlen)
{
    if (transact(g, "qSupported:multiprocess+;swbreak+;hwbreak+", "qSupported") < 0)
        goto fail;
    /* QEMU stops a running VM when a client connects and may announce it
     * with a stop reply sent before we asked anything: skip it. */
    while (is_stop_reply(g->reply))
        if (get_packet(g, "qSupported") < 0)
            goto fail;
    parse_supported(g);
    g->max_read = g->packet_size / 2;
    g->live.stats.read_chunk = g->max_read;
    /* Connecting stops the target; `?` confirms it answers and is stopped. */
    if (transact(g, "?", "cannot query the stop reason") < 0)
        goto fail;
    if (g->reply_len == 0 || (g->reply[0] != 'T' && g->reply[0] != 'S')) {
        if (g->reply_len > 0 && (g->reply[0] == 'W' || g->reply[0] == 'X'))
            gdb_error(g, "cannot query the stop reason", "the target has exited");
        else
            hv_live_set_error(&g->live.base, "cannot query the stop reason: "
                              "unexpected reply '%.32s'", g->reply);
        goto fail;
    }
    if (g->live.opt.halt_policy == HV_HALT_POLICY_NO_HALT && resume_target(g) < 0)
        goto fail;
    return &g->live.base;

fail:
    snprintf(err, errlen, "%s", g->live.base.error);
    gdb_free(g);
    return NULL;
}

/* Opens the source over a connection to `target` (`fd` < 0) or over `fd`. */
static struct hv_source *gdb_connect(const char *target, int fd, const struct hv_live_options *opt,
                                     char *err, size_t errlen)
{
    struct gdb_source *g = gdb_new(target, opt);
    if (g == NULL) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->fd = hv_live_stream(target, GDB_DEFAULT_PORT, fd, g->timeout_ms, err, errlen);
    if (g->fd < 0) {
        gdb_free(g);
        return NULL;
    }
    return gdb_handshake(g, err, errlen);
}

struct hv_source *hv_source_gdb_open(const char *host_port,
                                     const struct hv_live_options *opt,
                                     char *err, size_t errlen)
{
    return gdb_connect(host_port, -1, opt, err, errlen);
}

struct hv_source *hv_source_gdb_attach(int fd, const char *name,
                                       const struct hv_live_options *opt,
                                       char *err, size_t errlen)
{
    return gdb_connect(name, fd, opt, err, errlen);
}
