/*
 * router.c -- a request's way to its handler (see joi/app.h).
 *
 * Rules of this module:
 *  - The route table is the list of endpoints: a path (exact, or a prefix
 *    followed by the meter id), the methods it takes and its handler.
 *  - Routing is on REQUEST_URI, the raw path: the meter id is percent-decoded
 *    here, strictly, and checked against the meter-id rule before a handler runs.
 *  - Everything that can be refused before the body is read (411, 413, 415) is
 *    decided by joi_app_precheck; lighttpd's own errors (redirect_status) are
 *    rendered as problem details by server_error.
 *  - A failed handler's error is rendered here, by joi_response_problem.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "joi/app.h"
#include "joi/handler.h"
#include "joi/http.h"
#include "joi/meter.h"
#include "joi/token.h"

void joi_app_init(struct joi_app *app, struct joi_store *store)
{
    app->store = store;
    app->auth = JOI_AUTH_OPEN;
    app->metrics = NULL;
    joi_plans_init(&app->plans);
}

void joi_app_free(struct joi_app *app)
{
    joi_plans_free(&app->plans);
}

/* ------------------------------------------------------------------------ */
/* Routing                                                                   */
/* ------------------------------------------------------------------------ */

enum { M_GET = 1, M_POST = 2 };

struct route {
    const char *prefix; /* exact path, or a prefix followed by the meter id */
    int has_meter;      /* 1: a meter's data, read only with its read key (read_access) */
    int methods;
    const char *allow;
    joi_handler_fn *handler;
    const char *name; /* the route label of the metrics */
};

static const struct route routes[] = {
    {"/health", 0, M_GET, "GET, HEAD", joi_handle_health, "health"},
    {"/health/live", 0, M_GET, "GET, HEAD", joi_handle_live, "live"},
    {"/readings/store", 0, M_POST, "POST", joi_handle_store, "store"},
    {"/readings/read/", 1, M_GET, "GET, HEAD", joi_handle_read, "read"},
    {"/readings/usage/", 1, M_GET, "GET, HEAD", joi_handle_usage, "usage"},
    {"/price-plans", 0, M_GET, "GET, HEAD", joi_handle_plans, "plans"},
    {"/price-plans/compare-all/", 1, M_GET, "GET, HEAD", joi_handle_compare, "compare"},
    {"/price-plans/recommend/", 1, M_GET, "GET, HEAD", joi_handle_recommend, "recommend"},
    /* public, like /health: no meter's data (see README, Monitoring) */
    {"/metrics", 0, M_GET, "GET, HEAD", joi_handle_metrics, "metrics"},
};

#define NROUTES (sizeof routes / sizeof routes[0])
_Static_assert(NROUTES + 1 <= JOI_METRICS_ROUTES, "more routes than a metrics file has room for");

static const char *const route_names[NROUTES + 1] = {"health",  "live",   "store",   "read",
                                                     "usage",   "plans",  "compare", "recommend",
                                                     "metrics", "unknown"};

/* The one answer to a read without the meter's key, whatever the meter, the
 * credential or its form: the same bytes for an unknown meter, a known one,
 * a missing, malformed or wrong key, so that a 401 tells nothing. */
static int read_denied(struct joi_error *err)
{
    return joi_error_set(err, 401,
                         "this meter's data needs its read key: Authorization: Bearer KEY, "
                         "or Basic with the key as user name and an empty password");
}

/* May the request read the meter's data?  A meter with a read key answers only
 * to it; without one it is open in open mode and closed in keys mode.  One store
 * round trip (the key record), before anything of the meter is read.  0, or -1
 * with err set (401: resp's challenge names both schemes). */
static int read_access(const struct joi_ctx *c, struct joi_error *err)
{
    char record[JOI_TOKEN_RECORD_MAX], cred[JOI_AUTH_CREDENTIAL_MAX + 1];
    struct joi_store *s = c->app->store;
    if (s->ops->key_get(s, c->meter, record, sizeof record, err) != 0)
        return -1;
    if (record[0] == '\0' && c->app->auth == JOI_AUTH_OPEN)
        return 0;
    enum joi_auth_scheme scheme = joi_auth_parse(c->req->authorization, cred);
    /* A meter without a key is checked against a record no key matches, so that
     * its 401 takes as long as a known meter's (the same hash work). */
    static const char nothing[] =
        "v1:00000000000000000000000000000000:"
        "0000000000000000000000000000000000000000000000000000000000000000";
    int ok = joi_token_verify(record[0] ? record : nothing, cred) && record[0] != '\0';
    if ((scheme != JOI_AUTH_BEARER && scheme != JOI_AUTH_BASIC) || !ok) {
        c->resp->www_authenticate = JOI_CHALLENGE_READ;
        return read_denied(err);
    }
    return 0;
}

static void split_uri(const char *uri, size_t *pathlen, const char **query, size_t *querylen);

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

const char *const *joi_app_route_names(size_t *n)
{
    *n = NROUTES + 1;
    return route_names;
}

int joi_app_route(const char *uri)
{
    size_t pathlen, querylen, idlen;
    const char *query, *id;
    split_uri(uri ? uri : "", &pathlen, &query, &querylen);
    const struct route *r = route_find(uri ? uri : "", pathlen, &id, &idlen);
    return r ? (int)(r - routes) : (int)NROUTES;
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
    joi_response_problem(resp, &err, NULL);
    return -1;
}

/* lighttpd answers some errors itself, before any worker sees the request, and
 * then calls the error handler (a worker) to write the body: render those as
 * problem details too.  lighttpd passes only the status (REDIRECT_STATUS) and
 * the original REQUEST_URI, which is empty when it rejected the request line
 * itself; REQUEST_METHOD is always GET and the header at fault is not passed. */
/* 1 for the paths lighttpd serves from www/ itself (lighttpd.conf.in:
 * ^/($|index\.html$|assets/|openapi\.json$)), else 0. */
static int is_static_path(const char *uri)
{
    size_t pathlen, querylen;
    const char *query;
    split_uri(uri, &pathlen, &query, &querylen);
    return (pathlen == 1 && uri[0] == '/') ||
           (pathlen == 11 && strncmp(uri, "/index.html", 11) == 0) ||
           (pathlen == 13 && strncmp(uri, "/openapi.json", 13) == 0) ||
           (pathlen >= 8 && strncmp(uri, "/assets/", 8) == 0);
}

static void server_error(int status, const char *uri, struct joi_error *err)
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
    case 429:
        /* lighttpd/per-address.lua: too much in hand from one address */
        joi_error_set(err, 429,
                      "too many requests from this address at once; retry when some are done");
        break;
    case 431: /* lighttpd's server.max-request-field-size, 8 KB by default */
        joi_error_set(err, 431, "the request line and headers are larger than 8 KB");
        break;
    case 501:
        /* An unknown method fails the request line (no URI); a Transfer-Encoding
         * other than chunked fails a header; a method the static files do not
         * serve fails later, on their paths only (lighttpd.conf.in). */
        if (uri == NULL || *uri == '\0')
            joi_error_set(err, 501, "the request method is not supported");
        else if (is_static_path(uri))
            joi_error_set(err, 501,
                          "this method is not supported here, or the Transfer-Encoding is not "
                          "chunked");
        else
            joi_error_set(err, 501, "a Transfer-Encoding other than chunked is not supported");
        break;
    case 505:
        joi_error_set(err, 505, "the HTTP version is not supported; use HTTP/1.1");
        break;
    default:
        joi_error_set(err, status, "%s", joi_error_title(status));
        break;
    }
}

void joi_app_handle(struct joi_app *app, const struct joi_request *req, struct joi_response *resp)
{
    struct joi_error err;
    joi_error_clear(&err);
    if (req->redirect_status >= 400 && req->redirect_status <= 599) {
        server_error(req->redirect_status, req->uri, &err);
        joi_response_problem(resp, &err, NULL);
        return;
    }
    /* Field by field: the query's 16 KB of parameter slots are filled by
     * joi_query_parse, never zeroed for every request. */
    struct joi_ctx c;
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
            joi_error_set(&err, 400, "the meter id must be " JOI_METER_RULE);
            goto fail;
        }
        c.meter = meter;
        memcpy(resp->meter, meter, (size_t)n + 1);
        if (read_access(&c, &err) != 0)
            goto fail;
    }
    if (joi_query_parse(query, querylen, &c.params.q) != 0) {
        joi_error_set(&err, 400, "the query string is malformed or too long");
        goto fail;
    }
    if (r->handler(&c, &err) == 0)
        return;
fail:
    joi_response_problem(resp, &err, c.params.bad);
}
