/*
 * fuzz_live.c - fuzz harness for the live sources' protocol parsers: the
 * input is what a hostile GDB stub or OpenOCD sends back.  Byte 0 picks
 * the protocol (even: GDB RSP, odd: OpenOCD Tcl RPC) and the halt policy,
 * byte 1 the read size; the rest is written into one end of a socket pair,
 * closed, and the source attached to the other end performs a short
 * session.  Every run must end in success or a one-line error: no crash,
 * no hang (the peer's end is closed, so nothing waits), no leak.
 *
 * Built with -DHV_LIBFUZZER it is a libFuzzer target; otherwise main() is a
 * replay driver: built-in seeds (valid sessions) plus deterministic
 * mutations of them, and any files named on the command line.
 */
#define _POSIX_C_SOURCE 200809L

#include "source_live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_INPUT 32768

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned runs, ok_runs, error_runs;
static int verbose;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
        return 0;
    size_t off = 2;
    while (off < size) {
        ssize_t n = write(pair[1], data + off, size - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(pair[1], SHUT_WR);

    struct hv_live_options opt = {
        .timeout_ms = 200,
        .halt_policy = (data[0] & 2) ? HV_HALT_POLICY_NO_HALT : HV_HALT_POLICY_HALT,
    };
    char err[256];
    struct hv_source *src = (data[0] & 1)
        ? hv_source_openocd_attach(pair[0], "fuzz", &opt, err, sizeof err)
        : hv_source_gdb_attach(pair[0], "fuzz", &opt, err, sizeof err);
    int failed = src == NULL;
    if (src != NULL) {
        size_t len = (size_t)data[1] * 37 + 1;
        unsigned char *buf = malloc(len);
        uint64_t addr = 0x20000000u + (data[0] >> 2);
        if (src->ops->set_halted(src, 1) != 0 || src->ops->read(src, addr, buf, len) != 0 ||
            hv_source_reread_compare(src, addr, len, buf, NULL) < 0 ||
            src->ops->set_halted(src, 0) != 0)
            failed = 1;
        if (failed && verbose)
            fprintf(stderr, "fuzz: %s\n", src->error);
        if (failed && (strlen(src->error) == 0 || strchr(src->error, '\n') != NULL)) {
            fprintf(stderr, "fuzz: bad error text '%s'\n", src->error);
            abort();
        }
        free(buf);
        src->ops->close(src);
    } else if (verbose) {
        fprintf(stderr, "fuzz: %s\n", err);
    }
    if (src == NULL && (strlen(err) == 0 || strchr(err, '\n') != NULL)) {
        fprintf(stderr, "fuzz: bad error text '%s'\n", err);
        abort();
    }
    close(pair[1]);
    runs++;
    if (failed)
        error_runs++;
    else
        ok_runs++;
    return 0;
}

#ifndef HV_LIBFUZZER

struct buf {
    unsigned char data[MAX_INPUT];
    size_t len;
};

static void put(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n <= sizeof b->data) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    }
}

static void put_rsp(struct buf *b, const char *payload)
{
    unsigned sum = 0;
    for (const char *p = payload; *p; p++)
        sum += (unsigned char)*p;
    char tail[8];
    snprintf(tail, sizeof tail, "#%02x", sum & 0xffu);
    put(b, "+$");
    put(b, payload);
    put(b, tail);
}

static void put_hex_reply(struct buf *b, size_t bytes, unsigned seed)
{
    char *hex = malloc(2 * bytes + 1);
    for (size_t i = 0; i < bytes; i++)
        snprintf(hex + 2 * i, 3, "%02x", (seed + (unsigned)i * 7u) & 0xffu);
    put_rsp(b, hex);
    free(hex);
}

static void put_tcl(struct buf *b, const char *text)
{
    put(b, text);
    put(b, "\x1a");
}

/* Seeds: sessions a correct peer would send for the harness's requests. */
static size_t make_seed(int which, struct buf *b)
{
    b->len = 0;
    switch (which) {
    case 0:     /* GDB, halt, 38 bytes */
        b->data[0] = 0;
        b->data[1] = 1;
        b->len = 2;
        put_rsp(b, "PacketSize=1000;multiprocess+");
        put_rsp(b, "T05thread:p01.01;");
        put_hex_reply(b, 38, 1);
        put_hex_reply(b, 38, 1);
        put_rsp(b, "OK");
        break;
    case 1:     /* GDB, no-halt: interrupt/stop reply around each read, RLE */
        b->data[0] = 2;
        b->data[1] = 2;                 /* 75 bytes: 150 hex digits */
        b->len = 2;
        put_rsp(b, "PacketSize=100");
        put_rsp(b, "S05");
        put(b, "+");                    /* ack of `c` */
        for (int pass = 0; pass < 2; pass++) {
            put_rsp(b, "T02thread:01;");
            put_rsp(b, "0*}0*Q");       /* 97 + 53 zeros */
            put(b, "+");
        }
        put_rsp(b, "T02thread:01;");
        put_rsp(b, "OK");
        break;
    case 2:     /* OpenOCD, halt, notifications mixed in */
        b->data[0] = 1;
        b->data[1] = 0;
        b->len = 2;
        put_tcl(b, "0 little");
        put_tcl(b, "0 running");
        put_tcl(b, "type target_event event halted\r\n");
        put_tcl(b, "0 {}");
        put_tcl(b, "0 halted");
        put_tcl(b, "0 0x12345678");
        put_tcl(b, "0 0x12345678");
        put_tcl(b, "0 {}");
        break;
    default:    /* OpenOCD, no-halt, a longer list and an error */
        b->data[0] = 3;
        b->data[1] = 1;
        b->len = 2;
        put_tcl(b, "0 big");
        put_tcl(b, "0 {0x1 0x22 0x333 0x4444 0x55555 0x666666 0x7777777 0x88888888 0x9 0xa}");
        put_tcl(b, "1 {read_memory: failed to read memory}");
        break;
    }
    return b->len;
}

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void mutate(struct buf *b)
{
    static const char special[] = "$#+-*}%{} \x1a\x03" "0123456789abcdefEOKTSWX";
    int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits && b->len > 2; e++) {
        size_t at = 2 + rng() % (b->len - 2);
        switch (rng() % 6) {
        case 0:
            b->data[at] ^= (unsigned char)(1u << (rng() % 8));
            break;
        case 1:
            b->data[at] = (unsigned char)special[rng() % (sizeof special - 1)];
            break;
        case 2:                                   /* truncate */
            b->len = at;
            break;
        case 3: {                                 /* delete a span */
            size_t n = 1 + rng() % 16;
            if (at + n > b->len)
                n = b->len - at;
            memmove(b->data + at, b->data + at + n, b->len - at - n);
            b->len -= n;
            break;
        }
        case 4: {                                 /* duplicate a span */
            size_t n = 1 + rng() % 64;
            if (at + n > b->len)
                n = b->len - at;
            if (b->len + n <= sizeof b->data) {
                memmove(b->data + at + n, b->data + at, b->len - at);
                b->len += n;
            }
            break;
        }
        default:
            b->data[0] = (unsigned char)rng();
            b->data[1] = (unsigned char)rng();
            break;
        }
    }
}

int main(int argc, char **argv)
{
    static struct buf seed, work;
    int iterations = 3000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = atoi(argv[++i]);
            continue;
        }
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "fuzz-live: cannot read '%s'\n", argv[i]);
            return 2;
        }
        work.len = fread(work.data, 1, sizeof work.data, f);
        fclose(f);
        LLVMFuzzerTestOneInput(work.data, work.len);
    }
    unsigned seed_ok = 0;
    for (int s = 0; s < 4; s++) {
        make_seed(s, &seed);
        unsigned before = ok_runs;
        LLVMFuzzerTestOneInput(seed.data, seed.len);
        seed_ok += ok_runs - before;
    }
    for (int i = 0; i < iterations; i++) {
        make_seed(i % 4, &seed);
        work = seed;
        mutate(&work);
        LLVMFuzzerTestOneInput(work.data, work.len);
    }
    printf("fuzz-live: %u runs, %u sessions succeeded, %u ended in an error; "
           "seeds succeeding: %u of 4\n", runs, ok_runs, error_runs, seed_ok);
    /* The seeds are valid sessions except seed 3's final error: 3 of 4. */
    return seed_ok == 3 ? 0 : 1;
}

#endif
