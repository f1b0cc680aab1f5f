/*
 * chunk_encode.c -- joi_chunk_encode: readings into a chunk (see joi/chunk.h, which
 * describes the format bit by bit; chunk_internal.h holds what the codec's files
 * share).  Here: the bit writer, the writing side of the Rice codes, the choice of
 * the step, the exponent and every block's parameters, and the encoder itself.
 *
 * Rules of this file:
 * - Pure: no I/O, no globals that change.  Everything the encoder writes goes into
 *   the caller's buffer (sized once, from a bound on the bits a reading can take),
 *   and it checks the readings before it writes anything.
 * - Deterministic: the same readings give the same bytes (tests/unit/test_chunk.c
 *   holds some byte for byte).  Its choices (step, exponent, parameters) only make
 *   the chunk shorter; the decoder takes any.
 * - The bit writer and the codes live here, static (inline where they run per
 *   reading), beside their one caller, so the per-reading loop inlines them.
 */
#include <math.h>
#include <stdlib.h>

#include "joi/chunk_internal.h"
#include "joi/timeparse.h"

#define CANDIDATES 8 /* exponents the encoder tries for a chunk */

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
