/*
 * params.c -- query parameters (see joi/params.h).
 */
#include <stdint.h>

#include "joi/params.h"
#include "joi/timeparse.h"

int joi_params_one(struct joi_params *p, const char *name, const struct joi_query_param **out,
                   struct joi_error *err)
{
    int count;
    *out = joi_query_get(&p->q, name, &count);
    if (count > 1) {
        p->bad = name;
        return joi_error_set(err, 400, "query parameter %s is given more than once", name);
    }
    return count;
}

int joi_params_time(struct joi_params *p, const char *name, int64_t *out, struct joi_error *err)
{
    const struct joi_query_param *v;
    int rc = joi_params_one(p, name, &v, err);
    if (rc <= 0)
        return rc;
    if (joi_time_parse_epoch(v->value, v->value_len, out) != 0 &&
        joi_time_parse_rfc3339(v->value, v->value_len, out) != 0) {
        p->bad = name;
        return joi_error_set(err, 400,
                             "query parameter %s must be epoch seconds (0 to 253402300799) or an "
                             "RFC 3339 date-time",
                             name);
    }
    return 1;
}

int joi_params_count(struct joi_params *p, const char *name, size_t *out, struct joi_error *err)
{
    const struct joi_query_param *v;
    int rc = joi_params_one(p, name, &v, err);
    if (rc <= 0)
        return rc;
    size_t n = 0;
    if (v->value_len == 0)
        goto bad;
    for (size_t i = 0; i < v->value_len; i++) {
        if (v->value[i] < '0' || v->value[i] > '9')
            goto bad;
        n = n > SIZE_MAX / 20 ? SIZE_MAX / 2 : n * 10 + (size_t)(v->value[i] - '0');
    }
    *out = n;
    return 1;
bad:
    p->bad = name;
    return joi_error_set(err, 400, "query parameter %s must be an integer >= 0", name);
}

int joi_params_range(struct joi_params *p, int64_t *from, int64_t *to, int *given,
                     struct joi_error *err)
{
    *from = 0;
    *to = JOI_TIME_MAX;
    int a = joi_params_time(p, "from", from, err);
    if (a < 0)
        return -1;
    int b = joi_params_time(p, "to", to, err);
    if (b < 0)
        return -1;
    if (*from > *to) {
        p->bad = "from";
        return joi_error_set(err, 400, "query parameter from must not be after to");
    }
    *given = a || b;
    return 0;
}
