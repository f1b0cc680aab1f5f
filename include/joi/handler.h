/*
 * handler.h -- what the endpoint handlers share: the context of one request,
 * the handlers the router dispatches to, and the ways a handler answers.
 *
 * Rules for a handler (handle_*.c):
 *  - It takes the parsed request and the store through its joi_ctx and fills
 *    c->resp; it never sees FastCGI or Redis.
 *  - It validates the whole request before it writes anything to the store.
 *  - On failure it sets err and returns -1, with nothing in the response: the
 *    router renders the problem (joi_response_problem), the one place where an
 *    error becomes an HTTP answer.
 *  - Its work and its answer are bounded; past a bound it answers 422 saying how
 *    to narrow the request.
 */
#ifndef JOI_HANDLER_H
#define JOI_HANDLER_H

#include <json-c/json.h>

#include "joi/app.h"
#include "joi/error.h"
#include "joi/params.h"

struct joi_ctx {
    struct joi_app *app;
    const struct joi_request *req;
    struct joi_response *resp;
    const char *meter; /* the decoded meter id, for routes that have one; else NULL */
    struct joi_params params;
};

/* Every handler: 0 with c->resp filled, or -1 with err set. */
typedef int joi_handler_fn(struct joi_ctx *c, struct joi_error *err);

joi_handler_fn joi_handle_live;      /* GET /health/live (handle_health.c) */
joi_handler_fn joi_handle_health;    /* GET /health */
joi_handler_fn joi_handle_store;     /* POST /readings/store (handle_readings.c) */
joi_handler_fn joi_handle_read;      /* GET /readings/read/{id} */
joi_handler_fn joi_handle_usage;     /* GET /readings/usage/{id} (handle_usage.c) */
joi_handler_fn joi_handle_plans;     /* GET /price-plans (handle_plans.c) */
joi_handler_fn joi_handle_compare;   /* GET /price-plans/compare-all/{id} */
joi_handler_fn joi_handle_recommend; /* GET /price-plans/recommend/{id} */
joi_handler_fn joi_handle_metrics;   /* GET /metrics (handle_health.c) */

/* A 200 JSON answer: o serialised as the body; takes the caller's reference to o. */
void joi_response_json(struct joi_response *resp, struct json_object *o);
/* A 200 JSON answer whose body the caller has already written into resp->body. */
void joi_response_written(struct joi_response *resp);
/* The problem details of err (RFC 9457) as the answer; parameter, when not NULL,
 * names the query parameter at fault. */
void joi_response_problem(struct joi_response *resp, const struct joi_error *err,
                          const char *parameter);

/* The 404 of a meter without readings (ranged: none in the requested range).
 * Returns -1. */
int joi_error_no_readings(struct joi_error *err, const char *meter, int ranged);

#endif
