/*
 * http.h -- a small HTTP client for the end-to-end tests (libcurl).
 *
 * One request in, one response out: status, Content-Type, the raw header
 * block (for Allow and the like) and the body, all owned by the response and
 * released with http_response_free().  The service is found through
 * JOI_TEST_URL; paths are sent exactly as given (no re-encoding).
 */
#ifndef E2E_HTTP_H
#define E2E_HTTP_H

#include <stddef.h>

/* How a request body is sent. */
enum http_body_mode {
    HTTP_BODY_LENGTH = 0, /* with Content-Length (the usual case; no body when body is NULL) */
    HTTP_BODY_CHUNKED,    /* Transfer-Encoding: chunked, no Content-Length */
    HTTP_BODY_NO_LENGTH,  /* no body, and neither Content-Length nor Transfer-Encoding */
};

struct http_request {
    const char *method;         /* "GET", "POST", "HEAD", ... */
    const char *path;           /* "/readings/read/x?limit=1", appended to the base URL */
    const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */
    const char *body;           /* NULL for none */
    size_t body_len;            /* bytes of body */
    enum http_body_mode mode;
};

struct http_response {
    long status;            /* 0 when no response arrived */
    char content_type[128]; /* "" when the response had none */
    char *headers;          /* raw header block of the final response, NUL-terminated */
    size_t headers_len;
    char *body; /* NUL-terminated (the body itself may contain NULs) */
    size_t body_len;
    char error[256]; /* libcurl's message when the transfer failed, else "" */
};

/* Sets up libcurl and reads JOI_TEST_URL.  Returns 0, or -1 with a message on stderr. */
int http_init(void);
void http_cleanup(void);

/* The base URL ("http://127.0.0.1:PORT"). */
const char *http_base_url(void);

/* Sends req and fills resp (free it with http_response_free even on failure).
 * Returns 0 when a response arrived, else -1 with resp->error set. */
int http_send(const struct http_request *req, struct http_response *resp);
void http_response_free(struct http_response *resp); /* resp can be NULL */

/* Sends n GETs of path at once (on n connections, so that several workers serve
 * them) and fills out[0..n).  Returns 0 when every one got a response. */
int http_get_many(const char *path, size_t n, struct http_response *out);

/* Shorthands: GET path; POST body (a C string) as application/json. */
int http_get(const char *path, struct http_response *resp);
int http_post_json(const char *path, const char *body, struct http_response *resp);

/* Copies the value of the first header called name (case-insensitive, trimmed)
 * into out.  Returns 1 when found, else 0 with out = "". */
int http_header(const struct http_response *resp, const char *name, char *out, size_t outlen);

#endif
