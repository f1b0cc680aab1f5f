/*
 * fuzz_chunk.c -- libFuzzer target for the chunk codec (joi/chunk.h).
 *
 * 1. The input as a chunk: it is refused with a 500 "damaged chunk" error, or it
 *    decodes to readings the service could have stored (1..JOI_CHUNK_MAX of them,
 *    times ascending in range, values in range) whose texts from joi_chunk_each are
 *    joi_num_format's, and which encode to a chunk that decodes to them again.
 * 2. The input as readings (9 bytes each: a time step, a value; at most 300): they
 *    encode, and decode to themselves bit for bit.
 * Anything else aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "joi/chunk.h"
#include "joi/num.h"
#include "joi/timeparse.h"

struct each_check {
    const struct joi_reading *r;
    size_t n, calls;
};

static int each_matches(void *arg, int64_t time, const char *text, size_t len)
{
    struct each_check *c = arg;
    char want[JOI_NUM_MAX];
    if (c->calls >= c->n)
        abort();
    const struct joi_reading *r = &c->r[c->calls++];
    size_t n = joi_num_format(r->kw, want);
    if (time != r->time || len != n || memcmp(text, want, n) != 0 || text[len] != '\0')
        abort();
    return 0;
}

/* Any reading handed over: after the one before, in range, its text joi_num_format's. */
static int each_valid(void *arg, int64_t time, const char *text, size_t len)
{
    int64_t *prev = arg;
    double v;
    char again[JOI_NUM_MAX];
    if (time <= *prev || time > JOI_TIME_MAX || joi_num_parse(text, len, &v) != 0 ||
        !(v >= 0 && v <= JOI_READING_MAX) || joi_num_format(v, again) != len ||
        memcmp(again, text, len) != 0)
        abort();
    *prev = time;
    return 0;
}

/* r[0..n) were decoded from buf[0..len): check them, their texts and their header. */
static void check_decoded(const unsigned char *buf, size_t len, const struct joi_reading *r,
                          size_t n)
{
    if (n < 1 || n > JOI_CHUNK_MAX)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (r[i].time < 0 || r[i].time > JOI_TIME_MAX || (i > 0 && r[i].time <= r[i - 1].time))
            abort();
        if (!isfinite(r[i].kw) || r[i].kw < 0 || r[i].kw > JOI_READING_MAX || signbit(r[i].kw))
            abort();
    }
    struct joi_error err;
    struct each_check c = {r, n, 0};
    if (joi_chunk_each(buf, len, each_matches, &c, &err) != 0 || c.calls != n)
        abort();
    struct joi_chunk_info info;
    if (joi_chunk_peek(buf, len, &info, &err) != 0 || info.count != n || info.first != r[0].time ||
        info.last != r[n - 1].time)
        abort();
}

/* Encodes r[0..n) and checks that the chunk decodes to exactly them. */
static void check_round_trip(const struct joi_reading *r, size_t n)
{
    struct joi_buf b;
    struct joi_error err;
    joi_buf_init(&b);
    if (joi_chunk_encode(r, n, &b, &err) != 0)
        abort();
    struct joi_readings out;
    joi_readings_init(&out);
    if (joi_chunk_decode((const unsigned char *)b.data, b.len, &out, &err) != 0 || out.n != n)
        abort();
    for (size_t i = 0; i < n; i++) {
        double want = r[i].kw == 0 ? 0.0 : r[i].kw;
        if (out.items[i].time != r[i].time || memcmp(&out.items[i].kw, &want, sizeof want) != 0)
            abort();
    }
    check_decoded((const unsigned char *)b.data, b.len, out.items, out.n);
    joi_readings_free(&out);
    joi_buf_free(&b);
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* A reading's value from 8 bytes: a double's bits brought into range, or a decimal
 * of 1..17 digits. */
static double value_of(uint64_t bits)
{
    double v;
    if (bits >> 63) {
        uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
        int exp = (int)((bits >> 52) & 0x7ff) % 1095 - 1075; /* 2^-1075 .. 2^19 */
        v = ldexp((double)(m | (UINT64_C(1) << 52)) / 4503599627370496.0, exp);
        if ((bits >> 62) & 1)
            v = ldexp((double)m, -1074); /* subnormal or small */
    } else {
        static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
        uint64_t m = bits % 100000000000000000u; /* up to 17 digits */
        int e = (int)((bits >> 57) % 10);
        v = (double)m / p10[e] / 1e10; /* 17-digit mantissas round: still a double */
        if ((bits >> 56) & 1)
            v = (double)(m % 10000000) / p10[e];
    }
    if (!(v >= 0) || v > JOI_READING_MAX)
        v = fmod(fabs(v), 1000000.0);
    if (!isfinite(v))
        v = 0;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1. The bytes as a chunk. */
    struct joi_readings out;
    struct joi_error err;
    joi_readings_init(&out);
    joi_error_clear(&err);
    if (joi_chunk_decode(data, size, &out, &err) == 0) {
        check_decoded(data, size, out.items, out.n);
        check_round_trip(out.items, out.n);
    } else {
        if (err.status != 500 || strncmp(err.detail, "damaged chunk: ", 15) != 0 || out.n != 0)
            abort();
        /* each refuses it too, having handed over only valid readings before */
        int64_t prev = -1;
        struct joi_error e2;
        if (joi_chunk_each(data, size, each_valid, &prev, &e2) != -1 || e2.status != 500)
            abort();
    }
    joi_readings_free(&out);

    /* 2. The bytes as readings. */
    size_t n = size / 9;
    if (n == 0)
        return 0;
    if (n > 300)
        n = 300; /* several blocks of 64: more only slows the fuzzer down */
    struct joi_reading *r = malloc(n * sizeof *r);
    int64_t t = (int64_t)(load64(data + 1) % (uint64_t)(JOI_TIME_MAX + 1)), step = 60;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = data + 9 * i;
        if (i > 0) {
            switch (p[0] & 3) {
            case 0:
                break; /* the same step */
            case 1:
                step = 1 + (p[0] >> 2);
                break;
            case 2:
                step = 1 + (int64_t)(load64(p + 1) % 100000000u);
                break;
            default:
                step = 60 + (p[0] >> 2) - 32 > 0 ? 60 + (p[0] >> 2) - 32 : 1;
                break;
            }
            if (step > JOI_TIME_MAX - t)
                break;
            t += step;
        }
        r[k].time = t;
        r[k].kw = value_of(load64(p + 1));
        k++;
    }
    check_round_trip(r, k);
    free(r);
    return 0;
}
