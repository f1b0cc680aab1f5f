/*
 * chunk_decode.c -- joi_chunk_decode, joi_chunk_each and joi_chunk_peek: a chunk back
 * into readings, or into their texts (see joi/chunk.h, which describes the format bit
 * by bit; chunk_internal.h holds what the codec's files share).  Here: the bit
 * reader, the reading side of the Rice codes, the header and the walk over the
 * blocks.
 *
 * Rules of this file:
 * - Pure: no I/O, no globals that change.  Everything the decoder gives goes into
 *   the caller's array or callback.
 * - The decoder never trusts the bytes: every read is bounds-checked (struct bitrd),
 *   every sum is overflow-checked, every reading is checked to be in range and in the
 *   canonical form the encoder writes before it is handed on, and it allocates at
 *   most what the count in the header needs once that count is checked against the
 *   input's length and JOI_CHUNK_MAX.  A damaged chunk is a 500 "damaged chunk: ...",
 *   never a crash.
 * - The bit reader and the codes live here, static (inline where they run per
 *   reading), beside their one caller, so the per-reading loop inlines them.
 */
#include <string.h>

#include "joi/chunk_internal.h"
#include "joi/num.h"
#include "joi/timeparse.h"

static int chunk_damaged(struct joi_error *err, const char *what)
{
    return joi_error_set(err, 500, "damaged chunk: %s", what);
}

/* ------------------------------------------------------------------------ */
/* Bits                                                                     */
/* ------------------------------------------------------------------------ */

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

/* Reads an escape's body (see put_long_u in chunk_encode.c) into *u; -1 when the
 * input ends first. */
static int get_long_u(struct bitrd *r, uint64_t *u)
{
    uint64_t b1;
    if (get_bits(r, 6, &b1) != 0 || get_long(r, (int)b1, u) != 0)
        return -1;
    *u |= (UINT64_C(1) << b1);
    return 0;
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
                if (joi_chunk_value_check(mant, e, text, &tlen, &out->kw) != 0)
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
                    else if (joi_chunk_value_check(mant, e, text, &tlen, &kw) != 0)
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
