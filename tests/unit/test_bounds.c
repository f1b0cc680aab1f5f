/*
 * test_bounds.c -- the computations behind the per-request bounds: how many
 * calendar buckets a usage request works out, and how many tariff windows
 * pricing a span works out.  Each is checked by hand and against the code that
 * does the work (the bound must never be below the real work).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/config.h"
#include "joi/price.h"
#include "suites.h"

#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)
#define T_99_YEARS INT64_C(3124224000) /* 2069-01-01T00:00:00Z, a Tuesday */

static struct joi_config *config(const char *doc)
{
    struct joi_config *c = NULL;
    struct joi_error err;
    joi_error_clear(&err);
    if (joi_config_parse(doc, strlen(doc), &c, &err) != 0)
        fprintf(stderr, "\n    plans file rejected: %s\n", err.detail);
    return c;
}

static void test_bucket_count_by_hand(void)
{
    /* Hours: from the start of t0's hour to t1's. */
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, 0, "UTC", JOI_HOUR), 1);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, HOUR - 1, "UTC", JOI_HOUR), 1);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, HOUR, "UTC", JOI_HOUR), 2);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(1800, HOUR, "UTC", JOI_HOUR), 2);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(1800, 1799, "UTC", JOI_HOUR), 0); /* t1 < t0 */
    /* Asia/Kolkata is UTC+5:30: local hours start at :30 UTC. 00:00Z is 05:30 local,
     * in the hour that started at 23:30Z; 01:00Z is in the one from 00:30Z. */
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, HOUR, "Asia/Kolkata", JOI_HOUR), 2);
    /* Two readings 99 years apart, the case: 867840 hours and the one t1
     * starts; 36160 days and one; 99 * 12 months and one. */
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, T_99_YEARS, "UTC", JOI_HOUR), 867841);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, T_99_YEARS, "UTC", JOI_DAY), 36161);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, T_99_YEARS, "UTC", JOI_MONTH), 1189);
    /* Weeks from Monday 1969-12-29 to Monday 2068-12-31: 36162 days apart, 5166
     * weeks, and the one t1 is in. */
    CU_ASSERT_EQUAL(joi_usage_bucket_count(0, T_99_YEARS, "UTC", JOI_WEEK), 5167);
    /* London days across the 23-hour Sunday 2026-03-29: Saturday 00:00 GMT to
     * Monday 00:00 BST (2026-03-29T23:00Z) is three local days. */
    CU_ASSERT_EQUAL(joi_usage_bucket_count(1774656000, 1774825200, "Europe/London", JOI_DAY), 3);
    CU_ASSERT_EQUAL(joi_usage_bucket_count(1774656000, 1774825199, "Europe/London", JOI_DAY), 2);
}

static unsigned lcg(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

/* Two readings, t0 and t1: the one interval covers every bucket the generator
 * works out, except the bucket that starts at t1 when t1 is a bucket start. */
static void test_bucket_count_matches_generator(void)
{
    static const char *const zones[] = {"UTC",
                                        "Europe/London",
                                        "Asia/Kolkata",
                                        "America/St_Johns",
                                        "Australia/Lord_Howe",
                                        "America/Sao_Paulo",
                                        "Pacific/Chatham"};
    static const enum joi_period periods[] = {JOI_HOUR, JOI_DAY, JOI_WEEK, JOI_MONTH};
    unsigned seed = 12;
    int mismatches = 0;
    for (int i = 0; i < 400; i++) {
        const char *tz = zones[i % (sizeof zones / sizeof zones[0])];
        enum joi_period period = periods[(i / 7) % 4];
        int64_t t0 = INT64_C(946684800) + (int64_t)lcg(&seed) * 60; /* 2000 .. 2032 */
        int64_t span =
            period == JOI_HOUR ? (int64_t)(lcg(&seed) % (400 * DAY)) : (int64_t)lcg(&seed) * 200;
        if (i % 5 == 0)
            span = span - span % HOUR; /* now and then on an hour */
        struct joi_reading r[2] = {{t0, 1}, {t0 + span + 1, 1}};
        struct joi_bucket *b = NULL;
        size_t nb = 0;
        CU_ASSERT_EQUAL_FATAL(joi_usage_buckets(r, 2, 0, tz, period, &b, &nb), 0);
        uint64_t count = joi_usage_bucket_count(r[0].time, r[1].time, tz, period);
        uint64_t expected = nb + (nb > 0 && b[nb - 1].end == r[1].time);
        if (count != expected && mismatches++ < 5)
            fprintf(stderr, "\n    %s %s %lld..%lld: count %llu, generator %llu", tz,
                    joi_period_name(period), (long long)r[0].time, (long long)r[1].time,
                    (unsigned long long)count, (unsigned long long)expected);
        free(b);
    }
    CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_period_names(void)
{
    CU_ASSERT_STRING_EQUAL(joi_period_name(JOI_HOUR), "hour");
    CU_ASSERT_STRING_EQUAL(joi_period_name(JOI_DAY), "day");
    CU_ASSERT_STRING_EQUAL(joi_period_name(JOI_WEEK), "week");
    CU_ASSERT_STRING_EQUAL(joi_period_name(JOI_MONTH), "month");
}

/* The time-of-use plans of the benchmark (tests/bench/plans-tou.json). */
static const char bench_tou[] =
    "{\"timezone\":\"Europe/London\",\"pricePlans\":["
    "{\"id\":\"p0\",\"unitRate\":10,\"peakTimeMultipliers\":["
    "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],\"from\":\"16:00\","
    "\"to\":\"19:00\",\"multiplier\":2},"
    "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],\"from\":\"07:00\","
    "\"to\":\"09:00\",\"multiplier\":1.5},"
    "{\"days\":[\"SATURDAY\",\"SUNDAY\"],\"from\":\"10:00\",\"to\":\"14:00\",\"multiplier\":1.2},"
    "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5}]}]}";

static void test_windows_by_hand(void)
{
    struct joi_config *flat = config("{\"pricePlans\":[{\"id\":\"a\",\"unitRate\":1},"
                                     "{\"id\":\"b\",\"unitRate\":2}]}");
    struct joi_config *wed =
        config("{\"pricePlans\":[{\"id\":\"wed\",\"unitRate\":1,"
               "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10}]}]}");
    struct joi_config *tou = config(bench_tou);
    CU_ASSERT_PTR_NOT_NULL_FATAL(flat);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wed);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tou);
    /* Plans without rules work out no windows, whatever the span. */
    CU_ASSERT_EQUAL(joi_price_windows(flat, 0, T_99_YEARS), 0);
    /* 70 days are looked at as 74 (a day before, three after: see
     * joi_schedule_tariff): 10 weeks and 4 days, so at most 11 Wednesdays. */
    CU_ASSERT_EQUAL(joi_price_windows(wed, 0, 70 * DAY), 11);
    /* A single instant still looks at 4 days. */
    CU_ASSERT_EQUAL(joi_price_windows(wed, 5 * DAY, 5 * DAY), 1);
    CU_ASSERT_EQUAL(joi_price_windows(tou, 5 * DAY, 5 * DAY), 4 + 4 + 2 + 4);
    /* The benchmark's plan over 99 years and a minute: 36164 days, 5166 weeks and 2
     * days; its rules apply on 5, 5, 2 and 7 weekdays: 5166 * 19 + 2 + 2 + 2 + 2. */
    CU_ASSERT_EQUAL(joi_price_windows(tou, 0, T_99_YEARS + 60), 98162);
    joi_config_free(flat);
    joi_config_free(wed);
    joi_config_free(tou);
}

/* The count bounds the real work: every window adds at most two bounds to a
 * schedule, so a schedule never has more than twice the windows counted. */
static void test_windows_bound_schedules(void)
{
    struct joi_config *c = config(bench_tou);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct joi_plan *p = &c->plans[0];
    unsigned seed = 5;
    for (int i = 0; i < 60; i++) {
        int64_t t0 = INT64_C(1600000000) + (int64_t)lcg(&seed) * 7;
        int64_t t1 = t0 + (int64_t)(lcg(&seed) % (3 * 365)) * DAY + lcg(&seed) % DAY;
        struct joi_schedule s;
        CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(p->rules, p->nrules, "Europe/London", t0, t1, &s),
                              0);
        uint64_t w = joi_price_windows(c, t0, t1);
        CU_ASSERT(s.nbounds <= 2 * w);
        /* and it is not far above: the rules cover every day, with at most 3 windows
         * a day, so at least one bound a day */
        CU_ASSERT(s.nbounds + 20 >= (uint64_t)((t1 - t0) / DAY));
        joi_schedule_free(&s);
    }
    joi_config_free(c);
}

void add_bounds_suite(void)
{
    static const struct test_case tests[] = {
        {"usage bucket count by hand", test_bucket_count_by_hand},
        {"usage bucket count is what the generator works out", test_bucket_count_matches_generator},
        {"period names", test_period_names},
        {"tariff windows by hand", test_windows_by_hand},
        {"tariff windows bound the schedules", test_windows_bound_schedules},
        {NULL, NULL},
    };
    test_add_suite("bounds", tests);
}
