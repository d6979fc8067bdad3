/*
 * source_ihex.c - Intel HEX images (record types 00-05).  Data records that
 * continue the previous one are merged into one segment, so a heap read
 * back from a .hex is one bulk copy.  Every record's length and checksum are
 * checked; a bad line is an error naming the line.
 */
#include "hv_sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ihex_builder {
    struct hv_source *src;
    uint8_t *buf;          /* the segment being grown */
    size_t len, cap;
    uint64_t start;
};

static int hex_nibble(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int builder_flush(struct ihex_builder *b)
{
    if (b->len == 0)
        return 0;
    int rc = hv_mem_source_add(b->src, b->start, b->buf, b->len, 1);
    b->len = 0;
    return rc;
}

static int builder_put(struct ihex_builder *b, uint64_t addr, const uint8_t *data, size_t n)
{
    if (b->len > 0 && addr != b->start + b->len) {
        if (builder_flush(b) < 0)
            return -1;
    }
    if (b->len == 0)
        b->start = addr;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->buf, cap);
        if (!p)
            return -1;
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return 0;
}

/*
 * Intel HEX opens, after blank space, with a record: ':' and at least the
 * ten hex digits of length, address, type and checksum, up to the end of
 * its line.  A raw image whose first byte happens to be ':' (0x3A) is not
 * taken for one: ten hex digits in a row follow it in about 2e-11 of
 * random images.
 */
int hv_ihex_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i >= len || p[i] != ':')
        return 0;
    size_t digits = 0;
    for (i++; i < len && hex_nibble(p[i]) >= 0; i++)
        digits++;
    return digits >= 10 && (i == len || p[i] == '\r' || p[i] == '\n');
}

struct hv_source *hv_ihex_parse(const char *name, const void *text, size_t len, char *err, size_t errlen)
{
    const unsigned char *p = text;
    struct ihex_builder b = { 0 };
    uint64_t upper = 0;            /* from type 02 (<<4) or 04 (<<16) */
    size_t line = 0, pos = 0;
    int seen_eof = 0, records = 0;
    uint8_t rec[260];

    b.src = hv_mem_source_new(name);
    if (!b.src) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    while (pos < len && !seen_eof) {
        line++;
        size_t end = pos;
        while (end < len && p[end] != '\n')
            end++;
        size_t stop = end;
        while (stop > pos && (p[stop - 1] == '\r' || p[stop - 1] == ' ' || p[stop - 1] == '\t'))
            stop--;
        size_t at = pos;
        pos = end < len ? end + 1 : end;
        if (stop == at)
            continue;                       /* blank line */
        if (p[at] != ':') {
            snprintf(err, errlen, "line %zu: expected ':' to start an Intel HEX record", line);
            goto fail;
        }
        size_t digits = stop - at - 1;
        if (digits % 2 != 0 || digits < 10 || digits / 2 > sizeof rec) {
            snprintf(err, errlen, "line %zu: malformed record length", line);
            goto fail;
        }
        size_t n = digits / 2;
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++) {
            int hi = hex_nibble(p[at + 1 + 2 * i]), lo = hex_nibble(p[at + 2 + 2 * i]);
            if (hi < 0 || lo < 0) {
                snprintf(err, errlen, "line %zu: bad hex digit", line);
                goto fail;
            }
            rec[i] = (uint8_t)(hi << 4 | lo);
            sum += rec[i];
        }
        if ((sum & 0xFF) != 0) {
            snprintf(err, errlen, "line %zu: checksum mismatch", line);
            goto fail;
        }
        size_t count = rec[0];
        if (count + 5 != n) {
            snprintf(err, errlen, "line %zu: byte count %zu does not match the record", line, count);
            goto fail;
        }
        unsigned offset = (unsigned)rec[1] << 8 | rec[2];
        unsigned type = rec[3];
        const uint8_t *data = rec + 4;
        records++;
        switch (type) {
        case 0: {
            /* Offsets wrap within the 64 KiB window of the base (the spec's
             * rule for segment addressing); split a record that crosses. */
            size_t first = count;
            if (offset + count > 0x10000)
                first = 0x10000 - offset;
            if (builder_put(&b, upper + offset, data, first) < 0 ||
                (first < count && builder_put(&b, upper, data + first, count - first) < 0)) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            break;
        }
        case 1:
            seen_eof = 1;
            break;
        case 2:
        case 4:
            if (count != 2) {
                snprintf(err, errlen, "line %zu: address record needs 2 bytes", line);
                goto fail;
            }
            upper = ((uint64_t)data[0] << 8 | data[1]) << (type == 2 ? 4 : 16);
            break;
        case 3:
        case 5:
            break;                          /* start address: not memory */
        default:
            snprintf(err, errlen, "line %zu: unknown record type %02x", line, type);
            goto fail;
        }
    }
    if (records == 0) {
        snprintf(err, errlen, "no Intel HEX records");
        goto fail;
    }
    if (builder_flush(&b) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    free(b.buf);
    return b.src;
fail:
    free(b.buf);
    hv_source_close(b.src);
    return NULL;
}

struct hv_source *hv_ihex_open(const char *path, char *err, size_t errlen)
{
    void *data;
    size_t len;
    if (hv_file_map(path, &data, &len, err, errlen) < 0)
        return NULL;
    struct hv_source *src = hv_ihex_parse(path, data, len, err, errlen);
    hv_file_unmap(data, len);
    return src;
}
