/*
 * test_layout.c -- the Redis store's key names and the bytes of its members and
 * fields (joi/layout.h), on literal input.
 */
#include <string.h>

#include "joi/layout.h"
#include "suites.h"

static void test_keys(void)
{
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, "smart-meter-0", JOI_LAYOUT_READINGS);
    CU_ASSERT_STRING_EQUAL(key, "joi:{smart-meter-0}:r");
    joi_layout_key(key, "m", JOI_LAYOUT_BUCKETS);
    CU_ASSERT_STRING_EQUAL(key, "joi:{m}:e");
    joi_layout_key(key, "m", JOI_LAYOUT_LONGS);
    CU_ASSERT_STRING_EQUAL(key, "joi:{m}:l");
    /* The longest id and the longest suffix fit. */
    char id[JOI_METER_MAX + 1];
    memset(id, 'x', JOI_METER_MAX);
    id[JOI_METER_MAX] = '\0';
    joi_layout_key(key, id, JOI_LAYOUT_TOKEN);
    CU_ASSERT_EQUAL(strlen(key), 5 + JOI_METER_MAX + 7);
    CU_ASSERT_STRING_EQUAL(key + 5 + JOI_METER_MAX, "}:token");
}

static void test_member_format(void)
{
    char m[JOI_LAYOUT_MEMBER_MAX];
    size_t tl;
    CU_ASSERT_EQUAL(joi_layout_member_format(1606636800, 0.0503, m, &tl), 17);
    CU_ASSERT_STRING_EQUAL(m, "1606636800:0.0503");
    CU_ASSERT_EQUAL(tl, 10);
    CU_ASSERT_EQUAL(joi_layout_member_format(0, 0, m, &tl), 3);
    CU_ASSERT_STRING_EQUAL(m, "0:0");
    CU_ASSERT_EQUAL(tl, 1);
    /* The longest: the last time, a 17-digit reading. */
    size_t n = joi_layout_member_format(253402300799, 0.30000000000000004, m, &tl);
    CU_ASSERT_STRING_EQUAL(m, "253402300799:0.30000000000000004");
    CU_ASSERT_EQUAL(n, strlen(m));
    CU_ASSERT(n < JOI_LAYOUT_MEMBER_MAX);
    CU_ASSERT_EQUAL(joi_layout_member_format(5, 1000000, m, &tl), 9);
    CU_ASSERT_STRING_EQUAL(m, "5:1000000");
}

static void test_member_parse(void)
{
    static const struct {
        const char *member;
        int ok;
        int64_t time;
        double kw;
    } cases[] = {
        {"1606636800:0.0503", 1, 1606636800, 0.0503},
        {"0:0", 1, 0, 0},
        {"253402300799:1000000", 1, 253402300799, 1000000},
        {"7:1e-7", 1, 7, 1e-7},
        {"", 0, 0, 0},
        {"garbage", 0, 0, 0},
        {"17:", 0, 0, 0},
        {":1", 0, 0, 0},
        {"017:1", 0, 0, 0},
        {"x17:1", 0, 0, 0},
        {"17:1.", 0, 0, 0},
        {"17:01", 0, 0, 0},
        {"17:.5", 0, 0, 0},
        {"17:+1", 0, 0, 0},
        {"17:1e", 0, 0, 0},
        {"17:1 ", 0, 0, 0},
        {"17:1e999", 0, 0, 0},
        {"1234567890123:1", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = -1;
        double kw = -1;
        int rc = joi_layout_member_parse(cases[i].member, strlen(cases[i].member), &t, &kw);
        char q[64];
        test_check(rc == (cases[i].ok ? 0 : -1), __FILE__, __LINE__, "member %s: parse gave %d",
                   test_quote(cases[i].member, strlen(cases[i].member), q, sizeof q), rc);
        if (cases[i].ok && rc == 0) {
            CU_ASSERT_EQUAL(t, cases[i].time);
            CU_ASSERT_DOUBLE_EQUAL(kw, cases[i].kw, 0);
        }
    }
}

static void test_buckets(void)
{
    /* Day 19675: bucket 0 holds 1.5 kWh (0x3ff8000000000000, little-endian), bucket 47
     * 0.25 (0x3fd0000000000000); the others are 0 and left out. */
    char v[8 * JOI_BUCKETS_PER_FIELD];
    memset(v, 0, sizeof v);
    memcpy(v, "\x00\x00\x00\x00\x00\x00\xf8\x3f", 8);
    memcpy(v + 8 * 47, "\x00\x00\x00\x00\x00\x00\xd0\x3f", 8);
    struct joi_bucket_energy out[JOI_BUCKETS_PER_FIELD];
    size_t n = 0;
    CU_ASSERT_EQUAL(joi_layout_buckets_parse(19675, v, sizeof v, out, &n), 0);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(out[0].index, 19675 * 48);
    CU_ASSERT_DOUBLE_EQUAL(out[0].kwh, 1.5, 0);
    CU_ASSERT_EQUAL(out[1].index, 19675 * 48 + 47);
    CU_ASSERT_DOUBLE_EQUAL(out[1].kwh, 0.25, 0);
    n = 0;
    CU_ASSERT_EQUAL(joi_layout_buckets_parse(19675, v, sizeof v - 1, out, &n), -1);
    CU_ASSERT_EQUAL(joi_layout_buckets_parse(19675, "short", 5, out, &n), -1);
    CU_ASSERT_EQUAL(n, 0);
}

static void test_interval(void)
{
    struct joi_interval l;
    CU_ASSERT_EQUAL(joi_layout_interval_parse("1700000000:1700003600:0.5:1.25", &l), 0);
    CU_ASSERT_EQUAL(l.t1, 1700000000);
    CU_ASSERT_EQUAL(l.t2, 1700003600);
    CU_ASSERT_DOUBLE_EQUAL(l.p1, 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(l.p2, 1.25, 0);
    CU_ASSERT_EQUAL(joi_layout_interval_parse("1700000000:1700003600:0.5", &l), -1);
    CU_ASSERT_EQUAL(joi_layout_interval_parse("", &l), -1);
}

void add_layout_suite(void)
{
    static const struct test_case tests[] = {
        {"meter keys", test_keys},
        {"a member as the store writes it", test_member_format},
        {"members read back, and what is refused", test_member_parse},
        {"a day of energy buckets", test_buckets},
        {"a long interval", test_interval},
        {NULL, NULL},
    };
    test_add_suite("layout", tests);
}
