/*
 * buf.h -- a growable byte buffer.
 *
 * Allocation failure is not an error a request can recover from: the append
 * functions print a message and abort() rather than silently dropping data.
 * The data is always NUL-terminated (data[len] == '\0') once anything has
 * been appended, so it can be handed to functions that expect a C string.
 */
#ifndef JOI_BUF_H
#define JOI_BUF_H

#include <stddef.h>

struct joi_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

void joi_buf_init(struct joi_buf *b);
/* Frees the data and resets b to empty.  b can be NULL. */
void joi_buf_free(struct joi_buf *b);
/* Empties b, keeping its memory. */
void joi_buf_reset(struct joi_buf *b);
void joi_buf_append(struct joi_buf *b, const void *p, size_t n);
/* Adds n bytes at the end and returns where they start, for the caller to fill. */
char *joi_buf_extend(struct joi_buf *b, size_t n);
void joi_buf_puts(struct joi_buf *b, const char *s);
void joi_buf_printf(struct joi_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* malloc/calloc/realloc/strdup that abort with a message instead of returning NULL. */
void *joi_mem_alloc(size_t n);
void *joi_mem_calloc(size_t n, size_t size);
void *joi_mem_realloc(void *p, size_t n);
char *joi_mem_strndup(const char *s, size_t n);

#endif
