/*
 * chunk_internal.h -- what the chunk codec's files share: for src/chunk*.c only,
 * never included elsewhere (the codec's API is joi/chunk.h, which describes the
 * format bit by bit; nothing here is part of it).
 *
 * The codec is three files: chunk_encode.c (the bit writer, the writing side of the
 * Rice codes, joi_chunk_encode), chunk_decode.c (the bit reader, the reading side of
 * the codes, joi_chunk_decode, joi_chunk_each, joi_chunk_peek) and chunk_text.c (the
 * slow paths of a reading's decimal: through joi_num_format's text, and the long
 * check of a decoded value).
 *
 * Rules of this header:
 * - Only the format's own pieces that both directions need (its constants, zigzag,
 *   the header's varints, written and read side by side) and a reading's decimal:
 *   the value as (m, e) and back to its text, the fast paths here, the slow ones in
 *   chunk_text.c.
 * - What runs once per reading is static inline, here (decimal_of, text_of,
 *   digits_of, value_plain, value_fast_double) or in the one file that calls it (the
 *   bit reader and writer, the codes), so the hot loops inline it as they did when
 *   the codec was one file.  Calls across files (joi_chunk_text_split,
 *   joi_chunk_value_check) are off the fast path: readings below 0.0001 or of more
 *   than 9 decimals or 15 digits.
 * - Pure, like the codec: no I/O, no state; the tables are const.
 */
#ifndef JOI_CHUNK_INTERNAL_H
#define JOI_CHUNK_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "joi/chunk.h"

#define BLOCK JOI_CHUNK_BLOCK
#define QMAX 6         /* a Rice quotient this large is written as an escape instead */
#define K_ZERO 63      /* block parameter: every code of the block is 0, none written */
#define EXP_MIN (-340) /* smallest exponent of a canonical reading (17 digits, 5e-324) */
#define EXP_MAX 6      /* largest (1000000 is 1e6) */
#define EXP_BITS 9     /* a raw reading's exponent: e - EXP_MIN in 9 bits */
#define SCALED_LIMIT UINT64_C(1000000000000000000) /* scaled mantissas are below 10^18 */

static const uint64_t pow10_u64[20] = {UINT64_C(1),
                                       UINT64_C(10),
                                       UINT64_C(100),
                                       UINT64_C(1000),
                                       UINT64_C(10000),
                                       UINT64_C(100000),
                                       UINT64_C(1000000),
                                       UINT64_C(10000000),
                                       UINT64_C(100000000),
                                       UINT64_C(1000000000),
                                       UINT64_C(10000000000),
                                       UINT64_C(100000000000),
                                       UINT64_C(1000000000000),
                                       UINT64_C(10000000000000),
                                       UINT64_C(100000000000000),
                                       UINT64_C(1000000000000000),
                                       UINT64_C(10000000000000000),
                                       UINT64_C(100000000000000000),
                                       UINT64_C(1000000000000000000),
                                       UINT64_C(10000000000000000000)};

static const double pow10_dbl[23] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int bitlen(uint64_t u)
{
    return u ? 64 - __builtin_clzll(u) : 0;
}

/* Number of decimal digits of m (1 for 0). */
static inline int digits_of(uint64_t m)
{
    int t = (bitlen(m | 1) * 1233) >> 12; /* digits or one less */
    return t + (m >= pow10_u64[t]);
}

static inline uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ------------------------------------------------------------------------ */
/* Header varints                                                           */
/* ------------------------------------------------------------------------ */

/* Writes v as a LEB128 varint at p (room for 10 bytes) and returns its length. */
static inline size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Reads a minimal LEB128 varint of at most 64 bits; -1 when truncated, longer than
 * needed, or too large. */
static inline int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        unsigned char b = *(*p)++;
        if (shift == 63 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift > 0)
                return -1; /* a zero last byte: not the shortest form */
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Decimal text (the slow paths are in chunk_text.c)                        */
/* ------------------------------------------------------------------------ */

/* Writes the text joi_num_format writes for the value m * 10^e (m without trailing
 * zeros, nd its digits; m == 0 with e == 0 for zero) and returns its length: plain
 * digits when the leading digit's exponent is -4 or more, else d.ddde-XX. */
static inline size_t text_of(uint64_t m, int e, int nd, char *out)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "6263646566676869707172737475767778798081828384858687888990919293"
                                "949596979899";
    char d[20];
    int i = nd;
    while (i >= 2) {
        unsigned r = (unsigned)(m % 100);
        m /= 100;
        d[--i] = pairs[2 * r + 1];
        d[--i] = pairs[2 * r];
    }
    if (i == 1)
        d[0] = (char)('0' + m);
    int x = nd - 1 + e; /* exponent of the leading digit */
    size_t n = 0;
    if (x < -4) {
        out[n++] = d[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, d + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        out[n++] = 'e';
        out[n++] = '-';
        int ax = -x;
        if (ax >= 100)
            out[n++] = (char)('0' + ax / 100);
        out[n++] = (char)('0' + ax / 10 % 10);
        out[n++] = (char)('0' + ax % 10);
    } else if (e >= 0) {
        memcpy(out, d, (size_t)nd);
        n = (size_t)nd;
        for (int z = 0; z < e; z++)
            out[n++] = '0';
    } else if (x >= 0) {
        memcpy(out, d, (size_t)x + 1);
        n = (size_t)x + 1;
        out[n++] = '.';
        memcpy(out + n, d + x + 1, (size_t)(nd - x - 1));
        n += (size_t)(nd - x - 1);
    } else {
        out[n++] = '0';
        out[n++] = '.';
        for (int z = -x - 1; z > 0; z--)
            out[n++] = '0';
        memcpy(out + n, d, (size_t)nd);
        n += (size_t)nd;
    }
    out[n] = '\0';
    return n;
}

/* 1 when (m, e) -- m > 0 without trailing zeros, nd its digits -- is a reading in
 * range in joi_num_format's form that needs no further check: up to 15 digits, a
 * decimal of a normal double is the only one of that length that reads as that
 * double (DBL_DIG), so it is the shortest. */
static inline int value_plain(uint64_t m, int e, int nd)
{
    int x = nd - 1 + e; /* exponent of the leading digit */
    return nd <= 15 && x >= -307 && (x < 6 || (x == 6 && m == 1));
}

/* The double of a value_plain (m, e) without text, when one operation gives it
 * exactly rounded: m and 10^|e| are exact doubles.  0 when that does not apply. */
static inline int value_fast_double(uint64_t m, int e, double *kw)
{
    if (m >= (UINT64_C(1) << 53) || e < -22 || e > 22)
        return 0;
    *kw = e >= 0 ? (double)m * pow10_dbl[e] : (double)m / pow10_dbl[-e];
    return 1;
}

/* The decimal (m without trailing zeros, e) of joi_num_format(v)'s text, for any
 * reading v: decimal_of's slow path. */
void joi_chunk_text_split(double v, uint64_t *m, int *e);

/* The decimal of joi_num_format(v) -- m without trailing zeros, e; m == 0 with
 * e == 0 for zero -- for a reading v (finite, 0 <= v <= JOI_READING_MAX; -0 is 0).
 * Plain decimals of up to 9 decimals and 15 digits the way joi_num_format finds
 * them (the same arithmetic, so the same digits), the others through its text. */
static inline void decimal_of(double v, uint64_t *m, int *e)
{
    if (v == 0) {
        *m = 0;
        *e = 0;
        return;
    }
    if (v == floor(v)) {
        uint64_t u = (uint64_t)v;
        int x = 0;
        while (u % 10 == 0) {
            u /= 10;
            x++;
        }
        *m = u;
        *e = x;
        return;
    }
    if (v >= 1e-4) {
        /* joi_num_format's format_fixed takes the first k of 1..9 for which
         * s = round(v * 10^k) < 10^15 and s / 10^k == v.  If k works, 9 works too
         * with s * 10^(9-k) (v * 10^9 is within 0.25 of it below 10^15), and 9
         * working with s means that s without its trailing zeros works: so one try
         * at 9 and stripping the zeros finds the same digits. */
        double s = nearbyint(v * 1e9);
        if (s < 1e15 && s / 1e9 == v) {
            uint64_t u = (uint64_t)s;
            int x = -9;
            while (u % 10 == 0) {
                u /= 10;
                x++;
            }
            *m = u;
            *e = x;
            return;
        }
    }
    joi_chunk_text_split(v, m, e);
}

/* Checks any (m, e) -- m > 0 without trailing zeros -- the long way: in range,
 * at most 17 digits, and the text joi_num_format writes for the double the text
 * reads as.  Returns 0 and fills text (JOI_NUM_MAX bytes, *tlen its length) and *kw,
 * or -1. */
int joi_chunk_value_check(uint64_t m, int e, char *text, size_t *tlen, double *kw);

#endif
