/*
 * app.h -- the service as a function: request struct in, response struct out.
 *
 * joi_app_handle() never touches a socket: the FastCGI loop (worker.c) fills a
 * joi_request from the server's parameters and body, and writes the
 * joi_response back.  The router (router.c) finds the endpoint's handler
 * (handle_*.c, see joi/handler.h), which fills the response; a failed handler's
 * error is rendered as problem details in one place (response.c).
 */
#ifndef JOI_APP_H
#define JOI_APP_H

#include <stddef.h>

#include "joi/auth.h"
#include "joi/buf.h"
#include "joi/meter.h"
#include "joi/metrics.h"
#include "joi/pricing.h"
#include "joi/store.h"

#define JOI_BODY_MAX (1024 * 1024)

/* Seconds in the Retry-After header of every 503.  What a 503 means here clears
 * by itself in about that time or is not worth retrying much sooner: Redis
 * restarted by its supervisor is back within 1-2 s (its first back-off is 1 s),
 * a store that timed out has already held the request for JOI_REDIS_TIMEOUT_MS (2 s),
 * and LOADING and BUSY last seconds; a store out of memory or disk needs a person,
 * and a meter that retries every 5 s rather than at once does not add to the load
 * while it waits.  Short enough that a delayed reading arrives within seconds. */
#define JOI_RETRY_AFTER_SECONDS 5
/* Retry-After of a 429: the address's other requests are done within a second or so. */
#define JOI_RETRY_AFTER_BUSY_SECONDS 1

struct joi_request {
    const char *method;        /* REQUEST_METHOD */
    const char *uri;           /* REQUEST_URI: raw path and query */
    const char *content_type;  /* CONTENT_TYPE or NULL */
    long long content_length;  /* -1 when the request had none */
    const char *authorization; /* HTTP_AUTHORIZATION or NULL */
    const char *accept;        /* HTTP_ACCEPT or NULL */
    const char *body;          /* content_length bytes (borrowed) */
    size_t body_len;
    int redirect_status; /* REDIRECT_STATUS: the error lighttpd itself decided on
                            (413, 411, 400...) when it calls the error handler; else 0 */
};

struct joi_response {
    int status;
    const char *content_type; /* static string */
    char allow[64];           /* Allow header for 405, else "" */
    int retry_after;          /* Retry-After header in seconds (every 503), else 0 */
    /* WWW-Authenticate of a 401 (static string); NULL: JOI_CHALLENGE_WRITE */
    const char *www_authenticate;
    const char *vary;     /* Vary header (static string), or NULL */
    char disposition[96]; /* Content-Disposition header, or "" */
    struct joi_buf body;
    /* For the log line and the metrics (worker.c), never sent: */
    char meter[JOI_METER_MAX + 1]; /* the request's meter once known valid, else "" */
    char cause[256];               /* a failed request's problem detail, else "" */
    size_t stored;                 /* readings a store wrote */
};

/* The challenges of a 401: a write wants a token, a read a key. */
#define JOI_CHALLENGE_WRITE "Bearer realm=\"joi-energy\""
#define JOI_CHALLENGE_READ "Bearer realm=\"joi-energy\", Basic realm=\"joi-energy\""

/* The two answer types of a read that has a CSV form. */
#define JOI_TYPE_JSON "application/json"
#define JOI_TYPE_CSV "text/csv; charset=utf-8"

struct joi_app {
    struct joi_store *store;     /* borrowed */
    enum joi_auth_mode auth;     /* JOI_AUTH: open (joi_app_init's default) or keys */
    struct joi_plans plans;      /* the worker's copy of the plans file */
    struct joi_metrics *metrics; /* borrowed; NULL: GET /metrics answers 404 */
};

void joi_app_init(struct joi_app *app, struct joi_store *store);
void joi_app_free(struct joi_app *app); /* frees the cached config, not the store */

void joi_response_init(struct joi_response *resp);
void joi_response_free(struct joi_response *resp);

/* Handles one request.  Always fills resp (status, type and body), never fails. */
void joi_app_handle(struct joi_app *app, const struct joi_request *req, struct joi_response *resp);

/* The route label of a request URI for the metrics: an index into the names of
 * joi_app_route_names, whose last is "unknown" (any path without a route). */
int joi_app_route(const char *uri);
/* The route labels (the route table's names, then "unknown"); *n is their count. */
const char *const *joi_app_route_names(size_t *n);

/* Checks the request line and headers before the body is read: 411, 413 and
 * 415 are decided here.  Returns 1 when the body should be read, 0 when the
 * route needs no body, or -1 with resp filled with the error. */
int joi_app_precheck(const struct joi_request *req, struct joi_response *resp);

#endif
