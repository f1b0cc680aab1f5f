/*
 * test_summary.c -- pricing from per-meter pre-aggregates (half-hour energy
 * buckets and long intervals) must give the answer of the exact path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/config.h"
#include "joi/layout.h"
#include "joi/summary.h"
#include "suites.h"

static struct joi_config *config(const char *doc)
{
    struct joi_config *c = NULL;
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(joi_config_parse(doc, strlen(doc), &c, &err), 0);
    return c;
}

/* Readings at 0 (1 kW), 900 (1 kW), 1800 (3 kW), 5400 (1 kW), 5500 (1 kW). */
static void test_build(void)
{
    struct joi_reading r[] = {{0, 1}, {900, 1}, {1800, 3}, {5400, 1}, {5500, 1}};
    struct joi_summary s;
    joi_summary_build(r, 5, &s);
    CU_ASSERT_EQUAL(s.count, 5);
    CU_ASSERT_EQUAL(s.first, 0);
    CU_ASSERT_EQUAL(s.last, 5500);
    /* bucket 0: 0.25 kWh + (1 + 3) / 2 * 0.25 h = 0.75; 1800..5400 is longer than 30
     * minutes, so it is a long interval; bucket 3: 1 kW for 100 s. */
    CU_ASSERT_EQUAL_FATAL(s.nbuckets, 2);
    CU_ASSERT_EQUAL(s.buckets[0].index, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.buckets[0].kwh, 0.75, 1e-15);
    CU_ASSERT_EQUAL(s.buckets[1].index, 3);
    CU_ASSERT_DOUBLE_EQUAL(s.buckets[1].kwh, 100.0 / 3600, 1e-15);
    CU_ASSERT_EQUAL_FATAL(s.nlong_intervals, 1);
    CU_ASSERT_EQUAL(s.long_intervals[0].t1, 1800);
    CU_ASSERT_EQUAL(s.long_intervals[0].t2, 5400);
    CU_ASSERT_EQUAL(s.long_intervals[0].p1, 3);
    CU_ASSERT_EQUAL(s.long_intervals[0].p2, 1);
    joi_summary_free(&s);
}

/* An interval across a bucket edge is split there, power interpolated. */
static void test_build_split(void)
{
    struct joi_reading r[] = {{1500, 0}, {2100, 6}};
    struct joi_summary s;
    joi_summary_build(r, 2, &s);
    CU_ASSERT_EQUAL_FATAL(s.nbuckets, 2);
    /* At 1800 the power is 3 kW: 300 s of 0..3 kW, then 300 s of 3..6 kW. */
    CU_ASSERT_DOUBLE_EQUAL(s.buckets[0].kwh, 1.5 / 2 * 300 / 3600 * 2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(s.buckets[1].kwh, 4.5 * 300 / 3600, 1e-15);
    joi_summary_free(&s);
}

static unsigned lcg(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xffffff;
}

/* Random histories priced both ways, on plans with aligned windows, windows
 * inside buckets (16:10), a :45 zone, day rules, standing charges and gaps. */
static void compare_both_ways(const char *doc, unsigned seed, int with_near, int expect_split)
{
    struct joi_config *c = config(doc);
    struct joi_readings r;
    joi_readings_init(&r);
    int64_t t = 1774000000; /* March 2026: the London clock change is inside */
    for (int i = 0; i < 3000; i++) {
        unsigned x = lcg(&seed);
        t += x % 50 == 0 ? 3600 + x % 20000 : 30 + x % 1200;
        joi_readings_push(&r, t, (double)(lcg(&seed) % 5000) / 1000.0);
    }
    struct joi_cost *exact = calloc(c->nplans, sizeof *exact);
    struct joi_cost *fast = calloc(c->nplans, sizeof *fast);
    struct joi_usage ue, uf;
    CU_ASSERT_EQUAL_FATAL(joi_price_compare(c, r.items, r.n, exact, &ue), 0);
    struct joi_summary s;
    joi_summary_build(r.items, r.n, &s);
    struct joi_schedule *sched;
    CU_ASSERT_EQUAL_FATAL(joi_schedules_build(c, s.first, s.last, &sched), 0);
    int64_t *split;
    size_t nsplit;
    joi_summary_split_buckets(c, &s, sched, &split, &nsplit);
    CU_ASSERT_EQUAL(nsplit > 0, expect_split);
    int rc = joi_price_compare_summary(c, &s, sched, with_near ? r.items : NULL,
                                       with_near ? r.n : 0, fast, &uf);
    joi_schedules_free(sched, c->nplans);
    if (!with_near && nsplit > 0) {
        CU_ASSERT_EQUAL(rc, 1); /* cannot price the split buckets without their readings */
    } else {
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        for (size_t p = 0; p < c->nplans; p++) {
            CU_ASSERT_STRING_EQUAL(fast[p].plan->id, exact[p].plan->id);
            CU_ASSERT_DOUBLE_EQUAL(fast[p].cost, exact[p].cost, 1e-9 * fabs(exact[p].cost));
        }
        CU_ASSERT_DOUBLE_EQUAL(uf.kwh, ue.kwh, 1e-9 * ue.kwh);
        CU_ASSERT_EQUAL(uf.from, ue.from);
        CU_ASSERT_EQUAL(uf.to, ue.to);
        CU_ASSERT_EQUAL(uf.covered, ue.covered);
        CU_ASSERT_EQUAL(uf.gaps, ue.gaps);
    }
    free(split);
    joi_summary_free(&s);
    free(exact);
    free(fast);
    joi_readings_free(&r);
    joi_config_free(c);
}

static const char *const tou =
    "{\"timezone\":\"Europe/London\",\"maxGapSeconds\":7200,\"pricePlans\":["
    "{\"id\":\"flat\",\"unitRate\":1,\"standingCharge\":0.5},"
    "{\"id\":\"peak\",\"unitRate\":0.3,\"peakTimeMultipliers\":["
    "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],"
    "\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2},"
    "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5},"
    "{\"dayOfWeek\":\"SUNDAY\",\"multiplier\":0.8}]},"
    "{\"id\":\"e7\",\"unitRate\":0.4,\"timezone\":\"UTC\",\"peakTimeMultipliers\":["
    "{\"from\":\"00:30\",\"to\":\"07:30\",\"multiplier\":0.4}]}]}";

static const char *const odd =
    "{\"timezone\":\"Asia/Kathmandu\",\"pricePlans\":["
    "{\"id\":\"tenpast\",\"unitRate\":0.3,\"timezone\":\"Europe/London\","
    "\"peakTimeMultipliers\":[{\"from\":\"16:10\",\"to\":\"19:10\",\"multiplier\":3}]},"
    "{\"id\":\"nepal\",\"unitRate\":0.2,\"peakTimeMultipliers\":["
    "{\"from\":\"18:00\",\"to\":\"22:00\",\"multiplier\":2}]},"
    "{\"id\":\"flat\",\"unitRate\":0.25}]}";

static void test_aligned_windows(void)
{
    compare_both_ways(tou, 1, 1, 0);
    compare_both_ways(tou, 2, 0, 0); /* aligned: no readings needed */
}

static void test_windows_inside_buckets(void)
{
    compare_both_ways(odd, 3, 1, 1);
    compare_both_ways(odd, 4, 0, 1);
}

static void test_short_max_gap_falls_back(void)
{
    struct joi_config *c =
        config("{\"maxGapSeconds\":600,\"pricePlans\":[{\"id\":\"a\",\"unitRate\":1}]}");
    struct joi_reading r[] = {{0, 1}, {900, 1}};
    struct joi_summary s;
    joi_summary_build(r, 2, &s);
    struct joi_cost out[1];
    struct joi_schedule *sched;
    CU_ASSERT_EQUAL_FATAL(joi_schedules_build(c, s.first, s.last, &sched), 0);
    CU_ASSERT_EQUAL(joi_price_compare_summary(c, &s, sched, NULL, 0, out, NULL), 1);
    joi_schedules_free(sched, c->nplans);
    joi_summary_free(&s);
    joi_config_free(c);
}

/* Usage buckets share joi_price_integrate(): they add up to the total energy, on random
 * histories, for every period, with and without gaps. */
static void test_usage_buckets_add_up(void)
{
    static const enum joi_period periods[] = {JOI_HOUR, JOI_DAY, JOI_WEEK, JOI_MONTH};
    unsigned seed = 9;
    struct joi_readings r;
    joi_readings_init(&r);
    int64_t t = 1774000000;
    for (int i = 0; i < 2000; i++) {
        unsigned x = lcg(&seed);
        t += x % 40 == 0 ? 7200 + x % 90000 : 60 + x % 3000;
        joi_readings_push(&r, t, (double)(lcg(&seed) % 3000) / 1000.0);
    }
    for (int gap = 0; gap < 2; gap++) {
        int64_t max_gap = gap ? 7200 : 0;
        struct joi_usage u;
        double one = 0;
        joi_price_integrate(r.items, r.n, max_gap, NULL, &one, &u);
        for (size_t p = 0; p < 4; p++) {
            struct joi_bucket *b;
            size_t nb;
            CU_ASSERT_EQUAL_FATAL(
                joi_usage_buckets(r.items, r.n, max_gap, "Europe/London", periods[p], &b, &nb), 0);
            double sum = 0;
            int ordered = 1;
            for (size_t i = 0; i < nb; i++) {
                sum += b[i].kwh;
                ordered &= b[i].start < b[i].end && (i == 0 || b[i - 1].end <= b[i].start);
            }
            CU_ASSERT(ordered);
            CU_ASSERT(nb > 0);
            CU_ASSERT_DOUBLE_EQUAL(sum, u.kwh, 1e-9 * u.kwh);
            free(b);
        }
    }
    joi_readings_free(&r);
}

/* 1 kW from Saturday 2026-03-28 00:00 to Monday 00:00 London time, hourly: the
 * Sunday the clocks go forward has 23 hours. */
static void test_usage_days_across_clock_change(void)
{
    struct joi_readings r;
    joi_readings_init(&r);
    for (int64_t t = 1774656000; t <= 1774825200; t += 3600)
        joi_readings_push(&r, t, 1);
    struct joi_bucket *b;
    size_t nb;
    CU_ASSERT_EQUAL_FATAL(joi_usage_buckets(r.items, r.n, 0, "Europe/London", JOI_DAY, &b, &nb), 0);
    CU_ASSERT_EQUAL_FATAL(nb, 2);
    CU_ASSERT_EQUAL(b[0].start, 1774656000);
    CU_ASSERT_EQUAL(b[0].end, 1774742400);
    CU_ASSERT_DOUBLE_EQUAL(b[0].kwh, 24, 1e-12);
    CU_ASSERT_EQUAL(b[1].start, 1774742400);
    CU_ASSERT_EQUAL(b[1].end, 1774825200);
    CU_ASSERT_DOUBLE_EQUAL(b[1].kwh, 23, 1e-12);
    free(b);
    /* Weeks start on Monday 2026-03-23 00:00 GMT. */
    CU_ASSERT_EQUAL_FATAL(joi_usage_buckets(r.items, r.n, 0, "Europe/London", JOI_WEEK, &b, &nb),
                          0);
    CU_ASSERT_EQUAL_FATAL(nb, 1);
    CU_ASSERT_EQUAL(b[0].start, 1774224000);
    CU_ASSERT_EQUAL(b[0].end, 1774825200);
    free(b);
    joi_readings_free(&r);
}

/* A bucket that only a gap crosses is not listed. */
static void test_usage_skips_gaps(void)
{
    struct joi_reading r[] = {{0, 1}, {3600, 1}, {3 * 86400, 1}, {3 * 86400 + 3600, 1}};
    struct joi_bucket *b;
    size_t nb;
    CU_ASSERT_EQUAL_FATAL(joi_usage_buckets(r, 4, 7200, "UTC", JOI_DAY, &b, &nb), 0);
    CU_ASSERT_EQUAL_FATAL(nb, 2);
    CU_ASSERT_EQUAL(b[0].start, 0);
    CU_ASSERT_DOUBLE_EQUAL(b[0].kwh, 1, 1e-12);
    CU_ASSERT_EQUAL(b[1].start, 3 * 86400);
    CU_ASSERT_DOUBLE_EQUAL(b[1].kwh, 1, 1e-12);
    free(b);
}

/* A ranged summary as the Redis store builds it (the records of the whole days
 * inside [from, to] through the record codec, the edge days' readings cut to the
 * range, put together by joi_summary_from_days) prices like the readings in
 * [from, to]: random histories, random from/to at any second, maxGapSeconds gaps,
 * windows inside buckets. */
static void ranged_both_ways(const char *doc, unsigned seed)
{
    struct joi_config *c = config(doc);
    struct joi_readings r;
    joi_readings_init(&r);
    int64_t t = 1774000000 + lcg(&seed) % 86400;
    for (int i = 0; i < 6000; i++) {
        unsigned x = lcg(&seed);
        t += x % 60 == 0 ? 1700 + x % 20000 : 30 + x % 600;
        joi_readings_push(&r, t, (double)(lcg(&seed) % 5000) / 1000.0);
    }
    int64_t span = r.items[r.n - 1].time - r.items[0].time;
    for (int round = 0; round < 40; round++) {
        int64_t from = r.items[0].time - 3600 + (int64_t)(lcg(&seed) % (unsigned)(span / 2));
        int64_t to = from + (int64_t)(lcg(&seed) % (unsigned)span);
        if (round == 0) {
            from = r.items[0].time; /* the whole history */
            to = r.items[r.n - 1].time;
        } else if (round == 1) {
            from = (from / 86400 + 1) * 86400; /* whole days */
            to = (to / 86400) * 86400 - 1;
        }
        int64_t d0 = from / 86400, d1 = to / 86400;
        struct joi_readings in;
        joi_readings_init(&in);
        size_t nd = 0;
        struct joi_summary_day *d = calloc(r.n + 1, sizeof *d);
        for (size_t i = 0; i < r.n;) {
            size_t j = i;
            int64_t day = r.items[i].time / 86400;
            while (j < r.n && r.items[j].time / 86400 == day)
                j++;
            for (size_t k = i; k < j; k++)
                if (r.items[k].time >= from && r.items[k].time <= to)
                    joi_readings_push(&in, r.items[k].time, r.items[k].kw);
            if (day > d0 && day < d1) {
                struct joi_buf chunk, rec;
                struct joi_error err;
                joi_buf_init(&chunk);
                joi_buf_init(&rec);
                CU_ASSERT_EQUAL_FATAL(
                    joi_layout_day_build(r.items + i, j - i, day, &chunk, &rec, &err), 0);
                CU_ASSERT_EQUAL_FATAL(joi_layout_day_decode(day, (const unsigned char *)rec.data,
                                                            rec.len, &d[nd], &err),
                                      0);
                if (!d[nd].has_buckets) { /* as the store fills them from the chunk */
                    joi_summary_day_free(&d[nd]);
                    joi_summary_day_build(r.items + i, j - i, day, &d[nd]);
                }
                nd++;
                joi_buf_free(&chunk);
                joi_buf_free(&rec);
            } else {
                nd +=
                    (size_t)joi_summary_day_build_range(r.items + i, j - i, day, from, to, &d[nd]);
            }
            i = j;
        }
        struct joi_summary s;
        joi_summary_from_days(d, nd, &s);
        CU_ASSERT_EQUAL(s.count, (long long)in.n);
        if (in.n >= 2) {
            CU_ASSERT_EQUAL(s.first, in.items[0].time);
            CU_ASSERT_EQUAL(s.last, in.items[in.n - 1].time);
            struct joi_cost *exact = calloc(c->nplans, sizeof *exact);
            struct joi_cost *fast = calloc(c->nplans, sizeof *fast);
            struct joi_usage ue, uf;
            CU_ASSERT_EQUAL_FATAL(joi_price_compare(c, in.items, in.n, exact, &ue), 0);
            struct joi_schedule *sched;
            CU_ASSERT_EQUAL_FATAL(joi_schedules_build(c, s.first, s.last, &sched), 0);
            CU_ASSERT_EQUAL_FATAL(
                joi_price_compare_summary(c, &s, sched, in.items, in.n, fast, &uf), 0);
            joi_schedules_free(sched, c->nplans);
            for (size_t p = 0; p < c->nplans; p++) {
                CU_ASSERT_STRING_EQUAL(fast[p].plan->id, exact[p].plan->id);
                CU_ASSERT_DOUBLE_EQUAL(fast[p].cost, exact[p].cost, 1e-9 * fabs(exact[p].cost));
            }
            CU_ASSERT_DOUBLE_EQUAL(uf.kwh, ue.kwh, 1e-9 * ue.kwh);
            CU_ASSERT_EQUAL(uf.from, ue.from);
            CU_ASSERT_EQUAL(uf.to, ue.to);
            CU_ASSERT_EQUAL(uf.covered, ue.covered);
            CU_ASSERT_EQUAL(uf.gaps, ue.gaps);
            free(exact);
            free(fast);
        }
        /* Usage by every period from the same summary, where its edges are on the
         * half-hour grid (not in Kathmandu, +5:45): what the readings give. */
        for (int period = JOI_HOUR; period <= JOI_MONTH; period++) {
            struct joi_bucket *be, *bf;
            size_t ne, nf;
            CU_ASSERT_EQUAL_FATAL(joi_usage_buckets(in.items, in.n, c->max_gap, c->timezone,
                                                    (enum joi_period)period, &be, &ne),
                                  0);
            int got = joi_usage_buckets_summary(&s, c->max_gap, c->timezone,
                                                (enum joi_period)period, &bf, &nf);
            CU_ASSERT_EQUAL(got, strcmp(c->timezone, "Asia/Kathmandu") == 0 && in.n >= 2);
            if (got == 0) {
                CU_ASSERT_EQUAL_FATAL(nf, ne);
                for (size_t i = 0; i < ne; i++) {
                    CU_ASSERT_EQUAL(bf[i].start, be[i].start);
                    CU_ASSERT_EQUAL(bf[i].end, be[i].end);
                    CU_ASSERT_DOUBLE_EQUAL(bf[i].kwh, be[i].kwh, 1e-9 * fabs(be[i].kwh) + 1e-12);
                }
            }
            free(be);
            free(bf);
        }
        joi_summary_free(&s);
        for (size_t i = 0; i < nd; i++)
            joi_summary_day_free(&d[i]);
        free(d);
        joi_readings_free(&in);
    }
    joi_readings_free(&r);
    joi_config_free(c);
}

static void test_ranged_from_days(void)
{
    ranged_both_ways(tou, 11);
    ranged_both_ways(odd, 12);
}

void add_summary_suite(void)
{
    static const struct test_case tests[] = {
        {"buckets and long intervals", test_build},
        {"an interval split at a bucket edge", test_build_split},
        {"aligned windows: summary equals exact", test_aligned_windows},
        {"windows inside buckets: exact buckets", test_windows_inside_buckets},
        {"maxGapSeconds under 30 minutes falls back", test_short_max_gap_falls_back},
        {"usage buckets add up to the total", test_usage_buckets_add_up},
        {"usage days across a clock change", test_usage_days_across_clock_change},
        {"usage skips buckets only a gap crosses", test_usage_skips_gaps},
        {"a ranged summary from day records prices and buckets usage like the readings",
         test_ranged_from_days},
        {NULL, NULL},
    };
    test_add_suite("summary", tests);
}
