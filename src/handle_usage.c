/*
 * handle_usage.c -- GET /readings/usage/{id}: energy per hour, day, week or
 * month of the plans file's zone (see joi/handler.h).
 */
#include <stdlib.h>
#include <string.h>

#include "joi/handler.h"
#include "joi/json.h"
#include "joi/pricing.h"
#include "joi/store.h"

int joi_handle_usage(struct joi_ctx *c, struct joi_error *err)
{
    static const char *const names[] = {"hour", "day", "week", "month"};
    enum joi_period period = JOI_DAY;
    const struct joi_query_param *pp;
    int has = joi_params_one(&c->params, "period", &pp, err);
    if (has < 0)
        return -1;
    if (has) {
        size_t k;
        for (k = 0; k < 4 && strcmp(pp->value, names[k]) != 0; k++)
            ;
        if (k == 4) {
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
    struct joi_bucket *b = NULL;
    size_t nb = 0;
    int rc = -1;
    if (s->ops->readings_get(s, c->meter, from, to, 0, &r, err) != 0)
        goto out;
    if (r.n == 0) { /* an empty range is fine, a meter without any reading is a 404 */
        long long count = 0;
        if (s->ops->readings_count(s, c->meter, &count, err) != 0)
            goto out;
        if (count == 0) {
            joi_error_no_readings(err, c->meter, 0);
            goto out;
        }
    }
    joi_readings_sort_unique(&r);
    if (r.n >= 2 && joi_pricing_span_check(r.items[r.n - 1].time - r.items[0].time, err))
        goto out;
    if (joi_usage_buckets(r.items, r.n, cfg->max_gap, cfg->timezone, period, &b, &nb) != 0) {
        joi_error_set(err, 500, "the time zone %s could not be used", cfg->timezone);
        goto out;
    }
    struct json_object *arr = json_object_new_array_ext((int)nb);
    for (size_t i = 0; i < nb; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "start", json_object_new_int64(b[i].start));
        json_object_object_add(o, "end", json_object_new_int64(b[i].end));
        json_object_object_add(o, "kWh", joi_json_number(b[i].kwh));
        json_object_array_add(arr, o);
    }
    joi_response_json(c->resp, arr);
    rc = 0;
out:
    free(b);
    joi_readings_free(&r);
    return rc;
}
