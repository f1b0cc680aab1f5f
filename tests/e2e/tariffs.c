/*
 * tariffs.c -- time-of-use windows, plan time zones, standing charges, gaps and
 * usage buckets through the real service, with a plans file loaded by joi-admin
 * while the workers run.  Every expected value is worked out in the comments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* Monday 2026-06-15 in London is BST (UTC+1): 16:00 local is 15:00 UTC. */
#define T1430 1781533800 /* 14:30 UTC */
#define T1530 1781537400 /* 15:30 UTC */
#define T1830 1781548200 /* 18:30 UTC */

/* The number at path in doc is v (to 1e-12). */
static void expect_number(struct json_object *doc, const char *path, double v, unsigned line)
{
    const char *text = e2e_json_at(doc, path);
    double got = text ? strtod(text, NULL) : NAN;
    e2e_check(text && fabs(got - v) <= 1e-12 * (fabs(v) + 1), __FILE__, line,
              "%s is %s, expected %.17g", path, text ? text : "(absent)", v);
}

static void test_windows_zones_standing_gaps(void)
{
    char meter[E2E_ID_SIZE];
    e2e_meter(meter, "tou");
    char *plans = e2e_strf(
        "{\"timezone\":\"Europe/London\",\"maxGapSeconds\":7200,\"pricePlans\":["
        "{\"id\":\"flat\",\"supplier\":\"F\",\"unitRate\":1,\"standingCharge\":1.5},"
        "{\"id\":\"peak\",\"supplier\":\"P\",\"unitRate\":1,\"peakTimeMultipliers\":["
        "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],"
        "\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2},"
        "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5}]},"
        "{\"id\":\"e7\",\"supplier\":\"E\",\"unitRate\":1,\"timezone\":\"UTC\","
        "\"peakTimeMultipliers\":[{\"from\":\"00:30\",\"to\":\"07:30\",\"multiplier\":0.4}]}],"
        "\"accounts\":{\"%s\":\"flat\"}}",
        meter);
    e2e_plans_load(plans, "tariffs-plans.json");
    free(plans);
    char *readings = e2e_strf("{\"time\":%d,\"reading\":2},{\"time\":%d,\"reading\":4},"
                              "{\"time\":%d,\"reading\":1}",
                              T1430, T1530, T1830);
    STORE_OK(meter, readings);
    free(readings);

    /* 14:30-15:30 UTC: 3 kWh, 3 kW at 15:00 UTC (16:00 London): 1.25 kWh before the
     * window at x1, 1.75 kWh in it at x2 -> peak 4.75.  15:30-18:30 is longer than
     * maxGapSeconds: a gap, no energy.  flat: 3 kWh + 1.5 a day for 4 hours = 3.25.
     * e7 (00:30-07:30 UTC) does not apply: 3. */
    char *path = e2e_strf("/price-plans/compare-all/%s", meter);
    struct http_response r;
    http_get(path, &r);
    EXPECT_STATUS(&r, 200);
    struct json_object *doc = e2e_json(&r);
    EXPECT_AT(doc, "/pricePlanId", "\"flat\"");
    expect_number(doc, "/pricePlanComparisons/0/e7", 3, __LINE__);
    expect_number(doc, "/pricePlanComparisons/1/flat", 3.25, __LINE__);
    expect_number(doc, "/pricePlanComparisons/2/peak", 4.75, __LINE__);
    EXPECT_AT(doc, "/usage/from", "1781533800");
    EXPECT_AT(doc, "/usage/to", "1781548200");
    EXPECT_AT(doc, "/usage/kWh", "3");
    EXPECT_AT(doc, "/usage/coveredSeconds", "3600");
    EXPECT_AT(doc, "/usage/gaps", "1");
    json_object_put(doc);
    http_response_free(&r);
    free(path);

    /* Only the first two readings: standing charge for one hour. */
    path = e2e_strf("/price-plans/compare-all/%s?from=%d&to=%d", meter, T1430, T1530);
    http_get(path, &r);
    EXPECT_STATUS(&r, 200);
    doc = e2e_json(&r);
    expect_number(doc, "/pricePlanComparisons/0/e7", 3, __LINE__);
    expect_number(doc, "/pricePlanComparisons/1/flat", 3.0625, __LINE__);
    expect_number(doc, "/pricePlanComparisons/2/peak", 4.75, __LINE__);
    EXPECT_AT(doc, "/usage/gaps", "0");
    json_object_put(doc);
    http_response_free(&r);
    free(path);

    /* Savings against the current plan (flat, 3.25). */
    path = e2e_strf("/price-plans/recommend/%s?include=savings&limit=2", meter);
    http_get(path, &r);
    EXPECT_STATUS(&r, 200);
    doc = e2e_json(&r);
    EXPECT_AT(doc, "/0/pricePlanId", "\"e7\"");
    expect_number(doc, "/0/savingVsCurrent", 0.25, __LINE__);
    EXPECT_AT(doc, "/1/pricePlanId", "\"flat\"");
    expect_number(doc, "/1/savingVsCurrent", 0, __LINE__);
    EXPECT(json_object_array_length(doc) == 2, "limit=2: %s", r.body);
    json_object_put(doc);
    http_response_free(&r);
    free(path);

    /* The plans as loaded, with their rules and zones. */
    http_get("/price-plans", &r);
    EXPECT_STATUS(&r, 200);
    doc = e2e_json(&r);
    EXPECT_AT(doc, "/0/id", "\"e7\"");
    EXPECT_AT(doc, "/0/timezone", "\"UTC\"");
    EXPECT_AT(doc, "/0/peakTimeMultipliers/0/from", "\"00:30\"");
    EXPECT_AT(doc, "/0/peakTimeMultipliers/0/to", "\"07:30\"");
    EXPECT_AT(doc, "/0/peakTimeMultipliers/0/multiplier", "0.4");
    EXPECT_AT(doc, "/1/id", "\"flat\"");
    EXPECT_AT(doc, "/1/standingCharge", "1.5");
    EXPECT_AT(doc, "/1/timezone", "\"Europe/London\"");
    EXPECT_AT(doc, "/2/peakTimeMultipliers/0/days",
              "[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"]");
    EXPECT_AT(doc, "/2/peakTimeMultipliers/0/from", "\"16:00\"");
    EXPECT_AT(doc, "/2/peakTimeMultipliers/0/to", "\"19:00\"");
    EXPECT_AT(doc, "/2/peakTimeMultipliers/1/to", "\"07:30\"");
    json_object_put(doc);
    http_response_free(&r);
    e2e_plans_restore();
}

/* A constant 1 kW, read every hour from Saturday 2026-03-28 00:00 to Monday
 * 2026-03-30 00:00 London time: the clocks go forward on Sunday, so Sunday has 23
 * hours and 23 kWh. */
static void test_usage_buckets_across_clock_change(void)
{
    char meter[E2E_ID_SIZE];
    e2e_meter(meter, "usage");
    e2e_plans_load("{\"timezone\":\"Europe/London\",\"pricePlans\":"
                   "[{\"id\":\"p\",\"supplier\":\"s\",\"unitRate\":1}]}",
                   "tariffs-plans.json");
    char readings[8192] = "";
    for (long t = 1774656000; t <= 1774825200; t += 3600) {
        size_t len = strlen(readings);
        snprintf(readings + len, sizeof readings - len, "%s{\"time\":%ld,\"reading\":1}",
                 len ? "," : "", t);
    }
    STORE_OK(meter, readings);
    struct http_response r;
    char *path = e2e_strf("/readings/usage/%s?period=day", meter);
    http_get(path, &r);
    EXPECT_JSON(&r, 200,
                "[{\"start\":1774656000,\"end\":1774742400,\"kWh\":24},"
                "{\"start\":1774742400,\"end\":1774825200,\"kWh\":23}]");
    http_response_free(&r);
    free(path);
    /* Weeks start on Monday (2026-03-23, still GMT); months on the 1st. */
    path = e2e_strf("/readings/usage/%s?period=week", meter);
    http_get(path, &r);
    EXPECT_JSON(&r, 200, "[{\"start\":1774224000,\"end\":1774825200,\"kWh\":47}]");
    http_response_free(&r);
    free(path);
    path = e2e_strf("/readings/usage/%s?period=month", meter);
    http_get(path, &r);
    EXPECT_JSON(&r, 200, "[{\"start\":1772323200,\"end\":1774998000,\"kWh\":47}]");
    http_response_free(&r);
    free(path);
    /* Hours: 47 of them, 1 kWh each; a range of readings keeps only its hours. */
    path = e2e_strf("/readings/usage/%s?period=hour", meter);
    http_get(path, &r);
    struct json_object *doc = e2e_json(&r);
    EXPECT(doc && json_object_array_length(doc) == 47, "47 hours: %.200s", r.body);
    EXPECT_AT(doc, "/46/kWh", "1");
    json_object_put(doc);
    http_response_free(&r);
    free(path);
    path = e2e_strf("/readings/usage/%s?period=hour&from=1774656000&to=1774663200", meter);
    http_get(path, &r);
    EXPECT_JSON(&r, 200,
                "[{\"start\":1774656000,\"end\":1774659600,\"kWh\":1},"
                "{\"start\":1774659600,\"end\":1774663200,\"kWh\":1}]");
    http_response_free(&r);
    free(path);
    path = e2e_strf("/readings/usage/%s?period=fortnight", meter);
    http_get(path, &r);
    EXPECT_PROBLEM(&r, 400, NULL, "period");
    http_response_free(&r);
    free(path);
    e2e_plans_restore();
}

int e2e_suite_tariffs(void)
{
    static CU_TestInfo tests[] = {
        {"windows, plan zones, standing charges and gaps", test_windows_zones_standing_gaps},
        {"usage buckets across a clock change", test_usage_buckets_across_clock_change},
        CU_TEST_INFO_NULL,
    };
    return e2e_add_suite("tariffs", tests);
}
