/*
 * store_mem.c -- an in-memory store for unit tests and fuzzers (see joi/store.h).
 *
 * Same contract as the Redis store, in a form that needs no server: meters in
 * a linked list, each with its readings kept sorted and distinct by time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/layout.h"
#include "joi/num.h"
#include "joi/store.h"

struct mem_meter {
    char id[JOI_METER_MAX + 1];
    struct joi_readings readings;
    char *token;
    char *key; /* the read-key record, or NULL */
    struct mem_meter *next;
};

struct mem_store {
    struct joi_store base;
    struct mem_meter *meters;
    char *config;
    size_t config_len;
    long long config_version;
    int down;
};

static struct mem_meter *find_meter(struct mem_store *m, const char *id, int create)
{
    for (struct mem_meter *x = m->meters; x; x = x->next)
        if (strcmp(x->id, id) == 0)
            return x;
    if (!create)
        return NULL;
    struct mem_meter *x = joi_mem_calloc(1, sizeof *x);
    snprintf(x->id, sizeof x->id, "%s", id);
    joi_readings_init(&x->readings);
    x->next = m->meters;
    m->meters = x;
    return x;
}

static int check_up(struct mem_store *m, struct joi_error *err)
{
    if (m->down)
        return joi_error_set(err, 503, "the store is unavailable");
    return 0;
}

static int mem_ping(struct joi_store *s, struct joi_error *err)
{
    return check_up((struct mem_store *)s, err);
}

static int mem_readings_put(struct joi_store *s, const char *meter, const struct joi_reading *r,
                            size_t n, const char *token, char *current, size_t currentlen,
                            struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    struct mem_meter *x = find_meter(m, meter, 0);
    const char *record = x && x->token ? x->token : "";
    if (strcmp(record, token) != 0) {
        snprintf(current, currentlen, "%s", record);
        return 1;
    }
    if (x == NULL)
        x = find_meter(m, meter, 1);
    for (size_t i = 0; i < n; i++)
        joi_readings_push(&x->readings, r[i].time, r[i].kw);
    joi_readings_sort_unique(&x->readings);
    return 0;
}

static int mem_readings_get(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                            size_t limit, struct joi_readings *out, struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    struct mem_meter *x = find_meter(m, meter, 0);
    if (x == NULL)
        return 0;
    size_t first = 0, end = 0;
    while (first < x->readings.n && x->readings.items[first].time < from)
        first++;
    end = first;
    while (end < x->readings.n && x->readings.items[end].time <= to)
        end++;
    if (limit > 0 && end - first > limit)
        first = end - limit;
    if (limit == 0 && end - first > (size_t)JOI_READINGS_MAX + 1)
        end = first + JOI_READINGS_MAX + 1; /* the bound of joi/store.h */
    for (size_t i = first; i < end; i++)
        joi_readings_push(out, x->readings.items[i].time, x->readings.items[i].kw);
    return 0;
}

static int mem_readings_each(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                             size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                             struct joi_error *err)
{
    struct joi_readings r;
    joi_readings_init(&r);
    int rc = mem_readings_get(s, meter, from, to, limit, &r, err);
    if (rc == 0) {
        for (size_t i = 0; i < r.n; i++) {
            char text[JOI_NUM_MAX];
            fn(arg, r.items[i].time, text, joi_num_format(r.items[i].kw, text));
        }
        *count = r.n;
    }
    joi_readings_free(&r);
    return rc;
}

static int mem_summary_get(struct joi_store *s, const char *meter, struct joi_summary *out,
                           long long *config_version, struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    joi_summary_init(out);
    if (check_up(m, err))
        return -1;
    *config_version = m->config_version;
    struct mem_meter *x = find_meter(m, meter, 0);
    if (x != NULL)
        joi_summary_build(x->readings.items, x->readings.n, out);
    return 0;
}

static int mem_summary_range(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                             struct joi_summary *out, struct joi_error *err)
{
    joi_summary_init(out);
    struct joi_readings r;
    joi_readings_init(&r);
    int rc = mem_readings_get(s, meter, from, to, 0, &r, err);
    if (rc == 0)
        joi_summary_build(r.items, r.n, out);
    joi_readings_free(&r);
    return rc;
}

static int mem_readings_get_ranges(struct joi_store *s, const char *meter, const int64_t *ranges,
                                   size_t n, struct joi_readings *out, struct joi_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (mem_readings_get(s, meter, ranges[2 * i], ranges[2 * i + 1], 0, out, err) != 0)
            return -1;
    return 0;
}

static int mem_readings_count(struct joi_store *s, const char *meter, long long *count,
                              struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    struct mem_meter *x = find_meter(m, meter, 0);
    *count = x ? (long long)x->readings.n : 0;
    return 0;
}

static int mem_config_get(struct joi_store *s, long long *version, char **doc, size_t *len,
                          struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    *doc = NULL;
    if (check_up(m, err))
        return -1;
    if (*version == m->config_version)
        return 0;
    *version = m->config_version;
    if (m->config) {
        *doc = joi_mem_strndup(m->config, m->config_len);
        *len = m->config_len;
    }
    return 0;
}

static int mem_config_put(struct joi_store *s, const char *doc, size_t len, struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    free(m->config);
    m->config = joi_mem_strndup(doc, len);
    m->config_len = len;
    m->config_version++;
    return 0;
}

static int mem_token_set(struct joi_store *s, const char *meter, const char *record,
                         struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    struct mem_meter *x = find_meter(m, meter, 1);
    free(x->token);
    x->token = record ? joi_mem_strndup(record, strlen(record)) : NULL;
    return 0;
}

static int mem_key_set(struct joi_store *s, const char *meter, const char *record,
                       struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    struct mem_meter *x = find_meter(m, meter, 1);
    free(x->key);
    x->key = record ? joi_mem_strndup(record, strlen(record)) : NULL;
    return 0;
}

static int mem_key_get(struct joi_store *s, const char *meter, char *record, size_t len,
                       struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    struct mem_meter *x = find_meter(m, meter, 0);
    record[0] = '\0';
    if (x && x->key && strlen(x->key) >= len)
        return joi_error_set(err, 500, "the store holds a malformed key record");
    if (x && x->key)
        memcpy(record, x->key, strlen(x->key) + 1);
    return 0;
}

static int mem_meters_each(struct joi_store *s, joi_store_meter_fn fn, void *arg,
                           struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    for (struct mem_meter *x = m->meters; x; x = x->next) {
        if (x->readings.n > 0)
            fn(arg, x->id, JOI_LAYOUT_READINGS);
        if (x->token)
            fn(arg, x->id, JOI_LAYOUT_TOKEN);
        if (x->key)
            fn(arg, x->id, JOI_LAYOUT_KEY);
    }
    return 0;
}

static void meter_free(struct mem_meter *x)
{
    joi_readings_free(&x->readings);
    free(x->token);
    free(x->key);
    free(x);
}

static int mem_meter_delete(struct joi_store *s, const char *meter, long long *deleted,
                            struct joi_error *err)
{
    struct mem_store *m = (struct mem_store *)s;
    if (check_up(m, err))
        return -1;
    *deleted = 0;
    for (struct mem_meter **p = &m->meters; *p; p = &(*p)->next) {
        struct mem_meter *x = *p;
        if (strcmp(x->id, meter) != 0)
            continue;
        *deleted = (x->readings.n > 0) + (x->token != NULL) + (x->key != NULL);
        *p = x->next;
        meter_free(x);
        break;
    }
    return 0;
}

static void mem_free(struct joi_store *s)
{
    struct mem_store *m = (struct mem_store *)s;
    struct mem_meter *x = m->meters;
    while (x) {
        struct mem_meter *next = x->next;
        meter_free(x);
        x = next;
    }
    free(m->config);
    free(m);
}

static const struct joi_store_ops mem_ops = {
    .ping = mem_ping,
    .readings_put = mem_readings_put,
    .readings_get = mem_readings_get,
    .readings_each = mem_readings_each,
    .summary_get = mem_summary_get,
    .summary_range = mem_summary_range,
    .readings_get_ranges = mem_readings_get_ranges,
    .readings_count = mem_readings_count,
    .config_get = mem_config_get,
    .config_put = mem_config_put,
    .token_set = mem_token_set,
    .key_set = mem_key_set,
    .key_get = mem_key_get,
    .meters_each = mem_meters_each,
    .meter_delete = mem_meter_delete,
    .free = mem_free,
};

struct joi_store *joi_store_mem_new(void)
{
    struct mem_store *m = joi_mem_calloc(1, sizeof *m);
    m->base.ops = &mem_ops;
    return &m->base;
}

void joi_store_mem_set_down(struct joi_store *s, int down)
{
    ((struct mem_store *)s)->down = down;
}
