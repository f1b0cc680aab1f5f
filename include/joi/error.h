/*
 * error.h -- errors as values.
 *
 * Every function that can fail for a reason a client must hear about takes a
 * `struct joi_error *` and, on failure, fills it with the HTTP status, a
 * human-readable detail and (when one field is at fault) a JSON Pointer into
 * the request body.  The conversion into an HTTP response happens in exactly
 * one place: joi_response_problem() in response.c.
 */
#ifndef JOI_ERROR_H
#define JOI_ERROR_H

struct joi_error {
    int status;        /* HTTP status; 0 while there is no error */
    char detail[256];  /* sentence for the client, never empty once set */
    char pointer[128]; /* JSON Pointer, "" when no single field is at fault */
    int has_pointer;   /* 1 when pointer is meaningful (it may be "" = whole document) */
};

/* Clears err (status 0). err may be NULL. */
void joi_error_clear(struct joi_error *err);

/* Sets status and a printf-style detail; clears the pointer.  Returns -1 so that
 * callers can write `return joi_error_set(...)`.  err may be NULL. */
int joi_error_set(struct joi_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like joi_error_set, and records the JSON Pointer of the field at fault. */
int joi_error_set_at(struct joi_error *err, int status, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The reason phrase of an HTTP status ("Bad Request"); "Error" when unknown. */
const char *joi_error_title(int status);

#endif
