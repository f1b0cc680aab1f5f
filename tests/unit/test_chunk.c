/*
 * test_chunk.c -- the chunk codec (joi/chunk.h): literal bytes, edge values, random
 * round trips, refused input and damaged chunks.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/chunk.h"
#include "joi/num.h"
#include "joi/timeparse.h"
#include "suites.h"

static uint64_t rng_state;

static uint64_t rng(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static int64_t rng_range(int64_t lo, int64_t hi) /* lo..hi inclusive */
{
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

/* Encodes r[0..n), expecting success; the caller frees the buffer. */
static struct joi_buf encode_ok(const struct joi_reading *r, size_t n)
{
    struct joi_buf b;
    struct joi_error err;
    joi_buf_init(&b);
    joi_error_clear(&err);
    int rc = joi_chunk_encode(r, n, &b, &err);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc != 0)
        fprintf(stderr, "encode: %s\n", err.detail);
    return b;
}

struct texts {
    struct joi_buf all; /* "time text\n" per reading */
    size_t calls;
    size_t stop_after; /* 0: never stop */
};

static int collect(void *arg, int64_t time, const char *text, size_t len)
{
    struct texts *t = arg;
    CU_ASSERT_EQUAL(strlen(text), len);
    joi_buf_printf(&t->all, "%lld %.*s\n", (long long)time, (int)len, text);
    t->calls++;
    return t->stop_after != 0 && t->calls == t->stop_after;
}

/* Checks that buf[0..len) decodes to exactly r[0..n) (times, and doubles bit for
 * bit), that joi_chunk_each gives each reading's joi_num_format text, and that the
 * header says the count and the times. */
static void check_decodes_to(const unsigned char *buf, size_t len, const struct joi_reading *r,
                             size_t n)
{
    struct joi_readings out;
    struct joi_error err;
    joi_readings_init(&out);
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(joi_chunk_decode(buf, len, &out, &err), 0);
    CU_ASSERT_EQUAL_FATAL(out.n, n);
    size_t wrong = 0;
    for (size_t i = 0; i < n; i++) {
        double want = r[i].kw == 0 ? 0.0 : r[i].kw; /* -0 is kept as 0 */
        wrong +=
            out.items[i].time != r[i].time || memcmp(&out.items[i].kw, &want, sizeof want) != 0;
    }
    CU_ASSERT_EQUAL(wrong, 0);

    struct texts t = {{NULL, 0, 0}, 0, 0};
    struct joi_buf want;
    joi_buf_init(&want);
    for (size_t i = 0; i < n; i++) {
        char text[JOI_NUM_MAX];
        joi_num_format(r[i].kw, text);
        joi_buf_printf(&want, "%lld %s\n", (long long)r[i].time, text);
    }
    CU_ASSERT_EQUAL(joi_chunk_each(buf, len, collect, &t, &err), 0);
    CU_ASSERT_EQUAL(t.calls, n);
    CU_ASSERT_EQUAL(t.all.len, want.len);
    CU_ASSERT(t.all.len == want.len && memcmp(t.all.data, want.data, want.len) == 0);

    struct joi_chunk_info info;
    CU_ASSERT_EQUAL(joi_chunk_peek(buf, len, &info, &err), 0);
    CU_ASSERT_EQUAL(info.count, n);
    CU_ASSERT_EQUAL(info.first, r[0].time);
    CU_ASSERT_EQUAL(info.last, r[n - 1].time);
    joi_buf_free(&t.all);
    joi_buf_free(&want);
    joi_readings_free(&out);
}

static void check_round_trip(const struct joi_reading *r, size_t n)
{
    struct joi_buf b = encode_ok(r, n);
    if (b.len > 0)
        check_decodes_to((const unsigned char *)b.data, b.len, r, n);
    joi_buf_free(&b);
}

/* Expects decoding to fail as a damaged chunk, leaving out as it was. */
static void check_refused(const unsigned char *buf, size_t len)
{
    struct joi_readings out;
    struct joi_error err;
    joi_readings_init(&out);
    joi_readings_push(&out, 7, 0.5);
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(joi_chunk_decode(buf, len, &out, &err), -1);
    CU_ASSERT_EQUAL(err.status, 500);
    CU_ASSERT_EQUAL(strncmp(err.detail, "damaged chunk: ", 15), 0);
    CU_ASSERT_EQUAL(out.n, 1);
    CU_ASSERT_EQUAL(out.items[0].time, 7);
    struct texts t = {{NULL, 0, 0}, 0, 0};
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(joi_chunk_each(buf, len, collect, &t, &err), -1);
    CU_ASSERT_EQUAL(err.status, 500);
    joi_buf_free(&t.all);
    joi_readings_free(&out);
}

/* ------------------------------------------------------------------------ */
/* Literal bytes                                                            */
/* ------------------------------------------------------------------------ */

static void check_bytes(const struct joi_reading *r, size_t n, const unsigned char *want,
                        size_t len)
{
    struct joi_buf b = encode_ok(r, n);
    CU_ASSERT_EQUAL(b.len, len);
    for (size_t i = 0; i < len && i < b.len; i++) {
        if ((unsigned char)b.data[i] != want[i]) {
            fprintf(stderr, "byte %zu: 0x%02x, want 0x%02x\n", i, (unsigned char)b.data[i],
                    want[i]);
            CU_FAIL("a byte differs from the format");
        }
    }
    check_decodes_to(want, len, r, n);
    joi_buf_free(&b);
}

static void test_golden_three_readings(void)
{
    const struct joi_reading r[] = {{1704067200, 0.0503}, {1704067260, 0.0621}, {1704067380, 1}};
    /* Decimals 503e-4, 621e-4, 1e0; the chunk's exponent -4: scaled 503, 621, 10000,
     * value codes zigzag(503 - 0) = 1006, zigzag(621 - 503) = 236,
     * zigzag(10000 - 621) = 18758.  Differences 60, 120: the step is their median,
     * 120 (of two, the upper); time codes zigzag(60 - 120) = 119, zigzag(0) = 0. */
    const unsigned char want[] = {0x01,                         /* version 1 */
                                  0x03,                         /* 3 readings */
                                  0x80, 0x81, 0xc8, 0xac, 0x06, /* first time 1704067200 (LEB128) */
                                  0xb4, 0x01,                   /* span 180 */
                                  0x78,                         /* step 120 */
                                  0x07,                         /* zigzag(-4) */
                                  /* One block, bits:
                                   *   000101 kt = 5                 001100 kv = 12
                                   *   reading 0: value 1 001111101110            (q 0, 1006)
                                   *   reading 1: time 0001 10111 (q 3, 119 & 31 = 23); value 1
                                   * 000011101100 (236) reading 2: time 1 00000 (0);  value 00001
                                   * 100101000110 (q 4, 18758 & 4095) 00 padding */
                                  0x14, 0xc9, 0xf7, 0x0d, 0xe1, 0xd9, 0x00, 0x65, 0x18};
    check_bytes(r, 3, want, sizeof want);
}

static void test_golden_single_zero(void)
{
    const struct joi_reading r[] = {{0, 0}};
    /* version, 1 reading, time 0, span 0, step 0, exponent 0; one block whose
     * parameters are both 63 (all codes 0, none written): 111111 111111 0000 */
    const unsigned char want[] = {0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_bytes(r, 1, want, sizeof want);
}

static void test_golden_raw_escape(void)
{
    const struct joi_reading r[] = {{10, 0.1}, {20, 5e-324}};
    /* Decimals 1e-1 and 5e-324: no exponent scales both below 10^18; the encoder
     * takes -324 (both cost the same), so 0.1 is a raw escape and 5e-324 scales to 5. */
    const unsigned char want[] = {0x01, 0x02, 0x0a, 0x0a,
                                  0x0a,       /* version, 2 readings, first 10, span 10, step 10 */
                                  0x87, 0x05, /* zigzag(-324) = 647 */
                                  /* 111111 kt = 63 (regular times)      000010 kv = 2
                                   * reading 0: 000000 escape, 1 raw, 000000 m's length 1 (m = 1),
                                   *            101010011 e + 340 = 339
                                   * reading 1: 001 10  (q 2, zigzag(5) = 10)
                                   * 0 padding */
                                  0xfc, 0x20, 0x20, 0x54, 0xcc};
    check_bytes(r, 2, want, sizeof want);
}

/* ------------------------------------------------------------------------ */
/* Edge values and round trips                                              */
/* ------------------------------------------------------------------------ */

static const double edge_values[] = {0,
                                     1000000,
                                     999999.99999999988, /* the double below 1000000 */
                                     0.30000000000000004,
                                     123456.78901234567,
                                     0.1,
                                     0.0001,
                                     0.00001,
                                     1e-7,
                                     5e-324, /* the smallest positive double */
                                     1e-323,
                                     2.2250738585072009e-308, /* the largest subnormal */
                                     2.2250738585072014e-308, /* the smallest normal */
                                     1.7976931348623157e-300,
                                     0.3333333333333333,
                                     1,
                                     12345.678,
                                     9007.199254740991,
                                     4.9406564584124654e-300};
#define NEDGE (sizeof edge_values / sizeof edge_values[0])

static void test_edge_values_one_by_one(void)
{
    for (size_t i = 0; i < NEDGE; i++) {
        struct joi_reading r = {1704067200, edge_values[i]};
        check_round_trip(&r, 1);
    }
}

static void test_edge_values_together(void)
{
    struct joi_reading r[NEDGE + 2];
    r[0].time = 0;
    r[0].kw = 0.5;
    for (size_t i = 0; i < NEDGE; i++) {
        r[i + 1].time = (int64_t)(i + 1) * 977;
        r[i + 1].kw = edge_values[i];
    }
    r[NEDGE + 1].time = JOI_TIME_MAX;
    r[NEDGE + 1].kw = 0.0503;
    check_round_trip(r, NEDGE + 2);
    /* and in the other order of values */
    for (size_t i = 0; i < NEDGE; i++)
        r[i + 1].kw = edge_values[NEDGE - 1 - i];
    check_round_trip(r, NEDGE + 2);
}

static void test_extreme_times(void)
{
    struct joi_reading r[] = {{0, 1}, {JOI_TIME_MAX, 2}};
    check_round_trip(r, 2);
    struct joi_reading one = {JOI_TIME_MAX, 1000000};
    check_round_trip(&one, 1);
    struct joi_reading last[] = {{JOI_TIME_MAX - 2, 0}, {JOI_TIME_MAX - 1, 0}, {JOI_TIME_MAX, 0}};
    check_round_trip(last, 3);
}

static void test_negative_zero_is_zero(void)
{
    struct joi_reading r[] = {{5, -0.0}, {6, 1}};
    struct joi_buf b = encode_ok(r, 2);
    struct joi_readings out;
    struct joi_error err;
    joi_readings_init(&out);
    CU_ASSERT_EQUAL(joi_chunk_decode((const unsigned char *)b.data, b.len, &out, &err), 0);
    CU_ASSERT_EQUAL(out.n, 2);
    CU_ASSERT(out.items[0].kw == 0 && !signbit(out.items[0].kw));
    joi_readings_free(&out);
    joi_buf_free(&b);
}

/* A random reading value: every shape a client can send, taken through its shortest
 * text and back as the service does. */
static double random_value(void)
{
    double v;
    switch (rng() % 7) {
    case 0: /* a household reading: 0..9999999 units of 0.1 W */
        v = (double)rng_range(0, 99999) / 1e4;
        break;
    case 1: /* a decimal of 0..9 decimals */
        v = (double)rng_range(0, 1000000000) / pow(10, (double)rng_range(0, 9));
        break;
    case 2: { /* any double in range: random bits, random exponent */
        v = ldexp((double)(rng() >> 11), (int)rng_range(-1126, -33));
        break;
    }
    case 3: { /* 1 to 17 significant digits, any magnitude up to 1000000 */
        char text[40];
        double x = (double)(rng() >> 11) / 9007199254740992.0 * pow(10, (double)rng_range(-12, 6));
        snprintf(text, sizeof text, "%.*g", (int)rng_range(1, 17), x);
        v = strtod(text, NULL);
        break;
    }
    case 4: /* subnormal */
        v = ldexp((double)(rng() >> (12 + rng() % 52)), -1074);
        break;
    case 5: /* next to the bounds */
        v = rng() % 2 ? nextafter(1000000, 0) - (double)(rng() % 4) * 1e-9
                      : ldexp(1, -1074) * (double)(rng() % 5);
        break;
    default: /* integers */
        v = (double)rng_range(0, 1000000);
        break;
    }
    if (!(v >= 0) || v > JOI_READING_MAX)
        v = 0;
    char text[JOI_NUM_MAX];
    size_t n = joi_num_format(v, text);
    double back;
    CU_ASSERT_EQUAL(joi_num_parse(text, n, &back), 0);
    CU_ASSERT(memcmp(&back, &v, sizeof v) == 0);
    return back;
}

/* n ascending random times in range: regular with gaps, random steps, or huge. */
static void random_times(struct joi_reading *r, size_t n)
{
    int mode = (int)(rng() % 4);
    int64_t step = mode == 0 ? 60 : rng_range(1, 1000);
    int64_t span_max = mode == 3 ? JOI_TIME_MAX : (int64_t)n * 3600;
    int64_t t = rng_range(0, JOI_TIME_MAX - span_max);
    for (size_t i = 0; i < n; i++) {
        r[i].time = t;
        int64_t d;
        switch (mode) {
        case 0:
            d = rng() % 20 == 0 ? rng_range(1, 7200) : step;
            break;
        case 1:
            d = step + (rng() % 4 == 0 ? rng_range(-step + 1, step) : 0);
            break;
        case 2:
            d = rng_range(1, 1000);
            break;
        default:
            d = rng_range(1, (JOI_TIME_MAX - t) / (int64_t)(n - i + 1) + 1);
            break;
        }
        t += d;
    }
}

static void test_random_round_trips(void)
{
    rng_state = 20240101;
    struct joi_reading *r = malloc(2000 * sizeof *r);
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = (size_t)(trial % 20 == 0 ? rng_range(1, 2000) : rng_range(1, 100));
        random_times(r, n);
        int shape = (int)(rng() % 3);
        double level = random_value();
        for (size_t i = 0; i < n; i++) {
            if (shape == 0) /* every value its own */
                r[i].kw = random_value();
            else if (shape == 1) /* mostly household, one odd value now and then */
                r[i].kw = rng() % 50 ? (double)rng_range(2000, 30000) / 1e4 : random_value();
            else /* long runs of one value */
                r[i].kw = rng() % 30 ? level : (level = random_value());
        }
        check_round_trip(r, n);
        if (CU_get_number_of_failures() > 0)
            break;
    }
    free(r);
}

static void test_most_readings(void)
{
    /* A day of readings every second, the most a chunk holds. */
    struct joi_reading *r = malloc((JOI_CHUNK_MAX + 1) * sizeof *r);
    for (size_t i = 0; i <= JOI_CHUNK_MAX; i++) {
        r[i].time = 1704067200 + (int64_t)i;
        r[i].kw = (double)(300 + (int)(i % 97)) / 1000;
    }
    check_round_trip(r, JOI_CHUNK_MAX);
    struct joi_buf b;
    struct joi_error err;
    joi_buf_init(&b);
    CU_ASSERT_EQUAL(joi_chunk_encode(r, JOI_CHUNK_MAX + 1, &b, &err), -1);
    CU_ASSERT_EQUAL(err.status, 500);
    CU_ASSERT_EQUAL(b.len, 0);
    joi_buf_free(&b);
    free(r);
}

static void test_rare_odd_value_keeps_the_chunk_small(void)
{
    /* 1440 minute readings of 4 decimals, and once 0.1 + 0.2: the chunk keeps the
     * exponent -4 and writes the odd one as a raw escape, rather than scaling every
     * reading by 10^13. */
    struct joi_reading r[1440];
    rng_state = 7;
    for (size_t i = 0; i < 1440; i++) {
        r[i].time = 1704067200 + (int64_t)i * 60;
        r[i].kw = (double)rng_range(2000, 2400) / 1e4;
    }
    struct joi_buf plain = encode_ok(r, 1440);
    r[700].kw = 0.1 + 0.2;
    struct joi_buf odd = encode_ok(r, 1440);
    CU_ASSERT(odd.len < plain.len + 16);
    /* version, count (2 bytes), first (5), span (3), step (1), then the exponent */
    CU_ASSERT_EQUAL((unsigned char)odd.data[12], 0x07); /* zigzag(-4) */
    check_decodes_to((const unsigned char *)odd.data, odd.len, r, 1440);
    joi_buf_free(&plain);
    joi_buf_free(&odd);
}

static void test_appends_to_what_is_there(void)
{
    struct joi_reading a[] = {{100, 1.5}, {160, 2.5}};
    struct joi_buf b;
    struct joi_error err;
    joi_buf_init(&b);
    joi_buf_append(&b, "xy", 2);
    CU_ASSERT_EQUAL(joi_chunk_encode(a, 2, &b, &err), 0);
    CU_ASSERT_EQUAL(memcmp(b.data, "xy", 2), 0);
    struct joi_readings out;
    joi_readings_init(&out);
    joi_readings_push(&out, 1, 9);
    CU_ASSERT_EQUAL(joi_chunk_decode((const unsigned char *)b.data + 2, b.len - 2, &out, &err), 0);
    CU_ASSERT_EQUAL(out.n, 3);
    CU_ASSERT_EQUAL(out.items[0].time, 1);
    CU_ASSERT_EQUAL(out.items[1].time, 100);
    CU_ASSERT(out.items[2].kw == 2.5);
    joi_readings_free(&out);
    joi_buf_free(&b);
}

static void test_each_stops_when_asked(void)
{
    struct joi_reading r[] = {{1, 0.5}, {2, 0.25}, {3, 0.125}, {4, 1}};
    struct joi_buf b = encode_ok(r, 4);
    struct texts t = {{NULL, 0, 0}, 0, 2};
    struct joi_error err;
    CU_ASSERT_EQUAL(joi_chunk_each((const unsigned char *)b.data, b.len, collect, &t, &err), 1);
    CU_ASSERT_EQUAL(t.calls, 2);
    CU_ASSERT_STRING_EQUAL(t.all.data, "1 0.5\n2 0.25\n");
    joi_buf_free(&t.all);
    joi_buf_free(&b);
}

/* ------------------------------------------------------------------------ */
/* Refused readings                                                         */
/* ------------------------------------------------------------------------ */

static void check_encode_refused(const struct joi_reading *r, size_t n, const char *detail)
{
    struct joi_buf b;
    struct joi_error err;
    joi_buf_init(&b);
    joi_buf_append(&b, "kept", 4);
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(joi_chunk_encode(r, n, &b, &err), -1);
    CU_ASSERT_EQUAL(err.status, 500);
    CU_ASSERT_STRING_EQUAL(err.detail, detail);
    CU_ASSERT_EQUAL(b.len, 4);
    CU_ASSERT_STRING_EQUAL(b.data, "kept");
    joi_buf_free(&b);
}

static void test_encode_refuses(void)
{
    struct joi_reading dup[] = {{10, 1}, {20, 2}, {20, 3}};
    check_encode_refused(dup, 3, "chunk: reading 2 is not later than the one before it");
    struct joi_reading down[] = {{10, 1}, {9, 2}};
    check_encode_refused(down, 2, "chunk: reading 1 is not later than the one before it");
    check_encode_refused(dup, 0, "a chunk holds 1 to 86400 readings, not 0");
    struct joi_reading t1[] = {{-1, 1}};
    check_encode_refused(t1, 1, "chunk: reading 0 has a time out of range");
    struct joi_reading t2[] = {{0, 1}, {JOI_TIME_MAX + 1, 1}};
    check_encode_refused(t2, 2, "chunk: reading 1 has a time out of range");
    struct joi_reading v[] = {{1, 1}, {2, NAN}};
    check_encode_refused(v, 2, "chunk: reading 1 has a value out of range");
    v[1].kw = INFINITY;
    check_encode_refused(v, 2, "chunk: reading 1 has a value out of range");
    v[1].kw = -1e-300;
    check_encode_refused(v, 2, "chunk: reading 1 has a value out of range");
    v[1].kw = nextafter(1000000, 2000000);
    check_encode_refused(v, 2, "chunk: reading 1 has a value out of range");
}

/* ------------------------------------------------------------------------ */
/* Damaged chunks                                                           */
/* ------------------------------------------------------------------------ */

/* Writes bits most significant first, for chunks made by hand. */
struct bits {
    unsigned char b[512];
    size_t n; /* bits written */
};

static void put(struct bits *w, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        if ((v >> i) & 1)
            w->b[w->n / 8] |= (unsigned char)(0x80 >> (w->n % 8));
        w->n++;
    }
}

static void put_varint(struct bits *w, uint64_t v)
{
    while (v >= 0x80) {
        put(w, (v & 0x7f) | 0x80, 8);
        v >>= 7;
    }
    put(w, v, 8);
}

/* A header for n readings from `first` over `span` with `step` and exponent exp. */
static void put_header(struct bits *w, uint64_t n, uint64_t first, uint64_t span, uint64_t step,
                       int exp)
{
    memset(w, 0, sizeof *w);
    put(w, 1, 8);
    put_varint(w, n);
    put_varint(w, first);
    put_varint(w, span);
    put_varint(w, step);
    put_varint(w, exp < 0 ? (uint64_t)(-2 * exp - 1) : (uint64_t)(2 * exp));
}

/* One reading whose value is a raw escape (m, exponent field) with parameter kv 0. */
static void put_raw_field(struct bits *w, uint64_t m, unsigned field)
{
    put_header(w, 1, 100, 0, 0, 0);
    put(w, 63, 6);
    put(w, 0, 6);
    put(w, 0, 6); /* escape */
    put(w, 1, 1); /* raw */
    int b = 64 - __builtin_clzll(m);
    put(w, (uint64_t)(b - 1), 6);
    put(w, m, b - 1);
    put(w, field, 9);
}

static void put_raw_one(struct bits *w, uint64_t m, int e)
{
    put_raw_field(w, m, (unsigned)(e + 340));
}

/* One reading whose value is scaled u (an escape's long form) at exponent exp. */
static void put_scaled_one(struct bits *w, uint64_t u, int exp)
{
    put_header(w, 1, 100, 0, 0, exp);
    put(w, 63, 6);
    put(w, 0, 6);
    put(w, 0, 6); /* escape */
    put(w, 0, 1); /* long */
    int b = 64 - __builtin_clzll(u);
    put(w, (uint64_t)(b - 1), 6);
    put(w, u, b - 1);
}

static size_t bytes(const struct bits *w)
{
    return (w->n + 7) / 8;
}

static void test_hand_made_chunks(void)
{
    struct bits w;
    /* The hand-made form is right: a raw 1 reads as 1, (1, 6) as 1000000, 5e-324. */
    struct joi_reading one = {100, 1};
    put_raw_one(&w, 1, 0);
    check_decodes_to(w.b, bytes(&w), &one, 1);
    one.kw = 1000000;
    put_raw_one(&w, 1, 6);
    check_decodes_to(w.b, bytes(&w), &one, 1);
    one.kw = 5e-324;
    put_raw_one(&w, 5, -324);
    check_decodes_to(w.b, bytes(&w), &one, 1);
    one.kw = 0.5;
    put_scaled_one(&w, 10, 0 - 1); /* zigzag(5) at 10^-1 */
    check_decodes_to(w.b, bytes(&w), &one, 1);

    /* Values not in the service's form, or out of range. */
    put_raw_one(&w, 50, -4); /* a trailing zero */
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 10000000000000001u, -17); /* 0.10000000000000001: 0.1 is shorter */
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 10000000000000001u, -16); /* reads as 1 */
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 1000001, 0); /* above 1000000 */
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 1, 7);
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 10000000000000001u, -10); /* 1000000.0000000001 */
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 2, -324); /* reads as 0 */
    check_refused(w.b, bytes(&w));
    put_raw_one(&w, 123456789012345678u, -20); /* 18 digits */
    check_refused(w.b, bytes(&w));
    put_raw_field(&w, 3, 347); /* exponent 7 */
    check_refused(w.b, bytes(&w));
    put_raw_field(&w, 3, 511);
    check_refused(w.b, bytes(&w));
    put_scaled_one(&w, 2000000000000000000u, 0 - 4); /* scaled 10^18 */
    check_refused(w.b, bytes(&w));
    put_scaled_one(&w, 1, -4); /* scaled -1 */
    check_refused(w.b, bytes(&w));
    put_scaled_one(&w, 246913578024691356u, -20); /* scaled 123456789012345678 */
    check_refused(w.b, bytes(&w));

    /* Times. */
    put_header(&w, 2, 100, 0, 0, 0); /* step 0, regular: not ascending */
    put(&w, 63, 6);
    put(&w, 63, 6);
    check_refused(w.b, bytes(&w));
    put_header(&w, 2, 100, 60, 60, 0); /* the same with step 60 is fine */
    put(&w, 63, 6);
    put(&w, 63, 6);
    struct joi_reading two[] = {{100, 0}, {160, 0}};
    check_decodes_to(w.b, bytes(&w), two, 2);
    put_header(&w, 2, 100, 61, 60, 0); /* the span says 161 */
    put(&w, 63, 6);
    put(&w, 63, 6);
    check_refused(w.b, bytes(&w));
    put_header(&w, 2, (uint64_t)JOI_TIME_MAX - 10, 10, 60, 0); /* past the last time */
    put(&w, 63, 6);
    put(&w, 63, 6);
    check_refused(w.b, bytes(&w));
    put_header(&w, 2, 100, 1, 60, 0); /* a time code of -60: diff 0 */
    put(&w, 0, 6);
    put(&w, 63, 6);
    put(&w, 0, 6); /* escape, u = 119 = zigzag(-60) */
    put(&w, 6, 6);
    put(&w, 119, 6);
    check_refused(w.b, bytes(&w));
    put_header(&w, 2, 100, 1, 60, 0); /* the same with zigzag(-59) is fine */
    put(&w, 0, 6);
    put(&w, 63, 6);
    put(&w, 0, 6);
    put(&w, 6, 6);
    put(&w, 117, 6);
    struct joi_reading close[] = {{100, 0}, {101, 0}};
    check_decodes_to(w.b, bytes(&w), close, 2);
    put_header(&w, 2, 100, 1, 60, 0); /* an escape of 64 bits: a huge negative diff */
    put(&w, 0, 6);
    put(&w, 63, 6);
    put(&w, 0, 6);
    put(&w, 63, 6);
    put(&w, ~UINT64_C(0), 63);
    check_refused(w.b, bytes(&w));

    /* Headers. */
    const unsigned char empty[] = {0};
    check_refused(empty, 0);
    const unsigned char v2[] = {0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_refused(v2, sizeof v2);
    const unsigned char v0[] = {0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_refused(v0, sizeof v0);
    const unsigned char none[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_refused(none, sizeof none);
    const unsigned char overlong[] = {0x01, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_refused(overlong, sizeof overlong);
    const unsigned char huge[] = {0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_refused(huge, sizeof huge);
    const unsigned char eleven[] = {0x01, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                    0x80, 0x80, 0x80, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0};
    check_refused(eleven, sizeof eleven);
    const unsigned char spanned[] = {0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xf0};
    check_refused(spanned, sizeof spanned); /* one reading, span 1 */
    const unsigned char exp7[] = {0x01, 0x01, 0x00, 0x00, 0x00, 0x0e, 0xff, 0xf0};
    check_refused(exp7, sizeof exp7); /* exponent 7 */
    const unsigned char trailing[] = {0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf0, 0x00};
    check_refused(trailing, sizeof trailing);
    const unsigned char padding[] = {0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xf1};
    check_refused(padding, sizeof padding);
    /* 86400 readings claimed by a few bytes: refused before anything is allocated */
    put_header(&w, JOI_CHUNK_MAX, 0, JOI_CHUNK_MAX - 1, 1, 0);
    put(&w, 0xfff, 12);
    check_refused(w.b, bytes(&w));
    /* 86401 readings of regular zeros: 1351 blocks of 63, 63 */
    struct joi_buf big;
    joi_buf_init(&big);
    put_header(&w, JOI_CHUNK_MAX + 1, 0, JOI_CHUNK_MAX, 1, 0);
    joi_buf_append(&big, w.b, bytes(&w));
    for (size_t i = 0; i < (JOI_CHUNK_MAX + 1 + 63) / 64; i++)
        joi_buf_append(&big, i % 2 ? "\xff" : "\xff\xff", i % 2 ? 1 : 2);
    check_refused((const unsigned char *)big.data, big.len);
    joi_buf_free(&big);
}

/* Every truncation of a chunk is refused; every change of one byte (to each of the
 * 255 other values, or when !every_value to each single-bit flip) is refused or
 * decodes to readings the service could have stored (which then encode and decode to
 * themselves). */
static void check_damage(const struct joi_reading *r, size_t n, int every_value)
{
    struct joi_buf b = encode_ok(r, n);
    unsigned char *copy = malloc(b.len);
    for (size_t len = 0; len < b.len; len++) {
        memcpy(copy, b.data, len); /* a buffer of exactly len bytes, for ASan */
        check_refused(copy, len);
    }
    memcpy(copy, b.data, b.len);
    size_t accepted = 0, refused = 0;
    struct joi_readings out;
    joi_readings_init(&out);
    for (size_t i = 0; i < b.len; i++) {
        for (int k = 0; k < (every_value ? 256 : 8); k++) {
            int v = every_value ? k : (unsigned char)b.data[i] ^ (1 << k);
            if (v == (unsigned char)b.data[i])
                continue;
            copy[i] = (unsigned char)v;
            struct joi_error err;
            out.n = 0;
            if (joi_chunk_decode(copy, b.len, &out, &err) != 0) {
                refused++;
                CU_ASSERT_EQUAL(err.status, 500);
                continue;
            }
            accepted++;
            int ok = out.n >= 1 && out.n <= JOI_CHUNK_MAX;
            for (size_t k = 0; k < out.n; k++) {
                const struct joi_reading *x = &out.items[k];
                ok &= x->time >= 0 && x->time <= JOI_TIME_MAX &&
                      (k == 0 || x->time > out.items[k - 1].time) && isfinite(x->kw) &&
                      x->kw >= 0 && x->kw <= JOI_READING_MAX;
            }
            CU_ASSERT(ok);
            if (ok) {
                /* its texts are joi_num_format's, and it encodes and decodes to itself */
                check_decodes_to(copy, b.len, out.items, out.n);
                struct joi_buf again = encode_ok(out.items, out.n);
                check_decodes_to((const unsigned char *)again.data, again.len, out.items, out.n);
                joi_buf_free(&again);
            }
        }
        copy[i] = (unsigned char)b.data[i];
    }
    CU_ASSERT(refused > 0);
    joi_readings_free(&out);
    free(copy);
    joi_buf_free(&b);
}

static void test_damaged_chunks(void)
{
    const struct joi_reading small[] = {
        {1704067200, 0.0503}, {1704067260, 0.0621}, {1704067380, 1}};
    check_damage(small, 3, 1);
    struct joi_reading edge[NEDGE];
    for (size_t i = 0; i < NEDGE; i++) {
        edge[i].time = 1000 + (int64_t)i * 61;
        edge[i].kw = edge_values[i];
    }
    check_damage(edge, NEDGE, 0);
    struct joi_reading day[200];
    rng_state = 99;
    for (size_t i = 0; i < 40; i++) {
        day[i].time = 1704067200 + (int64_t)i * 60;
        day[i].kw = (double)rng_range(2000, 2600) / 1e4;
    }
    check_damage(day, 40, 1);
    for (size_t i = 0; i < 200; i++) {
        day[i].time = 1704067200 + (int64_t)i * 60 + (i > 100 ? 3600 : 0);
        day[i].kw = i % 40 == 7 ? 2.5 : (double)rng_range(2000, 2600) / 1e4;
    }
    check_damage(day, 200, 0);
}

void add_chunk_suite(void)
{
    static const struct test_case tests[] = {
        {"golden bytes: three readings", test_golden_three_readings},
        {"golden bytes: a single zero", test_golden_single_zero},
        {"golden bytes: a raw escape", test_golden_raw_escape},
        {"edge values one by one", test_edge_values_one_by_one},
        {"edge values in one chunk", test_edge_values_together},
        {"times 0 and 253402300799", test_extreme_times},
        {"-0 is kept as 0", test_negative_zero_is_zero},
        {"random round trips", test_random_round_trips},
        {"86400 readings, and no more", test_most_readings},
        {"a rare odd value is a raw escape", test_rare_odd_value_keeps_the_chunk_small},
        {"encode and decode append", test_appends_to_what_is_there},
        {"each stops when the callback asks", test_each_stops_when_asked},
        {"encode refuses what the service never stores", test_encode_refuses},
        {"hand-made chunks: values, times, headers", test_hand_made_chunks},
        {"every truncation and every byte changed", test_damaged_chunks},
        {NULL, NULL},
    };
    test_add_suite("chunk", tests);
}
