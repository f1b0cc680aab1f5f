/*
 * http.c -- the end-to-end tests' HTTP client (see http.h).
 *
 * One easy handle is kept for the whole run, so requests reuse the connection
 * the way a meter would; it is reset before every request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"

static CURL *handle;
static char base_url[256];

int http_init(void)
{
    const char *url = getenv("JOI_TEST_URL");
    if (url == NULL || *url == '\0') {
        fprintf(stderr, "e2e: JOI_TEST_URL is not set (run through tests/e2e/run.sh)\n");
        return -1;
    }
    snprintf(base_url, sizeof base_url, "%s", url);
    size_t n = strlen(base_url);
    if (n > 0 && base_url[n - 1] == '/')
        base_url[n - 1] = '\0';
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "e2e: curl_global_init failed\n");
        return -1;
    }
    handle = curl_easy_init();
    if (handle == NULL) {
        fprintf(stderr, "e2e: curl_easy_init failed\n");
        curl_global_cleanup();
        return -1;
    }
    return 0;
}

void http_cleanup(void)
{
    if (handle != NULL)
        curl_easy_cleanup(handle);
    handle = NULL;
    curl_global_cleanup();
}

const char *http_base_url(void)
{
    return base_url;
}

struct growbuf {
    char *data;
    size_t len;
};

static void growbuf_append(struct growbuf *b, const char *p, size_t n)
{
    char *d = realloc(b->data, b->len + n + 1);
    if (d == NULL) {
        fprintf(stderr, "e2e: out of memory\n");
        abort();
    }
    memcpy(d + b->len, p, n);
    b->len += n;
    d[b->len] = '\0';
    b->data = d;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
    growbuf_append(user, p, size * nmemb);
    return size * nmemb;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *user)
{
    struct growbuf *b = user;
    size_t n = size * nmemb;
    /* A new status line starts a new response (after "100 Continue"): keep the last. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    growbuf_append(b, p, n);
    return n;
}

struct upload {
    const char *p;
    size_t left;
};

/* Hands the body out in small pieces, so a chunked upload has several chunks. */
static size_t on_read(char *out, size_t size, size_t nmemb, void *user)
{
    struct upload *u = user;
    size_t n = size * nmemb;
    if (n > 4096)
        n = 4096;
    if (n > u->left)
        n = u->left;
    memcpy(out, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* Everything one transfer owns while it runs. */
struct transfer {
    struct growbuf body, headers;
    struct upload up;
    struct curl_slist *list;
    const char *method;
    const char *path;
};

/* Prepares h (already reset or new) to send req, collecting into t. */
static void transfer_setup(CURL *h, const struct http_request *req, struct transfer *t)
{
    memset(t, 0, sizeof *t);
    growbuf_append(&t->body, "", 0);
    growbuf_append(&t->headers, "", 0);
    t->method = req->method ? req->method : "GET";
    t->path = req->path;
    t->up.p = req->body ? req->body : "";
    t->up.left = req->body ? req->body_len : 0;

    char url[4096];
    snprintf(url, sizeof url, "%s%s", base_url, req->path);
    curl_easy_setopt(h, CURLOPT_URL, url); /* libcurl copies the string */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t->headers);

    t->list = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
        t->list = curl_slist_append(t->list, req->headers[i]);

    const char *method = t->method;
    switch (req->mode) {
    case HTTP_BODY_CHUNKED:
        t->list = curl_slist_append(t->list, "Transfer-Encoding: chunked");
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &t->up);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        break;
    case HTTP_BODY_NO_LENGTH:
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        break;
    case HTTP_BODY_LENGTH:
        if (strcmp(method, "HEAD") == 0) {
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (req->body == NULL && strcmp(method, "POST") != 0) {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
            if (strcmp(method, "GET") != 0)
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->up.p);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->up.left);
            if (strcmp(method, "POST") != 0)
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        }
        break;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->list);
}

/* Moves what t collected into resp and releases the rest of t. */
static int transfer_finish(CURL *h, CURLcode rc, struct transfer *t, struct http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    char *ct = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL)
        snprintf(resp->content_type, sizeof resp->content_type, "%s", ct);
    if (rc != CURLE_OK)
        snprintf(resp->error, sizeof resp->error, "%s %s: %s", t->method, t->path,
                 curl_easy_strerror(rc));
    curl_slist_free_all(t->list);
    resp->body = t->body.data;
    resp->body_len = t->body.len;
    resp->headers = t->headers.data;
    resp->headers_len = t->headers.len;
    return rc == CURLE_OK || resp->status != 0 ? 0 : -1;
}

int http_send(const struct http_request *req, struct http_response *resp)
{
    struct transfer t;
    curl_easy_reset(handle);
    transfer_setup(handle, req, &t);
    CURLcode rc = curl_easy_perform(handle);
    return transfer_finish(handle, rc, &t, resp);
}

int http_get_many(const char *path, size_t n, struct http_response *out)
{
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc(n, sizeof *easy);
    struct transfer *t = calloc(n, sizeof *t);
    CURLcode *rc = calloc(n, sizeof *rc);
    if (multi == NULL || easy == NULL || t == NULL || rc == NULL) {
        fprintf(stderr, "e2e: out of memory\n");
        abort();
    }
    struct http_request req = {.method = "GET", .path = path};
    for (size_t i = 0; i < n; i++) {
        easy[i] = curl_easy_init();
        if (easy[i] == NULL)
            abort();
        transfer_setup(easy[i], &req, &t[i]);
        curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (void *)&rc[i]);
        curl_multi_add_handle(multi, easy[i]);
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            void *p = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
            *(CURLcode *)p = msg->data.result;
        }
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        curl_multi_remove_handle(multi, easy[i]);
        failed |= transfer_finish(easy[i], rc[i], &t[i], &out[i]) != 0;
        curl_easy_cleanup(easy[i]);
    }
    curl_multi_cleanup(multi);
    free(easy);
    free(t);
    free(rc);
    return failed ? -1 : 0;
}

void http_response_free(struct http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    free(resp->headers);
    resp->body = NULL;
    resp->headers = NULL;
    resp->body_len = resp->headers_len = 0;
}

int http_get(const char *path, struct http_response *resp)
{
    struct http_request req = {.method = "GET", .path = path};
    return http_send(&req, resp);
}

int http_post_json(const char *path, const char *body, struct http_response *resp)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    struct http_request req = {
        .method = "POST", .path = path, .headers = json, .body = body, .body_len = strlen(body)};
    return http_send(&req, resp);
}

int http_header(const struct http_response *resp, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *line = resp->headers; line != NULL && *line != '\0';) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            const char *ve = line + len;
            while (v < ve && isspace((unsigned char)*v))
                v++;
            while (ve > v && isspace((unsigned char)ve[-1]))
                ve--;
            snprintf(out, outlen, "%.*s", (int)(ve - v), v);
            return 1;
        }
        line = end ? end + 2 : line + len;
    }
    return 0;
}
