/*
 * buf.c -- growable buffer and aborting allocators (see joi/buf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"

static void oom(size_t n)
{
    fprintf(stderr, "joi: out of memory allocating %zu bytes\n", n);
    abort();
}

void *joi_mem_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *joi_mem_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *joi_mem_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

char *joi_mem_strndup(const char *s, size_t n)
{
    char *p = joi_mem_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void joi_buf_init(struct joi_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void joi_buf_free(struct joi_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    joi_buf_init(b);
}

void joi_buf_reset(struct joi_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void buf_reserve(struct joi_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = joi_mem_realloc(b->data, cap);
    b->cap = cap;
}

void joi_buf_append(struct joi_buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

char *joi_buf_extend(struct joi_buf *b, size_t n)
{
    buf_reserve(b, n);
    char *p = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return p;
}

void joi_buf_puts(struct joi_buf *b, const char *s)
{
    joi_buf_append(b, s, strlen(s));
}

void joi_buf_printf(struct joi_buf *b, const char *fmt, ...)
{
    char small[256]; /* most texts fit: format once */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        joi_buf_append(b, small, (size_t)n);
        return;
    }
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
