/*
 * app.c -- routing and handlers (see joi/app.h).
 *
 * Rules of this module:
 *  - Handlers take the parsed request and the store, and fill the response;
 *    they never see FastCGI or Redis.
 *  - A handler that fails sets a joi_error and returns -1; problem_render()
 *    is the one place where an error becomes an HTTP response.
 *  - Nothing is written to the store until the whole request is validated.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "joi/app.h"
#include "joi/http.h"
#include "joi/json.h"
#include "joi/meter.h"
#include "joi/num.h"
#include "joi/price.h"
#include "joi/timeparse.h"
#include "joi/token.h"

#define TYPE_JSON "application/json"
#define TYPE_PROBLEM "application/problem+json"

void joi_response_init(struct joi_response *resp)
{
    resp->status = 200;
    resp->content_type = TYPE_JSON;
    resp->allow[0] = '\0';
    joi_buf_init(&resp->body);
}

void joi_response_free(struct joi_response *resp)
{
    joi_buf_free(&resp->body);
}

void joi_app_init(struct joi_app *app, struct joi_store *store)
{
    app->store = store;
    app->config = NULL;
    app->config_version = 0;
}

void joi_app_free(struct joi_app *app)
{
    joi_config_free(app->config);
    app->config = NULL;
    app->config_version = 0;
}

/* ------------------------------------------------------------------------ */
/* Responses                                                                 */
/* ------------------------------------------------------------------------ */

static void problem_render(struct joi_response *resp, const struct joi_error *err,
                           const char *parameter)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(joi_status_title(err->status)));
    json_object_object_add(o, "status", json_object_new_int(err->status));
    json_object_object_add(o, "detail", json_object_new_string(err->detail));
    if (err->has_pointer)
        json_object_object_add(o, "pointer", json_object_new_string(err->pointer));
    if (parameter)
        json_object_object_add(o, "parameter", json_object_new_string(parameter));
    resp->status = err->status;
    resp->content_type = TYPE_PROBLEM;
    joi_buf_reset(&resp->body);
    joi_json_append(&resp->body, o);
    json_object_put(o);
}

static void respond_json(struct joi_response *resp, struct json_object *o)
{
    resp->status = 200;
    resp->content_type = TYPE_JSON;
    joi_buf_reset(&resp->body);
    joi_json_append(&resp->body, o);
    json_object_put(o);
}

/* ------------------------------------------------------------------------ */
/* Query parameters                                                          */
/* ------------------------------------------------------------------------ */

struct params {
    struct joi_query q;
    const char *bad; /* name of the parameter at fault */
};

/* Looks up a single-valued parameter.  Returns 1 when present, 0 when absent,
 * -1 (with err) when given more than once. */
static int param(struct params *p, const char *name, const struct joi_query_param **out,
                 struct joi_error *err)
{
    int count;
    *out = joi_query_get(&p->q, name, &count);
    if (count > 1) {
        p->bad = name;
        return joi_error_set(err, 400, "query parameter %s is given more than once", name);
    }
    return count;
}

/* A time parameter: epoch seconds or RFC 3339. */
static int param_time(struct params *p, const char *name, int64_t *out, struct joi_error *err)
{
    const struct joi_query_param *v;
    int rc = param(p, name, &v, err);
    if (rc <= 0)
        return rc;
    if (joi_time_parse_epoch(v->value, v->value_len, out) != 0 &&
        joi_time_parse_rfc3339(v->value, v->value_len, out) != 0) {
        p->bad = name;
        return joi_error_set(err, 400,
                             "query parameter %s must be epoch seconds (0 to 253402300799) or an "
                             "RFC 3339 date-time",
                             name);
    }
    return 1;
}

/* A count parameter: digits only; values beyond SIZE_MAX/2 saturate. */
static int param_count(struct params *p, const char *name, size_t *out, struct joi_error *err)
{
    const struct joi_query_param *v;
    int rc = param(p, name, &v, err);
    if (rc <= 0)
        return rc;
    size_t n = 0;
    if (v->value_len == 0)
        goto bad;
    for (size_t i = 0; i < v->value_len; i++) {
        if (v->value[i] < '0' || v->value[i] > '9')
            goto bad;
        n = n > SIZE_MAX / 20 ? SIZE_MAX / 2 : n * 10 + (size_t)(v->value[i] - '0');
    }
    *out = n;
    return 1;
bad:
    p->bad = name;
    return joi_error_set(err, 400, "query parameter %s must be an integer >= 0", name);
}

/* from/to: defaults to everything; from > to is a 400. */
static int param_range(struct params *p, int64_t *from, int64_t *to, int *given,
                       struct joi_error *err)
{
    *from = 0;
    *to = JOI_TIME_MAX;
    int a = param_time(p, "from", from, err);
    if (a < 0)
        return -1;
    int b = param_time(p, "to", to, err);
    if (b < 0)
        return -1;
    if (*from > *to) {
        p->bad = "from";
        return joi_error_set(err, 400, "query parameter from must not be after to");
    }
    *given = a || b;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Bounds: past one, a 422 that says how to narrow the request               */
/* ------------------------------------------------------------------------ */

static int too_long(int64_t span, struct joi_error *err)
{
    if (span <= JOI_PRICE_MAX_SPAN)
        return 0;
    return joi_error_set(err, 422,
                         "the readings span more than 100 years; choose a range with from and to");
}

/* The store hands over at most JOI_READINGS_MAX + 1 readings (see joi/store.h):
 * one more than the bound means the range holds too many.  `what` is what the
 * endpoint does with them ("answered", "priced", "bucketed"). */
static int too_many_readings(size_t n, int ranged, const char *what, const char *narrow,
                             struct joi_error *err)
{
    if (n <= JOI_READINGS_MAX)
        return 0;
    return joi_error_set(err, 422, "%s more than %d readings; at most %d are %s in one request: %s",
                         ranged ? "the range holds" : "the meter has", JOI_READINGS_MAX,
                         JOI_READINGS_MAX, what, narrow);
}

/* The `limit` to ask the store for: the client's, but never more than one past
 * the bound (enough to tell that the range holds too many). */
static size_t store_limit(size_t limit)
{
    return limit > JOI_READINGS_MAX ? (size_t)JOI_READINGS_MAX + 1 : limit;
}

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

/* ------------------------------------------------------------------------ */
/* Handlers                                                                  */
/* ------------------------------------------------------------------------ */

struct ctx {
    struct joi_app *app;
    const struct joi_request *req;
    struct joi_response *resp;
    const char *meter; /* decoded meter id, for routes that have one */
    struct params params;
};

static int handle_live(struct ctx *c, struct joi_error *err)
{
    (void)err;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    respond_json(c->resp, o);
    return 0;
}

static int handle_health(struct ctx *c, struct joi_error *err)
{
    if (c->app->store->ops->ping(c->app->store, err) != 0) {
        err->status = 503;
        snprintf(err->detail, sizeof err->detail, "the store is unavailable");
        return -1;
    }
    return handle_live(c, err);
}

/* Checks the request against a meter's write-token record ("" for an open meter). */
static int authorize(const struct ctx *c, const char *meter, const char *record,
                     struct joi_error *err)
{
    if (record[0] == '\0')
        return 0; /* no token issued: open meter */
    const char *auth = c->req->authorization;
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return joi_error_set(err, 401, "meter %s needs Authorization: Bearer <token>", meter);
    if (!joi_token_verify(record, auth + 7))
        return joi_error_set(err, 401, "the token is not valid for meter %s", meter);
    return 0;
}

static int handle_store(struct ctx *c, struct joi_error *err)
{
    struct joi_batch batch;
    if (joi_batch_parse(c->req->body, c->req->body_len, &batch, err) != 0)
        return -1;
    int rc = -1;
    struct joi_store *s = c->app->store;
    /* The store writes only while the meter's token record is the one the request
     * was checked against; most meters have none, so that is the first guess.  A
     * record that keeps changing under the request (a token issued and revoked
     * over and over) ends in a 503 rather than a loop. */
    char record[JOI_TOKEN_RECORD_MAX] = "", current[JOI_TOKEN_RECORD_MAX];
    for (int attempt = 0;; attempt++) {
        int put = s->ops->readings_put(s, batch.meter, batch.readings.items, batch.readings.n,
                                       record, current, sizeof current, err);
        if (put < 0)
            goto out;
        if (put == 0)
            break;
        if (attempt == 3) {
            joi_error_set(err, 503, "the token of meter %s is changing; try again", batch.meter);
            goto out;
        }
        memcpy(record, current, sizeof record);
        if (authorize(c, batch.meter, record, err) != 0)
            goto out;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "smartMeterId", json_object_new_string(batch.meter));
    json_object_object_add(o, "electricityReadings",
                           joi_json_readings(batch.readings.items, batch.readings.n));
    respond_json(c->resp, o);
    rc = 0;
out:
    joi_batch_free(&batch);
    return rc;
}

static int no_readings(const char *meter, int ranged, struct joi_error *err)
{
    if (ranged)
        return joi_error_set(err, 404, "meter %s has no readings in the requested range", meter);
    return joi_error_set(err, 404, "meter %s has no readings", meter);
}

/* Appends the meter's readings in [from, to] (the latest `limit` when limit > 0;
 * none when fetch is 0) to r.  An empty range is fine, a meter without any
 * reading is a 404. */
static int read_range(struct ctx *c, int fetch, int64_t from, int64_t to, size_t limit,
                      struct joi_readings *r, struct joi_error *err)
{
    struct joi_store *s = c->app->store;
    if (fetch && s->ops->readings_get(s, c->meter, from, to, limit, r, err) != 0)
        return -1;
    if (r->n > 0)
        return 0;
    long long count = 0;
    if (s->ops->readings_count(s, c->meter, &count, err) != 0)
        return -1;
    return count == 0 ? no_readings(c->meter, 0, err) : 0;
}

static int handle_read(struct ctx *c, struct joi_error *err)
{
    int64_t from, to;
    int ranged;
    size_t limit = 0;
    if (param_range(&c->params, &from, &to, &ranged, err) != 0 ||
        param_count(&c->params, "limit", &limit, err) < 0)
        return -1;
    /* The store writes the array itself: its members already hold the numbers as
     * this endpoint prints them.  limit=0 asks for nothing; the meter must still
     * exist. */
    struct joi_store *s = c->app->store;
    struct joi_response *resp = c->resp;
    int fetch = !(limit == 0 && joi_query_get(&c->params.q, "limit", NULL) != NULL);
    size_t n = 0;
    joi_buf_reset(&resp->body);
    if (fetch) {
        if (s->ops->readings_json(s, c->meter, from, to, store_limit(limit), &resp->body, &n,
                                  err) != 0 ||
            too_many_readings(n, ranged, "answered",
                              "narrow the range with from and to, or give a limit", err))
            return -1;
    } else {
        joi_buf_puts(&resp->body, "[]");
    }
    if (n == 0) {
        long long count = 0;
        if (s->ops->readings_count(s, c->meter, &count, err) != 0)
            return -1;
        if (count == 0)
            return no_readings(c->meter, 0, err);
    }
    resp->status = 200;
    resp->content_type = TYPE_JSON;
    return 0;
}

/* The current plans file, fetched again only when its version changed. */
static const struct joi_config *current_config(struct joi_app *app, struct joi_error *err)
{
    long long version = app->config_version;
    char *doc = NULL;
    size_t len = 0;
    if (app->store->ops->config_get(app->store, &version, &doc, &len, err) != 0)
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
        joi_config_free(app->config);
        app->config = cfg;
        app->config_version = version;
    } else if (version != app->config_version) {
        joi_config_free(app->config); /* the file was removed */
        app->config = NULL;
        app->config_version = version;
    }
    if (app->config == NULL) {
        joi_error_set(err, 503, "no price plans are loaded (joi-admin load-config FILE)");
        return NULL;
    }
    return app->config;
}

/* The plans file for a caller that has just read its version along with its own
 * data (one round trip): fetched only when that version is not the cached one. */
static const struct joi_config *config_at(struct joi_app *app, long long version,
                                          struct joi_error *err)
{
    if (version == app->config_version && app->config != NULL)
        return app->config;
    return current_config(app, err);
}

/* Everything a price endpoint needs: the config, the meter's readings in range,
 * and every plan's cost. */
struct priced {
    const struct joi_config *cfg;
    struct joi_readings readings;
    struct joi_cost *costs;
    struct joi_usage usage;
    const struct joi_plan *current;
};

static void priced_free(struct priced *p)
{
    joi_readings_free(&p->readings);
    free(p->costs);
}

static int too_few(const char *meter, struct joi_error *err)
{
    return joi_error_set(err, 422,
                         "meter %s has readings at fewer than two distinct times, so no "
                         "consumption can be computed",
                         meter);
}

/* Prices from a summary, fetching the readings around the buckets inside which
 * a plan changes price (merged into as few ranges as possible).  Returns 0, 1
 * when only the readings can give the exact answer, -1 with err set. */
static int price_summary(struct ctx *c, struct priced *p, const struct joi_summary *sm,
                         struct joi_error *err)
{
    struct joi_schedule *sched;
    if (joi_schedules_build(p->cfg, sm->first, sm->last, &sched) != 0)
        return joi_error_set(err, 500, "a plan's time zone could not be used");
    int64_t *split;
    size_t nsplit;
    joi_summary_split_buckets(p->cfg, sm, sched, &split, &nsplit);
    int64_t *ranges = joi_xmalloc((2 * nsplit + 1) * sizeof *ranges);
    size_t nr = 0;
    for (size_t i = 0; i < nsplit; i++) {
        int64_t lo = split[i] * JOI_BUCKET_SECONDS - JOI_LONG_INTERVAL;
        int64_t hi = (split[i] + 1) * JOI_BUCKET_SECONDS + JOI_LONG_INTERVAL;
        if (nr > 0 && lo <= ranges[2 * nr - 1]) {
            ranges[2 * nr - 1] = hi;
            continue;
        }
        ranges[2 * nr] = lo;
        ranges[2 * nr + 1] = hi;
        nr++;
    }
    free(split);
    struct joi_readings near;
    joi_readings_init(&near);
    struct joi_store *s = c->app->store;
    int rc = s->ops->readings_get_ranges(s, c->meter, ranges, nr, &near, err);
    free(ranges);
    if (rc == 0) {
        joi_readings_sort_unique(&near);
        rc = joi_price_compare_summary(p->cfg, sm, sched, near.items, near.n, p->costs, &p->usage);
    }
    joi_readings_free(&near);
    joi_schedules_free(sched, p->cfg->nplans);
    return rc;
}

/* The costs array and the meter's account plan, once p->cfg is known. */
static void priced_plans(const struct ctx *c, struct priced *p)
{
    if (p->costs == NULL)
        p->costs = joi_xcalloc(p->cfg->nplans, sizeof *p->costs);
    p->current = joi_config_account(p->cfg, c->meter);
}

/* Prices a whole history from the meter's pre-aggregates.  Returns 0 when priced,
 * 1 when only the readings can give the exact answer, -1 on error. */
/* Prices a whole history from the meter's pre-aggregates sm.  Returns 0, -1 with
 * err set, or 1 when the readings are needed instead. */
static int price_from_summary(struct ctx *c, struct priced *p, const struct joi_summary *sm,
                              struct joi_error *err)
{
    priced_plans(c, p);
    if (sm->count == 0)
        return no_readings(c->meter, 0, err);
    if (sm->count < 2)
        return too_few(c->meter, err);
    if (too_long(sm->last - sm->first, err) || too_many_windows(p->cfg, sm->first, sm->last, err))
        return -1;
    return price_summary(c, p, sm, err);
}

static int price_meter(struct ctx *c, struct priced *p, struct joi_error *err)
{
    int64_t from, to;
    int ranged;
    joi_readings_init(&p->readings);
    p->cfg = NULL;
    p->costs = NULL;
    p->current = NULL;
    if (param_range(&c->params, &from, &to, &ranged, err) != 0)
        return -1;
    struct joi_store *s = c->app->store;
    if (!ranged) {
        /* The whole history: the pre-aggregates and the plans' version together. */
        struct joi_summary sm;
        long long version;
        if (s->ops->summary_get(s, c->meter, &sm, &version, err) != 0)
            return -1;
        int rc = -1;
        p->cfg = config_at(c->app, version, err);
        if (p->cfg != NULL)
            rc = price_from_summary(c, p, &sm, err);
        joi_summary_free(&sm);
        if (rc <= 0)
            return rc;
    } else {
        p->cfg = current_config(c->app, err);
        if (p->cfg == NULL)
            return -1;
        priced_plans(c, p);
    }
    if (s->ops->readings_get(s, c->meter, from, to, 0, &p->readings, err) != 0 ||
        too_many_readings(p->readings.n, ranged, "priced", "narrow the range with from and to",
                          err))
        return -1;
    if (p->readings.n == 0)
        return no_readings(c->meter, ranged, err);
    joi_readings_sort_unique(&p->readings);
    if (p->readings.n < 2)
        return too_few(c->meter, err);
    int64_t t0 = p->readings.items[0].time, t1 = p->readings.items[p->readings.n - 1].time;
    if (too_long(t1 - t0, err) || too_many_windows(p->cfg, t0, t1, err))
        return -1;
    if (joi_price_compare(p->cfg, p->readings.items, p->readings.n, p->costs, &p->usage) != 0)
        return joi_error_set(err, 500, "a plan's time zone could not be used");
    return 0;
}

/* The pricing answers are written directly, not built as json-c objects (a hash
 * table per object): they are the hot paths, and their shape is fixed. */
static void put_raw(struct joi_buf *b, const char *s)
{
    joi_buf_append(b, s, strlen(s));
}

static void put_number(struct joi_buf *b, double v)
{
    char text[JOI_NUM_MAX];
    joi_buf_append(b, text, joi_num_format(v, text));
}

static void put_int(struct joi_buf *b, long long v)
{
    char text[24];
    joi_buf_append(b, text, joi_num_int(v, text));
}

/* A JSON string, escaped as json-c escapes (plan ids need none: they follow the
 * meter-id rule). */
static void put_string(struct joi_buf *b, const char *s)
{
    joi_buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        const char *esc = ch == '"'    ? "\\\""
                          : ch == '\\' ? "\\\\"
                          : ch == '\b' ? "\\b"
                          : ch == '\f' ? "\\f"
                          : ch == '\n' ? "\\n"
                          : ch == '\r' ? "\\r"
                          : ch == '\t' ? "\\t"
                                       : NULL;
        if (esc)
            put_raw(b, esc);
        else if (ch < 0x20)
            joi_buf_printf(b, "\\u%04x", ch);
        else
            joi_buf_append(b, s, 1);
    }
    joi_buf_append(b, "\"", 1);
}

/* [{"plan":cost}, ...], cheapest first, at most limit of them. */
static void put_comparisons(struct joi_buf *b, const struct priced *p, size_t limit)
{
    joi_buf_append(b, "[", 1);
    for (size_t i = 0; i < p->cfg->nplans && i < limit; i++) {
        put_raw(b, i ? ",{" : "{");
        put_string(b, p->costs[i].plan->id);
        joi_buf_append(b, ":", 1);
        put_number(b, p->costs[i].cost);
        joi_buf_append(b, "}", 1);
    }
    joi_buf_append(b, "]", 1);
}

static void respond_written(struct joi_response *resp)
{
    resp->status = 200;
    resp->content_type = TYPE_JSON;
}

static int handle_compare(struct ctx *c, struct joi_error *err)
{
    struct priced p;
    int rc = -1;
    if (price_meter(c, &p, err) != 0)
        goto out;
    struct joi_buf *b = &c->resp->body;
    joi_buf_reset(b);
    put_raw(b, "{\"pricePlanId\":");
    if (p.current)
        put_string(b, p.current->id);
    else
        put_raw(b, "null");
    put_raw(b, ",\"pricePlanComparisons\":");
    put_comparisons(b, &p, SIZE_MAX);
    put_raw(b, ",\"usage\":{\"from\":");
    put_int(b, p.usage.from);
    put_raw(b, ",\"to\":");
    put_int(b, p.usage.to);
    put_raw(b, ",\"kWh\":");
    put_number(b, p.usage.kwh);
    put_raw(b, ",\"coveredSeconds\":");
    put_int(b, p.usage.covered);
    put_raw(b, ",\"gaps\":");
    put_int(b, p.usage.gaps);
    put_raw(b, "}}");
    respond_written(c->resp);
    rc = 0;
out:
    priced_free(&p);
    return rc;
}

static int handle_recommend(struct ctx *c, struct joi_error *err)
{
    size_t limit = SIZE_MAX;
    const struct joi_query_param *inc;
    if (param_count(&c->params, "limit", &limit, err) < 0)
        return -1;
    int has_inc = param(&c->params, "include", &inc, err);
    if (has_inc < 0)
        return -1;
    if (has_inc && strcmp(inc->value, "savings") != 0) {
        c->params.bad = "include";
        return joi_error_set(err, 400, "query parameter include must be savings");
    }
    struct priced p;
    int rc = -1;
    if (price_meter(c, &p, err) != 0)
        goto out;
    if (!has_inc) {
        joi_buf_reset(&c->resp->body);
        put_comparisons(&c->resp->body, &p, limit);
        respond_written(c->resp);
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
    respond_json(c->resp, arr);
    rc = 0;
out:
    priced_free(&p);
    return rc;
}

static int handle_usage(struct ctx *c, struct joi_error *err)
{
    enum joi_period period = JOI_DAY;
    const struct joi_query_param *pp;
    int has = param(&c->params, "period", &pp, err);
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
    if (param_range(&c->params, &from, &to, &ranged, err) != 0)
        return -1;
    const struct joi_config *cfg = current_config(c->app, err);
    if (cfg == NULL)
        return -1;
    struct joi_readings r;
    joi_readings_init(&r);
    struct joi_bucket *b = NULL;
    size_t nb = 0;
    int rc = -1;
    if (read_range(c, 1, from, to, 0, &r, err) != 0 ||
        too_many_readings(r.n, ranged, "bucketed", "narrow the range with from and to", err))
        goto out;
    joi_readings_sort_unique(&r);
    if (r.n >= 2) {
        int64_t t0 = r.items[0].time, t1 = r.items[r.n - 1].time;
        if (too_long(t1 - t0, err) || too_many_buckets(cfg, t0, t1, period, err))
            goto out;
    }
    if (joi_usage_buckets(r.items, r.n, cfg->max_gap, cfg->timezone, period, &b, &nb) != 0) {
        joi_error_set(err, 500, "the time zone %s could not be used", cfg->timezone);
        goto out;
    }
    /* Written directly, like the pricing answers: a json-c object per bucket would
     * cost ten times the memory of the answer. */
    struct joi_buf *out = &c->resp->body;
    joi_buf_reset(out);
    joi_buf_append(out, "[", 1);
    for (size_t i = 0; i < nb; i++) {
        put_raw(out, i ? ",{\"start\":" : "{\"start\":");
        put_int(out, b[i].start);
        put_raw(out, ",\"end\":");
        put_int(out, b[i].end);
        put_raw(out, ",\"kWh\":");
        put_number(out, b[i].kwh);
        joi_buf_append(out, "}", 1);
    }
    joi_buf_append(out, "]", 1);
    respond_written(c->resp);
    rc = 0;
out:
    free(b);
    joi_readings_free(&r);
    return rc;
}

static const char *const day_names[7] = {"MONDAY", "TUESDAY",  "WEDNESDAY", "THURSDAY",
                                         "FRIDAY", "SATURDAY", "SUNDAY"};

static struct json_object *rule_json(const struct joi_rule *r)
{
    struct json_object *o = json_object_new_object();
    struct json_object *days = json_object_new_array();
    for (int d = 0; d < 7; d++)
        if (r->days & (1u << d))
            json_object_array_add(days, json_object_new_string(day_names[d]));
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

static int handle_plans(struct ctx *c, struct joi_error *err)
{
    const struct joi_config *cfg = current_config(c->app, err);
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
    respond_json(c->resp, arr);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Routing                                                                   */
/* ------------------------------------------------------------------------ */

enum { M_GET = 1, M_POST = 2 };

struct route {
    const char *prefix; /* exact path, or a prefix followed by the meter id */
    int has_meter;
    int methods;
    const char *allow;
    int (*handler)(struct ctx *c, struct joi_error *err);
};

static const struct route routes[] = {
    {"/health", 0, M_GET, "GET, HEAD", handle_health},
    {"/health/live", 0, M_GET, "GET, HEAD", handle_live},
    {"/readings/store", 0, M_POST, "POST", handle_store},
    {"/readings/read/", 1, M_GET, "GET, HEAD", handle_read},
    {"/readings/usage/", 1, M_GET, "GET, HEAD", handle_usage},
    {"/price-plans", 0, M_GET, "GET, HEAD", handle_plans},
    {"/price-plans/compare-all/", 1, M_GET, "GET, HEAD", handle_compare},
    {"/price-plans/recommend/", 1, M_GET, "GET, HEAD", handle_recommend},
};

/* Finds the route of path[0..len).  For a route with a meter id, *id and *idlen
 * are the raw (still percent-encoded) id segment. */
static const struct route *route_find(const char *path, size_t len, const char **id, size_t *idlen)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *r = &routes[i];
        size_t pl = strlen(r->prefix);
        if (!r->has_meter) {
            if (len == pl && memcmp(path, r->prefix, pl) == 0)
                return r;
            continue;
        }
        if (len < pl || memcmp(path, r->prefix, pl) != 0)
            continue;
        if (memchr(path + pl, '/', len - pl) != NULL)
            return NULL; /* more segments than the route has */
        *id = path + pl;
        *idlen = len - pl;
        return r;
    }
    return NULL;
}

static int method_bits(const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return M_GET;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    return 0;
}

/* Splits the request URI into path and query. */
static void split_uri(const char *uri, size_t *pathlen, const char **query, size_t *querylen)
{
    const char *q = strchr(uri, '?');
    size_t n = strlen(uri);
    *pathlen = q ? (size_t)(q - uri) : n;
    *query = q ? q + 1 : "";
    *querylen = q ? n - *pathlen - 1 : 0;
}

static int is_json_type(const char *ct)
{
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

int joi_app_precheck(const struct joi_request *req, struct joi_response *resp)
{
    /* lighttpd sends REDIRECT_STATUS=200 with every request; only an error status
     * means this is the error handler, with no body to read. */
    if (req->redirect_status >= 400 && req->redirect_status <= 599)
        return 0;
    size_t pathlen, querylen, idlen;
    const char *query, *id;
    split_uri(req->uri ? req->uri : "", &pathlen, &query, &querylen);
    const struct route *r = route_find(req->uri ? req->uri : "", pathlen, &id, &idlen);
    if (r == NULL || !(r->methods & M_POST) || strcmp(req->method ? req->method : "", "POST") != 0)
        return 0; /* no body needed; the handler decides the rest */
    struct joi_error err;
    joi_error_clear(&err);
    if (req->content_length < 0)
        joi_error_set(&err, 411, "a Content-Length is required");
    else if (req->content_length > JOI_BODY_MAX)
        joi_error_set(&err, 413, "the body is larger than %d bytes", JOI_BODY_MAX);
    else if (req->content_type && *req->content_type && !is_json_type(req->content_type))
        joi_error_set(&err, 415, "Content-Type must be application/json");
    else
        return 1;
    problem_render(resp, &err, NULL);
    return -1;
}

/* lighttpd answers some errors itself, before any worker sees the request, and
 * then calls the error handler (a worker) to write the body: render those as
 * problem details too. */
static void server_error(int status, struct joi_error *err)
{
    switch (status) {
    case 411:
        joi_error_set(err, 411, "a Content-Length is required");
        break;
    case 413:
        joi_error_set(err, 413, "the body is larger than %d bytes", JOI_BODY_MAX);
        break;
    case 404:
        joi_error_set(err, 404, "no such resource");
        break;
    case 400:
        joi_error_set(err, 400, "the HTTP request is malformed");
        break;
    case 431: /* lighttpd's server.max-request-field-size, 8 KB by default */
        joi_error_set(err, 431, "the request line and headers are larger than 8 KB");
        break;
    case 501:
        joi_error_set(err, 501, "this method is not supported here");
        break;
    default:
        joi_error_set(err, status, "%s", joi_status_title(status));
        break;
    }
}

void joi_app_handle(struct joi_app *app, const struct joi_request *req, struct joi_response *resp)
{
    struct joi_error err;
    joi_error_clear(&err);
    if (req->redirect_status >= 400 && req->redirect_status <= 599) {
        server_error(req->redirect_status, &err);
        problem_render(resp, &err, NULL);
        return;
    }
    /* Field by field: the query's 16 KB of parameter slots are filled by
     * joi_query_parse, never zeroed for every request. */
    struct ctx c;
    c.app = app;
    c.req = req;
    c.resp = resp;
    c.meter = NULL;
    c.params.bad = NULL;
    c.params.q.n = 0;
    const char *uri = req->uri ? req->uri : "";
    size_t pathlen, querylen, idlen = 0;
    const char *query, *id = NULL;
    char meter[JOI_METER_MAX + 1];
    split_uri(uri, &pathlen, &query, &querylen);
    const struct route *r = route_find(uri, pathlen, &id, &idlen);
    if (r == NULL) {
        joi_error_set(&err, 404, "no such resource");
        goto fail;
    }
    if (!(r->methods & method_bits(req->method ? req->method : ""))) {
        snprintf(resp->allow, sizeof resp->allow, "%s", r->allow);
        joi_error_set(&err, 405, "%s is not allowed here; use %s",
                      method_bits(req->method ? req->method : "") ? req->method : "this method",
                      r->allow);
        goto fail;
    }
    if (r->methods & M_POST && joi_app_precheck(req, resp) < 0)
        return;
    if (r->has_meter) {
        long n = joi_url_decode(id, idlen, meter, JOI_METER_MAX, 0);
        if (n < 0 || !joi_meter_id_valid(meter, (size_t)n)) {
            joi_error_set(&err, 400,
                          "the meter id must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
            goto fail;
        }
        c.meter = meter;
    }
    if (joi_query_parse(query, querylen, &c.params.q) != 0) {
        joi_error_set(&err, 400, "the query string is malformed or too long");
        goto fail;
    }
    if (r->handler(&c, &err) == 0)
        return;
fail:
    problem_render(resp, &err, c.params.bad);
}
