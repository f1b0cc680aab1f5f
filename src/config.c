/*
 * config.c -- the plans-and-accounts file (see joi/config.h).
 *
 * Validation is complete before anything is returned: the first fault found
 * is reported with the plan and rule it is in, and the partial config freed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "joi/buf.h"
#include "joi/config.h"
#include "joi/json.h"
#include "joi/meter.h"

const char *const joi_day_names[7] = {"MONDAY", "TUESDAY",  "WEDNESDAY", "THURSDAY",
                                      "FRIDAY", "SATURDAY", "SUNDAY"};

int joi_config_tz_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '/' || strstr(name, "..") != NULL)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '/' || c == '_' || c == '+' || c == '-'))
            return 0;
    }
    if (strcmp(name, "UTC") == 0)
        return 1;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && memcmp(magic, "TZif", 4) == 0;
}

static void plan_free(struct joi_plan *p)
{
    free(p->id);
    free(p->supplier);
    free(p->timezone);
    free(p->rules);
}

void joi_config_free(struct joi_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nplans; i++)
        plan_free(&c->plans[i]);
    free(c->plans);
    for (size_t i = 0; i < c->naccounts; i++)
        free(c->accounts[i].meter);
    free(c->accounts);
    free(c->timezone);
    free(c);
}

static int cmp_plan(const void *a, const void *b)
{
    return strcmp(((const struct joi_plan *)a)->id, ((const struct joi_plan *)b)->id);
}

static int cmp_account(const void *a, const void *b)
{
    return strcmp(((const struct joi_account *)a)->meter, ((const struct joi_account *)b)->meter);
}

static const struct joi_plan *find_plan(const struct joi_config *c, const char *id)
{
    struct joi_plan key = {.id = (char *)id};
    return bsearch(&key, c->plans, c->nplans, sizeof key, cmp_plan);
}

const struct joi_plan *joi_config_account(const struct joi_config *c, const char *meter)
{
    if (c->naccounts == 0) /* accounts is NULL then, which bsearch must not be given */
        return NULL;
    struct joi_account key = {.meter = (char *)meter};
    const struct joi_account *a = bsearch(&key, c->accounts, c->naccounts, sizeof key, cmp_account);
    return a ? a->plan : NULL;
}

const char *joi_config_plan_tz(const struct joi_config *c, const struct joi_plan *p)
{
    return p->timezone ? p->timezone : c->timezone;
}

/* A finite number >= 0, or -1. */
static int nonneg_number(struct json_object *v, double *out)
{
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return -1;
    double d = json_object_get_double(v);
    if (!isfinite(d) || d < 0)
        return -1;
    *out = d;
    return 0;
}

static int parse_day(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return -1;
    for (int d = 0; d < 7; d++)
        if (strcmp(json_object_get_string(v), joi_day_names[d]) == 0)
            return d;
    return -1;
}

/* "HH:MM", 00:00 .. 23:59, to minutes; -1 when malformed. */
static int parse_hhmm(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) != 5)
        return -1;
    const char *s = json_object_get_string(v);
    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

static int parse_rule(struct json_object *r, const char *where, struct joi_rule *out,
                      struct joi_error *err)
{
    struct json_object *v;
    if (!json_object_is_type(r, json_type_object))
        return joi_error_set(err, 400, "%s must be an object", where);
    /* A misspelt key would silently widen the rule to every day: refuse it. */
    static const char *const known[] = {"dayOfWeek", "days", "from", "to", "multiplier"};
    json_object_object_foreach(r, key, val)
    {
        (void)val;
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcmp(key, known[k]) != 0)
            k++;
        if (k == sizeof known / sizeof known[0])
            return joi_error_set(err, 400,
                                 "%s: unknown key %.40s (a rule has dayOfWeek or days, from and "
                                 "to, and multiplier)",
                                 where, key);
    }
    out->days = 0x7f;
    out->from_min = 0;
    out->length_min = 1440;
    if (!json_object_object_get_ex(r, "multiplier", &v) || nonneg_number(v, &out->multiplier))
        return joi_error_set(err, 400, "%s: multiplier must be a number >= 0", where);
    int has_dow = json_object_object_get_ex(r, "dayOfWeek", &v);
    if (has_dow) {
        int d = parse_day(v);
        if (d < 0)
            return joi_error_set(err, 400, "%s: dayOfWeek must be one of MONDAY ... SUNDAY", where);
        out->days = 1u << d;
    }
    if (json_object_object_get_ex(r, "days", &v)) {
        if (has_dow)
            return joi_error_set(err, 400, "%s: give either dayOfWeek or days, not both", where);
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
            return joi_error_set(err, 400, "%s: days must be a non-empty array of day names",
                                 where);
        out->days = 0;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            int d = parse_day(json_object_array_get_idx(v, i));
            if (d < 0)
                return joi_error_set(err, 400, "%s: days[%zu] must be one of MONDAY ... SUNDAY",
                                     where, i);
            out->days |= 1u << d;
        }
    }
    struct json_object *from = NULL, *to = NULL;
    int has_from = json_object_object_get_ex(r, "from", &from);
    int has_to = json_object_object_get_ex(r, "to", &to);
    if (has_from != has_to)
        return joi_error_set(err, 400, "%s: a window needs both from and to", where);
    if (has_from) {
        int f = parse_hhmm(from), t = parse_hhmm(to);
        if (f < 0)
            return joi_error_set(err, 400, "%s: from must be a time HH:MM (00:00 to 23:59)", where);
        if (t < 0)
            return joi_error_set(err, 400, "%s: to must be a time HH:MM (00:00 to 23:59)", where);
        out->from_min = f;
        out->length_min = t > f ? t - f : t + 1440 - f; /* from == to: the whole day */
    }
    return 0;
}

static int parse_plan(struct json_object *p, size_t i, struct joi_plan *out, struct joi_error *err)
{
    char where[160];
    struct json_object *v;
    snprintf(where, sizeof where, "pricePlans[%zu]", i);
    if (!json_object_is_type(p, json_type_object))
        return joi_error_set(err, 400, "%s must be an object", where);
    if (!json_object_object_get_ex(p, "id", &v) || !json_object_is_type(v, json_type_string) ||
        !joi_meter_id_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
        return joi_error_set(err, 400, "%s: id must be " JOI_METER_RULE, where);
    out->id = joi_mem_strndup(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    snprintf(where, sizeof where, "pricePlans[%zu] (%s)", i, out->id);
    if (json_object_object_get_ex(p, "supplier", &v)) {
        if (!json_object_is_type(v, json_type_string))
            return joi_error_set(err, 400, "%s: supplier must be a string", where);
        out->supplier =
            joi_mem_strndup(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    } else {
        out->supplier = joi_mem_strndup("", 0);
    }
    if (!json_object_object_get_ex(p, "unitRate", &v) || nonneg_number(v, &out->unit_rate))
        return joi_error_set(err, 400, "%s: unitRate must be a number >= 0", where);
    if (json_object_object_get_ex(p, "standingCharge", &v) &&
        nonneg_number(v, &out->standing_charge))
        return joi_error_set(err, 400, "%s: standingCharge must be a number >= 0", where);
    if (json_object_object_get_ex(p, "timezone", &v)) {
        if (!json_object_is_type(v, json_type_string) ||
            !joi_config_tz_valid(json_object_get_string(v)))
            return joi_error_set(err, 400, "%s: timezone must be an IANA time zone name", where);
        out->timezone =
            joi_mem_strndup(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    }
    if (json_object_object_get_ex(p, "peakTimeMultipliers", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_array))
            return joi_error_set(err, 400, "%s: peakTimeMultipliers must be an array", where);
        out->nrules = json_object_array_length(v);
        out->rules = joi_mem_calloc(out->nrules, sizeof *out->rules);
        for (size_t r = 0; r < out->nrules; r++) {
            char rwhere[240];
            snprintf(rwhere, sizeof rwhere, "%s peakTimeMultipliers[%zu]", where, r);
            if (parse_rule(json_object_array_get_idx(v, r), rwhere, &out->rules[r], err))
                return -1;
        }
    }
    return 0;
}

static int parse_doc(struct json_object *doc, struct joi_config *c, struct joi_error *err)
{
    struct json_object *v;
    if (!json_object_is_type(doc, json_type_object))
        return joi_error_set(err, 400, "the plans file must be a JSON object");
    if (json_object_object_get_ex(doc, "timezone", &v)) {
        if (!json_object_is_type(v, json_type_string) ||
            !joi_config_tz_valid(json_object_get_string(v)))
            return joi_error_set(err, 400, "timezone must be an IANA time zone name");
        c->timezone =
            joi_mem_strndup(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    } else {
        c->timezone = joi_mem_strndup(JOI_DEFAULT_TZ, strlen(JOI_DEFAULT_TZ));
    }
    if (json_object_object_get_ex(doc, "maxGapSeconds", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) <= 0)
            return joi_error_set(err, 400, "maxGapSeconds must be a positive integer");
        c->max_gap = json_object_get_int64(v);
    }
    if (!json_object_object_get_ex(doc, "pricePlans", &v) ||
        !json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
        return joi_error_set(err, 400, "pricePlans must be a non-empty array");
    size_t n = json_object_array_length(v);
    c->plans = joi_mem_calloc(n, sizeof *c->plans);
    for (size_t i = 0; i < n; i++) {
        c->nplans = i + 1;
        if (parse_plan(json_object_array_get_idx(v, i), i, &c->plans[i], err))
            return -1;
    }
    qsort(c->plans, c->nplans, sizeof *c->plans, cmp_plan);
    for (size_t i = 1; i < c->nplans; i++)
        if (strcmp(c->plans[i - 1].id, c->plans[i].id) == 0)
            return joi_error_set(err, 400, "pricePlans: duplicate plan id %s", c->plans[i].id);
    if (json_object_object_get_ex(doc, "accounts", &v) && !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_object))
            return joi_error_set(err, 400, "accounts must be an object of meter id to plan id");
        c->accounts = joi_mem_calloc((size_t)json_object_object_length(v), sizeof *c->accounts);
        json_object_object_foreach(v, meter, plan)
        {
            if (!joi_meter_id_valid(meter, strlen(meter)))
                return joi_error_set(err, 400, "accounts: %.80s is not a valid meter id", meter);
            const struct joi_plan *p = NULL;
            if (json_object_is_type(plan, json_type_string))
                p = find_plan(c, json_object_get_string(plan));
            if (p == NULL)
                return joi_error_set(err, 400, "accounts: %s names an unknown plan %.80s", meter,
                                     json_object_is_type(plan, json_type_string)
                                         ? json_object_get_string(plan)
                                         : "(not a string)");
            c->accounts[c->naccounts].meter = joi_mem_strndup(meter, strlen(meter));
            c->accounts[c->naccounts].plan = p;
            c->naccounts++;
        }
        qsort(c->accounts, c->naccounts, sizeof *c->accounts, cmp_account);
    }
    return 0;
}

int joi_config_parse(const char *buf, size_t len, struct joi_config **out, struct joi_error *err)
{
    *out = NULL;
    struct json_object *doc = joi_json_parse(buf, len, err);
    if (doc == NULL)
        return -1;
    struct joi_config *c = joi_mem_calloc(1, sizeof *c);
    int rc = parse_doc(doc, c, err);
    json_object_put(doc);
    if (rc != 0) {
        joi_config_free(c);
        return -1;
    }
    *out = c;
    return 0;
}
