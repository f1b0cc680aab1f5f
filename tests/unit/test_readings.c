/*
 * test_readings.c -- the store-batch parser and reading arrays.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/readings.h"
#include "suites.h"

#define RDG(t, r) "{\"time\":" #t ",\"reading\":" #r "}"
#define BATCH(items) "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":[" items "]}"

static int parse(const char *buf, size_t len, struct joi_batch *b, struct joi_error *err)
{
    joi_error_clear(err);
    return joi_batch_parse(buf, len, b, err);
}

/* Parses s (expected to fail) and checks the status, the pointer (NULL: none;
 * "?/p": none or /p) and that the batch came back empty.  A failure quotes s (its
 * start), so that the row at fault is found. */
static void check_error_at(const char *s, size_t len, const char *pointer)
{
    struct joi_batch b;
    struct joi_error err;
    char in[160];
    test_quote(s, len, in, sizeof in);
    int rc = parse(s, len, &b, &err);
    test_check(rc == -1, __FILE__, __LINE__, "%s: returned %d, expected -1", in, rc);
    test_check(err.status == 400, __FILE__, __LINE__, "%s: status %d, expected 400", in,
               err.status);
    test_check(err.detail[0] != '\0', __FILE__, __LINE__, "%s: no detail", in);
    if (pointer == NULL) {
        test_check(err.has_pointer == 0, __FILE__, __LINE__, "%s: pointer \"%s\", expected none",
                   in, err.pointer);
    } else if (pointer[0] == '?') {
        /* Either malformed JSON (no pointer) or this field at fault. */
        if (err.has_pointer)
            test_check(strcmp(err.pointer, pointer + 1) == 0, __FILE__, __LINE__,
                       "%s: pointer \"%s\", expected %s or none", in, err.pointer, pointer + 1);
    } else {
        test_check(err.has_pointer == 1, __FILE__, __LINE__, "%s: no pointer, expected %s", in,
                   pointer);
        test_check(strcmp(err.pointer, pointer) == 0, __FILE__, __LINE__,
                   "%s: pointer \"%s\", expected %s", in, err.pointer, pointer);
    }
    test_check(b.readings.n == 0, __FILE__, __LINE__, "%s: %zu readings came back", in,
               b.readings.n);
    test_check(b.readings.items == NULL, __FILE__, __LINE__, "%s: readings allocated", in);
    test_check(b.meter[0] == '\0', __FILE__, __LINE__, "%s: meter \"%s\" came back", in, b.meter);
    joi_batch_free(&b);
}

#define CHECK_ERROR_AT(lit, ptr) check_error_at(lit, sizeof(lit) - 1, ptr)
#define CHECK_MALFORMED(lit) check_error_at(lit, sizeof(lit) - 1, NULL)

static void test_valid_batch(void)
{
    static const char s[] = "{\"smartMeterId\": \"smart-meter-0\", \"electricityReadings\": ["
                            "{\"time\": 1606636800, \"reading\": 0.0503},"
                            "{\"time\": 1606636860, \"reading\": 0.0621},"
                            "{\"time\": 1606636740, \"reading\": 0},"
                            "{\"time\": 0, \"reading\": 1000000},"
                            "{\"time\": 253402300799, \"reading\": 12}]}";
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(s, sizeof s - 1, &b, &err), 0);
    CU_ASSERT_EQUAL(err.status, 0);
    CU_ASSERT_STRING_EQUAL(b.meter, "smart-meter-0");
    CU_ASSERT_EQUAL_FATAL(b.readings.n, 5);
    const struct joi_reading *r = b.readings.items;
    CU_ASSERT_EQUAL(r[0].time, INT64_C(1606636800));
    CU_ASSERT(r[0].kw == 0.0503);
    CU_ASSERT_EQUAL(r[1].time, INT64_C(1606636860));
    CU_ASSERT(r[1].kw == 0.0621);
    CU_ASSERT_EQUAL(r[2].time, INT64_C(1606636740));
    CU_ASSERT(r[2].kw == 0.0);
    CU_ASSERT_EQUAL(r[3].time, 0);
    CU_ASSERT(r[3].kw == 1000000.0);
    CU_ASSERT_EQUAL(r[4].time, INT64_C(253402300799));
    CU_ASSERT(r[4].kw == 12.0);
    joi_batch_free(&b);
    CU_ASSERT_EQUAL(b.readings.n, 0);
    CU_ASSERT_PTR_NULL(b.readings.items);
}

static void test_duplicates_kept_in_order(void)
{
    static const char s[] = BATCH(RDG(60, 1) "," RDG(0, 2) "," RDG(60, 3));
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(s, sizeof s - 1, &b, &err), 0);
    CU_ASSERT_EQUAL_FATAL(b.readings.n, 3);
    CU_ASSERT_EQUAL(b.readings.items[0].time, 60);
    CU_ASSERT(b.readings.items[0].kw == 1.0);
    CU_ASSERT_EQUAL(b.readings.items[1].time, 0);
    CU_ASSERT(b.readings.items[1].kw == 2.0);
    CU_ASSERT_EQUAL(b.readings.items[2].time, 60);
    CU_ASSERT(b.readings.items[2].kw == 3.0);
    joi_batch_free(&b);
}

static void test_iso_times(void)
{
    static const char s[] = BATCH("{\"time\":\"2024-01-01T07:01:00Z\",\"reading\":1},"
                                  "{\"time\":\"2024-01-01T07:02:00.000000Z\",\"reading\":2},"
                                  "{\"time\":\"2024-01-01T08:03:00+01:00\",\"reading\":3},"
                                  "{\"time\":\"2024-01-01t01:34:59.9-05:30\",\"reading\":4}");
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(s, sizeof s - 1, &b, &err), 0);
    CU_ASSERT_EQUAL_FATAL(b.readings.n, 4);
    CU_ASSERT_EQUAL(b.readings.items[0].time, INT64_C(1704092460));
    CU_ASSERT_EQUAL(b.readings.items[1].time, INT64_C(1704092520));
    CU_ASSERT_EQUAL(b.readings.items[2].time, INT64_C(1704092580));
    CU_ASSERT_EQUAL(b.readings.items[3].time, INT64_C(1704092699));
    CU_ASSERT(b.readings.items[3].kw == 4.0);
    joi_batch_free(&b);
    CHECK_ERROR_AT(BATCH("{\"time\":\"2024-01-01T07:01:00\",\"reading\":1}"),
                   "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) ",{\"time\":\"2023-02-29T00:00:00Z\",\"reading\":1}"),
                   "/electricityReadings/1/time");
    CHECK_ERROR_AT(BATCH("{\"time\":\"1606636800\",\"reading\":1}"), "/electricityReadings/0/time");
}

static void test_negative_zero_stored_as_zero(void)
{
    static const char s[] = BATCH(RDG(1, -0) "," RDG(2, -0.0) "," RDG(3, -0e5));
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(s, sizeof s - 1, &b, &err), 0);
    CU_ASSERT_EQUAL_FATAL(b.readings.n, 3);
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT(b.readings.items[i].kw == 0.0);
        CU_ASSERT_EQUAL(signbit(b.readings.items[i].kw), 0);
    }
    joi_batch_free(&b);
}

static void test_unknown_fields_ignored(void)
{
    static const char s[] =
        "{\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"smartMeterId\":\"m.1_A\","
        "\"electricityReadings\":[{\"unit\":\"kW\",\"time\":5,\"reading\":2.5,\"q\":[]}],"
        "\"version\":2}";
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(s, sizeof s - 1, &b, &err), 0);
    CU_ASSERT_STRING_EQUAL(b.meter, "m.1_A");
    CU_ASSERT_EQUAL_FATAL(b.readings.n, 1);
    CU_ASSERT_EQUAL(b.readings.items[0].time, 5);
    CU_ASSERT(b.readings.items[0].kw == 2.5);
    joi_batch_free(&b);
}

static void test_not_an_object(void)
{
    CHECK_ERROR_AT("[]", "");
    CHECK_ERROR_AT("[" BATCH(RDG(1, 1)) "]", "");
    CHECK_ERROR_AT("\"smart-meter-0\"", "");
    CHECK_ERROR_AT("42", "");
    CHECK_ERROR_AT("true", "");
    CHECK_MALFORMED("null");
}

static void test_smart_meter_id(void)
{
    CHECK_ERROR_AT("{\"electricityReadings\":[" RDG(1, 1) "]}", "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":\"a/b\",\"electricityReadings\":[" RDG(1, 1) "]}",
                   "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":\"\",\"electricityReadings\":[" RDG(1, 1) "]}",
                   "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":7,\"electricityReadings\":[" RDG(1, 1) "]}", "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":null,\"electricityReadings\":[" RDG(1, 1) "]}",
                   "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":\"caf\xc3\xa9\",\"electricityReadings\":[" RDG(1, 1) "]}",
                   "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":\"a\\u0000b\",\"electricityReadings\":[" RDG(1, 1) "]}",
                   "/smartMeterId");
    CHECK_ERROR_AT("{\"smartMeterId\":\"m23456789012345678901234567890123456789012345678901234567"
                   "89012345\",\"electricityReadings\":[" RDG(1, 1) "]}",
                   "/smartMeterId");
    /* 64 characters is the longest id. */
    static const char ok[] = "{\"smartMeterId\":\"m234567890123456789012345678901234567890123456789"
                             "012345678901234\",\"electricityReadings\":[" RDG(1, 1) "]}";
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(ok, sizeof ok - 1, &b, &err), 0);
    CU_ASSERT_EQUAL(strlen(b.meter), 64);
    joi_batch_free(&b);
}

static void test_electricity_readings_list(void)
{
    CHECK_ERROR_AT("{\"smartMeterId\":\"m\"}", "/electricityReadings");
    CHECK_ERROR_AT("{\"smartMeterId\":\"m\",\"electricityReadings\":[]}", "/electricityReadings");
    CHECK_ERROR_AT("{\"smartMeterId\":\"m\",\"electricityReadings\":{}}", "/electricityReadings");
    CHECK_ERROR_AT("{\"smartMeterId\":\"m\",\"electricityReadings\":null}", "/electricityReadings");
    CHECK_ERROR_AT("{\"smartMeterId\":\"m\",\"electricityReadings\":" RDG(1, 1) "}",
                   "/electricityReadings");
}

static char *batch_of(size_t n, size_t *len)
{
    struct joi_buf b;
    joi_buf_init(&b);
    joi_buf_puts(&b, "{\"smartMeterId\":\"big\",\"electricityReadings\":[");
    for (size_t i = 0; i < n; i++)
        joi_buf_printf(&b, "%s{\"time\":%zu,\"reading\":%zu.5}", i ? "," : "", i * 60, i % 7);
    joi_buf_puts(&b, "]}");
    *len = b.len;
    return b.data;
}

static void test_batch_size_limit(void)
{
    size_t len;
    char *s = batch_of(JOI_BATCH_MAX, &len);
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL(parse(s, len, &b, &err), 0);
    CU_ASSERT_EQUAL(b.readings.n, 10000);
    if (b.readings.n == 10000) {
        CU_ASSERT_EQUAL(b.readings.items[9999].time, 599940);
        CU_ASSERT(b.readings.items[9999].kw == 3.5); /* 9999 % 7 == 3 */
    }
    joi_batch_free(&b);
    free(s);
    s = batch_of(JOI_BATCH_MAX + 1, &len);
    check_error_at(s, len, "/electricityReadings");
    free(s);
}

static void test_item_not_object(void)
{
    CHECK_ERROR_AT(BATCH(RDG(1, 1) ",[1,2]"), "/electricityReadings/1");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) ",5"), "/electricityReadings/1");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) ",null"), "/electricityReadings/1");
    CHECK_ERROR_AT(BATCH("\"x\""), "/electricityReadings/0");
}

static void test_time_errors(void)
{
    CHECK_ERROR_AT(BATCH("{\"reading\":1}"), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(1.5, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(1e3, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(1000.0, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(-1, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(253402300800, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(9223372036854775807, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(18446744073709551615, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(99999999999999999999, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(-99999999999999999999, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(null, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(true, 1)), "/electricityReadings/0/time");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG([3], 1)), "/electricityReadings/2/time");
}

static void test_reading_errors(void)
{
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) ",{\"time\":3}"),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, -0.001)),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, -1)), "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, 1000000.0000001)),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, 1000001)),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, "1")),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, 1e999)),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, -1e999)),
                   "/electricityReadings/2/reading");
    /* NaN and Infinity are not JSON: rejected as malformed, or as the reading at fault. */
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, NaN)),
                   "?/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, Infinity)),
                   "?/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, null)),
                   "/electricityReadings/2/reading");
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, 99999999999999999999)),
                   "/electricityReadings/2/reading");
}

static void test_first_fault_reported(void)
{
    CHECK_ERROR_AT(BATCH(RDG(1, 1) "," RDG(-2, -1) "," RDG(3, -1)), "/electricityReadings/1/time");
    struct joi_batch b;
    struct joi_error err;
    static const char s[] = BATCH(RDG(1, 1) "," RDG(2, 1) "," RDG(3, -1));
    CU_ASSERT_EQUAL(parse(s, sizeof s - 1, &b, &err), -1);
    CU_ASSERT_STRING_EQUAL(err.detail,
                           "electricityReadings[2].reading must be a number between 0 and 1000000");
}

static void test_malformed_json(void)
{
    CHECK_MALFORMED("");
    CHECK_MALFORMED("   ");
    CHECK_MALFORMED(BATCH(RDG(1, 1)) "x");
    CHECK_MALFORMED(BATCH(RDG(1, 1)) " {}");
    CHECK_MALFORMED("{\"smartMeterId\":\"m\",\"electricityReadings\":[" RDG(1, 1) "]");
    CHECK_MALFORMED("{\"smartMeterId\":\"m\",\"electricityReadings\":[" RDG(1, 1));
    CHECK_MALFORMED("{\"smartMeterId\"");
    CHECK_MALFORMED("{'smartMeterId':'m','electricityReadings':[" RDG(1, 1) "]}");
    CHECK_MALFORMED("{smartMeterId:\"m\"}");
    CHECK_MALFORMED(BATCH(RDG(1, 1) ","));
    CHECK_MALFORMED(BATCH(RDG(1, 01)));
    CHECK_MALFORMED(BATCH("{\"time\":1,\"reading\":1,}"));
    CHECK_MALFORMED("{\"smartMeterId\":\"m\",/* c */\"electricityReadings\":[" RDG(1, 1) "]}");
    /* Trailing white space is fine. */
    static const char ws[] = BATCH(RDG(1, 1)) " \r\n\t";
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL(parse(ws, sizeof ws - 1, &b, &err), 0);
    CU_ASSERT_EQUAL(b.readings.n, 1);
    joi_batch_free(&b);
}

#define WITH_NOTE(bytes)                                                                           \
    "{\"note\":\"" bytes "\",\"smartMeterId\":\"m\",\"electricityReadings\":[" RDG(1, 1) "]}"

static void test_invalid_utf8(void)
{
    /* Well-formed UTF-8 in an ignored field is fine, up to U+10FFFF. */
    static const char ok[] =
        WITH_NOTE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL(parse(ok, sizeof ok - 1, &b, &err), 0);
    joi_batch_free(&b);

    CHECK_MALFORMED("{\"smartMeterId\":\"m\xff\",\"electricityReadings\":[" RDG(1, 1) "]}");
    CHECK_MALFORMED(WITH_NOTE("\xc3\x28"));         /* bad continuation byte */
    CHECK_MALFORMED(WITH_NOTE("\xe2\x82"));         /* sequence cut short */
    CHECK_MALFORMED(WITH_NOTE("\x80"));             /* lone continuation byte */
    CHECK_MALFORMED(WITH_NOTE("\xc0\xaf"));         /* overlong '/' */
    CHECK_MALFORMED(WITH_NOTE("\xe0\x80\xaf"));     /* overlong '/' */
    CHECK_MALFORMED(WITH_NOTE("\xed\xa0\x80"));     /* UTF-16 surrogate U+D800 */
    CHECK_MALFORMED(WITH_NOTE("\xf4\x90\x80\x80")); /* U+110000 */
    CHECK_MALFORMED(WITH_NOTE("\xf5\x80\x80\x80")); /* no such lead byte */
    CHECK_MALFORMED(BATCH(RDG(1, 1)) "\xe2\x82");
}

static void test_nul_byte_in_buffer(void)
{
    CHECK_MALFORMED(BATCH(RDG(1, 1)) "\0");
    CHECK_MALFORMED("{\"smartMeterId\":\"m\0\",\"electricityReadings\":[" RDG(1, 1) "]}");
    CHECK_MALFORMED(BATCH(RDG(1, 1) "\0"));
    CHECK_MALFORMED("\0" BATCH(RDG(1, 1)));
}

static void test_not_nul_terminated(void)
{
    /* The parser reads len bytes only: a valid document followed by bytes beyond len. */
    static const char s[] = BATCH(RDG(7, 2)) "garbage";
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL_FATAL(parse(s, sizeof s - 1 - 7, &b, &err), 0);
    CU_ASSERT_EQUAL(b.readings.n, 1);
    CU_ASSERT_EQUAL(b.readings.items[0].time, 7);
    joi_batch_free(&b);
    /* And a document cut short by len is incomplete. */
    check_error_at(s, 20, NULL);
    check_error_at(s, sizeof s - 1 - 8, NULL);
}

static void check_deep(char open, char close, size_t depth)
{
    size_t len = 2 * depth;
    char *s = malloc(len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL(parse(s, len, &b, &err), -1);
    CU_ASSERT_EQUAL(err.status, 400);
    CU_ASSERT_EQUAL(err.has_pointer, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.detail, "nested"));
    free(s);
}

/* 16 levels of arrays are a JSON document the parser takes (then not a batch: an
 * object is expected); 17 are "nested" too deep. */
static void test_depth_limit(void)
{
    char s[64];
    struct joi_batch b;
    struct joi_error err;
    memset(s, '[', 16);
    memset(s + 16, ']', 16);
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(parse(s, 32, &b, &err), -1);
    CU_ASSERT_EQUAL(err.status, 400);
    CU_ASSERT_PTR_NULL(strstr(err.detail, "nested"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.detail, "must be a JSON object"));
    check_deep('[', ']', 17);
}

static void test_deep_nesting(void)
{
    check_deep('[', ']', 100000);
    /* {"a":{"a":...}} */
    size_t depth = 100000;
    struct joi_buf s;
    joi_buf_init(&s);
    for (size_t i = 0; i < depth; i++)
        joi_buf_puts(&s, "{\"a\":");
    joi_buf_puts(&s, "1");
    for (size_t i = 0; i < depth; i++)
        joi_buf_puts(&s, "}");
    struct joi_batch b;
    struct joi_error err;
    CU_ASSERT_EQUAL(parse(s.data, s.len, &b, &err), -1);
    CU_ASSERT_EQUAL(err.status, 400);
    joi_buf_free(&s);
    /* Unclosed: depth is reached before the end. */
    char open[100000];
    memset(open, '[', sizeof open);
    check_error_at(open, sizeof open, NULL);
}

static void test_sort_unique_last_wins(void)
{
    struct joi_readings r;
    joi_readings_init(&r);
    joi_readings_push(&r, 300, 1);
    joi_readings_push(&r, 100, 2);
    joi_readings_push(&r, 300, 3);
    joi_readings_push(&r, 200, 4);
    joi_readings_push(&r, 100, 5);
    joi_readings_push(&r, 300, 6);
    joi_readings_sort_unique(&r);
    CU_ASSERT_EQUAL_FATAL(r.n, 3);
    CU_ASSERT_EQUAL(r.items[0].time, 100);
    CU_ASSERT(r.items[0].kw == 5.0);
    CU_ASSERT_EQUAL(r.items[1].time, 200);
    CU_ASSERT(r.items[1].kw == 4.0);
    CU_ASSERT_EQUAL(r.items[2].time, 300);
    CU_ASSERT(r.items[2].kw == 6.0);
    joi_readings_free(&r);
    CU_ASSERT_EQUAL(r.n, 0);
    CU_ASSERT_PTR_NULL(r.items);
}

static void test_sort_unique_many(void)
{
    /* 1000 readings pushed in descending time order, each time twice: the second wins. */
    struct joi_readings r;
    joi_readings_init(&r);
    for (int i = 999; i >= 0; i--) {
        joi_readings_push(&r, i, -1.0);
        joi_readings_push(&r, i, (double)i / 2);
    }
    joi_readings_sort_unique(&r);
    CU_ASSERT_EQUAL_FATAL(r.n, 1000);
    int ok = 1;
    for (int i = 0; i < 1000; i++)
        ok &= r.items[i].time == i && r.items[i].kw == (double)i / 2;
    CU_ASSERT(ok);
    joi_readings_free(&r);
}

static void test_sort_unique_sorted_and_small(void)
{
    struct joi_readings r;
    joi_readings_init(&r);
    joi_readings_sort_unique(&r);
    CU_ASSERT_EQUAL(r.n, 0);
    joi_readings_push(&r, 5, 1);
    joi_readings_sort_unique(&r);
    CU_ASSERT_EQUAL(r.n, 1);
    joi_readings_push(&r, 6, 2);
    joi_readings_push(&r, 9, 3);
    joi_readings_sort_unique(&r);
    CU_ASSERT_EQUAL_FATAL(r.n, 3);
    CU_ASSERT_EQUAL(r.items[0].time, 5);
    CU_ASSERT_EQUAL(r.items[1].time, 6);
    CU_ASSERT_EQUAL(r.items[2].time, 9);
    CU_ASSERT(r.items[2].kw == 3.0);
    joi_readings_free(&r);
    joi_readings_free(NULL);
    joi_batch_free(NULL);
}

/* The common shape is read without json-c, to the same values. */
static void test_scan_common_shape(void)
{
    static const char s[] =
        " {\"electricityReadings\" :[{\"reading\":5e-324, \"time\":0},\r\n"
        "\t{\"time\":253402300799,\"reading\":-0.0},"
        "{\"time\":1606636800,\"reading\":1000000},"
        "{\"time\":1606636860,\"reading\":0.1e1}] ,\"smartMeterId\":\"a.B_-9\"} ";
    struct joi_batch b;
    CU_ASSERT_EQUAL_FATAL(joi_batch_scan(s, sizeof s - 1, &b), 1);
    CU_ASSERT_STRING_EQUAL(b.meter, "a.B_-9");
    CU_ASSERT_EQUAL_FATAL(b.readings.n, 4);
    const struct joi_reading *r = b.readings.items;
    CU_ASSERT(r[0].time == 0 && r[0].kw == 5e-324);
    CU_ASSERT(r[1].time == INT64_C(253402300799) && r[1].kw == 0.0 && !signbit(r[1].kw));
    CU_ASSERT(r[2].time == INT64_C(1606636800) && r[2].kw == 1000000.0);
    CU_ASSERT(r[3].time == INT64_C(1606636860) && r[3].kw == 1.0);
    joi_batch_free(&b);
}

/* Valid bodies outside the common shape, and every faulty one, go to the full
 * parse: the scan refuses them and leaves the batch empty; joi_batch_parse still
 * answers as the full parse does. */
static void test_scan_leaves_the_rest(void)
{
    static const struct {
        const char *body;
        int valid; /* what the full parse says */
    } cases[] = {
        {BATCH(RDG("2024-01-01T00:00:00Z", 1)), 1},
        {BATCH("{\"time\":1,\"reading\":2,\"extra\":3}"), 1},
        {"{\"smartMeterId\":\"m\",\"smartMeterId\":\"n\",\"electricityReadings\":[" RDG(1, 2) "]}",
         1},
        {"{\"smartMeterId\":\"m\\u0041\",\"electricityReadings\":[" RDG(1, 2) "]}", 1},
        {BATCH(RDG(-0, 2)), 1},
        {BATCH(RDG(1, 2) "," RDG(1, 3)), 1}, /* scanned: duplicates are the store's */
        {BATCH(RDG(01, 2)), 0},
        {BATCH(RDG(1, 2.)), 0},
        {BATCH(RDG(1e3, 2)), 0},
        {BATCH(RDG(253402300800, 2)), 0},
        {BATCH(RDG(1, 1000000.0000000002)), 0},
        {BATCH(RDG(1, -1)), 0},
        {BATCH(RDG(1, 1e400)), 0},
        {BATCH(""), 0},
        {BATCH(RDG(1, 2) ","), 0},
        {BATCH(RDG(1, 2)) " x", 0},
        {"{\"smartMeterId\":\"bad id\",\"electricityReadings\":[" RDG(1, 2) "]}", 0},
        {"{\"smartMeterId\":\"m\"}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s = cases[i].body;
        struct joi_batch b, full, combined;
        struct joi_error e1, e2;
        joi_error_clear(&e1);
        joi_error_clear(&e2);
        int took = joi_batch_scan(s, strlen(s), &b);
        int rc = joi_batch_parse_full(s, strlen(s), &full, &e1);
        int rc2 = joi_batch_parse(s, strlen(s), &combined, &e2);
        test_check(took == (i == 5), __FILE__, __LINE__, "case %zu: scan took %d", i, took);
        test_check(rc == (cases[i].valid ? 0 : -1), __FILE__, __LINE__, "case %zu: full %d", i, rc);
        test_check(rc2 == rc && e2.status == e1.status && strcmp(e2.detail, e1.detail) == 0,
                   __FILE__, __LINE__, "case %zu: combined %d \"%s\", full \"%s\"", i, rc2,
                   e2.detail, e1.detail);
        if (!took)
            CU_ASSERT(b.meter[0] == '\0' && b.readings.n == 0 && b.readings.items == NULL);
        joi_batch_free(&b);
        joi_batch_free(&full);
        joi_batch_free(&combined);
    }
}

void add_readings_suite(void)
{
    static const struct test_case tests[] = {
        {"valid batch", test_valid_batch},
        {"scan: the common shape without json-c", test_scan_common_shape},
        {"scan: the rest left to the full parse", test_scan_leaves_the_rest},
        {"duplicates kept in order sent", test_duplicates_kept_in_order},
        {"ISO times in a batch", test_iso_times},
        {"-0 stored as 0", test_negative_zero_stored_as_zero},
        {"unknown fields ignored", test_unknown_fields_ignored},
        {"not an object", test_not_an_object},
        {"smartMeterId", test_smart_meter_id},
        {"electricityReadings list", test_electricity_readings_list},
        {"10000 readings at most", test_batch_size_limit},
        {"item not an object", test_item_not_object},
        {"time errors", test_time_errors},
        {"reading errors", test_reading_errors},
        {"first fault reported", test_first_fault_reported},
        {"malformed JSON", test_malformed_json},
        {"invalid UTF-8", test_invalid_utf8},
        {"NUL byte in the buffer", test_nul_byte_in_buffer},
        {"reads len bytes only", test_not_nul_terminated},
        {"deep nesting", test_deep_nesting},
        {"depth limit is 16 levels", test_depth_limit},
        {"sort unique: last of equal times wins", test_sort_unique_last_wins},
        {"sort unique: many", test_sort_unique_many},
        {"sort unique: sorted and small", test_sort_unique_sorted_and_small},
        {NULL, NULL},
    };
    test_add_suite("readings", tests);
}
