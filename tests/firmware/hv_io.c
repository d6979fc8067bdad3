/*
 * hv_io.c - semihosting output and exit.  The formatter writes into a line
 * buffer and hands whole lines to SYS_WRITE0, so one trap prints one line.
 */
#include "hv_io.h"

#include <stdarg.h>
#include <stddef.h>

#define SYS_WRITE0        0x04u
#define SYS_EXIT          0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

/* A semihosting call: operation in r0, parameter in r1, result in r0. */
static uint32_t semihost_call(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void hv_puts(const char *text)
{
    semihost_call(SYS_WRITE0, text);
}

void hv_exit(int code)
{
    /* SYS_EXIT_EXTENDED carries the status; plain SYS_EXIT only tells
     * success from failure, and is the fallback if the host refuses. */
    uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code };
    semihost_call(SYS_EXIT_EXTENDED, block);
    semihost_call(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                                : 0x20023u));
    for (;;) {
        __asm__ volatile("wfi");
    }
}

struct line_buf {
    char text[160];
    size_t len;
};

static void line_flush(struct line_buf *line)
{
    if (line->len == 0) {
        return;
    }
    line->text[line->len] = '\0';
    hv_puts(line->text);
    line->len = 0;
}

static void line_put(struct line_buf *line, char c)
{
    if (line->len + 1 >= sizeof line->text) {
        line_flush(line);
    }
    line->text[line->len++] = c;
    if (c == '\n') {
        line_flush(line);
    }
}

static void put_number(struct line_buf *line, uint32_t value, uint32_t base, unsigned width,
                       char pad, int negative)
{
    char digits[12];
    unsigned count = 0;
    do {
        uint32_t digit = value % base;
        digits[count++] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
        value /= base;
    } while (value != 0);
    if (negative) {
        if (pad == '0') {
            line_put(line, '-');
        } else {
            digits[count++] = '-';
        }
        if (width > 0) {
            width--;
        }
    }
    while (width > count) {
        line_put(line, pad);
        width--;
    }
    while (count > 0) {
        line_put(line, digits[--count]);
    }
}

void hv_printf(const char *fmt, ...)
{
    struct line_buf line;
    va_list args;
    line.len = 0;
    va_start(args, fmt);
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            line_put(&line, *p);
            continue;
        }
        p++;
        char pad = ' ';
        unsigned width = 0;
        int left = 0;
        if (*p == '-') {
            left = 1;
            p++;
        }
        if (*p == '0') {
            pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9') {
            width = width * 10u + (unsigned)(*p - '0');
            p++;
        }
        int is_long = 0;
        if (*p == 'l') {
            is_long = 1;
            p++;
        } else if (*p == 'z') {
            p++;
        }
        switch (*p) {
        case 's': {
            const char *text = va_arg(args, const char *);
            unsigned len = 0;
            while (text[len] != '\0') {
                len++;
            }
            for (; !left && len < width; width--) {
                line_put(&line, ' ');
            }
            for (unsigned i = 0; i < len; i++) {
                line_put(&line, text[i]);
            }
            for (; left && len < width; width--) {
                line_put(&line, ' ');
            }
            break;
        }
        case 'c':
            line_put(&line, (char)va_arg(args, int));
            break;
        case 'd': {
            int32_t value = is_long ? (int32_t)va_arg(args, long) : (int32_t)va_arg(args, int);
            uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
            put_number(&line, magnitude, 10, width, pad, value < 0);
            break;
        }
        case 'u':
        case 'x': {
            uint32_t value = is_long ? (uint32_t)va_arg(args, unsigned long)
                                     : (uint32_t)va_arg(args, unsigned int);
            put_number(&line, value, *p == 'u' ? 10u : 16u, width, pad, 0);
            break;
        }
        case 'p':
            line_put(&line, '0');
            line_put(&line, 'x');
            put_number(&line, (uint32_t)(uintptr_t)va_arg(args, void *), 16, 8, '0', 0);
            break;
        case '%':
            line_put(&line, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            line_put(&line, '%');
            line_put(&line, *p);
            break;
        }
    }
    va_end(args);
    line_flush(&line);
}
