/*
 * params.h -- the query parameters of a request, read the way every endpoint
 * reads them.
 *
 * Rules: a parameter is given at most once (twice is a 400); a parameter with a
 * bad value is a 400 whose problem names it (params->bad, rendered as the
 * problem's "parameter" member); an absent parameter keeps the caller's default.
 */
#ifndef JOI_PARAMS_H
#define JOI_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "joi/error.h"
#include "joi/http.h"

struct joi_params {
    struct joi_query q;
    const char *bad; /* name of the parameter at fault, or NULL */
};

/* Looks up a single-valued parameter.  Returns 1 when present (*out set), 0 when
 * absent, -1 (with err) when given more than once. */
int joi_params_one(struct joi_params *p, const char *name, const struct joi_query_param **out,
                   struct joi_error *err);

/* A time: epoch seconds or RFC 3339.  Returns 1 (*out set), 0 when absent, or -1. */
int joi_params_time(struct joi_params *p, const char *name, int64_t *out, struct joi_error *err);

/* A count: digits only; values beyond SIZE_MAX/2 saturate there.  Returns 1 (*out
 * set), 0 when absent, or -1. */
int joi_params_count(struct joi_params *p, const char *name, size_t *out, struct joi_error *err);

/* from/to, defaulting to every time a reading can have (0..JOI_TIME_MAX); *given
 * is 1 when either was given.  from after to is a 400.  Returns 0 or -1. */
int joi_params_range(struct joi_params *p, int64_t *from, int64_t *to, int *given,
                     struct joi_error *err);

#endif
