/*
 * handle_usage.c -- GET /readings/usage/{id}: energy per hour, day, week or
 * month of the plans file's zone (see joi/handler.h).
 */
#include <stdlib.h>
#include <string.h>

#include "joi/handler.h"
#include "joi/jsonw.h"
#include "joi/pricing.h"
#include "joi/store.h"

/* 0 when usage by period from t0 to t1 is at most JOI_USAGE_MAX_BUCKETS buckets,
 * else -1 with a 422 that says how to narrow the request. */
static int too_many_buckets(const struct joi_config *cfg, int64_t t0, int64_t t1,
                            enum joi_period period, struct joi_error *err)
{
    uint64_t n = joi_usage_bucket_count(t0, t1, cfg->timezone, period);
    if (n <= JOI_USAGE_MAX_BUCKETS)
        return 0;
    return joi_error_set(err, 422,
                         "usage by %s over this range would be %llu buckets; at most %d are "
                         "answered: narrow from/to or choose a longer period",
                         joi_period_name(period), (unsigned long long)n, JOI_USAGE_MAX_BUCKETS);
}

int joi_handle_usage(struct joi_ctx *c, struct joi_error *err)
{
    enum joi_period period = JOI_DAY;
    const struct joi_query_param *pp;
    int has = joi_params_one(&c->params, "period", &pp, err);
    if (has < 0)
        return -1;
    if (has) {
        int k;
        for (k = JOI_HOUR; k <= JOI_MONTH && strcmp(pp->value, joi_period_name(k)) != 0; k++)
            ;
        if (k > JOI_MONTH) {
            c->params.bad = "period";
            return joi_error_set(err, 400,
                                 "query parameter period must be hour, day, week or month");
        }
        period = (enum joi_period)k;
    }
    int64_t from, to;
    int ranged;
    if (joi_params_range(&c->params, &from, &to, &ranged, err) != 0)
        return -1;
    struct joi_store *s = c->app->store;
    const struct joi_config *cfg = joi_plans_current(&c->app->plans, s, err);
    if (cfg == NULL)
        return -1;
    struct joi_readings r;
    joi_readings_init(&r);
    struct joi_summary sm;
    joi_summary_init(&sm);
    struct joi_bucket *b = NULL;
    size_t nb = 0;
    int rc = -1;
    /* The pre-aggregates of the range (the day records of its whole days): the
     * readings only when they cannot give the buckets. */
    if (s->ops->summary_range(s, c->meter, from, to, &sm, err) != 0 ||
        joi_pricing_readings_check((size_t)sm.count, ranged, "bucketed",
                                   "narrow the range with from and to", err))
        goto out;
    if (sm.count == 0) { /* an empty range is fine, a meter without any reading is a 404 */
        long long count = 0;
        if (s->ops->readings_count(s, c->meter, &count, err) != 0)
            goto out;
        if (count == 0) {
            joi_error_no_readings(err, c->meter, 0);
            goto out;
        }
    }
    if (sm.count >= 2 && (joi_pricing_span_check(sm.last - sm.first, err) ||
                          too_many_buckets(cfg, sm.first, sm.last, period, err)))
        goto out;
    int got = joi_usage_buckets_summary(&sm, cfg->max_gap, cfg->timezone, period, &b, &nb);
    if (got == 1) {
        if (s->ops->readings_get(s, c->meter, from, to, 0, &r, err) != 0 ||
            joi_pricing_readings_check(r.n, ranged, "bucketed", "narrow the range with from and to",
                                       err))
            goto out;
        joi_readings_sort_unique(&r);
        got = joi_usage_buckets(r.items, r.n, cfg->max_gap, cfg->timezone, period, &b, &nb);
    }
    if (got != 0) {
        joi_error_set(err, 500, "the time zone %s could not be used", cfg->timezone);
        goto out;
    }
    /* Written directly, like the pricing answers: a json-c object per bucket would
     * cost ten times the memory of the answer. */
    struct joi_buf *body = &c->resp->body;
    joi_buf_reset(body);
    joi_buf_append(body, "[", 1);
    for (size_t i = 0; i < nb; i++) {
        joi_jsonw_raw(body, i ? ",{\"start\":" : "{\"start\":");
        joi_jsonw_int(body, b[i].start);
        joi_jsonw_raw(body, ",\"end\":");
        joi_jsonw_int(body, b[i].end);
        joi_jsonw_raw(body, ",\"kWh\":");
        joi_jsonw_number(body, b[i].kwh);
        joi_buf_append(body, "}", 1);
    }
    joi_buf_append(body, "]", 1);
    joi_response_written(c->resp);
    rc = 0;
out:
    free(b);
    joi_summary_free(&sm);
    joi_readings_free(&r);
    return rc;
}
