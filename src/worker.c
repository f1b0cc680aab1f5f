/*
 * worker.c -- the FastCGI worker: the only module that includes fcgiapp.h.
 *
 * Started by lighttpd (bin-path, listening socket on fd 0), or on its own with
 * --listen HOST:PORT / --listen /path/to.sock for worker hosts that a remote
 * lighttpd lists in fastcgi.server.  Each request is read into a joi_request,
 * handled by joi_app_handle(), and its joi_response written back.
 *
 * Environment: JOI_REDIS (unix:/path or host:port), JOI_REDIS_TIMEOUT_MS
 * (default 2000), JOI_AUTH (open, the default, or keys: see joi/auth.h),
 * JOI_METRICS_DIR (the folder of the workers' metrics files: joi/metrics.h).
 *
 * Every request is timed and counted here (joi_metrics_end), and a failed one
 * (4xx, 5xx) gets one log line on stderr (README, Monitoring):
 *   joi-worker[PID] ts=... level=error event=request route=read meter=m1 status=503
 *   cause="..." [store_cause="..."]
 * level=error for a 5xx, warn for a 4xx; never a credential, a body or a query.
 *
 * Signals: SIGTERM while waiting for a request exits at once; during a
 * request it lets the request finish first.  The handler is installed before
 * FCGX_Init so that libfcgi keeps it (libfcgi's own only sets a flag, which
 * leaves a worker blocked in accept() alive as an orphan).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <sys/uio.h>

#include "joi/app.h"
#include "joi/buf.h"
#include "joi/jsonw.h"
#include "joi/metrics.h"
#include "joi/store_stats.h"

static volatile sig_atomic_t in_request;
static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    if (!in_request)
        _exit(0);
    stop_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* a client or Redis that went away is an error, not death */
}

/* Reads exactly n bytes of body.  Returns 0, or -1 when the body ended early. */
static int read_body(FCGX_Stream *in, struct joi_buf *body, size_t n)
{
    char chunk[65536];
    while (body->len < n) {
        size_t want = n - body->len < sizeof chunk ? n - body->len : sizeof chunk;
        int got = FCGX_GetStr(chunk, (int)want, in);
        if (got <= 0)
            return -1;
        joi_buf_append(body, chunk, (size_t)got);
    }
    return 0;
}

/* The largest FastCGI record content (a multiple of 8: records need no padding). */
#define RECORD_MAX 65528

/* Writes every byte of iov[0..iovcnt) (at most 2) to fd.  Returns 0, or -1 (the
 * peer went away). */
static int write_all(int fd, const struct iovec *iov, int iovcnt)
{
    struct iovec v[2];
    memcpy(v, iov, (size_t)iovcnt * sizeof *v);
    int i = 0;
    while (i < iovcnt) {
        ssize_t w = writev(fd, v + i, iovcnt - i);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        while (i < iovcnt && (size_t)w >= v[i].iov_len)
            w -= (ssize_t)v[i++].iov_len;
        if (i < iovcnt) {
            v[i].iov_base = (char *)v[i].iov_base + w;
            v[i].iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* A body: through libfcgi's stream when small; a large one (a year of readings is
 * 19 MB) in records of 64 KiB written straight to the connection, after the
 * stream's buffered bytes, instead of the stream's 8 KiB records (a write and a
 * wake-up of lighttpd each: 2,400 of them for 19 MB).  libfcgi still ends the
 * stream and the request in FCGX_Finish_r. */
static void put_body(FCGX_Request *rq, const char *s, size_t n)
{
    /* After a failed write the stream may have left a record half written (and
     * FCGX_FFlush answers 0 on a stream it closed): then nothing more is sent raw. */
    if (n <= RECORD_MAX || rq->ipcFd < 0 || FCGX_FFlush(rq->out) != 0 ||
        FCGX_GetError(rq->out) != 0) {
        FCGX_PutStr(s, (int)n, rq->out);
        return;
    }
    for (size_t off = 0; off < n;) {
        size_t len = n - off < RECORD_MAX ? n - off : RECORD_MAX;
        unsigned char h[FCGI_HEADER_LEN] = {FCGI_VERSION_1,
                                            FCGI_STDOUT,
                                            (unsigned char)(rq->requestId >> 8),
                                            (unsigned char)rq->requestId,
                                            (unsigned char)(len >> 8),
                                            (unsigned char)len,
                                            0,
                                            0};
        struct iovec iov[2] = {{h, sizeof h}, {(void *)(s + off), len}};
        if (write_all(rq->ipcFd, iov, 2) != 0)
            return; /* lighttpd went away: FCGX_Finish_r finds the connection gone */
        off += len;
    }
}

/* The headers are put together in one buffer and written with the body in two
 * calls (libfcgi's own printf is slow). */
static void write_response(FCGX_Request *rq, const struct joi_response *resp, int head,
                           struct joi_buf *hdr)
{
    joi_buf_reset(hdr);
    /* Every answer's lines without printf, a twentieth of a store's instructions. */
    joi_buf_puts(hdr, "Status: ");
    joi_jsonw_int(hdr, resp->status);
    joi_buf_append(hdr, " ", 1);
    joi_buf_puts(hdr, joi_error_title(resp->status));
    joi_buf_puts(hdr, "\r\nContent-Type: ");
    joi_buf_puts(hdr, resp->content_type);
    joi_buf_puts(hdr, "\r\nContent-Length: ");
    joi_jsonw_int(hdr, (long long)resp->body.len);
    joi_buf_puts(hdr, "\r\n");
    if (resp->allow[0])
        joi_buf_printf(hdr, "Allow: %s\r\n", resp->allow);
    if (resp->retry_after > 0)
        joi_buf_printf(hdr, "Retry-After: %d\r\n", resp->retry_after);
    if (resp->status == 401) /* RFC 9110: a 401 names the schemes it takes */
        joi_buf_printf(hdr, "WWW-Authenticate: %s\r\n",
                       resp->www_authenticate ? resp->www_authenticate : JOI_CHALLENGE_WRITE);
    if (resp->vary)
        joi_buf_printf(hdr, "Vary: %s\r\n", resp->vary);
    if (resp->disposition[0])
        joi_buf_printf(hdr, "Content-Disposition: %s\r\n", resp->disposition);
    joi_buf_puts(hdr, "Cache-Control: no-store\r\n\r\n");
    FCGX_PutStr(hdr->data, (int)hdr->len, rq->out);
    if (!head && resp->body.len)
        put_body(rq, resp->body.data, resp->body.len);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The log line of a failed request; store_failed: a store call failed during it. */
static void log_failure(const char *route, const struct joi_response *resp, int store_failed)
{
    struct joi_buf b;
    joi_buf_init(&b);
    joi_buf_puts(&b, " event=request");
    joi_log_field(&b, "route", route);
    joi_log_field(&b, "meter", resp->meter);
    joi_buf_printf(&b, " status=%d", resp->status);
    joi_log_field(&b, "cause", resp->cause[0] ? resp->cause : joi_error_title(resp->status));
    if (store_failed)
        joi_log_field(&b, "store_cause", joi_store_last_error());
    joi_log_write(resp->status >= 500 ? "error" : "warn", &b);
    joi_buf_free(&b);
}

/* The CGI parameters serve() reads, found in one pass over the request's
 * environment (FCGX_GetParam scans all of it again for each name, which was a
 * fourteenth of a store's instructions).  The first of duplicate names wins, as
 * with FCGX_GetParam. */
enum {
    P_METHOD,
    P_URI,
    P_CONTENT_TYPE,
    P_AUTHORIZATION,
    P_ACCEPT,
    P_REDIRECT_STATUS,
    P_CONTENT_LENGTH,
    P_COUNT
};
#define PARAM(s)                                                                                   \
    {                                                                                              \
        s, sizeof s - 1                                                                            \
    }
static const struct {
    const char *name;
    size_t len;
} param_names[P_COUNT] = {
    PARAM("REQUEST_METHOD"),     PARAM("REQUEST_URI"), PARAM("CONTENT_TYPE"),
    PARAM("HTTP_AUTHORIZATION"), PARAM("HTTP_ACCEPT"), PARAM("REDIRECT_STATUS"),
    PARAM("CONTENT_LENGTH"),
};
#undef PARAM

static void read_params(char **envp, const char *out[P_COUNT])
{
    for (int i = 0; i < P_COUNT; i++)
        out[i] = NULL;
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (e[0] != 'R' && e[0] != 'C' && e[0] != 'H') /* the names' first letters */
            continue;
        for (int i = 0; i < P_COUNT; i++) {
            size_t n = param_names[i].len;
            if (out[i] == NULL && e[0] == param_names[i].name[0] &&
                strncmp(e, param_names[i].name, n) == 0 && e[n] == '=') {
                out[i] = e + n + 1;
                break;
            }
        }
    }
}

static void serve(FCGX_Request *rq, struct joi_app *app, struct joi_buf *body, struct joi_buf *hdr)
{
    uint64_t t0 = now_ns();
    joi_metrics_begin(app->metrics);
    uint64_t store_errors = joi_store_stats_counter->errors;
    struct joi_request req = {0};
    const char *param[P_COUNT];
    read_params(rq->envp, param);
    req.method = param[P_METHOD];
    req.uri = param[P_URI];
    req.content_type = param[P_CONTENT_TYPE];
    req.authorization = param[P_AUTHORIZATION];
    req.accept = param[P_ACCEPT];
    const char *rs = param[P_REDIRECT_STATUS];
    req.redirect_status = rs ? atoi(rs) : 0;
    const char *cl = param[P_CONTENT_LENGTH];
    req.content_length = -1;
    if (cl && *cl) {
        char *end;
        long long v = strtoll(cl, &end, 10);
        req.content_length = (*end == '\0' && v >= 0) ? v : -1;
    }
    struct joi_response resp;
    joi_response_init(&resp);
    joi_buf_reset(body);
    int need = joi_app_precheck(&req, &resp);
    if (need == 1) {
        /* A body that ends early is handed on as it is: the parser reports it. */
        (void)read_body(rq->in, body, (size_t)req.content_length);
        req.body = body->data ? body->data : "";
        req.body_len = body->len;
    }
    if (need >= 0)
        joi_app_handle(app, &req, &resp);
    write_response(rq, &resp, req.method && strcmp(req.method, "HEAD") == 0, hdr);
    int route = joi_app_route(req.uri);
    joi_metrics_readings_add(app->metrics, resp.stored);
    joi_metrics_end(app->metrics, route, resp.status, now_ns() - t0);
    if (resp.status >= 400) {
        size_t n;
        const char *const *names = joi_app_route_names(&n);
        log_failure(names[route], &resp, joi_store_stats_counter->errors != store_errors);
    }
    joi_response_free(&resp);
    if (body->cap > 4 * JOI_BODY_MAX) /* do not keep an unusually large buffer */
        joi_buf_free(body);
}

static void usage(void)
{
    fprintf(stderr, "usage: joi-worker [--listen HOST:PORT | --listen /path.sock]\n"
                    "  environment: JOI_REDIS (unix:/path or host:port), "
                    "JOI_REDIS_TIMEOUT_MS (default 2000), JOI_AUTH (open or keys),\n"
                    "  JOI_METRICS_DIR (the workers' metrics files)\n");
}

int main(int argc, char **argv)
{
    const char *listen_on = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen_on = argv[++i];
        } else {
            usage();
            return 2;
        }
    }
    const char *addr = getenv("JOI_REDIS");
    const char *tmo = getenv("JOI_REDIS_TIMEOUT_MS");
    int timeout_ms = tmo && atoi(tmo) > 0 ? atoi(tmo) : 2000;
    struct joi_store *store = joi_store_redis_new(addr, timeout_ms);
    if (store == NULL) {
        fprintf(stderr, "joi-worker: JOI_REDIS must be unix:/path or host:port (got %s)\n",
                addr ? addr : "nothing");
        return 2;
    }
    enum joi_auth_mode auth;
    if (joi_auth_mode_parse(getenv("JOI_AUTH"), &auth) != 0) {
        fprintf(stderr, "joi-worker: JOI_AUTH must be open or keys (got %s)\n", getenv("JOI_AUTH"));
        joi_store_free(store);
        return 2;
    }
    install_signals();
    if (FCGX_Init() != 0) {
        fprintf(stderr, "joi-worker: FCGX_Init failed\n");
        return 1;
    }
    int sock = 0;
    if (listen_on) {
        sock = FCGX_OpenSocket(listen_on, 128);
        if (sock < 0) {
            fprintf(stderr, "joi-worker: cannot listen on %s\n", listen_on);
            return 1;
        }
    }
    FCGX_Request rq;
    FCGX_InitRequest(&rq, sock, 0);
    struct joi_metrics metrics;
    (void)joi_metrics_open(&metrics, getenv("JOI_METRICS_DIR")); /* in memory if it fails */
    joi_store_stats_counter = &metrics.file->store;
    struct joi_app app;
    joi_app_init(&app, store);
    app.auth = auth;
    app.metrics = &metrics;
    struct joi_buf body, hdr;
    joi_buf_init(&body);
    joi_buf_init(&hdr);
    while (!stop_requested) {
        if (FCGX_Accept_r(&rq) < 0)
            break;
        in_request = 1;
        serve(&rq, &app, &body, &hdr);
        /* The answer is complete and the rest of the request was read: close the
         * connection at once, rather than libfcgi's default of shutting down the
         * sending side and waiting for lighttpd to close first, which kept the
         * worker from its next request for a turn of lighttpd's event loop. */
        FCGX_Detach(&rq);
        FCGX_Finish_r(&rq);
        in_request = 0;
    }
    joi_buf_free(&body);
    joi_buf_free(&hdr);
    joi_app_free(&app);
    joi_store_free(store);
    joi_store_stats_counter = NULL;
    joi_metrics_close(&metrics);
    return 0;
}
