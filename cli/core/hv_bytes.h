/*
 * hv_bytes.h - reading target-order integers out of a byte buffer.  Callers
 * check bounds first; these only assemble bytes.
 */
#ifndef HV_BYTES_H
#define HV_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t hv_rd16(const uint8_t *p, int big_endian)
{
    unsigned hi = big_endian ? p[0] : p[1], lo = big_endian ? p[1] : p[0];
    return (uint16_t)((hi << 8 | lo) & 0xFFFFu);
}

static inline uint32_t hv_rd32(const uint8_t *p, int big_endian)
{
    if (big_endian)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t hv_rd64(const uint8_t *p, int big_endian)
{
    uint64_t hi = hv_rd32(p + (big_endian ? 0 : 4), big_endian);
    uint64_t lo = hv_rd32(p + (big_endian ? 4 : 0), big_endian);
    return hi << 32 | lo;
}

/* An unsigned field of `width` bytes (2, 4 or 8). */
static inline uint64_t hv_rdn(const uint8_t *p, unsigned width, int big_endian)
{
    switch (width) {
    case 2: return hv_rd16(p, big_endian);
    case 4: return hv_rd32(p, big_endian);
    default: return hv_rd64(p, big_endian);
    }
}

#endif /* HV_BYTES_H */
