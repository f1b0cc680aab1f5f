/*
 * chunk.c -- the compressed-chunk codec for a meter's readings (see joi/chunk.h,
 * which describes the format bit by bit).
 *
 * Rules of this file:
 * - Pure: no I/O, no globals that change.  Everything the encoder writes goes into
 *   the caller's buffer, everything the decoder gives goes into the caller's array
 *   or callback.
 * - The decoder never trusts the bytes: every read is bounds-checked (struct bitrd),
 *   every sum is overflow-checked, every reading is checked to be in range and in the
 *   canonical form the encoder writes before it is handed on, and it allocates at
 *   most what the count in the header needs once that count is checked against the
 *   input's length and JOI_CHUNK_MAX.
 * - A reading's value is the decimal of its shortest round-trip text (joi_num_format):
 *   the encoder takes (m, e) from that text and the decoder rebuilds the same text
 *   from (m, e), so a reading reads back as exactly the text that was stored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/chunk.h"
#include "joi/num.h"
#include "joi/timeparse.h"

#define BLOCK JOI_CHUNK_BLOCK
#define QMAX 6         /* a Rice quotient this large is written as an escape instead */
#define K_ZERO 63      /* block parameter: every code of the block is 0, none written */
#define EXP_MIN (-340) /* smallest exponent of a canonical reading (17 digits, 5e-324) */
#define EXP_MAX 6      /* largest (1000000 is 1e6) */
#define EXP_BITS 9     /* a raw reading's exponent: e - EXP_MIN in 9 bits */
#define SCALED_LIMIT UINT64_C(1000000000000000000) /* scaled mantissas are below 10^18 */
#define CANDIDATES 8                               /* exponents the encoder tries for a chunk */

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

static int chunk_damaged(struct joi_error *err, const char *what)
{
    return joi_error_set(err, 500, "damaged chunk: %s", what);
}

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

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ------------------------------------------------------------------------ */
/* Decimal text                                                             */
/* ------------------------------------------------------------------------ */

/* Writes the text joi_num_format writes for the value m * 10^e (m without trailing
 * zeros, nd its digits; m == 0 with e == 0 for zero) and returns its length: plain
 * digits when the leading digit's exponent is -4 or more, else d.ddde-XX. */
static size_t text_of(uint64_t m, int e, int nd, char *out)
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

/* The decimal (m without trailing zeros, e) of joi_num_format's text s[0..len). */
static void decimal_of_text(const char *s, size_t len, uint64_t *m, int *e)
{
    uint64_t v = 0;
    int exp = 0, seen_point = 0, significant = 0;
    size_t i = 0;
    for (; i < len && s[i] != 'e'; i++) {
        if (s[i] == '.') {
            seen_point = 1;
            continue;
        }
        int digit = s[i] - '0';
        if (digit == 0 && !significant) {
            if (seen_point)
                exp--;
            continue;
        }
        significant = 1;
        v = v * 10 + (uint64_t)digit; /* at most 17 significant digits */
        if (seen_point)
            exp--;
    }
    if (i < len)
        exp += atoi(s + i + 1);
    if (v == 0)
        exp = 0;
    while (v != 0 && v % 10 == 0) {
        v /= 10;
        exp++;
    }
    *m = v;
    *e = exp;
}

/* The decimal of joi_num_format(v): v is a reading (finite, 0 <= v <= 1000000; -0 is
 * 0).  Plain decimals of up to 9 decimals and 15 digits the way joi_num_format finds
 * them (the same arithmetic, so the same digits), the others through its text. */
static void decimal_of(double v, uint64_t *m, int *e)
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
    char text[JOI_NUM_MAX];
    size_t n = joi_num_format(v, text);
    decimal_of_text(text, n, m, e);
}

static const double pow10_dbl[23] = {1,    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

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

/* Checks any (m, e) -- m > 0 without trailing zeros -- the long way: in range,
 * at most 17 digits, and the text joi_num_format writes for the double the text
 * reads as.  Returns 0 and fills text (JOI_NUM_MAX bytes, *tlen its length) and *kw,
 * or -1. */
static int value_check(uint64_t m, int e, char *text, size_t *tlen, double *kw)
{
    int nd = digits_of(m);
    if (nd > 17)
        return -1;
    int x = nd - 1 + e;
    if (x > 6 || (x == 6 && m != 1) || x < -324)
        return -1; /* above 1000000 or below the smallest double */
    size_t n = text_of(m, e, nd, text);
    double d = strtod(text, NULL);
    if (!(d > 0 && d <= JOI_READING_MAX))
        return -1;
    if (!value_plain(m, e, nd)) {
        char again[JOI_NUM_MAX];
        if (joi_num_format(d, again) != n || memcmp(again, text, n) != 0)
            return -1;
    }
    *tlen = n;
    *kw = d;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Bits                                                                     */
/* ------------------------------------------------------------------------ */

/* Writes bits most significant first into p, which the caller sized. */
struct bitwr {
    unsigned char *p;
    uint64_t acc; /* the last nacc bits written, not yet whole bytes */
    int nacc;
};

static inline void put_bits(struct bitwr *w, uint64_t v, int n) /* n <= 32 */
{
    w->acc = (w->acc << n) | v;
    w->nacc += n;
    while (w->nacc >= 8) {
        w->nacc -= 8;
        *w->p++ = (unsigned char)(w->acc >> w->nacc);
    }
}

/* Writes the n <= 64 low bits of v. */
static inline void put_long(struct bitwr *w, uint64_t v, int n)
{
    if (n == 0)
        return;
    v &= ~UINT64_C(0) >> (64 - n);
    if (n > 32) {
        put_bits(w, v >> 32, n - 32);
        v &= UINT64_C(0xffffffff);
        n = 32;
    }
    put_bits(w, v, n);
}

static void put_flush(struct bitwr *w)
{
    if (w->nacc > 0)
        put_bits(w, 0, 8 - w->nacc);
}

/* Reads bits most significant first; the next bit is the top bit of win. */
struct bitrd {
    const unsigned char *p, *end;
    uint64_t win;
    int nbits; /* valid bits in win */
};

/* Tops the window up to at least 57 bits, or to the end of the input. */
static inline void get_refill(struct bitrd *r)
{
    if (r->end - r->p >= 8) {
        uint64_t v;
        memcpy(&v, r->p, 8);
        v = __builtin_bswap64(v);        /* the bytes, first one on top */
        int take = (63 - r->nbits) >> 3; /* whole bytes that fit; 0 at 56 bits */
        if (take == 0)
            return;
        r->win |= (v & (~UINT64_C(0) << (64 - 8 * take))) >> r->nbits;
        r->p += take;
        r->nbits += 8 * take;
        return;
    }
    while (r->nbits <= 56 && r->p < r->end) {
        r->win |= (uint64_t)*r->p++ << (56 - r->nbits);
        r->nbits += 8;
    }
}

/* Reads n <= 56 bits into *v; -1 when the input ends first. */
static inline int get_bits(struct bitrd *r, int n, uint64_t *v)
{
    if (r->nbits < n) {
        get_refill(r);
        if (r->nbits < n)
            return -1;
    }
    if (n == 0) {
        *v = 0;
        return 0;
    }
    *v = r->win >> (64 - n);
    r->win <<= n;
    r->nbits -= n;
    return 0;
}

static inline int get_long(struct bitrd *r, int n, uint64_t *v) /* n <= 64 */
{
    uint64_t hi = 0, lo;
    if (n > 32) {
        if (get_bits(r, n - 32, &hi) != 0)
            return -1;
        n = 32;
    }
    if (get_bits(r, n, &lo) != 0)
        return -1;
    *v = (hi << 32) | lo;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Codes                                                                    */
/* ------------------------------------------------------------------------ */

/* Bits of the Rice code of u with parameter k, or of its escape. */
static unsigned code_cost(uint64_t u, int k)
{
    uint64_t q = u >> k;
    if (q < QMAX)
        return (unsigned)q + 1 + (unsigned)k;
    return QMAX + 6 + (unsigned)bitlen(u) - 1;
}

/* The escape's body: the length b of u (1..64) less one in 6 bits, then u's b - 1
 * low bits (its top bit is 1). */
static void put_long_u(struct bitwr *w, uint64_t u)
{
    int b = bitlen(u);
    put_bits(w, (uint64_t)(b - 1), 6);
    put_long(w, u, b - 1);
}

static int get_long_u(struct bitrd *r, uint64_t *u)
{
    uint64_t b1;
    if (get_bits(r, 6, &b1) != 0 || get_long(r, (int)b1, u) != 0)
        return -1;
    *u |= (UINT64_C(1) << b1);
    return 0;
}

/* Writes u as a Rice code with parameter k: q = u >> k zero bits, a one, the k low
 * bits of u; when q >= QMAX, QMAX zero bits, then (for values) a 0 bit, then the
 * escape's body. */
static inline void put_code(struct bitwr *w, uint64_t u, int k, int is_value)
{
    uint64_t q = u >> k;
    if (q < QMAX) {
        put_bits(w, 1, (int)q + 1);
        put_long(w, u, k);
        return;
    }
    put_bits(w, 0, QMAX);
    if (is_value)
        put_bits(w, 0, 1);
    put_long_u(w, u);
}

/* Reads a code with parameter k: returns 0 with *u, 1 when it is a value's raw escape
 * (the caller reads the raw reading), -1 on truncated input. */
static inline int get_code(struct bitrd *r, int k, int is_value, uint64_t *u)
{
    if (r->nbits < 57)
        get_refill(r);
    int q = r->win ? __builtin_clzll(r->win) : 64;
    if (q < QMAX && q + 1 + k <= r->nbits) { /* the whole code is in the window */
        uint64_t w = r->win << (q + 1);
        *u = ((uint64_t)q << k) | (k ? w >> (64 - k) : 0);
        r->win = w << k;
        r->nbits -= q + 1 + k;
        return 0;
    }
    if (q < QMAX) {
        if (q >= r->nbits)
            return -1;
        r->win <<= q + 1;
        r->nbits -= q + 1;
        uint64_t low;
        if (get_long(r, k, &low) != 0)
            return -1;
        *u = ((uint64_t)q << k) | low;
        return 0;
    }
    if (r->nbits < QMAX)
        return -1;
    r->win <<= QMAX;
    r->nbits -= QMAX;
    if (is_value) {
        uint64_t raw;
        if (get_bits(r, 1, &raw) != 0)
            return -1;
        if (raw)
            return 1;
    }
    return get_long_u(r, u);
}

static unsigned long block_bits(const uint64_t *u, size_t n, int k)
{
    unsigned long bits = 0;
    for (size_t i = 0; i < n; i++)
        bits += code_cost(u[i], k);
    return bits;
}

/* The best parameter for the codes u[0..n): K_ZERO when they are all 0 and
 * zero_ok, else the Rice parameter with the fewest bits in all. */
static int best_k(const uint64_t *u, size_t n, int zero_ok)
{
    uint64_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= u[i];
    if (any == 0 && zero_ok)
        return K_ZERO;
    /* The bits as a function of k fall, then rise, give or take a bump of escapes:
     * start near the mean's length and walk downhill, looking two steps ahead. */
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += u[i] >> 4; /* no overflow: u < 2^61, n <= 64 */
    int k = bitlen(sum / n) + 3;
    if (k > 62)
        k = 62;
    unsigned long bits = block_bits(u, n, k);
    for (int dir = -1; dir <= 1; dir += 2) {
        for (;;) {
            int moved = 0;
            for (int step = 1; step <= 2 && !moved; step++) {
                int next = k + dir * step;
                if (next < 0 || next > 62)
                    break;
                unsigned long nb = block_bits(u, n, next);
                if (nb < bits) {
                    bits = nb;
                    k = next;
                    moved = 1;
                }
            }
            if (!moved)
                break;
        }
    }
    return k;
}

/* ------------------------------------------------------------------------ */
/* Header varints                                                           */
/* ------------------------------------------------------------------------ */

static size_t put_varint(unsigned char *p, uint64_t v)
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
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
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
/* Encoding                                                                 */
/* ------------------------------------------------------------------------ */

struct enc_reading {
    uint64_t m; /* decimal mantissa, no trailing zeros */
    int e;      /* its exponent */
    int nd;     /* its digits */
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* 1 and *scaled = m * 10^(e - exp) when that is an integer below 10^18. */
static int scale_to(const struct enc_reading *d, int exp, uint64_t *scaled)
{
    if (d->m == 0) {
        *scaled = 0;
        return 1;
    }
    if (d->e < exp || d->nd + (d->e - exp) > 18)
        return 0;
    *scaled = d->m * pow10_u64[d->e - exp];
    return 1;
}

/* Bits the values would take, roughly, with exponent exp: each delta's length and
 * two bits, or a raw escape for a reading not representable at exp. */
static unsigned long exp_cost(const struct enc_reading *d, size_t n, int exp)
{
    unsigned long bits = 0;
    uint64_t prev = 0, s;
    for (size_t i = 0; i < n; i++) {
        if (scale_to(&d[i], exp, &s)) {
            bits += (unsigned long)bitlen(zigzag((int64_t)(s - prev))) + 2;
            prev = s;
        } else {
            bits += QMAX + 1 + 6 + (unsigned long)bitlen(d[i].m) + EXP_BITS;
        }
    }
    return bits;
}

/* The chunk's exponent: of the readings' exponents (at most CANDIDATES of them: the
 * smallest and the most frequent), the one whose values cost the fewest bits. */
static int choose_exponent(const struct enc_reading *d, size_t n)
{
    unsigned count[EXP_MAX - EXP_MIN + 1] = {0};
    int lowest = EXP_MAX + 1;
    for (size_t i = 0; i < n; i++) {
        if (d[i].m == 0)
            continue;
        count[d[i].e - EXP_MIN]++;
        if (d[i].e < lowest)
            lowest = d[i].e;
    }
    if (lowest > EXP_MAX)
        return 0; /* every reading is 0 */
    int cand[CANDIDATES];
    int nc = 0;
    cand[nc++] = lowest;
    count[lowest - EXP_MIN] = 0;
    while (nc < CANDIDATES) {
        int top = -1;
        for (int x = 0; x <= EXP_MAX - EXP_MIN; x++)
            if (count[x] > 0 && (top < 0 || count[x] > count[top]))
                top = x;
        if (top < 0)
            break;
        cand[nc++] = top + EXP_MIN;
        count[top] = 0;
    }
    if (nc == 1)
        return lowest;
    int best = lowest;
    unsigned long best_bits = (unsigned long)-1;
    for (int c = 0; c < nc; c++) {
        /* A higher exponent saves about 3.3 bits a reading per power of ten and costs
         * some 40 bits a reading below it: not worth counting when a tenth of the
         * readings per power of ten are below. */
        size_t below = 0;
        for (size_t i = 0; i < n && c > 0; i++)
            below += d[i].m != 0 && d[i].e < cand[c];
        if (c > 0 && below * 10 >= n * (size_t)(cand[c] - lowest))
            continue;
        unsigned long bits = exp_cost(d, n, cand[c]);
        if (bits < best_bits) {
            best_bits = bits;
            best = cand[c];
        }
    }
    return best;
}

int joi_chunk_encode(const struct joi_reading *r, size_t n, struct joi_buf *out,
                     struct joi_error *err)
{
    if (n == 0 || n > JOI_CHUNK_MAX)
        return joi_error_set(err, 500, "a chunk holds 1 to %d readings, not %zu", JOI_CHUNK_MAX, n);
    for (size_t i = 0; i < n; i++) {
        if (r[i].time < 0 || r[i].time > JOI_TIME_MAX)
            return joi_error_set(err, 500, "chunk: reading %zu has a time out of range", i);
        if (i > 0 && r[i].time <= r[i - 1].time)
            return joi_error_set(err, 500, "chunk: reading %zu is not later than the one before it",
                                 i);
        if (!isfinite(r[i].kw) || r[i].kw < 0 || r[i].kw > JOI_READING_MAX)
            return joi_error_set(err, 500, "chunk: reading %zu has a value out of range", i);
    }

    struct enc_reading *d = joi_mem_alloc(n * sizeof *d);
    uint64_t *tu = joi_mem_alloc(n * sizeof *tu); /* time codes (reading 0 has none) */
    uint64_t *vu = joi_mem_alloc(n * sizeof *vu); /* value codes */
    unsigned char *raw = joi_mem_alloc(n);        /* 1: written as a raw escape */
    for (size_t i = 0; i < n; i++) {
        decimal_of(r[i].kw, &d[i].m, &d[i].e);
        d[i].nd = digits_of(d[i].m);
    }

    /* The step: the median of the differences, the one that makes their codes small. */
    int64_t step = 0;
    if (n > 1) {
        int64_t *diff = (int64_t *)(void *)tu;
        /* A difference that more than half of them have is the median: find the
         * only candidate (Boyer-Moore), count it, sort only when it is not one. */
        size_t votes = 0;
        for (size_t i = 1; i < n; i++) {
            diff[i - 1] = r[i].time - r[i - 1].time;
            if (votes == 0)
                step = diff[i - 1];
            votes += diff[i - 1] == step ? 1 : (size_t)-1;
        }
        size_t have = 0;
        for (size_t i = 0; i < n - 1; i++)
            have += diff[i] == step;
        if (have * 2 <= n - 1) {
            qsort(diff, n - 1, sizeof *diff, cmp_i64);
            step = diff[(n - 1) / 2];
        }
    }
    tu[0] = 0;
    for (size_t i = 1; i < n; i++)
        tu[i] = zigzag(r[i].time - r[i - 1].time - step);

    int exp = choose_exponent(d, n);
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t s;
        raw[i] = !scale_to(&d[i], exp, &s);
        if (raw[i]) {
            vu[i] = 0;
            continue;
        }
        vu[i] = zigzag((int64_t)(s - prev));
        prev = s;
    }

    /* Header, then the blocks.  A reading takes at most 85 bits of time code, 90 of
     * value code; a block 12 bits of parameters. */
    size_t start = out->len;
    size_t bound = 64 + n * 23 + (n / BLOCK + 1) * 2;
    unsigned char *p = (unsigned char *)joi_buf_extend(out, bound);
    size_t h = 0;
    p[h++] = JOI_CHUNK_VERSION;
    h += put_varint(p + h, n);
    h += put_varint(p + h, (uint64_t)r[0].time);
    h += put_varint(p + h, (uint64_t)(r[n - 1].time - r[0].time));
    h += put_varint(p + h, (uint64_t)step);
    h += put_varint(p + h, zigzag(exp));
    struct bitwr w = {p + h, 0, 0};
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t m = n - b < BLOCK ? n - b : BLOCK;
        size_t t0 = b == 0 ? 1 : b; /* reading 0's time is in the header */
        int kt = t0 < b + m ? best_k(tu + t0, b + m - t0, 1) : K_ZERO;
        int any_raw = 0;
        for (size_t i = b; i < b + m; i++)
            any_raw |= raw[i];
        /* A raw escape costs the same at every k (its vu is 0 here), but needs codes. */
        int kv = best_k(vu + b, m, !any_raw);
        put_bits(&w, (uint64_t)kt, 6);
        put_bits(&w, (uint64_t)kv, 6);
        for (size_t i = b; i < b + m; i++) {
            if (i > 0 && kt != K_ZERO)
                put_code(&w, tu[i], kt, 0);
            if (kv == K_ZERO)
                continue;
            if (!raw[i]) {
                put_code(&w, vu[i], kv, 1);
                continue;
            }
            put_bits(&w, 0, QMAX);
            put_bits(&w, 1, 1);
            put_long_u(&w, d[i].m);
            put_bits(&w, (uint64_t)(d[i].e - EXP_MIN), EXP_BITS);
        }
    }
    put_flush(&w);
    out->len = start + (size_t)(w.p - p);
    out->data[out->len] = '\0';
    free(d);
    free(tu);
    free(vu);
    free(raw);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

struct header {
    size_t n;
    int64_t first, span, step;
    int exp;
    const unsigned char *bits; /* where the blocks start */
};

static int read_header(const unsigned char *buf, size_t len, struct header *h,
                       struct joi_error *err)
{
    const unsigned char *p = buf, *end = buf + len;
    uint64_t n, first, span, step, exp;
    if (len == 0)
        return chunk_damaged(err, "empty");
    if (*p++ != JOI_CHUNK_VERSION)
        return chunk_damaged(err, "unknown format version");
    if (get_varint(&p, end, &n) != 0 || get_varint(&p, end, &first) != 0 ||
        get_varint(&p, end, &span) != 0 || get_varint(&p, end, &step) != 0 ||
        get_varint(&p, end, &exp) != 0)
        return chunk_damaged(err, "truncated or malformed header");
    if (n == 0 || n > JOI_CHUNK_MAX)
        return chunk_damaged(err, "count out of range");
    if (first > (uint64_t)JOI_TIME_MAX || span > (uint64_t)JOI_TIME_MAX - first ||
        step > (uint64_t)JOI_TIME_MAX)
        return chunk_damaged(err, "time out of range");
    if ((n == 1 && span != 0) || span < n - 1)
        return chunk_damaged(err, "time span does not fit the count");
    int64_t x = unzigzag(exp);
    if (x < EXP_MIN || x > EXP_MAX)
        return chunk_damaged(err, "exponent out of range");
    /* Every block takes at least its 12 bits of parameters. */
    if ((size_t)(end - p) * 8 < ((n + BLOCK - 1) / BLOCK) * 12)
        return chunk_damaged(err, "count larger than the data");
    h->n = (size_t)n;
    h->first = (int64_t)first;
    h->span = (int64_t)span;
    h->step = (int64_t)step;
    h->exp = (int)x;
    h->bits = p;
    return 0;
}

int joi_chunk_peek(const unsigned char *buf, size_t len, struct joi_chunk_info *out,
                   struct joi_error *err)
{
    struct header h;
    if (read_header(buf, len, &h, err) != 0)
        return -1;
    out->count = h.n;
    out->first = h.first;
    out->last = h.first + h.span;
    return 0;
}

/* What the walk hands each reading to. */
struct sink {
    struct joi_reading *items; /* decode: where the readings go */
    joi_chunk_fn fn;           /* each: the caller's callback */
    void *arg;
};

/* Decodes every reading, checks it and hands it to s.  Returns 0, 1 when s->fn
 * stopped the walk, or -1 with err set. */
static int chunk_walk(const unsigned char *buf, size_t len, const struct header *h, struct sink *s,
                      struct joi_error *err)
{
    struct bitrd r = {h->bits, buf + len, 0, 0};
    int64_t t = h->first;
    uint64_t prev = 0;
    for (size_t b = 0; b < h->n; b += BLOCK) {
        size_t m = h->n - b < BLOCK ? h->n - b : BLOCK;
        uint64_t kt, kv;
        if (get_bits(&r, 6, &kt) != 0 || get_bits(&r, 6, &kv) != 0)
            return chunk_damaged(err, "truncated");
        /* Regular times (every difference the step): checked once for the block. */
        int64_t codes = (int64_t)m - (b == 0);
        if (kt == K_ZERO && codes > 0 && (h->step < 1 || codes * h->step > JOI_TIME_MAX - t))
            return chunk_damaged(err, "times not ascending or out of range");
        for (size_t i = b; i < b + m; i++) {
            if (i > 0 && kt == K_ZERO) {
                t += h->step;
            } else if (i > 0) {
                uint64_t u;
                if (get_code(&r, (int)kt, 0, &u) != 0)
                    return chunk_damaged(err, "truncated");
                int64_t diff;
                if (__builtin_add_overflow(h->step, unzigzag(u), &diff) || diff < 1 ||
                    diff > JOI_TIME_MAX - t)
                    return chunk_damaged(err, "times not ascending or out of range");
                t += diff;
            }
            uint64_t mant;
            int e;
            int rc = 0;
            uint64_t u = 0;
            if (kv != K_ZERO)
                rc = get_code(&r, (int)kv, 1, &u);
            if (rc < 0)
                return chunk_damaged(err, "truncated");
            if (rc == 1) {
                uint64_t ex;
                if (get_long_u(&r, &mant) != 0 || get_bits(&r, EXP_BITS, &ex) != 0)
                    return chunk_damaged(err, "truncated");
                if (ex > (uint64_t)(EXP_MAX - EXP_MIN) || mant % 10 == 0)
                    return chunk_damaged(err, "a value not in its shortest form");
                e = (int)ex + EXP_MIN;
            } else {
                int64_t delta = unzigzag(u);
                uint64_t scaled = prev + (uint64_t)delta; /* modulo 2^64, checked below */
                if ((delta < 0 && (uint64_t) - (delta + 1) >= prev) ||
                    (delta > 0 && (uint64_t)delta >= SCALED_LIMIT - prev))
                    return chunk_damaged(err, "a value out of range");
                prev = scaled;
                mant = scaled;
                e = h->exp;
                if (mant == 0) {
                    e = 0;
                } else {
                    while (mant % 10 == 0) {
                        mant /= 10;
                        e++;
                    }
                }
            }
            if (s->fn == NULL) {
                struct joi_reading *out = &s->items[i];
                out->time = t;
                if (mant == 0) {
                    out->kw = 0;
                    continue;
                }
                if (value_plain(mant, e, digits_of(mant)) && value_fast_double(mant, e, &out->kw))
                    continue;
                char text[JOI_NUM_MAX];
                size_t tlen;
                if (value_check(mant, e, text, &tlen, &out->kw) != 0)
                    return chunk_damaged(err, "a value out of range or not in its shortest form");
            } else {
                char text[JOI_NUM_MAX];
                size_t tlen;
                if (mant == 0) {
                    text[0] = '0';
                    text[1] = '\0';
                    tlen = 1;
                } else {
                    int nd = digits_of(mant);
                    double kw;
                    if (value_plain(mant, e, nd))
                        tlen = text_of(mant, e, nd, text);
                    else if (value_check(mant, e, text, &tlen, &kw) != 0)
                        return chunk_damaged(err,
                                             "a value out of range or not in its shortest form");
                }
                if (s->fn(s->arg, t, text, tlen) != 0)
                    return 1;
            }
        }
    }
    if (t != h->first + h->span)
        return chunk_damaged(err, "the last time is not the header's");
    /* Only the zero bits that pad the last byte may be left. */
    if (r.p != r.end || r.nbits >= 8 || r.win != 0)
        return chunk_damaged(err, "data after the last reading");
    return 0;
}

int joi_chunk_decode(const unsigned char *buf, size_t len, struct joi_readings *out,
                     struct joi_error *err)
{
    struct header h;
    if (read_header(buf, len, &h, err) != 0)
        return -1;
    if (out->cap - out->n < h.n) {
        out->cap = out->n + h.n;
        out->items = joi_mem_realloc(out->items, out->cap * sizeof *out->items);
    }
    struct sink s = {out->items + out->n, NULL, NULL};
    if (chunk_walk(buf, len, &h, &s, err) != 0)
        return -1;
    out->n += h.n;
    return 0;
}

int joi_chunk_each(const unsigned char *buf, size_t len, joi_chunk_fn fn, void *arg,
                   struct joi_error *err)
{
    struct header h;
    if (read_header(buf, len, &h, err) != 0)
        return -1;
    struct sink s = {NULL, fn, arg};
    return chunk_walk(buf, len, &h, &s, err);
}
