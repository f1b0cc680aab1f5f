/*
 * bounds.c -- the per-request bounds through the real service: past each, a
 * 422 whose detail says how to narrow the request; at it, the full answer.
 * (The bound on the readings one request reads needs a million readings: that
 * case is in tests/e2e/pathological_test.sh, which runs once per make test.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define T_99_YEARS 3124224000LL /* 2069-01-01T00:00:00Z */

#define PROBLEM_422(detail)                                                                        \
    "{\"type\":\"about:blank\",\"title\":\"Unprocessable "                                         \
    "Content\",\"status\":422,\"detail\":\"" detail "\"}"

static void get(const char *route, const char *meter, const char *query, struct http_response *r)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s%s", route, meter, query);
    http_get(path, r);
}

/* Expects GET route+meter+query to answer exactly status, type and body. */
static void expect_exact(const char *route, const char *meter, const char *query, long status,
                         const char *type, const char *body, unsigned line)
{
    struct http_response r;
    get(route, meter, query, &r);
    e2e_check(r.status == status, __FILE__, line, "GET %s<meter>%s: status %ld, expected %ld",
              route, query, r.status, status);
    e2e_expect_str("Content-Type", r.content_type, type, __FILE__, line);
    e2e_expect_str("body", r.body, body, __FILE__, line);
    http_response_free(&r);
}

#define EXPECT_422(route, meter, query, detail)                                                    \
    expect_exact((route), (meter), (query), 422, TYPE_PROBLEM, PROBLEM_422(detail), __LINE__)
#define EXPECT_200(route, meter, query, body)                                                      \
    expect_exact((route), (meter), (query), 200, TYPE_JSON, (body), __LINE__)

/* The case: two readings 99 years apart.  Hour buckets are refused
 * (867841 of them); days, weeks and months are answered; prices are flat. */
static void test_usage_over_99_years(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "bounds-99y");
    STORE_OK(m, "{\"time\":0,\"reading\":1},{\"time\":3124224000,\"reading\":1}");
    EXPECT_422("/readings/usage/", m, "?period=hour",
               "usage by hour over this range would be 867841 buckets; at most 100000 are "
               "answered: narrow from/to or choose a longer period");
    /* 36160 days of 24 kWh each (the plans file's zone is UTC). */
    size_t cap = 36160 * 64 + 16, len = 0;
    char *days = malloc(cap);
    len += (size_t)snprintf(days + len, cap - len, "[");
    for (long long d = 0; d < T_99_YEARS / 86400; d++)
        len += (size_t)snprintf(days + len, cap - len, "%s{\"start\":%lld,\"end\":%lld,\"kWh\":24}",
                                d ? "," : "", d * 86400, (d + 1) * 86400);
    snprintf(days + len, cap - len, "]");
    EXPECT_200("/readings/usage/", m, "?period=day", days);
    EXPECT_200("/readings/usage/", m, "", days);
    free(days);
    struct http_response r;
    get("/readings/usage/", m, "?period=month", &r);
    EXPECT_STATUS(&r, 200);
    struct json_object *doc = e2e_json(&r);
    EXPECT(doc && json_object_array_length(doc) == 99 * 12, "99 * 12 months: %.200s", r.body);
    EXPECT_AT(doc, "/0", "{\"start\":0,\"end\":2678400,\"kWh\":744}");
    EXPECT_AT(doc, "/1187", "{\"start\":3121545600,\"end\":3124224000,\"kWh\":744}");
    json_object_put(doc);
    http_response_free(&r);
    get("/readings/usage/", m, "?period=week", &r);
    EXPECT_STATUS(&r, 200);
    doc = e2e_json(&r);
    EXPECT(doc && json_object_array_length(doc) == 5167, "5167 weeks: %.200s", r.body);
    EXPECT_AT(doc, "/0", "{\"start\":-259200,\"end\":345600,\"kWh\":96}");
    json_object_put(doc);
    http_response_free(&r);
    EXPECT_200("/price-plans/compare-all/", m, "",
               "{\"pricePlanId\":null,\"pricePlanComparisons\":[{\"price-plan-2\":867840},"
               "{\"price-plan-1\":1735680},{\"price-plan-0\":8678400}],\"usage\":{\"from\":0,"
               "\"to\":3124224000,\"kWh\":867840,\"coveredSeconds\":3124224000,\"gaps\":0}}");
    EXPECT_200("/price-plans/recommend/", m, "?limit=1", "[{\"price-plan-2\":867840}]");
    EXPECT_200("/readings/read/", m, "",
               "[{\"time\":0,\"reading\":1},{\"time\":3124224000,\"reading\":1}]");
}

/* 100000 hour buckets are worked out and answered; 100001 are not. */
static void test_usage_at_the_bucket_bound(void)
{
    char m[E2E_ID_SIZE], over[E2E_ID_SIZE];
    e2e_meter(m, "bounds-edge");
    e2e_meter(over, "bounds-over");
    STORE_OK(m, "{\"time\":0,\"reading\":2},{\"time\":359996400,\"reading\":2}");
    STORE_OK(over, "{\"time\":0,\"reading\":2},{\"time\":360000000,\"reading\":2}");
    struct http_response r;
    get("/readings/usage/", m, "?period=hour", &r);
    EXPECT_STATUS(&r, 200);
    struct json_object *doc = e2e_json(&r);
    /* The bucket t1 starts holds nothing: 99999 are listed. */
    EXPECT(doc && json_object_array_length(doc) == 99999, "99999 hours: %.200s", r.body);
    EXPECT_AT(doc, "/99998", "{\"start\":359992800,\"end\":359996400,\"kWh\":2}");
    json_object_put(doc);
    http_response_free(&r);
    EXPECT_422("/readings/usage/", over, "?period=hour",
               "usage by hour over this range would be 100001 buckets; at most 100000 are "
               "answered: narrow from/to or choose a longer period");
    /* Narrowed with from/to, the same meter answers. */
    EXPECT_200("/readings/usage/", over, "?period=hour&from=359990000",
               "[]"); /* one reading in range: no interval */
}

/* A span of more than 100 years is neither priced nor bucketed. */
static void test_span_over_100_years(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "bounds-101y");
    /* 0 and 100 * 366 days + 1 s */
    STORE_OK(m, "{\"time\":0,\"reading\":1},{\"time\":3162240001,\"reading\":1}");
    static const char *const routes[] = {"/price-plans/compare-all/", "/price-plans/recommend/",
                                         "/readings/usage/"};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_422(routes[i], m, "",
                   "the readings span more than 100 years; choose a range with from and to");
        EXPECT_422(routes[i], m, "?from=0",
                   "the readings span more than 100 years; choose a range with from and to");
    }
    EXPECT_200("/readings/read/", m, "?from=1",
               "[{\"time\":3162240001,\"reading\":1}]"); /* reading is not bounded by span */
}

/* The same time-of-use rules on 5 plans over 99 years are 490810 windows; on 6,
 * 588972: refused, and answered once narrowed. */
static void test_tariff_window_bound(void)
{
    static const char rules[] =
        "\"peakTimeMultipliers\":["
        "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],\"from\":"
        "\"16:10\",\"to\":\"19:00\",\"multiplier\":2},"
        "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],\"from\":"
        "\"07:00\",\"to\":\"09:00\",\"multiplier\":1.5},"
        "{\"days\":[\"SATURDAY\",\"SUNDAY\"],\"from\":\"10:00\",\"to\":\"14:00\",\"multiplier\":1."
        "2},"
        "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5}]";
    char m[E2E_ID_SIZE];
    e2e_meter(m, "bounds-tou");
    STORE_OK(m, "{\"time\":0,\"reading\":1},{\"time\":60,\"reading\":1},"
                "{\"time\":3124224000,\"reading\":1},{\"time\":3124224060,\"reading\":1}");
    for (int nplans = 5; nplans <= 6; nplans++) {
        char doc[4096];
        size_t len =
            (size_t)snprintf(doc, sizeof doc, "{\"timezone\":\"Europe/London\",\"pricePlans\":[");
        for (int p = 0; p < nplans; p++)
            len +=
                (size_t)snprintf(doc + len, sizeof doc - len,
                                 "%s{\"id\":\"tou-%d\",\"unitRate\":1,%s}", p ? "," : "", p, rules);
        snprintf(doc + len, sizeof doc - len, "]}");
        e2e_plans_load(doc, "bounds-plans.json");
        struct http_response r;
        get("/price-plans/compare-all/", m, "", &r);
        if (nplans == 5) {
            EXPECT_STATUS(&r, 200);
            struct json_object *d = e2e_json(&r);
            EXPECT_AT(d, "/usage/kWh", "867840.0166666666");
            json_object_put(d);
            http_response_free(&r);
            continue;
        }
        http_response_free(&r);
        static const char *const routes[] = {"/price-plans/compare-all/",
                                             "/price-plans/recommend/"};
        for (size_t i = 0; i < 2; i++) {
            EXPECT_422(routes[i], m, "",
                       "pricing readings over 36161 days on these time-of-use plans means up to "
                       "588972 tariff windows; at most 500000 are worked out in one request: "
                       "narrow the range with from and to");
            EXPECT_422(routes[i], m, "?from=0",
                       "pricing readings over 36161 days on these time-of-use plans means up to "
                       "588972 tariff windows; at most 500000 are worked out in one request: "
                       "narrow the range with from and to");
        }
        /* The last minute alone: 1 kW for 60 s at 00:00 on a Tuesday in January
         * (GMT), in the 23:30-07:30 window at 0.5 on every plan. */
        EXPECT_200("/price-plans/recommend/", m, "?from=3124224000&limit=1",
                   "[{\"tou-0\":0.008333333333333333}]");
    }
    e2e_plans_restore();
}

int e2e_suite_bounds(void)
{
    static CU_TestInfo tests[] = {
        {"usage over 99 years", test_usage_over_99_years},
        {"usage at the bucket bound", test_usage_at_the_bucket_bound},
        {"a span over 100 years", test_span_over_100_years},
        {"the tariff window bound", test_tariff_window_bound},
        CU_TEST_INFO_NULL,
    };
    return e2e_add_suite("bounds", tests);
}
