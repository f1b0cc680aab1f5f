/*
 * fuzz_request.c -- libFuzzer target over the whole request path: raw
 * FastCGI-style parameters and body in, response out, with the in-memory
 * store behind the interface (no Redis needed).
 *
 * Input layout: byte 0 picks the method and whether a Content-Length is sent;
 * then the request URI up to '\n', the Content-Type up to '\n', and the rest is
 * the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "joi/app.h"
#include "joi/store.h"

static const char plans[] =
    "{\"timezone\":\"Europe/London\",\"maxGapSeconds\":3600,\"pricePlans\":["
    "{\"id\":\"price-plan-0\",\"supplier\":\"A\",\"unitRate\":10,\"standingCharge\":0.5,"
    "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10},"
    "{\"days\":[\"MONDAY\",\"FRIDAY\"],\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2},"
    "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5}]},"
    "{\"id\":\"price-plan-1\",\"supplier\":\"B\",\"unitRate\":2,\"timezone\":\"UTC\"},"
    "{\"id\":\"price-plan-2\",\"supplier\":\"C\",\"unitRate\":1}],"
    "\"accounts\":{\"smart-meter-0\":\"price-plan-0\"}}";

/* A fresh store for every input keeps runs independent and memory flat. */
static struct joi_store *setup(struct joi_app *app)
{
    struct joi_store *store = joi_store_mem_new();
    struct joi_error err;
    store->ops->config_put(store, plans, sizeof plans - 1, &err);
    struct joi_reading r[4] = {
        {1606636800, 0.0503}, {1606640400, 1.5}, {1606723200, 35}, {1606726800, 5}};
    char current[8];
    store->ops->readings_put(store, "smart-meter-0", r, 4, "", current, sizeof current, &err);
    joi_app_init(app, store);
    return store;
}

static const char *take_line(const uint8_t **p, size_t *n)
{
    const uint8_t *nl = memchr(*p, '\n', *n);
    size_t len = nl ? (size_t)(nl - *p) : *n;
    char *s = malloc(len + 1);
    memcpy(s, *p, len);
    s[len] = '\0';
    *p += nl ? len + 1 : len;
    *n -= nl ? len + 1 : len;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",    "POST",    "HEAD", "PUT",
                                          "DELETE", "OPTIONS", "",     "get"};
    if (size < 1)
        return 0;
    struct joi_app app;
    struct joi_store *store = setup(&app);
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    const char *uri = take_line(&p, &n);
    const char *ctype = take_line(&p, &n);
    struct joi_request req = {0};
    req.method = methods[sel & 7];
    req.uri = uri;
    req.content_type = (sel & 8) ? ctype : NULL;
    req.content_length = (sel & 16) ? -1 : (long long)n;
    req.authorization = (sel & 32) ? "Bearer x" : NULL;
    req.body = (const char *)p;
    req.body_len = n;
    struct joi_response resp;
    joi_response_init(&resp);
    if (joi_app_precheck(&req, &resp) >= 0)
        joi_app_handle(&app, &req, &resp);
    if (resp.status < 200 || resp.status > 599 || resp.body.len == 0)
        abort(); /* every answer has a status and a body */
    joi_response_free(&resp);
    free((void *)uri);
    free((void *)ctype);
    joi_app_free(&app);
    joi_store_free(store);
    return 0;
}
