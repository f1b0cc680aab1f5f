/*
 * test_price.c -- the cost engine: integration, tariff schedules, plan comparison.
 *
 * Every expected value is worked out by hand in the comments beside it, with the
 * trapezoid (p1 + p2) / 2 * hours per interval and the power interpolated
 * linearly where an interval is cut at a tariff boundary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joi/config.h"
#include "joi/price.h"
#include "suites.h"

#define EPS 1e-9
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

/* Midnights UTC, and the weekday of each. */
#define T_2020_11_29 INT64_C(1606608000) /* Sunday */
#define T_2024_01_01 INT64_C(1704067200) /* Monday */
#define T_2024_01_03 INT64_C(1704240000) /* Wednesday */
#define T_2024_01_06 INT64_C(1704499200) /* Saturday */
#define T_2026_01_15 INT64_C(1768435200) /* Thursday */
#define T_2026_03_28 INT64_C(1774656000) /* Saturday; London clocks go forward the next day */
#define T_2026_03_29 INT64_C(1774742400) /* Sunday, 01:00Z: GMT -> BST */
#define T_2026_06_15 INT64_C(1781481600) /* Monday */
#define T_2026_10_24 INT64_C(1792800000) /* Saturday */
#define T_2026_10_25 INT64_C(1792886400) /* Sunday, 01:00Z: BST -> GMT */

static struct joi_config *config(const char *doc)
{
    struct joi_config *c = NULL;
    struct joi_error err;
    joi_error_clear(&err);
    if (joi_config_parse(doc, strlen(doc), &c, &err) != 0) {
        fprintf(stderr, "\n    plans file rejected: %s\n", err.detail);
        return NULL;
    }
    return c;
}

/* Prices r on every plan of c; costs come back in out (c->nplans entries). */
static int compare(const struct joi_config *c, const struct joi_reading *r, size_t n,
                   struct joi_cost *out, struct joi_usage *u)
{
    memset(out, 0, c->nplans * sizeof *out);
    return joi_price_compare(c, r, n, out, u);
}

/* The cost of the plan named id after joi_price_compare, or -1 when it is missing. */
static double cost_of(const struct joi_config *c, const struct joi_cost *costs, const char *id)
{
    for (size_t i = 0; i < c->nplans; i++)
        if (costs[i].plan != NULL && strcmp(costs[i].plan->id, id) == 0)
            return costs[i].cost;
    return -1;
}

#define NR(a) (sizeof(a) / sizeof((a)[0]))

static const char default_plans[] =
    "{\"timezone\":\"UTC\",\"pricePlans\":["
    "{\"id\":\"price-plan-0\",\"supplier\":\"Dr Evil's Dark Energy\",\"unitRate\":10,"
    "\"peakTimeMultipliers\":[]},"
    "{\"id\":\"price-plan-1\",\"supplier\":\"The Green Eco\",\"unitRate\":2,"
    "\"peakTimeMultipliers\":[]},"
    "{\"id\":\"price-plan-2\",\"supplier\":\"Power for Everyone\",\"unitRate\":1,"
    "\"peakTimeMultipliers\":[]}]}";

/* ------------------------------------------------------------------------ */

static void test_worked_example(void)
{
    struct joi_config *c = config(default_plans);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* 35 kW at 10:30, 5 kW at 11:00: (35 + 5) / 2 * 0.5 h = 10 kWh. */
    const struct joi_reading r[] = {{T_2020_11_29 + 10 * HOUR + 1800, 35.0},
                                    {T_2020_11_29 + 11 * HOUR, 5.0}};
    struct joi_cost costs[3];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, &u), 0);
    CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "price-plan-2");
    CU_ASSERT(costs[0].cost == 10.0);
    CU_ASSERT_STRING_EQUAL(costs[1].plan->id, "price-plan-1");
    CU_ASSERT(costs[1].cost == 20.0);
    CU_ASSERT_STRING_EQUAL(costs[2].plan->id, "price-plan-0");
    CU_ASSERT(costs[2].cost == 100.0);
    CU_ASSERT(u.kwh == 10.0);
    CU_ASSERT_EQUAL(u.from, INT64_C(1606645800));
    CU_ASSERT_EQUAL(u.to, INT64_C(1606647600));
    CU_ASSERT_EQUAL(u.covered, 1800);
    CU_ASSERT_EQUAL(u.gaps, 0);

    /* Any date gives the same: 2024-01-03 (a Wednesday), and 1970-01-01. */
    const struct joi_reading w[] = {{T_2024_01_03 + 10 * HOUR + 1800, 35.0},
                                    {T_2024_01_03 + 11 * HOUR, 5.0}};
    CU_ASSERT_EQUAL_FATAL(compare(c, w, 2, costs, NULL), 0);
    CU_ASSERT(costs[0].cost == 10.0 && costs[1].cost == 20.0 && costs[2].cost == 100.0);
    const struct joi_reading e[] = {{10 * HOUR + 1800, 35.0}, {11 * HOUR, 5.0}};
    CU_ASSERT_EQUAL_FATAL(compare(c, e, 2, costs, NULL), 0);
    CU_ASSERT(costs[0].cost == 10.0 && costs[1].cost == 20.0 && costs[2].cost == 100.0);
    joi_config_free(c);
}

static void test_contract_wednesday_example(void)
{
    /* The contract's example file: price-plan-0 costs ten times as much on Wednesdays. */
    struct joi_config *c =
        config("{\"timezone\":\"UTC\",\"pricePlans\":["
               "{\"id\":\"price-plan-0\",\"unitRate\":10,"
               "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10}]},"
               "{\"id\":\"price-plan-1\",\"unitRate\":2,\"peakTimeMultipliers\":[]},"
               "{\"id\":\"price-plan-2\",\"unitRate\":1,\"peakTimeMultipliers\":[]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    struct joi_cost costs[3];
    const struct joi_reading wed[] = {{T_2024_01_03 + 10 * HOUR + 1800, 35.0},
                                      {T_2024_01_03 + 11 * HOUR, 5.0}};
    CU_ASSERT_EQUAL_FATAL(compare(c, wed, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "price-plan-0"), 1000.0, EPS);
    CU_ASSERT_STRING_EQUAL(costs[2].plan->id, "price-plan-0");
    const struct joi_reading sun[] = {{T_2020_11_29 + 10 * HOUR + 1800, 35.0},
                                      {T_2020_11_29 + 11 * HOUR, 5.0}};
    CU_ASSERT_EQUAL_FATAL(compare(c, sun, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "price-plan-0"), 100.0, EPS);
    joi_config_free(c);
}

static void test_ties_by_id(void)
{
    struct joi_config *c = config("{\"pricePlans\":[{\"id\":\"b\",\"unitRate\":1},"
                                  "{\"id\":\"zero\",\"unitRate\":0},{\"id\":\"c\",\"unitRate\":2},"
                                  "{\"id\":\"a\",\"unitRate\":1},{\"id\":\"B\",\"unitRate\":1}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* 2 kW for an hour: 2 kWh. */
    const struct joi_reading r[] = {{1000, 2.0}, {1000 + HOUR, 2.0}};
    struct joi_cost costs[5];
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, NULL), 0);
    const char *order[] = {"zero", "B", "a", "b", "c"};
    const double want[] = {0, 2, 2, 2, 4};
    for (size_t i = 0; i < 5; i++) {
        CU_ASSERT_STRING_EQUAL(costs[i].plan->id, order[i]);
        CU_ASSERT(costs[i].cost == want[i]);
    }
    joi_config_free(c);
}

/* ------------------------------------------------------------------------ */

static void test_integrate_no_schedule(void)
{
    /* 0 -> 2 kW over 1 h: 1 kWh; 2 kW for 0.5 h: 1 kWh; 2 -> 0 kW over 1 h: 1 kWh. */
    const struct joi_reading r[] = {{0, 0}, {3600, 2}, {5400, 2}, {9000, 0}};
    double kwh = 0;
    struct joi_usage u;
    joi_price_integrate(r, NR(r), 0, NULL, &kwh, &u);
    CU_ASSERT_DOUBLE_EQUAL(kwh, 3.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 3.0, EPS);
    CU_ASSERT_EQUAL(u.from, 0);
    CU_ASSERT_EQUAL(u.to, 9000);
    CU_ASSERT_EQUAL(u.covered, 9000);
    CU_ASSERT_EQUAL(u.gaps, 0);

    /* A minute at 0.0503 -> 0.0621 kW: (0.0503 + 0.0621) / 2 / 60 kWh. */
    const struct joi_reading m[] = {{1606636800, 0.0503}, {1606636860, 0.0621}};
    kwh = 0;
    joi_price_integrate(m, 2, 0, NULL, &kwh, NULL);
    CU_ASSERT_DOUBLE_EQUAL(kwh, 0.1124 / 120, 1e-15);

    /* One reading or none: no energy. */
    kwh = 0;
    joi_price_integrate(r, 1, 0, NULL, &kwh, &u);
    CU_ASSERT(kwh == 0.0);
    CU_ASSERT(u.kwh == 0.0);
    CU_ASSERT_EQUAL(u.from, 0);
    CU_ASSERT_EQUAL(u.to, 0);
    CU_ASSERT_EQUAL(u.covered, 0);
    joi_price_integrate(m, 1, 0, NULL, &kwh, &u);
    CU_ASSERT_EQUAL(u.from, 1606636800);
    CU_ASSERT_EQUAL(u.to, 1606636800);
    joi_price_integrate(NULL, 0, 0, NULL, &kwh, &u);
    CU_ASSERT(u.kwh == 0.0);
    CU_ASSERT_EQUAL(u.from, 0);
    CU_ASSERT_EQUAL(u.to, 0);
}

static void test_integrate_split_at_bounds(void)
{
    int64_t bounds[] = {1800, 5400};
    double values[] = {1, 1, 1};
    struct joi_schedule s = {bounds, values, 2};
    /* 0 -> 8 kW over 2 h, cut at 0.5 h (2 kW) and 1.5 h (6 kW):
     * (0 + 2) / 2 * 0.5 = 0.5, (2 + 6) / 2 * 1 = 4, (6 + 8) / 2 * 0.5 = 3.5. */
    const struct joi_reading r[] = {{0, 0}, {7200, 8}};
    double kwh[3] = {0, 0, 0};
    struct joi_usage u;
    joi_price_integrate(r, 2, 0, &s, kwh, &u);
    CU_ASSERT_DOUBLE_EQUAL(kwh[0], 0.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(kwh[1], 4.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(kwh[2], 3.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 8.0, EPS);

    /* 0 -> 4 kW over 1 h then 4 kW for 1 h:
     * [0, 1800): (0 + 2) / 2 * 0.5 = 0.5; [1800, 3600): (2 + 4) / 2 * 0.5 = 1.5;
     * [3600, 5400): 4 * 0.5 = 2; [5400, 7200): 4 * 0.5 = 2. */
    const struct joi_reading q[] = {{0, 0}, {3600, 4}, {7200, 4}};
    double k2[3] = {0, 0, 0};
    joi_price_integrate(q, 3, 0, &s, k2, NULL);
    CU_ASSERT_DOUBLE_EQUAL(k2[0], 0.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(k2[1], 3.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(k2[2], 2.0, EPS);

    /* Readings exactly on the boundaries: nothing to split. */
    const struct joi_reading b[] = {{0, 1}, {1800, 1}, {5400, 3}, {9000, 3}};
    double k3[3] = {0, 0, 0};
    joi_price_integrate(b, 4, 0, &s, k3, NULL);
    CU_ASSERT_DOUBLE_EQUAL(k3[0], 0.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(k3[1], 2.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(k3[2], 3.0, EPS);

    /* Readings entirely after the last boundary, and entirely before the first. */
    const struct joi_reading late[] = {{6000, 2}, {9600, 2}};
    double k4[3] = {0, 0, 0};
    joi_price_integrate(late, 2, 0, &s, k4, NULL);
    CU_ASSERT(k4[0] == 0.0 && k4[1] == 0.0);
    CU_ASSERT_DOUBLE_EQUAL(k4[2], 2.0, EPS);
    const struct joi_reading early[] = {{-3600, 2}, {0, 2}};
    double k5[3] = {0, 0, 0};
    joi_price_integrate(early, 2, 0, &s, k5, NULL);
    CU_ASSERT_DOUBLE_EQUAL(k5[0], 2.0, EPS);
    CU_ASSERT(k5[1] == 0.0 && k5[2] == 0.0);
}

static void test_integrate_max_gap(void)
{
    /* 1800 s counted (0.5 kWh), a 7200 s gap excluded, 3600 s (== max gap) counted:
     * (3 + 1) / 2 * 1 = 2 kWh. */
    const struct joi_reading r[] = {{0, 1}, {1800, 1}, {9000, 3}, {12600, 1}};
    double kwh = 0;
    struct joi_usage u;
    joi_price_integrate(r, 4, 3600, NULL, &kwh, &u);
    CU_ASSERT_DOUBLE_EQUAL(kwh, 2.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 2.5, EPS);
    CU_ASSERT_EQUAL(u.covered, 5400);
    CU_ASSERT_EQUAL(u.gaps, 1);
    CU_ASSERT_EQUAL(u.from, 0);
    CU_ASSERT_EQUAL(u.to, 12600);
    /* Without a limit the gap counts: 0.5 + (1 + 3) / 2 * 2 + 2 = 6.5. */
    kwh = 0;
    joi_price_integrate(r, 4, 0, NULL, &kwh, &u);
    CU_ASSERT_DOUBLE_EQUAL(kwh, 6.5, EPS);
    CU_ASSERT_EQUAL(u.covered, 12600);
    CU_ASSERT_EQUAL(u.gaps, 0);
    /* A limit below every interval excludes them all. */
    kwh = 0;
    joi_price_integrate(r, 4, 1799, NULL, &kwh, &u);
    CU_ASSERT(kwh == 0.0);
    CU_ASSERT_EQUAL(u.covered, 0);
    CU_ASSERT_EQUAL(u.gaps, 3);
}

static void test_max_gap_in_compare(void)
{
    struct joi_config *c = config("{\"maxGapSeconds\":3600,\"pricePlans\":["
                                  "{\"id\":\"p\",\"unitRate\":2,\"standingCharge\":0}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct joi_reading r[] = {{0, 1}, {1800, 1}, {9000, 3}, {12600, 1}};
    struct joi_cost costs[1];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 4, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 5.0, EPS); /* 2.5 kWh * 2 */
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 2.5, EPS);
    CU_ASSERT_EQUAL(u.covered, 5400);
    CU_ASSERT_EQUAL(u.gaps, 1);
    joi_config_free(c);
}

/* ------------------------------------------------------------------------ */

static void test_schedule_no_rules(void)
{
    struct joi_schedule s;
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(NULL, 0, "Europe/London", 0, DAY, &s), 0);
    CU_ASSERT_EQUAL(s.nbounds, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.values);
    CU_ASSERT(s.values[0] == 1.0);
    joi_schedule_free(&s);
    CU_ASSERT_PTR_NULL(s.values);
    joi_schedule_free(NULL);
}

static void test_wednesday_across_midnight(void)
{
    struct joi_config *c =
        config("{\"timezone\":\"UTC\",\"pricePlans\":[{\"id\":\"wed\",\"unitRate\":1,"
               "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10}]},"
               "{\"id\":\"flat\",\"unitRate\":1}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct joi_plan *wed = &c->plans[1];
    CU_ASSERT_STRING_EQUAL_FATAL(wed->id, "wed");

    /* Tuesday 23:30 at 2 kW to Wednesday 01:00 at 8 kW (5400 s).  At midnight,
     * 1800 s in, the power is 2 + 6 * 1800 / 5400 = 4 kW.
     * Tuesday:   (2 + 4) / 2 * 0.5 h = 1.5 kWh at x1  =  1.5
     * Wednesday: (4 + 8) / 2 * 1 h   = 6   kWh at x10 = 60   -> 61.5 */
    const int64_t t0 = T_2024_01_03 - 1800, t1 = T_2024_01_03 + HOUR;
    struct joi_schedule s;
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(wed->rules, wed->nrules, "UTC", t0, t1, &s), 0);
    CU_ASSERT_EQUAL_FATAL(s.nbounds, 1);
    CU_ASSERT_EQUAL(s.bounds[0], T_2024_01_03);
    CU_ASSERT(s.values[0] == 1.0);
    CU_ASSERT(s.values[1] == 10.0);
    const struct joi_reading r[] = {{t0, 2}, {t1, 8}};
    double kwh[2] = {0, 0};
    joi_price_integrate(r, 2, 0, &s, kwh, NULL);
    CU_ASSERT_DOUBLE_EQUAL(kwh[0], 1.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(kwh[1], 6.0, EPS);
    joi_schedule_free(&s);

    struct joi_cost costs[2];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, &u), 0);
    CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "flat");
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 7.5, EPS);
    CU_ASSERT_STRING_EQUAL(costs[1].plan->id, "wed");
    CU_ASSERT_DOUBLE_EQUAL(costs[1].cost, 61.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 7.5, EPS);

    /* On to Thursday 00:30 at a steady 8 kW: Wednesday 01:00-24:00 is 23 h * 8 = 184 kWh at
     * x10 = 1840, Thursday 00:00-00:30 is 4 kWh at x1: 61.5 + 1840 + 4 = 1905.5. */
    const int64_t t2 = T_2024_01_03 + DAY + 1800;
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(wed->rules, wed->nrules, "UTC", t0, t2, &s), 0);
    CU_ASSERT_EQUAL_FATAL(s.nbounds, 2);
    CU_ASSERT_EQUAL(s.bounds[0], T_2024_01_03);
    CU_ASSERT_EQUAL(s.bounds[1], T_2024_01_03 + DAY);
    CU_ASSERT(s.values[0] == 1.0 && s.values[1] == 10.0 && s.values[2] == 1.0);
    joi_schedule_free(&s);
    const struct joi_reading r3[] = {{t0, 2}, {t1, 8}, {t2, 8}};
    CU_ASSERT_EQUAL_FATAL(compare(c, r3, 3, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "wed"), 1905.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "flat"), 195.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 195.5, EPS);
    joi_config_free(c);
}

static void test_evening_window_crossed_mid_interval(void)
{
    struct joi_config *c = config("{\"pricePlans\":[{\"id\":\"peak\",\"unitRate\":3,"
                                  "\"peakTimeMultipliers\":[{\"from\":\"16:00\",\"to\":\"19:00\","
                                  "\"multiplier\":2}]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* 15:00 0 kW, 17:00 4 kW, 20:00 4 kW on 2024-01-01 (UTC).
     * 15-16: (0 + 2) / 2 = 1 kWh x1 = 1;  16-17: (2 + 4) / 2 = 3 kWh x2 = 6;
     * 17-19: 8 kWh x2 = 16;               19-20: 4 kWh x1 = 4;
     * 16 kWh, 27 at unit price; the rate is 3: 81. */
    const int64_t d = T_2024_01_01;
    const struct joi_reading r[] = {{d + 15 * HOUR, 0}, {d + 17 * HOUR, 4}, {d + 20 * HOUR, 4}};
    struct joi_schedule s;
    const struct joi_plan *p = &c->plans[0];
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(p->rules, p->nrules, "UTC", r[0].time, r[2].time, &s),
                          0);
    CU_ASSERT_EQUAL_FATAL(s.nbounds, 2);
    CU_ASSERT_EQUAL(s.bounds[0], d + 16 * HOUR);
    CU_ASSERT_EQUAL(s.bounds[1], d + 19 * HOUR);
    CU_ASSERT(s.values[0] == 1.0 && s.values[1] == 2.0 && s.values[2] == 1.0);
    joi_schedule_free(&s);
    struct joi_cost costs[1];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 3, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 81.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 16.0, EPS);
    joi_config_free(c);
}

static void test_window_past_midnight(void)
{
    /* 23:30-07:30 windows: Friday's runs into Saturday morning; Saturday's starts on
     * Saturday evening. */
    struct joi_config *c =
        config("{\"pricePlans\":["
               "{\"id\":\"fri\",\"unitRate\":1,\"peakTimeMultipliers\":[{\"days\":[\"FRIDAY\"],"
               "\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":3}]},"
               "{\"id\":\"sat\",\"unitRate\":1,\"peakTimeMultipliers\":[{\"days\":[\"SATURDAY\"],"
               "\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":3}]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const int64_t sat = T_2024_01_06;
    struct joi_cost costs[2];

    /* Saturday 00:30-01:30 at 1 kW: 1 kWh inside Friday's window only. */
    const struct joi_reading a[] = {{sat + 1800, 1}, {sat + HOUR + 1800, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, a, 2, costs, NULL), 0);
    CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "sat");
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 1.0, EPS);
    CU_ASSERT_STRING_EQUAL(costs[1].plan->id, "fri");
    CU_ASSERT_DOUBLE_EQUAL(costs[1].cost, 3.0, EPS);

    /* Saturday 07:00-08:00: Friday's window ends at 07:30: 0.5 * 3 + 0.5 = 2. */
    const struct joi_reading b[] = {{sat + 7 * HOUR, 1}, {sat + 8 * HOUR, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, b, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "fri"), 2.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sat"), 1.0, EPS);

    /* Saturday 23:00 to Sunday 00:30: Saturday's window from 23:30: 0.5 + 1 * 3 = 3.5;
     * Friday's window does not reach it: 1.5. */
    const struct joi_reading d[] = {{sat + 23 * HOUR, 1}, {sat + DAY + 1800, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, d, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "fri"), 1.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sat"), 3.5, EPS);

    /* Friday's window seen from a span that starts inside it. */
    const struct joi_plan *fri = &c->plans[0];
    CU_ASSERT_STRING_EQUAL_FATAL(fri->id, "fri");
    struct joi_schedule s;
    CU_ASSERT_EQUAL_FATAL(
        joi_schedule_tariff(fri->rules, fri->nrules, "UTC", sat + HOUR, sat + 9 * HOUR, &s), 0);
    CU_ASSERT_EQUAL_FATAL(s.nbounds, 1);
    CU_ASSERT_EQUAL(s.bounds[0], sat + 7 * HOUR + 1800);
    CU_ASSERT(s.values[0] == 3.0 && s.values[1] == 1.0);
    joi_schedule_free(&s);
    joi_config_free(c);
}

static void test_first_matching_rule_wins(void)
{
    struct joi_config *c =
        config("{\"pricePlans\":["
               "{\"id\":\"evening-first\",\"unitRate\":1,\"peakTimeMultipliers\":["
               "{\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2},{\"multiplier\":5}]},"
               "{\"id\":\"all-day-first\",\"unitRate\":1,\"peakTimeMultipliers\":["
               "{\"multiplier\":5},{\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2}]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* 1 kW from 12:00 to 18:00: 6 kWh.
     * evening-first: 12-16 at x5 = 20, 16-18 at x2 = 4: 24.
     * all-day-first: 6 * 5 = 30. */
    const int64_t d = T_2024_01_01;
    const struct joi_reading r[] = {
        {d + 12 * HOUR, 1}, {d + 13 * HOUR, 1}, {d + 17 * HOUR, 1}, {d + 18 * HOUR, 1}};
    struct joi_cost costs[2];
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 4, costs, NULL), 0);
    CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "evening-first");
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 24.0, EPS);
    CU_ASSERT_STRING_EQUAL(costs[1].plan->id, "all-day-first");
    CU_ASSERT_DOUBLE_EQUAL(costs[1].cost, 30.0, EPS);

    struct joi_schedule s;
    const struct joi_plan *ev = &c->plans[1], *all = &c->plans[0];
    CU_ASSERT_STRING_EQUAL_FATAL(ev->id, "evening-first");
    CU_ASSERT_EQUAL_FATAL(
        joi_schedule_tariff(ev->rules, ev->nrules, "UTC", d + 12 * HOUR, d + 18 * HOUR, &s), 0);
    CU_ASSERT_EQUAL_FATAL(s.nbounds, 1);
    CU_ASSERT_EQUAL(s.bounds[0], d + 16 * HOUR);
    CU_ASSERT(s.values[0] == 5.0 && s.values[1] == 2.0);
    joi_schedule_free(&s);
    /* Segments of equal value are merged: the evening window changes nothing here. */
    CU_ASSERT_EQUAL_FATAL(
        joi_schedule_tariff(all->rules, all->nrules, "UTC", d + 12 * HOUR, d + 18 * HOUR, &s), 0);
    CU_ASSERT_EQUAL(s.nbounds, 0);
    CU_ASSERT(s.values[0] == 5.0);
    joi_schedule_free(&s);
    joi_config_free(c);
}

static void test_standing_charge(void)
{
    struct joi_config *c =
        config("{\"pricePlans\":[{\"id\":\"daily\",\"unitRate\":1,\"standingCharge\":0.5},"
               "{\"id\":\"plain\",\"unitRate\":1.1}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* 1 kW for 12 h: 12 kWh.  daily: 12 + 0.5 * 0.5 day = 12.25; plain: 13.2. */
    const struct joi_reading r[] = {{T_2024_01_01, 1}, {T_2024_01_01 + 12 * HOUR, 1}};
    struct joi_cost costs[2];
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, NULL), 0);
    CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "daily");
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 12.25, EPS);
    CU_ASSERT_STRING_EQUAL(costs[1].plan->id, "plain");
    CU_ASSERT_DOUBLE_EQUAL(costs[1].cost, 13.2, EPS);
    /* No energy over three days: only the standing charge, 3 * 0.5. */
    const struct joi_reading z[] = {{T_2024_01_01, 0}, {T_2024_01_01 + 3 * DAY, 0}};
    CU_ASSERT_EQUAL_FATAL(compare(c, z, 2, costs, NULL), 0);
    CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "plain");
    CU_ASSERT(costs[0].cost == 0.0);
    CU_ASSERT_DOUBLE_EQUAL(costs[1].cost, 1.5, EPS);
    joi_config_free(c);
}

/* ------------------------------------------------------------------------ */
/* Europe/London, 2026: clocks go forward on 29 March, back on 25 October.   */

static const char london_plans[] =
    "{\"timezone\":\"Europe/London\",\"pricePlans\":["
    "{\"id\":\"sunday\",\"unitRate\":1,\"peakTimeMultipliers\":"
    "[{\"dayOfWeek\":\"SUNDAY\",\"multiplier\":2}]},"
    "{\"id\":\"sunday-window\",\"unitRate\":1,\"peakTimeMultipliers\":"
    "[{\"days\":[\"SUNDAY\"],\"from\":\"00:00\",\"to\":\"00:00\",\"multiplier\":2}]},"
    "{\"id\":\"evening\",\"unitRate\":1,\"peakTimeMultipliers\":"
    "[{\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2}]}]}";

static void test_london_23_hour_day(void)
{
    struct joi_config *c = config(london_plans);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* The local day of Sunday 29 March runs from 00:00Z (GMT) to 23:00Z (BST midnight):
     * 23 hours at 1 kW = 23 kWh, x2 = 46. */
    const int64_t start = T_2026_03_29, end = T_2026_03_29 + 23 * HOUR;
    const struct joi_reading r[] = {{start, 1}, {end, 1}};
    struct joi_cost costs[3];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 23.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday"), 46.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday-window"), 46.0, EPS);
    /* 16:00-19:00 BST is 15:00-18:00Z: 3 h x2 + 20 h = 26. */
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "evening"), 26.0, EPS);

    /* Saturday 23:00Z to Monday 01:00Z: Saturday 1 h + Sunday 23 h x2 + Monday 2 h = 49. */
    const struct joi_reading w[] = {{start - HOUR, 1}, {end + 2 * HOUR, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, w, 2, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 26.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday"), 49.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday-window"), 49.0, EPS);

    const struct joi_plan *sun = &c->plans[1];
    CU_ASSERT_STRING_EQUAL_FATAL(sun->id, "sunday");
    struct joi_schedule s;
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(sun->rules, sun->nrules, "Europe/London",
                                              start - HOUR, end + 2 * HOUR, &s),
                          0);
    CU_ASSERT_EQUAL_FATAL(s.nbounds, 2);
    CU_ASSERT_EQUAL(s.bounds[0], INT64_C(1774742400));
    CU_ASSERT_EQUAL(s.bounds[1], INT64_C(1774825200));
    CU_ASSERT(s.values[0] == 1.0 && s.values[1] == 2.0 && s.values[2] == 1.0);
    joi_schedule_free(&s);
    joi_config_free(c);
}

static void test_london_25_hour_day(void)
{
    struct joi_config *c = config(london_plans);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* The local day of Sunday 25 October runs from 24 October 23:00Z (BST midnight) to
     * 26 October 00:00Z (GMT midnight): 25 hours, 25 kWh, x2 = 50. */
    const int64_t start = T_2026_10_25 - HOUR, end = T_2026_10_25 + DAY;
    const struct joi_reading r[] = {{start, 1}, {end, 1}};
    struct joi_cost costs[3];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 25.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday"), 50.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday-window"), 50.0, EPS);
    /* 16:00-19:00 GMT is 16:00-19:00Z: 3 h x2 + 22 h = 28. */
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "evening"), 28.0, EPS);

    /* An hour either side: 1 + 50 + 1 = 52 for 27 kWh. */
    const struct joi_reading w[] = {{start - HOUR, 1}, {end + HOUR, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, w, 2, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 27.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday"), 52.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday-window"), 52.0, EPS);
    joi_config_free(c);
}

static void check_bounds(const struct joi_rule *rules, size_t nrules, const char *tz, int64_t t0,
                         int64_t t1, const int64_t *want, size_t nwant, const double *values)
{
    struct joi_schedule s;
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(rules, nrules, tz, t0, t1, &s), 0);
    CU_ASSERT_EQUAL(s.nbounds, nwant);
    if (s.nbounds == nwant) {
        for (size_t i = 0; i < nwant; i++)
            CU_ASSERT_EQUAL(s.bounds[i], want[i]);
        for (size_t i = 0; i <= nwant; i++)
            CU_ASSERT(s.values[i] == values[i]);
    }
    joi_schedule_free(&s);
}

static void test_london_evening_window(void)
{
    struct joi_config *c = config(london_plans);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct joi_plan *ev = &c->plans[0];
    CU_ASSERT_STRING_EQUAL_FATAL(ev->id, "evening");
    const char *tz = joi_config_plan_tz(c, ev);
    CU_ASSERT_STRING_EQUAL(tz, "Europe/London");
    static const double v1[] = {1, 2, 1};
    static const double v2[] = {1, 2, 1, 2, 1};

    /* Summer (BST): 16:00-19:00 local is 15:00-18:00Z. */
    const int64_t jun = T_2026_06_15;
    const int64_t summer[] = {jun + 15 * HOUR, jun + 18 * HOUR};
    check_bounds(ev->rules, ev->nrules, tz, jun + 14 * HOUR, jun + 20 * HOUR, summer, 2, v1);
    /* Winter (GMT): 16:00-19:00Z. */
    const int64_t jan = T_2026_01_15;
    const int64_t winter[] = {jan + 16 * HOUR, jan + 19 * HOUR};
    check_bounds(ev->rules, ev->nrules, tz, jan + 14 * HOUR, jan + 20 * HOUR, winter, 2, v1);
    /* Across 29 March: Saturday at 16:00Z, Sunday and after at 15:00Z. */
    const int64_t mar = T_2026_03_28;
    const int64_t spring[] = {mar + 16 * HOUR, mar + 19 * HOUR, mar + DAY + 15 * HOUR,
                              mar + DAY + 18 * HOUR};
    check_bounds(ev->rules, ev->nrules, tz, mar + 12 * HOUR, mar + 2 * DAY + 12 * HOUR, spring, 4,
                 v2);
    /* Across 25 October: Saturday at 15:00Z, Sunday at 16:00Z. */
    const int64_t oct = T_2026_10_24;
    const int64_t autumn[] = {oct + 15 * HOUR, oct + 18 * HOUR, oct + DAY + 16 * HOUR,
                              oct + DAY + 19 * HOUR};
    check_bounds(ev->rules, ev->nrules, tz, oct + 12 * HOUR, oct + 2 * DAY + 12 * HOUR, autumn, 4,
                 v2);

    /* Costs in summer: 1 kW from 14:00Z to 20:00Z: 3 h x2 + 3 h = 9. */
    const struct joi_reading r[] = {{jun + 14 * HOUR, 1}, {jun + 20 * HOUR, 1}};
    struct joi_cost costs[3];
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "evening"), 9.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "sunday"), 6.0, EPS); /* a Monday */
    /* 1 kW over 48 h from Saturday 24 October 12:00Z: two 3-hour windows, 42 + 12 = 54. */
    const struct joi_reading o[] = {{oct + 12 * HOUR, 1}, {oct + 2 * DAY + 12 * HOUR, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, o, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "evening"), 54.0, EPS);
    joi_config_free(c);
}

static void test_plan_time_zone(void)
{
    struct joi_config *c = config(
        "{\"timezone\":\"UTC\",\"pricePlans\":["
        "{\"id\":\"ny\",\"unitRate\":1,\"timezone\":\"America/New_York\","
        "\"peakTimeMultipliers\":[{\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2}]},"
        "{\"id\":\"utc\",\"unitRate\":1,"
        "\"peakTimeMultipliers\":[{\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2}]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    /* 15 January, New York is UTC-5: its window is 21:00Z-24:00Z.
     * 1 kW 16:00Z-19:00Z: utc 3 h x2 = 6, ny 3.
     * 1 kW 20:00Z-23:00Z: utc 3, ny 1 h + 2 h x2 = 5. */
    const int64_t d = T_2026_01_15;
    const struct joi_reading r[] = {{d + 16 * HOUR, 1}, {d + 19 * HOUR, 1}};
    struct joi_cost costs[2];
    for (int round = 0; round < 2; round++) { /* the zone is switched back and forth */
        CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, NULL), 0);
        CU_ASSERT_STRING_EQUAL(costs[0].plan->id, "ny");
        CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 3.0, EPS);
        CU_ASSERT_STRING_EQUAL(costs[1].plan->id, "utc");
        CU_ASSERT_DOUBLE_EQUAL(costs[1].cost, 6.0, EPS);
    }
    const struct joi_reading q[] = {{d + 20 * HOUR, 1}, {d + 23 * HOUR, 1}};
    CU_ASSERT_EQUAL_FATAL(compare(c, q, 2, costs, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "ny"), 5.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(cost_of(c, costs, "utc"), 3.0, EPS);
    joi_config_free(c);
}

static void test_long_span(void)
{
    /* A Wednesday rule over 10 weeks at a steady 1 kW, from Monday 2024-01-01 00:00Z:
     * 70 days, 10 of them Wednesdays: 60 * 24 + 10 * 24 * 10 = 3840. */
    struct joi_config *c =
        config("{\"pricePlans\":[{\"id\":\"wed\",\"unitRate\":1,"
               "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10}]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct joi_reading r[] = {{T_2024_01_01, 1}, {T_2024_01_01 + 70 * DAY, 1}};
    struct joi_cost costs[1];
    struct joi_usage u;
    CU_ASSERT_EQUAL_FATAL(compare(c, r, 2, costs, &u), 0);
    CU_ASSERT_DOUBLE_EQUAL(costs[0].cost, 3840.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(u.kwh, 1680.0, 1e-9);
    struct joi_schedule s;
    const struct joi_plan *p = &c->plans[0];
    CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(p->rules, p->nrules, "UTC", r[0].time, r[1].time, &s),
                          0);
    CU_ASSERT_EQUAL(s.nbounds, 20);
    if (s.nbounds == 20) {
        CU_ASSERT_EQUAL(s.bounds[0], T_2024_01_03);
        CU_ASSERT_EQUAL(s.bounds[1], T_2024_01_03 + DAY);
        CU_ASSERT_EQUAL(s.bounds[19], T_2024_01_03 + 63 * DAY + DAY);
    }
    joi_schedule_free(&s);
    joi_config_free(c);
}

/* A zone's UTC offsets over a span, found by scanning localtime_r() every 15
 * minutes and narrowing each change to its second: piece i is [start, next start). */
struct piece {
    int64_t start;
    long off;
};

static long offset_of(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

static size_t zone_pieces(int64_t t0, int64_t t1, struct piece *out, size_t cap)
{
    size_t n = 0;
    out[n++] = (struct piece){t0, offset_of(t0)};
    for (int64_t t = t0; t < t1 && n < cap; t += 900) {
        if (offset_of(t + 900) == out[n - 1].off)
            continue;
        int64_t lo = t, hi = t + 900; /* offset_of(lo) is the old one, offset_of(hi) not */
        while (hi - lo > 1) {
            int64_t m = lo + (hi - lo) / 2;
            if (offset_of(m) == out[n - 1].off)
                lo = m;
            else
                hi = m;
        }
        out[n++] = (struct piece){hi, offset_of(hi)};
    }
    return n;
}

/* Wall-clock time L as an instant, by the rule the schedules follow: the first
 * instant whose clock shows L; for a time a change skips, L read with the offset
 * before the change. */
static int64_t resolve(const struct piece *p, size_t n, int64_t L)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        int64_t u = L - p[i].off, end = i + 1 < n ? p[i + 1].start : INT64_MAX;
        if (u >= p[i].start && u < end && u < best)
            best = u;
    }
    if (best != INT64_MAX)
        return best;
    for (size_t i = 1; i < n; i++)
        if (L - p[i - 1].off >= p[i].start && L - p[i].off < p[i].start)
            return L - p[i - 1].off;
    return L - p[0].off;
}

/* The multiplier at instant x worked out from the wall clock alone: the first rule
 * with a window (started on x's local date or one of the two before: a skipped
 * day can stretch one) that holds x. */
static double reference_value(const struct joi_rule *rules, size_t nrules, const struct piece *p,
                              size_t n, int64_t x)
{
    long off = p[0].off;
    for (size_t i = 0; i < n && p[i].start <= x; i++)
        off = p[i].off;
    int64_t date = (x + off) / DAY; /* x is after 1970 in every zone used */
    for (size_t r = 0; r < nrules; r++)
        for (int64_t d = date; d >= date - 2; d--) {
            if (!(rules[r].days & (1u << (((d + 3) % 7 + 7) % 7))))
                continue;
            int64_t s = resolve(p, n, d * DAY + rules[r].from_min * 60);
            int64_t e = resolve(p, n, d * DAY + (rules[r].from_min + rules[r].length_min) * 60);
            if (s <= x && x < e)
                return rules[r].multiplier;
        }
    return 1;
}

static double schedule_value(const struct joi_schedule *s, int64_t x)
{
    size_t lo = 0, hi = s->nbounds; /* the number of bounds <= x */
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->bounds[m] <= x)
            lo = m + 1;
        else
            hi = m;
    }
    return s->values[lo];
}

static unsigned lcg(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

/* Schedules over random spans in zones with every kind of clock change (an hour
 * at 01:00, at midnight, half an hour, a skipped day) agree with the wall-clock
 * reference on both sides of every bound and at random instants.  Windows with
 * edges in the skipped and repeated hours are there on purpose: mktime() alone
 * answered those according to the calls made before. */
static void test_schedule_matches_wall_clock(void)
{
    static const char *const zones[] = {
        "Europe/London",  "America/Sao_Paulo", "Australia/Lord_Howe", "America/St_Johns",
        "America/Havana", "Pacific/Apia",      "Asia/Kolkata",        "UTC"};
    struct joi_config *c =
        config("{\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1,\"peakTimeMultipliers\":["
               "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],"
               "\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2},"
               "{\"days\":[\"SATURDAY\",\"SUNDAY\"],\"from\":\"00:00\",\"to\":\"00:00\","
               "\"multiplier\":0.8},"
               "{\"from\":\"23:30\",\"to\":\"00:30\",\"multiplier\":3},"
               "{\"from\":\"01:30\",\"to\":\"02:30\",\"multiplier\":4},"
               "{\"days\":[\"SUNDAY\"],\"from\":\"00:00\",\"to\":\"01:00\",\"multiplier\":5},"
               "{\"from\":\"02:00\",\"to\":\"03:00\",\"multiplier\":6},"
               "{\"from\":\"22:10\",\"to\":\"06:50\",\"multiplier\":0.5}]}]}");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const struct joi_plan *p = &c->plans[0];
    unsigned seed = 77;
    int wrong = 0;
    for (int i = 0; i < 32; i++) {
        const char *tz = zones[i % (sizeof zones / sizeof zones[0])];
        /* 1970 .. 2100, spans of up to two years; the clock changes of the zone's
         * rules are inside most of them. */
        int64_t t0 = (int64_t)lcg(&seed) * 245;
        int64_t t1 = t0 + (int64_t)(lcg(&seed) % 730) * DAY + lcg(&seed) % DAY;
        if (i % 8 == 5) { /* Apia: across the day it skipped, 2011-12-30 */
            t0 = INT64_C(1324900000);
            t1 = t0 + 30 * DAY;
        }
        struct joi_schedule s;
        CU_ASSERT_EQUAL_FATAL(joi_schedule_tariff(p->rules, p->nrules, tz, t0, t1, &s), 0);
        static struct piece pieces[4096]; /* the process zone is tz now */
        size_t np = zone_pieces(t0 - 4 * DAY, t1 + 4 * DAY, pieces, 4096);
        for (size_t b = 0; b <= s.nbounds + 100; b++) {
            int64_t x =
                b < s.nbounds ? s.bounds[b] : t0 + (int64_t)(lcg(&seed) % (uint64_t)(t1 - t0));
            for (int side = 0; side < 2; side++) {
                int64_t at = x - side;
                if (at < t0 || at >= t1)
                    continue;
                double want = reference_value(p->rules, p->nrules, pieces, np, at);
                double got = schedule_value(&s, at);
                if (want != got && wrong++ < 5)
                    fprintf(stderr, "\n    %s at %lld: schedule %g, wall clock %g", tz,
                            (long long)at, got, want);
            }
        }
        joi_schedule_free(&s);
    }
    CU_ASSERT_EQUAL(wrong, 0);
    joi_config_free(c);
}

void add_price_suite(void)
{
    static const struct test_case tests[] = {
        {"worked example 100, 20, 10", test_worked_example},
        {"contract Wednesday example", test_contract_wednesday_example},
        {"ties sorted by plan id", test_ties_by_id},
        {"integrate without schedule", test_integrate_no_schedule},
        {"integrate split at bounds", test_integrate_split_at_bounds},
        {"integrate max gap", test_integrate_max_gap},
        {"maxGapSeconds in comparison", test_max_gap_in_compare},
        {"schedule without rules", test_schedule_no_rules},
        {"Wednesday x10 across midnight", test_wednesday_across_midnight},
        {"16:00-19:00 crossed mid-interval", test_evening_window_crossed_mid_interval},
        {"window past midnight belongs to its start day", test_window_past_midnight},
        {"first matching rule wins", test_first_matching_rule_wins},
        {"standing charge", test_standing_charge},
        {"London 23-hour day", test_london_23_hour_day},
        {"London 25-hour day", test_london_25_hour_day},
        {"London 16:00-19:00 summer and winter", test_london_evening_window},
        {"plan time zone", test_plan_time_zone},
        {"ten weeks of Wednesdays", test_long_span},
        {"schedules agree with the wall clock", test_schedule_matches_wall_clock},
        {NULL, NULL},
    };
    test_add_suite("price", tests);
}
