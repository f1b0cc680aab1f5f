/*
 * store_redis.c -- the Redis store (see joi/store.h): the key schema, the members
 * and what each store function asks of Redis.  The connection, the commands and
 * the reading of replies are redis_conn.c's (joi/redis_conn.h).
 *
 * Rules:
 *  - This is the only file that knows key names.  Every key of a meter carries the
 *    meter id as a hash tag ("joi:{smart-meter-0}:r") and the plans file lives
 *    under its own tag ("joi:{config}:..."), so a Redis Cluster or a sharding proxy
 *    can place them; a batch is one script on the meter's keys only.
 *  - A meter's readings are the members "time:reading" of its sorted set :r,
 *    scored by time: the time in digits, the reading in the shortest text that
 *    reads back to it (joi_num_format).  Every member read is checked against that
 *    form; anything else is a 500 "malformed reading" for that meter only.
 *  - The reply to every command is checked for its expected type.
 *  - "the whole history" is 0..JOI_TIME_MAX: asked for by rank (ZRANGE), not by
 *    score.
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
#include "joi/layout.h"
#include "joi/num.h"
#include "joi/redis_conn.h"
#include "joi/store.h"
#include "joi/timeparse.h"
#include "scripts.h"

/* A list of readings ("time:reading" members, as ZRANGEBYSCORE answers) goes to a
 * member_sink while hiredis reads it (see joi/redis_conn.h): parsed straight into
 * the caller's readings, or handed to readings_each's fn with its text as stored,
 * never built as a reply object per member. */
struct member_sink {
    struct joi_redis_sink rs; /* what the connection sees; rs.arg is this sink */
    struct joi_readings *out; /* either the readings, parsed */
    joi_store_reading_fn fn;  /* or each reading handed to fn (readings_each) */
    void *arg;
    /* fn's newest-first lists: the members are held here ("time:reading" each,
     * ends[k] where the k-th ends) until the reply is complete, then handed over
     * oldest first.  NULL when members go to fn as they arrive. */
    struct joi_buf *held;
    size_t *ends;
    size_t cap;
    size_t start; /* out->n before the command: a retried command starts there */
};

struct redis_store {
    struct joi_store base;
    struct joi_redis conn;
};

/* Hands member "time:reading" to the sink's fn (or holds it, for a newest-first
 * list): the reading's text as stored, which the store writes in the shortest form
 * that reads back (joi_num_format).  Returns -1 when the member is malformed. */
static int member_take(struct member_sink *sink, const char *str, size_t len)
{
    int64_t t;
    size_t tl = joi_layout_member_split(str, len, &t);
    if (tl == 0)
        return -1;
    if (sink->held == NULL) {
        sink->fn(sink->arg, t, str + tl + 1, len - tl - 1);
        return 0;
    }
    joi_buf_append(sink->held, str, len);
    if (sink->rs.count >= sink->cap) { /* indexed by count, which malformed members advance too */
        while (sink->rs.count >= sink->cap)
            sink->cap = sink->cap ? 2 * sink->cap : 64;
        sink->ends = joi_mem_realloc(sink->ends, sink->cap * sizeof *sink->ends);
    }
    sink->ends[sink->rs.count] = sink->held->len;
    return 0;
}

/* The sink's element(): a member, parsed or handed over. */
static int member_element(void *arg, const char *str, size_t len)
{
    struct member_sink *sink = arg;
    if (sink->fn)
        return member_take(sink, str, len);
    int64_t t;
    double kw;
    if (joi_layout_member_parse(str, len, &t, &kw) != 0)
        return -1;
    joi_readings_push(sink->out, t, kw);
    return 0;
}

/* The sink's restart(): what an attempt that failed took is forgotten. */
static void member_restart(void *arg)
{
    struct member_sink *sink = arg;
    if (sink->held)
        joi_buf_reset(sink->held);
    else
        sink->out->n = sink->start;
}

/* A sink for out (parsed readings) or fn (readings_each); held, when not NULL, is
 * where a newest-first list waits to be handed over oldest first. */
static void member_sink_init(struct member_sink *sink, struct joi_readings *out,
                             joi_store_reading_fn fn, void *arg, struct joi_buf *held)
{
    memset(sink, 0, sizeof *sink);
    sink->rs.element = member_element;
    /* Readings handed to fn as they arrive cannot be taken back. */
    sink->rs.restart = fn && held == NULL ? NULL : member_restart;
    sink->rs.arg = sink;
    sink->out = out;
    sink->fn = fn;
    sink->arg = arg;
    sink->held = held;
    sink->start = out ? out->n : 0;
}

/* Hands the held members to fn, oldest first (they came newest first). */
static void members_release(struct member_sink *sink)
{
    for (size_t k = sink->rs.count; k-- > 0;) {
        size_t begin = k == 0 ? 0 : sink->ends[k - 1];
        const char *m = sink->held->data + begin;
        int64_t t;
        size_t len = sink->ends[k] - begin, tl = joi_layout_member_split(m, len, &t);
        sink->fn(sink->arg, t, m + tl + 1, len - tl - 1);
    }
}

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
    return 0;
}

static int redis_readings_put(struct joi_store *s, const char *meter,
                              const struct joi_reading *batch, size_t nbatch, const char *token,
                              char *current, size_t currentlen, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    /* The script takes the batch sorted, each time once: the last one sent wins. */
    struct joi_readings sorted;
    joi_readings_init(&sorted);
    for (size_t i = 0; i < nbatch; i++)
        joi_readings_push(&sorted, batch[i].time, batch[i].kw);
    joi_readings_sort_unique(&sorted);
    const struct joi_reading *rd = sorted.items;
    size_t n = sorted.n;
    char key[JOI_LAYOUT_KEY_MAX], bkey[JOI_LAYOUT_KEY_MAX], lkey[JOI_LAYOUT_KEY_MAX];
    char tkey[JOI_LAYOUT_KEY_MAX], w[16], l[16];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(bkey, meter, JOI_LAYOUT_BUCKETS);
    joi_layout_key(lkey, meter, JOI_LAYOUT_LONGS);
    joi_layout_key(tkey, meter, JOI_LAYOUT_TOKEN);
    snprintf(w, sizeof w, "%d", JOI_BUCKET_SECONDS);
    snprintf(l, sizeof l, "%d", JOI_LONG_INTERVAL);
    const char *fixed[] = {"4", key, bkey, lkey, tkey, w, l, token};
    const int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
    const int head = 2 + nfixed; /* EVALSHA sha, then the fixed arguments */
    int argc = head + 2 * (int)n;
    const char **argv = joi_mem_alloc((size_t)argc * sizeof *argv);
    size_t *lens = joi_mem_alloc((size_t)argc * sizeof *lens);
    /* Members are written into one buffer, a slot each; the time is the member's start. */
    size_t slot = JOI_LAYOUT_MEMBER_MAX;
    char *text = joi_mem_alloc(n * slot);
    for (int i = 0; i < nfixed; i++) {
        argv[2 + i] = fixed[i];
        lens[2 + i] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < n; i++) {
        char *m = text + i * slot;
        size_t tl, ml = joi_layout_member_format(rd[i].time, rd[i].kw, m, &tl);
        argv[head + 2 * i] = m; /* the score: the member's time part */
        lens[head + 2 * i] = tl;
        argv[head + 1 + 2 * i] = m;
        lens[head + 1 + 2 * i] = ml;
    }
    redisReply *rep = joi_redis_eval(&r->conn, JOI_LUA_STORE_READINGS, JOI_LUA_STORE_READINGS_SHA,
                                     argc, argv, lens, err);
    free(text);
    free(lens);
    free(argv);
    joi_readings_free(&sorted);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_ARRAY) { /* the token record changed: { record } */
        if (rep->elements != 1 || rep->element[0]->type != REDIS_REPLY_STRING)
            rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
        else if (rep->element[0]->len >= currentlen)
            rc = joi_error_set(err, 500, "the store holds a malformed token record");
        else {
            memcpy(current, rep->element[0]->str, rep->element[0]->len + 1);
            rc = 1;
        }
    } else if (rep->type != REDIS_REPLY_INTEGER) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    }
    freeReplyObject(rep);
    return rc;
}

/* Parses "time:reading" members into out. */
static int parse_members(redisReply *rep, struct joi_readings *out, struct joi_error *err)
{
    if (rep->type != REDIS_REPLY_ARRAY)
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *e = rep->element[i];
        int64_t t;
        double kw;
        if (e->type != REDIS_REPLY_STRING || joi_layout_member_parse(e->str, e->len, &t, &kw) != 0)
            return joi_error_set(err, 500, "the store holds a malformed reading");
        joi_readings_push(out, t, kw);
    }
    return 0;
}

/* 1 when from..to holds every time a reading can have (0..JOI_TIME_MAX). */
static int whole_history(int64_t from, int64_t to)
{
    return from <= 0 && to >= JOI_TIME_MAX;
}

/* A meter's readings from..to into the sink, the newest `limit`, or (limit 0) all
 * of them up to JOI_READINGS_MAX + 1, the oldest.  The whole history goes by rank
 * (ZRANGE 0 JOI_READINGS_MAX, or -limit -1: ascending, and cheaper for Redis than
 * comparing every score); a range by score (ZRANGEBYSCORE ... LIMIT, or
 * ZREVRANGEBYSCORE with a limit: newest first).  Returns 1 when the members came
 * newest first, 0 when ascending, -1 with err set. */
static int range_into(struct redis_store *r, const char *meter, int64_t from, int64_t to,
                      size_t limit, struct member_sink *sink, struct joi_error *err)
{
    char key[JOI_LAYOUT_KEY_MAX], lo[24], hi[24], lim[24], last[24];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    snprintf(lo, sizeof lo, "%lld", (long long)from);
    snprintf(hi, sizeof hi, "%lld", (long long)to);
    snprintf(lim, sizeof lim, "%zu", limit > 0 ? limit : (size_t)JOI_READINGS_MAX + 1);
    snprintf(last, sizeof last, "%d", JOI_READINGS_MAX); /* ranks 0 .. the bound: one too many */
    int whole = whole_history(from, to);
    r->conn.sink = &sink->rs;
    redisReply *rep;
    if (whole) {
        char first[24];
        snprintf(first, sizeof first, "-%zu", limit);
        const char *argv[] = {"ZRANGE", key, limit > 0 ? first : "0", limit > 0 ? "-1" : last};
        rep = joi_redis_run_str(&r->conn, 4, argv, err);
    } else if (limit > 0) {
        const char *argv[] = {"ZREVRANGEBYSCORE", key, hi, lo, "LIMIT", "0", lim};
        rep = joi_redis_run_str(&r->conn, 7, argv, err);
    } else {
        const char *argv[] = {"ZRANGEBYSCORE", key, lo, hi, "LIMIT", "0", lim};
        rep = joi_redis_run_str(&r->conn, 7, argv, err);
    }
    r->conn.sink = NULL;
    if (rep == NULL)
        return -1;
    if (!joi_redis_sink_took(rep)) {
        freeReplyObject(rep);
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    }
    if (sink->rs.malformed)
        return joi_error_set(err, 500, "the store holds a malformed reading");
    return !whole && limit > 0;
}

static int redis_readings_get(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                              size_t limit, struct joi_readings *out, struct joi_error *err)
{
    struct member_sink sink;
    member_sink_init(&sink, out, NULL, NULL, NULL);
    int newest_first = range_into((struct redis_store *)s, meter, from, to, limit, &sink, err);
    if (newest_first < 0)
        return -1;
    if (newest_first)
        joi_readings_reverse(out, sink.start);
    return 0;
}

static int redis_readings_each(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                               size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                               struct joi_error *err)
{
    struct joi_buf held;
    joi_buf_init(&held);
    struct member_sink sink;
    /* newest first: held, then handed over oldest first */
    member_sink_init(&sink, NULL, fn, arg, limit > 0 && !whole_history(from, to) ? &held : NULL);
    int rc = range_into((struct redis_store *)s, meter, from, to, limit, &sink, err);
    if (rc == 1)
        members_release(&sink);
    free(sink.ends);
    joi_buf_free(&held);
    *count = sink.rs.count;
    return rc < 0 ? -1 : 0;
}

static int64_t reply_int(const redisReply *e)
{
    return e->type == REDIS_REPLY_INTEGER  ? e->integer
           : e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10)
                                           : 0;
}

/* The bucket hash: each field a day of JOI_BUCKETS_PER_FIELD buckets, its value
 * that many little-endian doubles.  Buckets without energy are left out. */
struct day_field {
    int64_t day;
    const redisReply *value;
};

static int cmp_day(const void *a, const void *b)
{
    int64_t x = ((const struct day_field *)a)->day, y = ((const struct day_field *)b)->day;
    return x < y ? -1 : (x > y);
}

/* The days of buckets (HGETALL: day, packed doubles, ...) in order of day, so that
 * the buckets come out sorted without sorting them. */
static int parse_bucket_days(const redisReply *rep, struct joi_summary *out, struct joi_error *err)
{
    size_t ndays = rep->elements / 2;
    struct day_field *days = joi_mem_alloc((ndays + 1) * sizeof *days);
    for (size_t i = 0; i < ndays; i++) {
        days[i].day = reply_int(rep->element[2 * i]);
        days[i].value = rep->element[2 * i + 1];
    }
    qsort(days, ndays, sizeof *days, cmp_day);
    out->buckets = joi_mem_alloc((ndays * JOI_BUCKETS_PER_FIELD + 1) * sizeof *out->buckets);
    out->nbuckets = 0;
    int rc = 0;
    for (size_t i = 0; i < ndays; i++) {
        const redisReply *v = days[i].value;
        if (v->type != REDIS_REPLY_STRING ||
            joi_layout_buckets_parse(days[i].day, v->str, v->len, out->buckets, &out->nbuckets) !=
                0) {
            rc = joi_error_set(err, 500, "the store holds malformed energy buckets");
            break;
        }
    }
    free(days);
    return rc;
}

static int redis_summary_get(struct joi_store *s, const char *meter, struct joi_summary *out,
                             long long *config_version, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    char key[JOI_LAYOUT_KEY_MAX], bkey[JOI_LAYOUT_KEY_MAX], lkey[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(bkey, meter, JOI_LAYOUT_BUCKETS);
    joi_layout_key(lkey, meter, JOI_LAYOUT_LONGS);
    joi_summary_init(out);
    const char *c0[] = {"ZCARD", key};
    const char *c1[] = {"ZRANGE", key, "0", "0", "WITHSCORES"};
    const char *c2[] = {"ZRANGE", key, "-1", "-1", "WITHSCORES"};
    const char *c3[] = {"HGETALL", bkey};
    const char *c4[] = {"ZRANGE", lkey, "0", "-1"};
    const char *c5[] = {"GET", JOI_LAYOUT_CONFIG_VERSION};
    const char **const argvs[] = {c0, c1, c2, c3, c4, c5};
    const int argcs[] = {2, 5, 5, 2, 4, 2};
    redisReply *reps[6];
    if (joi_redis_pipeline(&r->conn, 6, argvs, argcs, reps, err) != 0)
        return -1;
    int rc = 0;
    *config_version = reps[5]->type == REDIS_REPLY_STRING ? strtoll(reps[5]->str, NULL, 10) : 0;
    out->count = reps[0]->type == REDIS_REPLY_INTEGER ? reps[0]->integer : 0;
    if (out->count > 0) {
        if (reps[1]->type != REDIS_REPLY_ARRAY || reps[1]->elements != 2 ||
            reps[2]->type != REDIS_REPLY_ARRAY || reps[2]->elements != 2 ||
            reps[3]->type != REDIS_REPLY_ARRAY || reps[4]->type != REDIS_REPLY_ARRAY) {
            rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
            goto out;
        }
        out->first = reply_int(reps[1]->element[1]);
        out->last = reply_int(reps[2]->element[1]);
        if (parse_bucket_days(reps[3], out, err) != 0) {
            rc = -1;
            goto out;
        }
        out->nlong_intervals = reps[4]->elements;
        out->long_intervals =
            joi_mem_alloc((out->nlong_intervals + 1) * sizeof *out->long_intervals);
        for (size_t i = 0; i < out->nlong_intervals; i++) {
            const redisReply *m = reps[4]->element[i];
            if (m->type != REDIS_REPLY_STRING ||
                joi_layout_interval_parse(m->str, &out->long_intervals[i]) != 0) {
                rc = joi_error_set(err, 500, "the store holds a malformed interval");
                goto out;
            }
        }
        joi_summary_sort(out);
    }
out:
    for (int i = 0; i < 6; i++)
        freeReplyObject(reps[i]);
    if (rc != 0)
        joi_summary_free(out);
    return rc;
}

static int redis_readings_get_ranges(struct joi_store *s, const char *meter, const int64_t *ranges,
                                     size_t n, struct joi_readings *out, struct joi_error *err)
{
    if (n == 0)
        return 0;
    struct redis_store *r = (struct redis_store *)s;
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    char(*text)[2][24] = joi_mem_alloc(n * sizeof *text);
    const char **argv = joi_mem_alloc(4 * n * sizeof *argv);
    const char ***argvs = joi_mem_alloc(n * sizeof *argvs);
    int *argcs = joi_mem_alloc(n * sizeof *argcs);
    redisReply **reps = joi_mem_alloc(n * sizeof *reps);
    for (size_t i = 0; i < n; i++) {
        snprintf(text[i][0], sizeof text[i][0], "%lld", (long long)ranges[2 * i]);
        snprintf(text[i][1], sizeof text[i][1], "%lld", (long long)ranges[2 * i + 1]);
        argv[4 * i] = "ZRANGEBYSCORE";
        argv[4 * i + 1] = key;
        argv[4 * i + 2] = text[i][0];
        argv[4 * i + 3] = text[i][1];
        argvs[i] = &argv[4 * i];
        argcs[i] = 4;
    }
    int rc = joi_redis_pipeline(&r->conn, (int)n, (const char **const *)argvs, argcs, reps, err);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            if (rc == 0)
                rc = parse_members(reps[i], out, err);
            freeReplyObject(reps[i]);
        }
    }
    free(reps);
    free(argcs);
    free(argvs);
    free(argv);
    free(text);
    return rc;
}

static int redis_readings_count(struct joi_store *s, const char *meter, long long *count,
                                struct joi_error *err)
{
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    const char *argv[] = {"ZCARD", key};
    redisReply *rep = joi_redis_run_str(&((struct redis_store *)s)->conn, 2, argv, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_INTEGER)
        *count = rep->integer;
    else
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    freeReplyObject(rep);
    return rc;
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
    const char *argv[] = {NULL, NULL, "2", JOI_LAYOUT_CONFIG_DOC, JOI_LAYOUT_CONFIG_VERSION, doc};
    size_t lens[] = {0,  0, 1, strlen(JOI_LAYOUT_CONFIG_DOC), strlen(JOI_LAYOUT_CONFIG_VERSION),
                     len};
    redisReply *rep = joi_redis_eval(&((struct redis_store *)s)->conn, JOI_LUA_CONFIG_PUT,
                                     JOI_LUA_CONFIG_PUT_SHA, 6, argv, lens, err);
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
        const char *argv[] = {"SCAN", cursor, "MATCH", JOI_LAYOUT_METER_PATTERN, "COUNT", "1000"};
        redisReply *rep = joi_redis_run_str(&r->conn, 6, argv, err);
        if (rep == NULL)
            return -1;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= sizeof cursor ||
            rep->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return joi_error_set(err, 500, "the store answered with an unexpected reply");
        }
        memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
        for (size_t i = 0; i < rep->element[1]->elements; i++) {
            const redisReply *k = rep->element[1]->element[i];
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
    .readings_put = redis_readings_put,
    .readings_get = redis_readings_get,
    .readings_each = redis_readings_each,
    .summary_get = redis_summary_get,
    .readings_get_ranges = redis_readings_get_ranges,
    .readings_count = redis_readings_count,
    .config_get = redis_config_get,
    .config_put = redis_config_put,
    .token_set = redis_token_set,
    .key_set = redis_key_set,
    .key_get = redis_key_get,
    .meters_each = redis_meters_each,
    .meter_delete = redis_meter_delete,
    .free = redis_free,
};

void *joi_store_redis_reader_new(struct joi_readings *readings, joi_store_reading_fn fn, void *arg)
{
    redisReader *reader = redisReaderCreate();
    if (reader == NULL)
        return NULL;
    joi_redis_reader_install(reader);
    if (readings || fn) {
        struct member_sink *sink = joi_mem_alloc(sizeof *sink);
        member_sink_init(sink, readings, readings ? NULL : fn, arg, NULL);
        reader->privdata = &sink->rs;
    }
    return reader;
}

void joi_store_redis_reader_free(void *p)
{
    redisReader *reader = p;
    if (reader == NULL)
        return;
    struct joi_redis_sink *rs = reader->privdata;
    if (rs) {
        struct member_sink *sink = rs->arg;
        free(sink->ends);
        free(sink);
    }
    redisReaderFree(reader);
}

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
