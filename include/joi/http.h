/*
 * http.h -- the parts of a request URI the API reads: percent-decoding and
 * the query string.  Pure functions over (buf, len).
 */
#ifndef JOI_HTTP_H
#define JOI_HTTP_H

#include <stddef.h>

/* Percent-decodes s[0..len) into out (room for outcap bytes plus a NUL).
 * When plus_is_space, '+' decodes to ' ' (query strings).  Returns the decoded
 * length, or -1 on a malformed escape or when the result does not fit. */
long joi_url_decode(const char *s, size_t len, char *out, size_t outcap, int plus_is_space);

#define JOI_QUERY_MAX_PARAMS 32
#define JOI_QUERY_MAX_VALUE 256

struct joi_query_param {
    char key[JOI_QUERY_MAX_VALUE + 1];
    char value[JOI_QUERY_MAX_VALUE + 1];
    size_t value_len; /* may contain NUL bytes */
};

struct joi_query {
    struct joi_query_param params[JOI_QUERY_MAX_PARAMS];
    size_t n;
};

/* Parses "a=1&b=2" (without the '?').  Returns 0, or -1 when the query is
 * malformed, has more than JOI_QUERY_MAX_PARAMS parameters or a key or value
 * longer than JOI_QUERY_MAX_VALUE. */
int joi_query_parse(const char *q, size_t len, struct joi_query *out);

/* The parameter named key, or NULL.  *count (when not NULL) is how often it appears. */
const struct joi_query_param *joi_query_get(const struct joi_query *q, const char *key, int *count);

#endif
