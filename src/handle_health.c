/*
 * handle_health.c -- GET /health/live and GET /health (see joi/handler.h).
 *
 * /health/live says the worker runs and asks nothing of the store; /health
 * says whether the store answers and takes writes (the store's ping probes
 * with a write).
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
