/*
 * handle_health.c -- GET /health/live and GET /health (see joi/handler.h).
 *
 * /health/live says the worker runs and asks nothing of the store; /health
 * says whether the store answers and takes writes (the store's ping probes
 * with a write); /metrics is every worker's counters (joi/metrics.h).
 */
#include "joi/handler.h"
#include "joi/store.h"

int joi_handle_live(struct joi_ctx *c, struct joi_error *err)
{
    (void)err;
    joi_buf_reset(&c->resp->body);
    joi_buf_puts(&c->resp->body, "{\"status\":\"ok\"}");
    joi_response_written(c->resp);
    return 0;
}

/* 503 with the store's reason ("the store is out of memory and refuses writes")
 * while a request or a write cannot succeed. */
int joi_handle_health(struct joi_ctx *c, struct joi_error *err)
{
    if (c->app->store->ops->ping(c->app->store, err) != 0) {
        err->status = 503;
        return -1;
    }
    return joi_handle_live(c, err);
}

/* Prometheus's text format: every worker's counters summed (joi/metrics.h).  A 404
 * when the worker was started without metrics (app->metrics NULL). */
int joi_handle_metrics(struct joi_ctx *c, struct joi_error *err)
{
    if (c->app->metrics == NULL)
        return joi_error_set(err, 404, "no such resource");
    size_t n;
    const char *const *names = joi_app_route_names(&n);
    joi_buf_reset(&c->resp->body);
    joi_metrics_scrape(c->app->metrics, &c->resp->body, names, n);
    c->resp->status = 200;
    c->resp->content_type = JOI_METRICS_TYPE;
    return 0;
}
