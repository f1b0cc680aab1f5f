/*
 * test_meter.c -- meter id validation.
 */
#include <string.h>

#include "joi/meter.h"
#include "suites.h"

static int valid(const char *s)
{
    return joi_meter_id_valid(s, strlen(s));
}

static void test_accepts_allowed_characters(void)
{
    CU_ASSERT_EQUAL(valid("smart-meter-0"), 1);
    CU_ASSERT_EQUAL(valid("a"), 1);
    CU_ASSERT_EQUAL(valid("Z"), 1);
    CU_ASSERT_EQUAL(valid("0"), 1);
    CU_ASSERT_EQUAL(valid("."), 1);
    CU_ASSERT_EQUAL(valid("_"), 1);
    CU_ASSERT_EQUAL(valid("-"), 1);
    /* Every allowed character but 'A', 64 in all. */
    CU_ASSERT_EQUAL(valid("BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"), 1);
}

static void test_length_limits(void)
{
    char id[JOI_METER_MAX + 2];
    memset(id, 'm', sizeof id);
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 0), 0);
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 1), 1);
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 64), 1);
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 65), 0);
    CU_ASSERT_EQUAL(valid(""), 0);
    /* Every allowed character, 65 in all. */
    CU_ASSERT_EQUAL(valid("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"), 0);
}

static void test_rejects_other_characters(void)
{
    CU_ASSERT_EQUAL(valid("a/b"), 0);
    CU_ASSERT_EQUAL(valid("a%2Fb"), 0);
    CU_ASSERT_EQUAL(valid("a b"), 0);
    CU_ASSERT_EQUAL(valid("a+b"), 0);
    CU_ASSERT_EQUAL(valid("a:b"), 0);
    CU_ASSERT_EQUAL(valid("a{b}"), 0);
    CU_ASSERT_EQUAL(valid("a\tb"), 0);
    CU_ASSERT_EQUAL(valid("a\nb"), 0);
    CU_ASSERT_EQUAL(valid("meter\x7f"), 0);
    CU_ASSERT_EQUAL(valid("caf\xc3\xa9"), 0);  /* UTF-8 e-acute */
    CU_ASSERT_EQUAL(valid("\xef\xbc\xa1"), 0); /* UTF-8 fullwidth A */
    CU_ASSERT_EQUAL(valid("m\xff"), 0);
}

static void test_nul_inside_is_checked_by_length(void)
{
    const char id[] = "ab\0cd";
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 5), 0);
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 2), 1);
    CU_ASSERT_EQUAL(joi_meter_id_valid(id, 3), 0);
}

void add_meter_suite(void)
{
    static const struct test_case tests[] = {
        {"accepts A-Z a-z 0-9 . _ -", test_accepts_allowed_characters},
        {"1 to 64 characters", test_length_limits},
        {"rejects other characters and UTF-8", test_rejects_other_characters},
        {"NUL inside is checked by length", test_nul_inside_is_checked_by_length},
        {NULL, NULL},
    };
    test_add_suite("meter id", tests);
}
