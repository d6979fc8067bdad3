/*
 * hv_io.h - output and exit for the test firmwares, through ARM
 * semihosting (QEMU: -semihosting-config enable=on,target=native).
 * hv_printf understands %s (with width, `-` to pad on the right), %c, %d,
 * %u, %x (with width and `0` padding), %p and %%, with `l` or `z` sizes.
 */
#ifndef HV_IO_H
#define HV_IO_H

#include <stdint.h>

void hv_puts(const char *text);
void hv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the QEMU run with `code` as its exit status. */
void hv_exit(int code) __attribute__((noreturn));

#endif /* HV_IO_H */
