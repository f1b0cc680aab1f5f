/*
 * fuzz_request.c -- libFuzzer target over the whole request path: raw
 * FastCGI-style parameters and body in, response out, with the in-memory
 * store behind the interface (no Redis needed).
 *
 * One input is up to MAX_REQUESTS requests, separated by SEPARATOR, handled in
 * sequence by the same app and store, so that what one request stores (and the
 * plans the app has cached) is there for the next.  Each request: byte 0 picks
 * the method, whether a Content-Length, a Content-Type and an Authorization
 * header are sent, and (rarely) an error status lighttpd hands to the error
 * handler; then the request URI up to '\n', the Content-Type up to '\n', and the
 * rest is the body.
 *
 * Every answer must be: a status from 200 to 599 and a body that is one strict
 * JSON document (json-c, RFC 8259, UTF-8 validated); application/json for a 2xx
 * and application/problem+json for anything else; a problem document an object
 * with "type":"about:blank", the title of its status, a non-empty detail and a
 * "status" equal to the HTTP status.  The in-memory store never fails, so no
 * request lighttpd passes on may answer 5xx.  Any breach aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "joi/app.h"
#include "joi/error.h"
#include "joi/store.h"

#define SEPARATOR "\n~~\n"
#define MAX_REQUESTS 8

static const char plans[] =
    "{\"timezone\":\"Europe/London\",\"maxGapSeconds\":3600,\"pricePlans\":["
    "{\"id\":\"price-plan-0\",\"supplier\":\"A\",\"unitRate\":10,\"standingCharge\":0.5,"
    "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10},"
    "{\"days\":[\"MONDAY\",\"FRIDAY\"],\"from\":\"16:00\",\"to\":\"19:00\",\"multiplier\":2},"
    "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5}]},"
    "{\"id\":\"price-plan-1\",\"supplier\":\"B\",\"unitRate\":2,\"timezone\":\"UTC\","
    "\"peakTimeMultipliers\":[{\"from\":\"16:10\",\"to\":\"16:50\",\"multiplier\":3}]},"
    "{\"id\":\"price-plan-2\",\"supplier\":\"C\",\"unitRate\":1}],"
    "\"accounts\":{\"smart-meter-0\":\"price-plan-0\"}}";

/* A fresh store for every input keeps inputs independent and memory flat. */
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

static char *take_line(const uint8_t **p, size_t *n)
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

static void fail(const char *what, const struct joi_response *resp)
{
    fprintf(stderr, "fuzz_request: %s (status %d, %s): %.*s\n", what, resp->status,
            resp->content_type ? resp->content_type : "(no type)",
            (int)(resp->body.len > 2000 ? 2000 : resp->body.len),
            resp->body.data ? resp->body.data : "");
    abort();
}

/* The checks of the header comment. */
static void check_response(const struct joi_response *resp, int from_lighttpd)
{
    if (resp->status < 200 || resp->status > 599 || resp->body.len == 0 || resp->body.data == NULL)
        fail("every answer has a status and a body", resp);
    if (!from_lighttpd && resp->status >= 500)
        fail("the in-memory store never makes a 5xx", resp);
    struct json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* The length with the NUL: json-c finishes a number at the end of the input only
     * when it sees what follows. */
    struct json_object *doc = json_tokener_parse_ex(tok, resp->body.data, (int)resp->body.len + 1);
    int ok = doc != NULL && json_tokener_get_error(tok) == json_tokener_success &&
             json_tokener_get_parse_end(tok) == resp->body.len;
    json_tokener_free(tok);
    if (!ok || memchr(resp->body.data, '\0', resp->body.len) != NULL)
        fail("the body is one strict JSON document", resp);
    int problem = strcmp(resp->content_type, "application/problem+json") == 0;
    if (resp->status < 300 ? strcmp(resp->content_type, "application/json") != 0 : !problem)
        fail("2xx is application/json, anything else application/problem+json", resp);
    if (problem) {
        struct json_object *v;
        if (!json_object_is_type(doc, json_type_object))
            fail("a problem document is an object", resp);
        if (!json_object_object_get_ex(doc, "status", &v) ||
            !json_object_is_type(v, json_type_int) || json_object_get_int(v) != resp->status)
            fail("a problem document's status is the HTTP status", resp);
        if (!json_object_object_get_ex(doc, "type", &v) ||
            strcmp(json_object_get_string(v), "about:blank") != 0)
            fail("a problem document's type is about:blank", resp);
        if (!json_object_object_get_ex(doc, "title", &v) ||
            !json_object_is_type(v, json_type_string) ||
            strcmp(json_object_get_string(v), joi_error_title(resp->status)) != 0)
            fail("a problem document's title is its status's", resp);
        if (!json_object_object_get_ex(doc, "detail", &v) ||
            !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
            fail("a problem document has a detail", resp);
    }
    json_object_put(doc);
}

/* Handles one request of data[0..size) with the app, as the FastCGI loop does. */
static void one_request(struct joi_app *app, const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",    "POST",    "HEAD", "PUT",
                                          "DELETE", "OPTIONS", "",     "get"};
    /* What lighttpd may hand to the error handler instead of a request. */
    static const int server_statuses[] = {400, 404, 411, 413, 431, 500, 501, 503};
    if (size < 1)
        return;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char *uri = take_line(&p, &n);
    char *ctype = take_line(&p, &n);
    struct joi_request req = {0};
    req.method = methods[sel & 7];
    req.uri = uri;
    req.content_type = (sel & 8) ? ctype : NULL;
    req.content_length = (sel & 16) ? -1 : (long long)n;
    req.authorization = (sel & 32) ? "Bearer x" : NULL;
    req.body = (const char *)p;
    req.body_len = n;
    if ((sel & 0xc0) == 0xc0 && n > 0) /* the body's first byte picks the status */
        req.redirect_status = server_statuses[p[0] % 8];
    struct joi_response resp;
    joi_response_init(&resp);
    if (joi_app_precheck(&req, &resp) >= 0)
        joi_app_handle(app, &req, &resp);
    check_response(&resp, req.redirect_status != 0);
    joi_response_free(&resp);
    free(uri);
    free(ctype);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct joi_app app;
    struct joi_store *store = setup(&app);
    const size_t seplen = sizeof SEPARATOR - 1;
    for (int i = 0; i < MAX_REQUESTS && size > 0; i++) {
        const uint8_t *end = NULL;
        for (size_t k = 0; k + seplen <= size && end == NULL; k++)
            if (memcmp(data + k, SEPARATOR, seplen) == 0)
                end = data + k;
        size_t len = end ? (size_t)(end - data) : size;
        one_request(&app, data, len);
        if (end == NULL)
            break;
        data += len + seplen;
        size -= len + seplen;
    }
    joi_app_free(&app);
    joi_store_free(store);
    return 0;
}
