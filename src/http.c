/*
 * http.c -- percent-decoding and query strings (see joi/http.h).
 */
#include <string.h>

#include "joi/http.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long joi_url_decode(const char *s, size_t len, char *out, size_t outcap, int plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (o >= outcap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int joi_query_parse(const char *q, size_t len, struct joi_query *out)
{
    out->n = 0;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && q[end] != '&')
            end++;
        if (end > i) { /* empty pieces ("a=1&&b=2") are skipped */
            if (out->n == JOI_QUERY_MAX_PARAMS)
                return -1;
            struct joi_query_param *p = &out->params[out->n];
            size_t eq = i;
            while (eq < end && q[eq] != '=')
                eq++;
            long kl = joi_url_decode(q + i, eq - i, p->key, JOI_QUERY_MAX_VALUE, 1);
            long vl = eq < end ? joi_url_decode(q + eq + 1, end - eq - 1, p->value,
                                                JOI_QUERY_MAX_VALUE, 1)
                               : 0;
            if (kl < 0 || vl < 0 || memchr(p->key, '\0', (size_t)kl) != NULL)
                return -1;
            if (eq == end)
                p->value[0] = '\0';
            p->value_len = (size_t)vl;
            out->n++;
        }
        i = end + 1;
    }
    return 0;
}

const struct joi_query_param *joi_query_get(const struct joi_query *q, const char *key, int *count)
{
    const struct joi_query_param *found = NULL;
    int c = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].key, key) == 0) {
            if (found == NULL)
                found = &q->params[i];
            c++;
        }
    }
    if (count)
        *count = c;
    return found;
}
