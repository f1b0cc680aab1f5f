/*
 * test_timeparse.c -- RFC 3339 and epoch-seconds times on input.
 */
#include <inttypes.h>
#include <string.h>

#include "joi/timeparse.h"
#include "suites.h"

/* 2024-01-01T07:01:00Z */
#define T_2024_01_01_0701 INT64_C(1704092460)

static int rfc(const char *s, int64_t *out)
{
    return joi_time_parse_rfc3339(s, strlen(s), out);
}

/* A time that must parse to want, or must not parse (leaving the result
 * untouched); a failure names the text, so that the row at fault is found. */
static void check_rfc(const char *s, int64_t want)
{
    int64_t t = -12345;
    int rc = rfc(s, &t);
    test_check(rc == 0, __FILE__, __LINE__, "RFC 3339 \"%s\": returned %d, expected 0", s, rc);
    test_check(t == want, __FILE__, __LINE__, "RFC 3339 \"%s\": %" PRId64 ", expected %" PRId64, s,
               t, want);
}

static void check_rfc_invalid(const char *s)
{
    int64_t t = -12345;
    int rc = rfc(s, &t);
    test_check(rc == -1, __FILE__, __LINE__, "RFC 3339 \"%s\": returned %d, expected -1", s, rc);
    test_check(t == -12345, __FILE__, __LINE__, "RFC 3339 \"%s\": result set to %" PRId64, s, t);
}

static void test_rfc3339_zulu(void)
{
    check_rfc("2024-01-01T07:01:00Z", T_2024_01_01_0701);
    check_rfc("1970-01-01T00:00:00Z", 0);
    check_rfc("1970-01-01T00:00:01Z", 1);
    check_rfc("2020-11-29T08:00:00Z", INT64_C(1606636800));
    check_rfc("2000-03-01T00:00:00Z", INT64_C(951868800));
}

static void test_rfc3339_fraction_dropped(void)
{
    check_rfc("2024-01-01T07:01:00.000000Z", T_2024_01_01_0701);
    check_rfc("2024-01-01T07:01:00.5Z", T_2024_01_01_0701);
    check_rfc("2024-01-01T07:01:00.999999999Z", T_2024_01_01_0701);
    check_rfc("2024-01-01T08:01:00.25+01:00", T_2024_01_01_0701);
    check_rfc_invalid("2024-01-01T07:01:00.Z");
    check_rfc_invalid("2024-01-01T07:01:00.5");
    check_rfc_invalid("2024-01-01T07:01:00.5x");
}

static void test_rfc3339_offsets(void)
{
    check_rfc("2024-01-01T08:01:00+01:00", T_2024_01_01_0701);
    check_rfc("2024-01-01T01:31:00-05:30", T_2024_01_01_0701);
    check_rfc("2024-01-01T07:01:00+00:00", T_2024_01_01_0701);
    check_rfc("2024-01-01T07:01:00-00:00", T_2024_01_01_0701);
    /* An offset that moves the instant into the previous day and year. */
    check_rfc("2024-01-01T00:30:00+01:00", INT64_C(1704065400));
    check_rfc("2023-12-31T23:59:00-23:59", INT64_C(1704067140) + 23 * 3600 + 59 * 60);
    check_rfc_invalid("2024-01-01T08:01:00+0100");
    check_rfc_invalid("2024-01-01T08:01:00+01");
    check_rfc_invalid("2024-01-01T08:01:00+01:00:00");
    check_rfc_invalid("2024-01-01T08:01:00+24:00");
    check_rfc_invalid("2024-01-01T08:01:00+01:60");
    check_rfc_invalid("2024-01-01T08:01:00 01:00");
}

static void test_rfc3339_leap_days(void)
{
    check_rfc("2024-02-29T00:00:00Z", INT64_C(1709164800));
    check_rfc("2000-02-29T00:00:00Z", INT64_C(951782400));
    check_rfc_invalid("2023-02-29T00:00:00Z");
    check_rfc_invalid("2100-02-29T00:00:00Z");
    check_rfc_invalid("2024-02-30T00:00:00Z");
}

static void test_rfc3339_field_ranges(void)
{
    check_rfc_invalid("2024-01-01T24:00:00Z");
    check_rfc_invalid("2024-01-01T23:60:00Z");
    check_rfc_invalid("2024-01-01T23:59:60Z");
    check_rfc_invalid("2024-00-01T00:00:00Z");
    check_rfc_invalid("2024-13-01T00:00:00Z");
    check_rfc_invalid("2024-01-00T00:00:00Z");
    check_rfc_invalid("2024-01-32T00:00:00Z");
    check_rfc_invalid("2024-04-31T00:00:00Z");
    check_rfc("2024-04-30T23:59:59Z", INT64_C(1714521599));
}

static void test_rfc3339_shape(void)
{
    check_rfc_invalid("2024-01-01T07:01:00");
    check_rfc_invalid("2024-01-01 07:01:00Z");
    check_rfc_invalid("2024-01-01T07:01Z");
    check_rfc_invalid("2024/01/01T07:01:00Z");
    check_rfc_invalid("24-01-01T07:01:00Z");
    check_rfc_invalid("2024-1-01T07:01:00Z");
    check_rfc_invalid("2024-01-01T07:01:00ZZ");
    check_rfc_invalid("2024-01-01T07:01:00Z ");
    check_rfc_invalid(" 2024-01-01T07:01:00Z");
    check_rfc_invalid("2024-01-01T7:01:00Z");
    check_rfc_invalid("+2024-01-01T07:01:00Z");
    check_rfc_invalid("");
    check_rfc_invalid("Z");
    check_rfc_invalid("1704092460");
}

static void test_rfc3339_lower_case(void)
{
    check_rfc("2024-01-01t07:01:00z", T_2024_01_01_0701);
    check_rfc("2024-01-01t07:01:00Z", T_2024_01_01_0701);
    check_rfc("2024-01-01T07:01:00z", T_2024_01_01_0701);
}

static void test_rfc3339_range(void)
{
    check_rfc("9999-12-31T23:59:59Z", INT64_C(253402300799));
    check_rfc("9999-12-31T23:59:59.999Z", JOI_TIME_MAX);
    check_rfc("9999-12-31T23:59:59+00:01", JOI_TIME_MAX - 60);
    check_rfc_invalid("9999-12-31T23:59:59-00:01");
    check_rfc_invalid("9999-12-31T23:59:60Z");
    check_rfc_invalid("10000-01-01T00:00:00Z");
    check_rfc_invalid("1969-12-31T23:59:59Z");
    check_rfc_invalid("1970-01-01T00:30:00+01:00");
    check_rfc_invalid("0000-01-01T00:00:00Z");
}

static void test_rfc3339_uses_length_not_nul(void)
{
    const char *s = "2024-01-01T07:01:00Zjunk";
    int64_t t = 0;
    CU_ASSERT_EQUAL(joi_time_parse_rfc3339(s, 20, &t), 0);
    CU_ASSERT_EQUAL(t, T_2024_01_01_0701);
    CU_ASSERT_EQUAL(joi_time_parse_rfc3339(s, strlen(s), &t), -1);
    CU_ASSERT_EQUAL(joi_time_parse_rfc3339(s, 19, &t), -1);
    const char nul[] = "2024-01-01T07:01:00Z\0";
    CU_ASSERT_EQUAL(joi_time_parse_rfc3339(nul, sizeof nul - 1, &t), -1);
}

static void check_epoch(const char *s, int64_t want)
{
    int64_t t = -12345;
    int rc = joi_time_parse_epoch(s, strlen(s), &t);
    test_check(rc == 0, __FILE__, __LINE__, "epoch \"%s\": returned %d, expected 0", s, rc);
    test_check(t == want, __FILE__, __LINE__, "epoch \"%s\": %" PRId64 ", expected %" PRId64, s, t,
               want);
}

static void check_epoch_invalid(const char *s)
{
    int64_t t = -12345;
    int rc = joi_time_parse_epoch(s, strlen(s), &t);
    test_check(rc == -1, __FILE__, __LINE__, "epoch \"%s\": returned %d, expected -1", s, rc);
    test_check(t == -12345, __FILE__, __LINE__, "epoch \"%s\": result set to %" PRId64, s, t);
}

static void test_epoch(void)
{
    check_epoch("0", 0);
    check_epoch("1606636800", INT64_C(1606636800));
    check_epoch("007", 7);
    check_epoch("253402300799", INT64_C(253402300799));
    check_epoch_invalid("253402300800");
    check_epoch_invalid("999999999999");
    check_epoch_invalid("99999999999999999999999");
    check_epoch_invalid("");
    check_epoch_invalid("-1");
    check_epoch_invalid("+1");
    check_epoch_invalid("12a");
    check_epoch_invalid("1.5");
    check_epoch_invalid("1e3");
    check_epoch_invalid(" 1");
    check_epoch_invalid("1 ");
    check_epoch_invalid("0x10");
    int64_t t = 0;
    CU_ASSERT_EQUAL(joi_time_parse_epoch("123456", 3, &t), 0);
    CU_ASSERT_EQUAL(t, 123);
}

static void test_days_from_civil(void)
{
    CU_ASSERT_EQUAL(joi_days_from_civil(1970, 1, 1), 0);
    CU_ASSERT_EQUAL(joi_days_from_civil(1969, 12, 31), -1);
    CU_ASSERT_EQUAL(joi_days_from_civil(2000, 3, 1), 11017);
    CU_ASSERT_EQUAL(joi_days_from_civil(2024, 1, 1), 19723);
    CU_ASSERT_EQUAL(joi_days_from_civil(2024, 3, 1) - joi_days_from_civil(2024, 2, 28), 2);
    CU_ASSERT_EQUAL(joi_days_from_civil(2023, 3, 1) - joi_days_from_civil(2023, 2, 28), 1);
    CU_ASSERT_EQUAL(joi_days_from_civil(9999, 12, 31), 2932896);
}

void add_timeparse_suite(void)
{
    static const struct test_case tests[] = {
        {"RFC 3339 with Z", test_rfc3339_zulu},
        {"RFC 3339 fraction dropped", test_rfc3339_fraction_dropped},
        {"RFC 3339 offsets", test_rfc3339_offsets},
        {"RFC 3339 leap days", test_rfc3339_leap_days},
        {"RFC 3339 field ranges", test_rfc3339_field_ranges},
        {"RFC 3339 shape", test_rfc3339_shape},
        {"RFC 3339 lower-case t and z", test_rfc3339_lower_case},
        {"RFC 3339 range 1970..9999", test_rfc3339_range},
        {"RFC 3339 reads len bytes only", test_rfc3339_uses_length_not_nul},
        {"epoch seconds", test_epoch},
        {"days from civil", test_days_from_civil},
        {NULL, NULL},
    };
    test_add_suite("timeparse", tests);
}
