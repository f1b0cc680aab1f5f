/*
 * test_layout2.c -- layout 2's bytes (joi/layout.h): the head's header and records,
 * the day record, and the summary of a meter put together from its days
 * (joi_summary_from_days), on literal input.
 */
#include <stdlib.h>
#include <string.h>

#include "joi/chunk.h"
#include "joi/layout.h"
#include "joi/summary.h"
#include "suites.h"

static void test_keys2(void)
{
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, "m", JOI_LAYOUT_HEAD);
    CU_ASSERT_STRING_EQUAL(key, "joi:{m}:h");
    joi_layout_key(key, "m", JOI_LAYOUT_DAYS);
    CU_ASSERT_STRING_EQUAL(key, "joi:{m}:e");
    CU_ASSERT_STRING_EQUAL(JOI_LAYOUT_VERSION_KEY, "joi:{config}:layout");
    CU_ASSERT_EQUAL(joi_layout_day(0), 0);
    CU_ASSERT_EQUAL(joi_layout_day(86399), 0);
    CU_ASSERT_EQUAL(joi_layout_day(86400), 1);
    CU_ASSERT_EQUAL(joi_layout_day(1699920000), 19675);
}

static void test_head_bytes(void)
{
    struct joi_buf b;
    joi_buf_init(&b);
    joi_layout_head_header(&b, 19675);
    joi_layout_head_record(&b, 1699920060, 0.0503);
    joi_layout_head_record(&b, 1699920000, 1000000);
    joi_layout_head_record(&b, 1699920060, 0.25);
    const char want[] = "19675\n1699920060:0.0503\n1699920000:1000000\n1699920060:0.25\n";
    CU_ASSERT_EQUAL(b.len, strlen(want));
    CU_ASSERT_STRING_EQUAL(b.data, want);
    struct joi_error err;
    joi_error_clear(&err);
    int64_t day = -1;
    struct joi_layout_head_entry *e;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(joi_layout_head_parse(b.data, b.len, &day, &e, &n, &err), 0);
    CU_ASSERT_EQUAL(day, 19675);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    /* ascending; of the two records at 1699920060 the last one */
    CU_ASSERT_EQUAL(e[0].time, 1699920000);
    CU_ASSERT_EQUAL(e[0].len, 7);
    CU_ASSERT_EQUAL(memcmp(e[0].text, "1000000", 7), 0);
    CU_ASSERT_EQUAL(e[1].time, 1699920060);
    CU_ASSERT_EQUAL(e[1].len, 4);
    CU_ASSERT_EQUAL(memcmp(e[1].text, "0.25", 4), 0);
    free(e);
    /* In order, as a meter sends (no sort): of equal neighbours the last one. */
    static const char inorder[] = "19675\n1699920000:1\n1699920000:2\n1699920060:3\n";
    CU_ASSERT_EQUAL_FATAL(joi_layout_head_parse(inorder, strlen(inorder), &day, &e, &n, &err), 0);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(e[0].time, 1699920000);
    CU_ASSERT_EQUAL(memcmp(e[0].text, "2", 1), 0);
    CU_ASSERT_EQUAL(e[1].time, 1699920060);
    CU_ASSERT_EQUAL(memcmp(e[1].text, "3", 1), 0);
    free(e);
    /* A header alone: a head without readings. */
    CU_ASSERT_EQUAL(joi_layout_head_parse("0\n", 2, &day, &e, &n, &err), 0);
    CU_ASSERT_EQUAL(day, 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(e);
    joi_buf_free(&b);
}

static void test_head_refused(void)
{
    static const char *bad[] = {
        "",
        "19675",                     /* no newline after the header */
        "x\n",                       /* header not digits */
        "019675\n",                  /* leading zero */
        "19675\n1699920060:0.5",     /* a record without its newline */
        "19675\n1699920060:0.5\n\n", /* an empty record */
        "19675\n1700006400:0.5\n",   /* a time of the next day */
        "19675\n1699919999:0.5\n",   /* a time of the day before */
        "19675\n1699920060:01\n",    /* not a JSON number */
        "19675\n1699920060:1e999\n", /* not finite */
        "19675\n1699920060:0.5\r\n", /* a stray byte */
        "2932897\n",                 /* after the last day a reading can have */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct joi_error err;
        joi_error_clear(&err);
        int64_t day;
        struct joi_layout_head_entry *e = NULL;
        size_t n = 9;
        int rc = joi_layout_head_parse(bad[i], strlen(bad[i]), &day, &e, &n, &err);
        char q[64];
        test_check(rc == -1 && err.status == 500 && e == NULL, __FILE__, __LINE__,
                   "head %s: parse gave %d", test_quote(bad[i], strlen(bad[i]), q, sizeof q), rc);
        CU_ASSERT_STRING_EQUAL(err.detail, "the store holds a malformed reading");
    }
}

/* Day 19675 (starts 1699920000): 0.5 kW at +60 s, 1.5 kW at +120 s, 2 kW at +7320 s. */
static const struct joi_reading day_readings[] = {
    {1699920060, 0.5}, {1699920120, 1.5}, {1699927320, 2}};

static void test_day_bytes(void)
{
    struct joi_summary_day d;
    joi_summary_day_build(day_readings, 3, 19675, &d);
    CU_ASSERT_EQUAL(d.count, 3);
    CU_ASSERT_EQUAL(d.first, 1699920060);
    CU_ASSERT_EQUAL(d.last, 1699927320);
    CU_ASSERT_EQUAL(d.present, 1); /* the short interval in bucket 0 */
    CU_ASSERT_DOUBLE_EQUAL(d.buckets[0], 1.0 / 60, 0);
    CU_ASSERT_EQUAL_FATAL(d.nlong_intervals, 1);
    CU_ASSERT_EQUAL(d.long_intervals[0].t1, 1699920120);
    CU_ASSERT_EQUAL(d.long_intervals[0].t2, 1699927320);
    CU_ASSERT_EQUAL(joi_layout_day_keeps_buckets(&d), 0); /* 8 bytes for 3 readings */
    struct joi_buf b;
    joi_buf_init(&b);
    joi_layout_day_encode(&d, &b);
    static const unsigned char with[] = {
        0x01,                                           /* version */
        0x03,                                           /* count */
        0x3c,                                           /* first: +60 */
        0xdc, 0x38,                                     /* span 7260 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x3f, /* 0.5 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, /* 2 */
        0x01,                                           /* one long interval */
        0x78,                                           /* t1: +120 */
        0xa0, 0x38,                                     /* t2 - t1: 7200 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, /* 1.5 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, /* 2 */
        0x01,                                           /* buckets follow */
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00,             /* bucket 0 only */
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x91, 0x3f, /* 1/60 kWh */
    };
    CU_ASSERT_EQUAL_FATAL(b.len, sizeof with);
    CU_ASSERT_EQUAL(memcmp(b.data, with, sizeof with), 0);
    CU_ASSERT_EQUAL(joi_layout_day_count((const unsigned char *)b.data, b.len), 3);
    struct joi_summary_day back;
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(joi_layout_day_decode(19675, with, sizeof with, &back, &err), 0);
    CU_ASSERT_EQUAL(back.count, 3);
    CU_ASSERT_EQUAL(back.first, 1699920060);
    CU_ASSERT_EQUAL(back.last, 1699927320);
    CU_ASSERT_DOUBLE_EQUAL(back.first_kw, 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(back.last_kw, 2, 0);
    CU_ASSERT_EQUAL(back.has_buckets, 1);
    CU_ASSERT_EQUAL(back.present, 1);
    CU_ASSERT_DOUBLE_EQUAL(back.buckets[0], 1.0 / 60, 0);
    CU_ASSERT_EQUAL_FATAL(back.nlong_intervals, 1);
    CU_ASSERT_EQUAL(back.long_intervals[0].t1, 1699920120);
    CU_ASSERT_EQUAL(back.long_intervals[0].t2, 1699927320);
    CU_ASSERT_DOUBLE_EQUAL(back.long_intervals[0].p1, 1.5, 0);
    joi_summary_day_free(&back);
    /* Without buckets: the same up to the flag, which is 0 and ends the record. */
    d.has_buckets = 0;
    joi_buf_reset(&b);
    joi_layout_day_encode(&d, &b);
    CU_ASSERT_EQUAL_FATAL(b.len, 42);
    CU_ASSERT_EQUAL(memcmp(b.data, with, 41), 0);
    CU_ASSERT_EQUAL((unsigned char)b.data[41], 0);
    CU_ASSERT_EQUAL(joi_layout_day_decode(19675, (const unsigned char *)b.data, b.len, &back, &err),
                    0);
    CU_ASSERT_EQUAL(back.has_buckets, 0);
    CU_ASSERT_EQUAL(back.present, 0);
    joi_summary_day_free(&back);

    /* Every truncation, a byte more, and single-byte damage at the fields. */
    for (size_t len = 0; len < sizeof with; len++) {
        int rc = joi_layout_day_decode(19675, with, len, &back, &err);
        test_check(rc == -1, __FILE__, __LINE__, "record cut to %zu bytes: decode gave %d", len,
                   rc);
    }
    unsigned char longer[sizeof with + 1];
    memcpy(longer, with, sizeof with);
    longer[sizeof with] = 0;
    CU_ASSERT_EQUAL(joi_layout_day_decode(19675, longer, sizeof longer, &back, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.detail, "the store holds a malformed day record");
    static const struct {
        size_t at;
        unsigned char v;
    } damage[] = {
        {0, 0x02},  /* version */
        {1, 0x00},  /* count 0 */
        {2, 0x80},  /* a varint running into the next field */
        {4, 0x2a},  /* span past the day's end */
        {12, 0x7f}, /* first reading a NaN (0x7fe0...) */
        {20, 0xc0}, /* last reading negative */
        {21, 0x03}, /* three long intervals in three readings */
        {24, 0x0d}, /* long interval of 1696 s: not long */
        {41, 0x02}, /* buckets flag */
        {42, 0x03}, /* two buckets present, one double */
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        unsigned char v[sizeof with];
        memcpy(v, with, sizeof with);
        v[damage[i].at] = damage[i].v;
        int rc = joi_layout_day_decode(19675, v, sizeof v, &back, &err);
        test_check(rc == -1, __FILE__, __LINE__, "byte %zu set to %#x: decode gave %d",
                   damage[i].at, damage[i].v, rc);
    }
    CU_ASSERT_EQUAL(joi_layout_day_count(with, 1), -1);
    joi_buf_free(&b);
    joi_summary_day_free(&d);
}

/* The summary put together from days equals the summary of all the readings at once:
 * intervals across midnight (short, split over two buckets of two days; and long). */
static void test_from_days(void)
{
    const int64_t d0 = INT64_C(19675) * 86400;
    struct joi_reading r[] = {
        {d0 + 100, 1},         {d0 + 200, 2},
        {d0 + 86400 - 600, 3},                           /* day 0 */
        {d0 + 86400 + 600, 4}, {d0 + 86400 + 4000, 5},   /* day 1: crossing 1200 s */
        {d0 + 3 * 86400, 6},   {d0 + 3 * 86400 + 60, 7}, /* day 3: crossing long */
    };
    size_t n = sizeof r / sizeof r[0];
    struct joi_summary want;
    joi_summary_build(r, n, &want);
    struct joi_summary_day days[3];
    joi_summary_day_build(r, 3, 19675, &days[0]);
    joi_summary_day_build(r + 3, 2, 19676, &days[1]);
    joi_summary_day_build(r + 5, 2, 19678, &days[2]);
    struct joi_summary got;
    joi_summary_from_days(days, 3, &got);
    CU_ASSERT_EQUAL(got.count, want.count);
    CU_ASSERT_EQUAL(got.first, want.first);
    CU_ASSERT_EQUAL(got.last, want.last);
    CU_ASSERT_EQUAL_FATAL(got.nbuckets, want.nbuckets);
    for (size_t i = 0; i < want.nbuckets; i++) {
        CU_ASSERT_EQUAL(got.buckets[i].index, want.buckets[i].index);
        CU_ASSERT_DOUBLE_EQUAL(got.buckets[i].kwh, want.buckets[i].kwh, 1e-12);
    }
    CU_ASSERT_EQUAL_FATAL(got.nlong_intervals, want.nlong_intervals);
    for (size_t i = 0; i < want.nlong_intervals; i++) {
        CU_ASSERT_EQUAL(got.long_intervals[i].t1, want.long_intervals[i].t1);
        CU_ASSERT_EQUAL(got.long_intervals[i].t2, want.long_intervals[i].t2);
        CU_ASSERT_DOUBLE_EQUAL(got.long_intervals[i].p1, want.long_intervals[i].p1, 0);
        CU_ASSERT_DOUBLE_EQUAL(got.long_intervals[i].p2, want.long_intervals[i].p2, 0);
    }
    /* The crossing interval's pieces: the last bucket of day 0, the first of day 1. */
    CU_ASSERT(want.nbuckets >= 3);
    for (int i = 0; i < 3; i++)
        joi_summary_day_free(&days[i]);
    joi_summary_free(&got);
    joi_summary_free(&want);
    joi_summary_from_days(NULL, 0, &got);
    CU_ASSERT_EQUAL(got.count, 0);
}

/* joi_layout_day_build: the day's chunk and record, as encoded one by one; nothing
 * appended to the record when the chunk is refused. */
static void test_day_build(void)
{
    struct joi_buf chunk, rec, want_chunk, want_rec;
    joi_buf_init(&chunk);
    joi_buf_init(&rec);
    joi_buf_init(&want_chunk);
    joi_buf_init(&want_rec);
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(joi_layout_day_build(day_readings, 3, 19675, &chunk, &rec, &err), 0);
    CU_ASSERT_EQUAL(joi_chunk_encode(day_readings, 3, &want_chunk, &err), 0);
    struct joi_summary_day d;
    joi_summary_day_build(day_readings, 3, 19675, &d);
    d.has_buckets = joi_layout_day_keeps_buckets(&d);
    joi_layout_day_encode(&d, &want_rec);
    joi_summary_day_free(&d);
    CU_ASSERT_EQUAL_FATAL(chunk.len, want_chunk.len);
    CU_ASSERT_EQUAL(memcmp(chunk.data, want_chunk.data, chunk.len), 0);
    CU_ASSERT_EQUAL(chunk.data[0], 0x01);
    CU_ASSERT_EQUAL_FATAL(rec.len, want_rec.len);
    CU_ASSERT_EQUAL(memcmp(rec.data, want_rec.data, rec.len), 0);
    /* Unsorted readings: refused, rec untouched. */
    struct joi_reading bad[] = {{1699920120, 1}, {1699920060, 2}};
    size_t before = rec.len;
    CU_ASSERT_EQUAL(joi_layout_day_build(bad, 2, 19675, &chunk, &rec, &err), -1);
    CU_ASSERT_EQUAL(err.status, 500);
    CU_ASSERT_EQUAL(rec.len, before);
    joi_buf_free(&chunk);
    joi_buf_free(&rec);
    joi_buf_free(&want_chunk);
    joi_buf_free(&want_rec);
}

void add_layout2_suite(void)
{
    static const struct test_case tests[] = {
        {"layout 2 keys and days", test_keys2},
        {"the head's bytes, read back", test_head_bytes},
        {"heads the store refuses", test_head_refused},
        {"a day record, byte for byte, and damage refused", test_day_bytes},
        {"a summary from days equals one from the readings", test_from_days},
        {"a day's chunk and record built together", test_day_build},
        {NULL, NULL},
    };
    test_add_suite("layout 2", tests);
}
