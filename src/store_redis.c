/*
 * store_redis.c -- the Redis store (see joi/store.h) over layout 2 (joi/layout.h):
 * a meter's sealed UTC days as chunks (joi/chunk.h) in its sorted set :r, a day
 * record of pre-aggregates per chunk in :e, its newest day in the head :h.  The
 * connection, the commands and the reading of replies are redis_conn.c's
 * (joi/redis_conn.h); key names and bytes are layout.c's.  The store is in four
 * files: this one (health, the layout check, plans, credentials, meters, the
 * table of functions), store_redis_write.c (a batch), store_redis_read.c
 * (readings and pre-aggregates) and store_redis_members.c (layout 1's members,
 * read as they arrive: for the migration and the reply fuzzer).
 *
 * Rules:
 *  - Every key of a meter carries the meter id as a hash tag and a batch is one
 *    script on the meter's keys only, so a sharding proxy keeps working.
 *  - The worker does the arithmetic: it reads what a batch touches, merges,
 *    encodes chunks and day records, and hands the bytes to redis/store_batch.lua,
 *    which stores them only if what the worker read is still there (a compare and
 *    swap); otherwise the worker pauses a random, growing time and reads again,
 *    a bounded number of times (store_redis_write.c), then answers 503.
 *  - A batch's readings of the head's day are appended to the head; of a later day,
 *    they start a new head and the old head's day is sealed into a chunk; of an
 *    earlier day, they are merged into that day's chunk (the batch wins).
 *  - Everything read is checked: a chunk, head or day record that does not decode
 *    is a 500 "malformed" for that meter only.
 *  - A store whose joi:{config}:layout is not JOI_LAYOUT_VERSION is refused (503,
 *    with what to run), checked until it is found right once per connection.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "joi/buf.h"
#include "joi/chunk.h"
#include "joi/layout.h"
#include "joi/num.h"
#include "joi/redis_conn.h"
#include "joi/store.h"
#include "joi/store_redis_internal.h"
#include "joi/summary.h"
#include "joi/timeparse.h"
#include "scripts.h"

/* Health: can a request be served, and can a write succeed now?  Two keyed
 * commands rather than PING, which a sharding proxy such as twemproxy answers itself
 * even with every server behind it down (and INFO, which it does not pass on):
 *  - a read of the plans' version, which every request needs, on the server that
 *    holds the plans;
 *  - a write of the time to JOI_LAYOUT_HEALTH_PROBE (its own hash tag): Redis refuses it
 *    for exactly the reasons it would refuse a batch (OOM at maxmemory under
 *    noeviction, MISCONF after a failed write to disk, LOADING, READONLY,
 *    NOREPLICAS), and under appendfsync always a full disk makes Redis exit on it
 *    as on the next batch.  It must really write: a write that changes nothing
 *    (SET NX of a key that exists) skips the AOF and would pass on a full disk.
 * Behind a proxy the write reaches the one server that holds {health}. */
static int redis_ping(struct joi_store *s, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    const char *argv[] = {"EXISTS", JOI_LAYOUT_CONFIG_VERSION};
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    const char *sargv[] = {"SET", JOI_LAYOUT_HEALTH_PROBE, now};
    if (joi_redis_do_str(&r->conn, 2, argv, err) != 0 ||
        joi_redis_do_str(&r->conn, 3, sargv, err) != 0)
        return -1;
    return joi_store_redis_layout_check(r, err);
}

/* v in digits into out (24 bytes), NUL-terminated. */
const char *joi_store_redis_digits(long long v, char *out)
{
    out[joi_num_int(v, out)] = '\0';
    return out;
}

/* Checks once per connection that the store is of layout JOI_LAYOUT_VERSION. */
int joi_store_redis_layout_check(struct redis_store *r, struct joi_error *err)
{
    if (r->layout_ok)
        return 0;
    const char *argv[] = {"GET", JOI_LAYOUT_VERSION_KEY};
    redisReply *rep = joi_redis_run_str(&r->conn, 2, argv, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_STRING && strcmp(rep->str, JOI_LAYOUT_VERSION) == 0) {
        r->layout_ok = 1;
    } else {
        char why[160];
        if (rep->type == REDIS_REPLY_STRING)
            snprintf(why, sizeof why,
                     "the store's layout is version %.20s; this service knows version %s", rep->str,
                     JOI_LAYOUT_VERSION);
        else
            snprintf(why, sizeof why, "the store's layout is version 1; run joi-admin migrate");
        joi_redis_log("refused the store", why);
        rc = joi_error_set(err, 503, "%s", why);
    }
    freeReplyObject(rep);
    return rc;
}

/* The one chunk member of a ZRANGEBYSCORE day day reply (NULL for none), or -1. */
int joi_store_redis_one_chunk(const redisReply *rep, const redisReply **out, struct joi_error *err)
{
    *out = NULL;
    if (rep->type != REDIS_REPLY_ARRAY)
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    if (rep->elements > 1 || (rep->elements == 1 && rep->element[0]->type != REDIS_REPLY_STRING))
        return joi_error_set(err, 500, "the store holds a malformed reading");
    if (rep->elements == 1)
        *out = rep->element[0];
    return 0;
}

/* The head's readings parsed into out (appended), from head bytes h[0..len). */
int joi_store_redis_head_readings(const char *h, size_t len, int64_t *day, struct joi_readings *out,
                                  struct joi_error *err)
{
    struct joi_layout_head_entry *e;
    size_t n;
    if (joi_layout_head_parse(h, len, day, &e, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        double kw;
        if (joi_num_parse(e[i].text, e[i].len, &kw) != 0) {
            free(e);
            return joi_error_set(err, 500, "the store holds a malformed reading");
        }
        joi_readings_push(out, e[i].time, kw);
    }
    free(e);
    return 0;
}

static int redis_config_get(struct joi_store *s, long long *version, char **doc, size_t *len,
                            struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    *doc = NULL;
    const char *argv1[] = {"GET", JOI_LAYOUT_CONFIG_VERSION};
    redisReply *rep = joi_redis_run_str(&r->conn, 2, argv1, err);
    if (rep == NULL)
        return -1;
    long long v = rep->type == REDIS_REPLY_STRING ? strtoll(rep->str, NULL, 10) : 0;
    freeReplyObject(rep);
    if (v == *version)
        return 0;
    /* Changed: fetch the document and its version together. */
    const char *argv2[] = {"MGET", JOI_LAYOUT_CONFIG_VERSION, JOI_LAYOUT_CONFIG_DOC};
    rep = joi_redis_run_str(&r->conn, 3, argv2, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    } else {
        redisReply *rv = rep->element[0], *rd = rep->element[1];
        *version = rv->type == REDIS_REPLY_STRING ? strtoll(rv->str, NULL, 10) : 0;
        if (rd->type == REDIS_REPLY_STRING) {
            *doc = joi_mem_strndup(rd->str, rd->len);
            *len = rd->len;
        }
    }
    freeReplyObject(rep);
    return rc;
}

static int redis_config_put(struct joi_store *s, const char *doc, size_t len, struct joi_error *err)
{
    const char *argv[] = {NULL,
                          NULL,
                          "3",
                          JOI_LAYOUT_CONFIG_DOC,
                          JOI_LAYOUT_CONFIG_VERSION,
                          JOI_LAYOUT_VERSION_KEY,
                          doc,
                          JOI_LAYOUT_VERSION};
    size_t lens[] = {0,
                     0,
                     1,
                     strlen(JOI_LAYOUT_CONFIG_DOC),
                     strlen(JOI_LAYOUT_CONFIG_VERSION),
                     strlen(JOI_LAYOUT_VERSION_KEY),
                     len,
                     strlen(JOI_LAYOUT_VERSION)};
    redisReply *rep = joi_redis_eval(&((struct redis_store *)s)->conn, JOI_LUA_CONFIG_PUT,
                                     JOI_LUA_CONFIG_PUT_SHA, 8, argv, lens, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

static int redis_token_set(struct joi_store *s, const char *meter, const char *record,
                           struct joi_error *err)
{
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_TOKEN);
    const char *argv[] = {record ? "SET" : "DEL", key, record};
    return joi_redis_do_str(&((struct redis_store *)s)->conn, record ? 3 : 2, argv, err);
}

static int redis_key_set(struct joi_store *s, const char *meter, const char *record,
                         struct joi_error *err)
{
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_KEY);
    const char *argv[] = {record ? "SET" : "DEL", key, record};
    return joi_redis_do_str(&((struct redis_store *)s)->conn, record ? 3 : 2, argv, err);
}

static int redis_key_get(struct joi_store *s, const char *meter, char *record, size_t len,
                         struct joi_error *err)
{
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_KEY);
    const char *argv[] = {"GET", key};
    redisReply *rep = joi_redis_run_str(&((struct redis_store *)s)->conn, 2, argv, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    record[0] = '\0';
    if (rep->type == REDIS_REPLY_STRING && rep->len < len)
        memcpy(record, rep->str, rep->len + 1);
    else if (rep->type == REDIS_REPLY_STRING)
        rc = joi_error_set(err, 500, "the store holds a malformed key record");
    else if (rep->type != REDIS_REPLY_NIL)
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    freeReplyObject(rep);
    return rc;
}

/* SCAN over every key that may be a meter's, a batch of about 1000 at a time. */
static int redis_meters_each(struct joi_store *s, joi_store_meter_fn fn, void *arg,
                             struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    char cursor[32] = "0";
    do {
        redisReply *rep;
        const redisReply *keys =
            joi_redis_scan(&r->conn, cursor, JOI_LAYOUT_METER_PATTERN, &rep, err);
        if (keys == NULL)
            return -1;
        for (size_t i = 0; i < keys->elements; i++) {
            const redisReply *k = keys->element[i];
            char meter[JOI_METER_MAX + 1];
            const char *suffix;
            if (k->type == REDIS_REPLY_STRING &&
                joi_layout_key_split(k->str, k->len, meter, &suffix) == 0)
                fn(arg, meter, suffix);
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static int redis_meter_delete(struct joi_store *s, const char *meter, long long *deleted,
                              struct joi_error *err)
{
    static const char *const suffixes[] = {JOI_LAYOUT_METER_SUFFIXES};
    enum { NKEYS = sizeof suffixes / sizeof suffixes[0] };
    char keys[NKEYS][JOI_LAYOUT_KEY_MAX], nkeys[16];
    const char *argv[3 + NKEYS];
    size_t lens[3 + NKEYS];
    snprintf(nkeys, sizeof nkeys, "%d", (int)NKEYS);
    argv[2] = nkeys;
    lens[2] = strlen(nkeys);
    for (int i = 0; i < NKEYS; i++) {
        joi_layout_key(keys[i], meter, suffixes[i]);
        argv[3 + i] = keys[i];
        lens[3 + i] = strlen(keys[i]);
    }
    redisReply *rep = joi_redis_eval(&((struct redis_store *)s)->conn, JOI_LUA_METER_DELETE,
                                     JOI_LUA_METER_DELETE_SHA, 3 + NKEYS, argv, lens, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_INTEGER)
        *deleted = rep->integer;
    else
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    freeReplyObject(rep);
    return rc;
}

static void redis_free(struct joi_store *s)
{
    struct redis_store *r = (struct redis_store *)s;
    joi_redis_close(&r->conn);
    free(r);
}

static const struct joi_store_ops redis_ops = {
    .ping = redis_ping,
    .readings_put = joi_store_redis_readings_put,
    .readings_get = joi_store_redis_readings_get,
    .readings_each = joi_store_redis_readings_each,
    .summary_get = joi_store_redis_summary_get,
    .summary_range = joi_store_redis_summary_range,
    .readings_get_ranges = joi_store_redis_readings_get_ranges,
    .readings_count = joi_store_redis_readings_count,
    .config_get = redis_config_get,
    .config_put = redis_config_put,
    .token_set = redis_token_set,
    .key_set = redis_key_set,
    .key_get = redis_key_get,
    .meters_each = redis_meters_each,
    .meter_delete = redis_meter_delete,
    .free = redis_free,
};

struct joi_store *joi_store_redis_new(const char *addr, int timeout_ms)
{
    struct redis_store *r = joi_mem_calloc(1, sizeof *r);
    r->base.ops = &redis_ops;
    if (joi_redis_init(&r->conn, addr, timeout_ms) != 0) {
        free(r);
        return NULL;
    }
    return &r->base;
}
