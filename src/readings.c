/*
 * readings.c -- reading arrays and the store-batch parser (see joi/readings.h).
 *
 * The parser checks everything before anything is kept: the first fault found
 * is reported with the JSON Pointer of its field, and the batch is left empty.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/json.h"
#include "joi/readings.h"

void joi_readings_init(struct joi_readings *r)
{
    r->items = NULL;
    r->n = 0;
    r->cap = 0;
}

void joi_readings_free(struct joi_readings *r)
{
    if (r == NULL)
        return;
    free(r->items);
    joi_readings_init(r);
}

void joi_readings_push(struct joi_readings *r, int64_t time, double kw)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->items = joi_mem_realloc(r->items, r->cap * sizeof *r->items);
    }
    r->items[r->n].time = time;
    r->items[r->n].kw = kw;
    r->n++;
}

struct indexed {
    struct joi_reading r;
    size_t index;
};

static int cmp_indexed(const void *a, const void *b)
{
    const struct indexed *x = a, *y = b;
    if (x->r.time != y->r.time)
        return x->r.time < y->r.time ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

void joi_readings_sort_unique(struct joi_readings *r)
{
    if (r->n < 2)
        return;
    /* Already sorted and distinct (the usual case for data read from the store)? */
    size_t i;
    for (i = 1; i < r->n && r->items[i - 1].time < r->items[i].time; i++)
        ;
    if (i == r->n)
        return;
    struct indexed *tmp = joi_mem_alloc(r->n * sizeof *tmp);
    for (i = 0; i < r->n; i++) {
        tmp[i].r = r->items[i];
        tmp[i].index = i;
    }
    qsort(tmp, r->n, sizeof *tmp, cmp_indexed);
    size_t out = 0;
    for (i = 0; i < r->n; i++) {
        if (i + 1 < r->n && tmp[i + 1].r.time == tmp[i].r.time)
            continue; /* a later one of the same time wins */
        r->items[out++] = tmp[i].r;
    }
    r->n = out;
    free(tmp);
}

void joi_batch_free(struct joi_batch *b)
{
    if (b == NULL)
        return;
    joi_readings_free(&b->readings);
    b->meter[0] = '\0';
}

/* The JSON pointer of electricityReadings[i], or of its field (NULL: the item). */
static const char *item_pointer(char *ptr, size_t size, size_t i, const char *field)
{
    snprintf(ptr, size, "/electricityReadings/%zu%s%s", i, field ? "/" : "", field ? field : "");
    return ptr;
}

static int parse_reading(struct json_object *item, size_t i, struct joi_batch *out,
                         struct joi_error *err)
{
    char ptr[96];
    if (!json_object_is_type(item, json_type_object))
        return joi_error_set_at(err, 400, item_pointer(ptr, sizeof ptr, i, NULL),
                                "electricityReadings[%zu] must be an object with time and reading",
                                i);
    struct json_object *t = NULL, *v = NULL;
    int64_t time;
    if (!json_object_object_get_ex(item, "time", &t))
        return joi_error_set_at(err, 400, item_pointer(ptr, sizeof ptr, i, "time"),
                                "electricityReadings[%zu].time is missing", i);
    if (joi_json_time(t, &time) != 0)
        return joi_error_set_at(err, 400, item_pointer(ptr, sizeof ptr, i, "time"),
                                "electricityReadings[%zu].time must be epoch seconds (an integer "
                                "from 0 to 253402300799) or an RFC 3339 date-time with an offset",
                                i);
    if (!json_object_object_get_ex(item, "reading", &v))
        return joi_error_set_at(err, 400, item_pointer(ptr, sizeof ptr, i, "reading"),
                                "electricityReadings[%zu].reading is missing", i);
    double kw = 0;
    int is_num = json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int);
    if (is_num)
        kw = json_object_get_double(v);
    /* json-c clamps huge integers to INT64_MAX: any of those is out of range anyway. */
    if (!is_num || !isfinite(kw) || kw < 0 || kw > JOI_READING_MAX)
        return joi_error_set_at(err, 400, item_pointer(ptr, sizeof ptr, i, "reading"),
                                "electricityReadings[%zu].reading must be a number between 0 and "
                                "1000000",
                                i);
    joi_readings_push(&out->readings, time, kw == 0 ? 0.0 : kw); /* -0 is stored as 0 */
    return 0;
}

int joi_batch_parse(const char *buf, size_t len, struct joi_batch *out, struct joi_error *err)
{
    if (joi_batch_scan(buf, len, out))
        return 0;
    return joi_batch_parse_full(buf, len, out, err);
}

int joi_batch_parse_full(const char *buf, size_t len, struct joi_batch *out, struct joi_error *err)
{
    out->meter[0] = '\0';
    joi_readings_init(&out->readings);
    struct json_object *doc = joi_json_parse(buf, len, err);
    if (doc == NULL)
        return -1;
    int rc = -1;
    struct json_object *id = NULL, *list = NULL;
    if (!json_object_is_type(doc, json_type_object)) {
        joi_error_set_at(err, 400, "",
                         "the body must be a JSON object with smartMeterId and "
                         "electricityReadings");
        goto out;
    }
    if (!json_object_object_get_ex(doc, "smartMeterId", &id)) {
        joi_error_set_at(err, 400, "/smartMeterId", "smartMeterId is missing");
        goto out;
    }
    if (!json_object_is_type(id, json_type_string) ||
        !joi_meter_id_valid(json_object_get_string(id), (size_t)json_object_get_string_len(id))) {
        joi_error_set_at(err, 400, "/smartMeterId", "smartMeterId must be " JOI_METER_RULE);
        goto out;
    }
    memcpy(out->meter, json_object_get_string(id), (size_t)json_object_get_string_len(id) + 1);
    if (!json_object_object_get_ex(doc, "electricityReadings", &list)) {
        joi_error_set_at(err, 400, "/electricityReadings", "electricityReadings is missing");
        goto out;
    }
    if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0 ||
        json_object_array_length(list) > JOI_BATCH_MAX) {
        joi_error_set_at(err, 400, "/electricityReadings",
                         "electricityReadings must be an array of 1 to %d readings", JOI_BATCH_MAX);
        goto out;
    }
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++)
        if (parse_reading(json_object_array_get_idx(list, i), i, out, err) != 0)
            goto out;
    rc = 0;
out:
    json_object_put(doc);
    if (rc != 0)
        joi_batch_free(out);
    return rc;
}

void joi_readings_reverse(struct joi_readings *r, size_t from)
{
    for (size_t i = from, j = r->n; i + 1 < j; i++, j--) {
        struct joi_reading x = r->items[i];
        r->items[i] = r->items[j - 1];
        r->items[j - 1] = x;
    }
}
