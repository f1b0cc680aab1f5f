/*
 * pricing.c -- which data to read and how to price it (see joi/pricing.h).
 *
 * Terms: the "summary" is a meter's pre-aggregates (joi/price.h): energy per
 * half-hour bucket, plus the "long intervals" (two consecutive readings further
 * apart than JOI_LONG_INTERVAL, kept whole because a gap rule may exclude them).
 * A bucket inside which some plan changes price is priced from the readings
 * "around" it (within JOI_LONG_INTERVAL of its edges), fetched in as few ranges
 * as possible; every other bucket is priced from its energy alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "joi/handler.h"
#include "joi/pricing.h"
#include "joi/store.h"

void joi_plans_init(struct joi_plans *pl)
{
    pl->config = NULL;
    pl->version = 0;
}

void joi_plans_free(struct joi_plans *pl)
{
    joi_config_free(pl->config);
    joi_plans_init(pl);
}

const struct joi_config *joi_plans_current(struct joi_plans *pl, struct joi_store *s,
                                           struct joi_error *err)
{
    long long version = pl->version;
    char *doc = NULL;
    size_t len = 0;
    if (s->ops->config_get(s, &version, &doc, &len, err) != 0)
        return NULL;
    if (doc != NULL) {
        struct joi_config *cfg;
        struct joi_error perr;
        joi_error_clear(&perr);
        if (joi_config_parse(doc, len, &cfg, &perr) != 0) {
            free(doc);
            fprintf(stderr, "joi-worker: the stored plans file is invalid: %s\n", perr.detail);
            joi_error_set(err, 500, "the stored plans file is invalid");
            return NULL;
        }
        free(doc);
        joi_config_free(pl->config);
        pl->config = cfg;
        pl->version = version;
    } else if (version != pl->version) {
        joi_config_free(pl->config); /* the file was removed */
        pl->config = NULL;
        pl->version = version;
    }
    if (pl->config == NULL) {
        joi_error_set(err, 503, "no price plans are loaded (joi-admin load-config FILE)");
        return NULL;
    }
    return pl->config;
}

const struct joi_config *joi_plans_at(struct joi_plans *pl, struct joi_store *s, long long version,
                                      struct joi_error *err)
{
    if (version == pl->version && pl->config != NULL)
        return pl->config;
    return joi_plans_current(pl, s, err);
}

int joi_pricing_span_check(int64_t span, struct joi_error *err)
{
    if (span <= JOI_PRICE_MAX_SPAN)
        return 0;
    return joi_error_set(err, 422,
                         "the readings span more than 100 years; choose a range with from and to");
}

int joi_pricing_readings_check(size_t n, int ranged, const char *what, const char *narrow,
                               struct joi_error *err)
{
    if (n <= JOI_READINGS_MAX)
        return 0;
    return joi_error_set(err, 422, "%s more than %d readings; at most %d are %s in one request: %s",
                         ranged ? "the range holds" : "the meter has", JOI_READINGS_MAX,
                         JOI_READINGS_MAX, what, narrow);
}

size_t joi_pricing_store_limit(size_t limit)
{
    return limit > JOI_READINGS_MAX ? (size_t)JOI_READINGS_MAX + 1 : limit;
}

/* 0 when pricing readings from t0 to t1 works out at most JOI_PRICE_MAX_WINDOWS
 * tariff windows, else -1 with a 422. */
static int too_many_windows(const struct joi_config *cfg, int64_t t0, int64_t t1,
                            struct joi_error *err)
{
    uint64_t w = joi_price_windows(cfg, t0, t1);
    if (w <= JOI_PRICE_MAX_WINDOWS)
        return 0;
    return joi_error_set(err, 422,
                         "pricing readings over %lld days on these time-of-use plans means up to "
                         "%llu tariff windows; at most %d are worked out in one request: narrow "
                         "the range with from and to",
                         (long long)((t1 - t0) / 86400 + 1), (unsigned long long)w,
                         JOI_PRICE_MAX_WINDOWS);
}

void joi_priced_free(struct joi_priced *p)
{
    joi_readings_free(&p->readings);
    free(p->costs);
    p->costs = NULL;
}

static int too_few(const char *meter, struct joi_error *err)
{
    return joi_error_set(err, 422,
                         "meter %s has readings at fewer than two distinct times, so no "
                         "consumption can be computed",
                         meter);
}

/* Prices from a summary, fetching the readings around the buckets inside which
 * a plan changes price (merged into as few ranges as possible, and kept inside
 * [from, to]: sm is the summary of the readings there alone).  Returns 0, 1
 * when only the readings can give the exact answer, -1 with err set. */
static int price_summary(struct joi_store *s, const char *meter, struct joi_priced *p,
                         const struct joi_summary *sm, int64_t from, int64_t to,
                         struct joi_error *err)
{
    struct joi_schedule *sched;
    if (joi_schedules_build(p->cfg, sm->first, sm->last, &sched) != 0)
        return joi_error_set(err, 500, "a plan's time zone could not be used");
    int64_t *split;
    size_t nsplit;
    joi_summary_split_buckets(p->cfg, sm, sched, &split, &nsplit);
    int64_t *ranges = joi_mem_alloc((2 * nsplit + 1) * sizeof *ranges);
    size_t nr = 0;
    for (size_t i = 0; i < nsplit; i++) {
        int64_t lo = split[i] * JOI_BUCKET_SECONDS - JOI_LONG_INTERVAL;
        int64_t hi = (split[i] + 1) * JOI_BUCKET_SECONDS + JOI_LONG_INTERVAL;
        lo = lo < from ? from : lo;
        hi = hi > to ? to : hi;
        if (lo > hi)
            continue;
        if (nr > 0 && lo <= ranges[2 * nr - 1]) {
            ranges[2 * nr - 1] = hi;
            continue;
        }
        ranges[2 * nr] = lo;
        ranges[2 * nr + 1] = hi;
        nr++;
    }
    free(split);
    struct joi_readings around;
    joi_readings_init(&around);
    int rc = s->ops->readings_get_ranges(s, meter, ranges, nr, &around, err);
    free(ranges);
    if (rc == 0) {
        joi_readings_sort_unique(&around);
        rc = joi_price_compare_summary(p->cfg, sm, sched, around.items, around.n, p->costs,
                                       &p->usage);
    }
    joi_readings_free(&around);
    joi_schedules_free(sched, p->cfg->nplans);
    return rc;
}

/* The costs array and the meter's account plan, once p->cfg is known. */
static void priced_plans(const char *meter, struct joi_priced *p)
{
    if (p->costs == NULL)
        p->costs = joi_mem_calloc(p->cfg->nplans, sizeof *p->costs);
    p->current = joi_config_account(p->cfg, meter);
}

/* Prices from sm, the pre-aggregates of the meter's readings in [from, to] (the
 * whole history when ranged is 0), with the errors the readings would give.
 * Returns 0, -1 with err set, or 1 when the readings are needed instead. */
static int price_from_summary(struct joi_store *s, const char *meter, struct joi_priced *p,
                              const struct joi_summary *sm, int64_t from, int64_t to, int ranged,
                              struct joi_error *err)
{
    priced_plans(meter, p);
    if (ranged && joi_pricing_readings_check((size_t)sm->count, ranged, "priced",
                                             "narrow the range with from and to", err))
        return -1;
    if (sm->count == 0)
        return joi_error_no_readings(err, meter, ranged);
    if (sm->count < 2)
        return too_few(meter, err);
    if (joi_pricing_span_check(sm->last - sm->first, err) ||
        too_many_windows(p->cfg, sm->first, sm->last, err))
        return -1;
    return price_summary(s, meter, p, sm, from, to, err);
}

int joi_pricing_price(struct joi_plans *pl, struct joi_store *s, const char *meter, int64_t from,
                      int64_t to, int ranged, struct joi_priced *p, struct joi_error *err)
{
    joi_readings_init(&p->readings);
    p->cfg = NULL;
    p->costs = NULL;
    p->current = NULL;
    if (!ranged) {
        /* The whole history: the pre-aggregates and the plans' version together. */
        struct joi_summary sm;
        long long version;
        if (s->ops->summary_get(s, meter, &sm, &version, err) != 0)
            return -1;
        int rc = -1;
        p->cfg = joi_plans_at(pl, s, version, err);
        if (p->cfg != NULL)
            rc = price_from_summary(s, meter, p, &sm, INT64_MIN, INT64_MAX, 0, err);
        joi_summary_free(&sm);
        if (rc <= 0)
            return rc;
    } else {
        p->cfg = joi_plans_current(pl, s, err);
        if (p->cfg == NULL)
            return -1;
        /* The pre-aggregates of the range: the day records of its whole days, the
         * readings of its two edge days. */
        struct joi_summary sm;
        if (s->ops->summary_range(s, meter, from, to, &sm, err) != 0)
            return -1;
        int rc = price_from_summary(s, meter, p, &sm, from, to, 1, err);
        joi_summary_free(&sm);
        if (rc <= 0)
            return rc;
    }
    if (s->ops->readings_get(s, meter, from, to, 0, &p->readings, err) != 0 ||
        joi_pricing_readings_check(p->readings.n, ranged, "priced",
                                   "narrow the range with from and to", err))
        return -1;
    if (p->readings.n == 0)
        return joi_error_no_readings(err, meter, ranged);
    joi_readings_sort_unique(&p->readings);
    if (p->readings.n < 2)
        return too_few(meter, err);
    int64_t t0 = p->readings.items[0].time, t1 = p->readings.items[p->readings.n - 1].time;
    if (joi_pricing_span_check(t1 - t0, err) || too_many_windows(p->cfg, t0, t1, err))
        return -1;
    if (joi_price_compare(p->cfg, p->readings.items, p->readings.n, p->costs, &p->usage) != 0)
        return joi_error_set(err, 500, "a plan's time zone could not be used");
    return 0;
}
