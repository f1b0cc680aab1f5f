/*
 * handle_plans.c -- GET /price-plans, /price-plans/compare-all/{id} and
 * /price-plans/recommend/{id} (see joi/handler.h).
 *
 * Which data is read and how it is priced is joi/pricing.h's business; this file
 * reads the query and writes the answers.  The pricing answers are written with
 * joi/jsonw.h (they are the hot paths, and their shape is fixed); the plans list
 * goes through json-c.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "joi/handler.h"
#include "joi/json.h"
#include "joi/jsonw.h"
#include "joi/pricing.h"

/* Prices the meter of c over the request's from/to. */
static int price(struct joi_ctx *c, struct joi_priced *p, struct joi_error *err)
{
    int64_t from, to;
    int ranged;
    joi_readings_init(&p->readings);
    p->costs = NULL;
    if (joi_params_range(&c->params, &from, &to, &ranged, err) != 0)
        return -1;
    return joi_pricing_price(&c->app->plans, c->app->store, c->meter, from, to, ranged, p, err);
}

/* [{"plan":cost}, ...], cheapest first, at most limit of them. */
static void put_comparisons(struct joi_buf *b, const struct joi_priced *p, size_t limit)
{
    joi_buf_append(b, "[", 1);
    for (size_t i = 0; i < p->cfg->nplans && i < limit; i++) {
        joi_jsonw_raw(b, i ? ",{" : "{");
        joi_jsonw_string(b, p->costs[i].plan->id);
        joi_buf_append(b, ":", 1);
        joi_jsonw_number(b, p->costs[i].cost);
        joi_buf_append(b, "}", 1);
    }
    joi_buf_append(b, "]", 1);
}

int joi_handle_compare(struct joi_ctx *c, struct joi_error *err)
{
    struct joi_priced p;
    int rc = -1;
    if (price(c, &p, err) != 0)
        goto out;
    struct joi_buf *b = &c->resp->body;
    joi_buf_reset(b);
    joi_jsonw_raw(b, "{\"pricePlanId\":");
    if (p.current)
        joi_jsonw_string(b, p.current->id);
    else
        joi_jsonw_raw(b, "null");
    joi_jsonw_raw(b, ",\"pricePlanComparisons\":");
    put_comparisons(b, &p, SIZE_MAX);
    joi_jsonw_raw(b, ",\"usage\":{\"from\":");
    joi_jsonw_int(b, p.usage.from);
    joi_jsonw_raw(b, ",\"to\":");
    joi_jsonw_int(b, p.usage.to);
    joi_jsonw_raw(b, ",\"kWh\":");
    joi_jsonw_number(b, p.usage.kwh);
    joi_jsonw_raw(b, ",\"coveredSeconds\":");
    joi_jsonw_int(b, p.usage.covered);
    joi_jsonw_raw(b, ",\"gaps\":");
    joi_jsonw_int(b, p.usage.gaps);
    joi_jsonw_raw(b, "}}");
    joi_response_written(c->resp);
    rc = 0;
out:
    joi_priced_free(&p);
    return rc;
}

int joi_handle_recommend(struct joi_ctx *c, struct joi_error *err)
{
    size_t limit = SIZE_MAX;
    const struct joi_query_param *inc;
    if (joi_params_count(&c->params, "limit", &limit, err) < 0)
        return -1;
    int has_inc = joi_params_one(&c->params, "include", &inc, err);
    if (has_inc < 0)
        return -1;
    if (has_inc && strcmp(inc->value, "savings") != 0) {
        c->params.bad = "include";
        return joi_error_set(err, 400, "query parameter include must be savings");
    }
    struct joi_priced p;
    int rc = -1;
    if (price(c, &p, err) != 0)
        goto out;
    if (!has_inc) {
        joi_buf_reset(&c->resp->body);
        put_comparisons(&c->resp->body, &p, limit);
        joi_response_written(c->resp);
        rc = 0;
        goto out;
    }
    double current = 0;
    for (size_t i = 0; p.current && i < p.cfg->nplans; i++)
        if (p.costs[i].plan == p.current)
            current = p.costs[i].cost;
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < p.cfg->nplans && i < limit; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "pricePlanId", json_object_new_string(p.costs[i].plan->id));
        json_object_object_add(o, "cost", joi_json_number(p.costs[i].cost));
        if (p.current)
            json_object_object_add(o, "savingVsCurrent",
                                   joi_json_number(current - p.costs[i].cost));
        json_object_array_add(arr, o);
    }
    joi_response_json(c->resp, arr);
    rc = 0;
out:
    joi_priced_free(&p);
    return rc;
}

static struct json_object *rule_json(const struct joi_rule *r)
{
    struct json_object *o = json_object_new_object();
    struct json_object *days = json_object_new_array();
    for (int d = 0; d < 7; d++)
        if (r->days & (1u << d))
            json_object_array_add(days, json_object_new_string(joi_day_names[d]));
    json_object_object_add(o, "days", days);
    char hhmm[32];
    snprintf(hhmm, sizeof hhmm, "%02d:%02d", r->from_min / 60, r->from_min % 60);
    json_object_object_add(o, "from", json_object_new_string(hhmm));
    int to = (r->from_min + r->length_min) % 1440;
    snprintf(hhmm, sizeof hhmm, "%02d:%02d", to / 60, to % 60);
    json_object_object_add(o, "to", json_object_new_string(hhmm));
    json_object_object_add(o, "multiplier", joi_json_number(r->multiplier));
    return o;
}

int joi_handle_plans(struct joi_ctx *c, struct joi_error *err)
{
    const struct joi_config *cfg = joi_plans_current(&c->app->plans, c->app->store, err);
    if (cfg == NULL)
        return -1;
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < cfg->nplans; i++) {
        const struct joi_plan *p = &cfg->plans[i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "supplier", json_object_new_string(p->supplier));
        json_object_object_add(o, "unitRate", joi_json_number(p->unit_rate));
        json_object_object_add(o, "standingCharge", joi_json_number(p->standing_charge));
        json_object_object_add(o, "timezone", json_object_new_string(joi_config_plan_tz(cfg, p)));
        struct json_object *rules = json_object_new_array();
        for (size_t r = 0; r < p->nrules; r++)
            json_object_array_add(rules, rule_json(&p->rules[r]));
        json_object_object_add(o, "peakTimeMultipliers", rules);
        json_object_array_add(arr, o);
    }
    joi_response_json(c->resp, arr);
    return 0;
}
