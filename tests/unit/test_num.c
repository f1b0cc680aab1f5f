/*
 * test_num.c -- shortest round-trip number formatting.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/num.h"
#include "suites.h"

/* Formats v and checks the exact text, its length, and that it reads back as v;
 * a failure names v, so that the row at fault is found. */
static void check_format(double v, const char *want)
{
    char out[JOI_NUM_MAX];
    memset(out, 'x', sizeof out);
    size_t n = joi_num_format(v, out);
    test_check(strcmp(out, want) == 0, __FILE__, __LINE__, "%.17g: wrote \"%s\", expected \"%s\"",
               v, out, want);
    test_check(n == strlen(want), __FILE__, __LINE__, "%.17g: returned %zu, expected %zu", v, n,
               strlen(want));
    test_check(strlen(out) == n, __FILE__, __LINE__, "%.17g: wrote %zu characters, returned %zu", v,
               strlen(out), n);
    test_check(strtod(out, NULL) == (v == 0 ? 0.0 : v), __FILE__, __LINE__,
               "%.17g: \"%s\" reads back as %.17g", v, out, strtod(out, NULL));
}

static void test_simple_decimals(void)
{
    check_format(0.1, "0.1");
    check_format(0.0503, "0.0503");
    check_format(0.0621, "0.0621");
    check_format(-1.5, "-1.5");
    check_format(12345.678, "12345.678");
    check_format(1.5e-3, "0.0015");
}

static void test_integers_without_exponent(void)
{
    check_format(100, "100");
    check_format(1000000, "1000000");
    check_format(1, "1");
    check_format(-42, "-42");
    check_format(1e15, "1000000000000000");
    check_format(9007199254740991.0, "9007199254740991");
}

static void test_zero_and_negative_zero(void)
{
    check_format(0.0, "0");
    check_format(-0.0, "0");
}

static void test_sum_needs_seventeen_digits(void)
{
    check_format(0.1 + 0.2, "0.30000000000000004");
    check_format(1.0 / 3.0, "0.3333333333333333");
    check_format(2.0 / 3.0, "0.6666666666666666");
}

static void test_exponent_forms(void)
{
    /* The C library's %g exponent form: at least two exponent digits, explicit sign. */
    check_format(1e-7, "1e-07");
    check_format(1e21, "1e+21");
    check_format(1e300, "1e+300");
    check_format(5e-324, "5e-324");
    check_format(1.7976931348623157e308, "1.7976931348623157e+308");
    check_format(-2.2250738585072014e-308, "-2.2250738585072014e-308");
    /* Integral but beyond 2^53: written in exponent form with the fewest digits. */
    check_format(1e16, "1e+16");
    check_format(123456789012345678.0, "1.2345678901234568e+17");
}

static void test_longest_output_fits(void)
{
    char out[JOI_NUM_MAX];
    size_t n = joi_num_format(-2.2250738585072014e-308, out);
    CU_ASSERT_EQUAL(n, 24);
    CU_ASSERT(n < JOI_NUM_MAX);
}

/* The shortest form by brute force: the first precision from 1 up that reads back. */
static void reference(double v, char *out)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(out, JOI_NUM_MAX, "%.*g", p, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void test_against_reference(void)
{
    unsigned seed = 1;
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        double v = i % 2 ? (double)(seed % 1000000) / 10000.0 + 1e-9 * (seed % 7)
                         : (double)seed / (double)(seed % 977 + 3);
        char a[JOI_NUM_MAX], b[JOI_NUM_MAX];
        if (v == (double)(long long)v)
            continue;
        joi_num_format(v, a);
        reference(v, b);
        mismatches += strcmp(a, b) != 0;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* Doubles from random bit patterns: every exponent, both signs (subnormal ones
 * included). */
static void test_against_reference_any_exponent(void)
{
    unsigned long long seed = 88172645463325252ULL;
    int mismatches = 0, tried = 0;
    for (int i = 0; i < 200000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        double v;
        memcpy(&v, &seed, sizeof v);
        if (!isfinite(v) || v == 0 || v == floor(v))
            continue;
        char a[JOI_NUM_MAX], b[JOI_NUM_MAX];
        joi_num_format(v, a);
        reference(v, b);
        mismatches += strcmp(a, b) != 0;
        tried++;
    }
    CU_ASSERT(tried > 50000); /* half the patterns are integers (exponent >= 52) */
    CU_ASSERT_EQUAL(mismatches, 0);
}

/* Values near powers of ten, where rounding carries into a new digit, and sums
 * and products as pricing makes them. */
static void test_against_reference_carries(void)
{
    int mismatches = 0;
    for (int e = -20; e <= 20; e++) {
        double base = pow(10, e);
        double v = base;
        for (int k = 0; k < 40; k++) {
            v = nextafter(v, 0);
            double w = nextafter(base, INFINITY);
            for (int j = 0; j < k; j++)
                w = nextafter(w, INFINITY);
            double vals[] = {v, w, -v, 9.5 * base, 0.95 * base, 9.99999999999999 * base};
            for (size_t q = 0; q < sizeof vals / sizeof vals[0]; q++) {
                if (vals[q] == floor(vals[q]))
                    continue;
                char a[JOI_NUM_MAX], b[JOI_NUM_MAX];
                joi_num_format(vals[q], a);
                reference(vals[q], b);
                mismatches += strcmp(a, b) != 0;
            }
        }
    }
    double acc = 0;
    for (int i = 1; i <= 20000; i++) {
        acc += 0.1 * i / 7.0;
        double vals[] = {acc, acc * 0.2875, acc / 3600};
        for (size_t q = 0; q < 3; q++) {
            if (vals[q] == floor(vals[q])) /* integers are written plainly, not as %g */
                continue;
            char a[JOI_NUM_MAX], b[JOI_NUM_MAX];
            joi_num_format(vals[q], a);
            reference(vals[q], b);
            mismatches += strcmp(a, b) != 0;
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_subnormal(void)
{
    char out[JOI_NUM_MAX];
    joi_num_format(7.0579299672935e-310, out);
    CU_ASSERT_STRING_EQUAL(out, "7.0579299672935e-310");
    joi_num_format(5e-324, out);
    CU_ASSERT_STRING_EQUAL(out, "5e-324");
}

static void test_parse_like_strtod(void)
{
    unsigned seed = 3;
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245u + 12345u;
        char text[JOI_NUM_MAX];
        int k = (int)(seed % 12);
        snprintf(text, sizeof text, "%.*f", k, (double)(seed >> 3) / (double)(seed % 1000 + 1));
        double a = -1, b = strtod(text, NULL);
        mismatches += joi_num_parse(text, strlen(text), &a) != 0 || memcmp(&a, &b, sizeof a) != 0;
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    double v;
    CU_ASSERT_EQUAL(joi_num_parse("1e-7", 4, &v), 0);
    CU_ASSERT_EQUAL(v, 1e-7);
    CU_ASSERT_EQUAL(joi_num_parse("0.30000000000000004", 19, &v), 0);
    CU_ASSERT_EQUAL(v, 0.1 + 0.2);
    CU_ASSERT_EQUAL(joi_num_parse("12x", 3, &v), -1);
    CU_ASSERT_EQUAL(joi_num_parse("", 0, &v), -1);
}

void add_num_suite(void)
{
    static const struct test_case tests[] = {
        {"shortest, against a search from one digit", test_against_reference},
        {"shortest, against the search, random bit patterns", test_against_reference_any_exponent},
        {"shortest, against the search, near powers of ten and in sums",
         test_against_reference_carries},
        {"subnormal numbers", test_subnormal},
        {"parsing reads the same double as strtod", test_parse_like_strtod},
        {"simple decimals", test_simple_decimals},
        {"integers without exponent", test_integers_without_exponent},
        {"zero and negative zero", test_zero_and_negative_zero},
        {"0.1 + 0.2 needs 17 digits", test_sum_needs_seventeen_digits},
        {"exponent forms", test_exponent_forms},
        {"longest output fits", test_longest_output_fits},
        {NULL, NULL},
    };
    test_add_suite("num", tests);
}
