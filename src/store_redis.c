/*
 * store_redis.c -- the Redis store (see joi/store.h) over layout 2 (joi/layout.h):
 * a meter's sealed UTC days as chunks (joi/chunk.h) in its sorted set :r, a day
 * record of pre-aggregates per chunk in :e, its newest day in the head :h.  The
 * connection, the commands and the reading of replies are redis_conn.c's
 * (joi/redis_conn.h); key names and bytes are layout.c's.
 *
 * Rules:
 *  - Every key of a meter carries the meter id as a hash tag and a batch is one
 *    script on the meter's keys only, so a sharding proxy keeps working.
 *  - The worker does the arithmetic: it reads what a batch touches, merges,
 *    encodes chunks and day records, and hands the bytes to redis/store_batch.lua,
 *    which stores them only if what the worker read is still there (a compare and
 *    swap); otherwise the worker reads again, at most PUT_ATTEMPTS times, then
 *    answers 503.
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
    int layout_ok; /* the store's layout version was found to be JOI_LAYOUT_VERSION */
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

static int layout_check(struct redis_store *r, struct joi_error *err);

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
    return layout_check(r, err);
}

/* Batches tried again after a compare and swap that failed (another writer of the
 * meter came between the read and the script), before the store answers 503. */
#define PUT_ATTEMPTS 8

/* v in digits into out (24 bytes), NUL-terminated. */
static const char *digits_z(long long v, char *out)
{
    out[joi_num_int(v, out)] = '\0';
    return out;
}

/* Checks once per connection that the store is of layout JOI_LAYOUT_VERSION. */
static int layout_check(struct redis_store *r, struct joi_error *err)
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
static int one_chunk(const redisReply *rep, const redisReply **out, struct joi_error *err)
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
static int head_readings(const char *h, size_t len, int64_t *day, struct joi_readings *out,
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

/* What one attempt of a batch writes: a day's chunk and record per sealed day. */
struct put_plan {
    struct joi_buf args; /* every argument's bytes, one after the other */
    size_t *lens;
    size_t nargs, cap;
    size_t ndays;
};

static void plan_arg(struct put_plan *p, const void *data, size_t len)
{
    if (p->nargs == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 32;
        p->lens = joi_mem_realloc(p->lens, p->cap * sizeof *p->lens);
    }
    joi_buf_append(&p->args, data, len);
    p->lens[p->nargs++] = len;
}

static void plan_arg_int(struct put_plan *p, long long v)
{
    char t[24];
    plan_arg(p, t, joi_num_int(v, t));
}

/* Adds day d's new readings (sorted, distinct) to the plan: its chunk replaces
 * `old` (NULL: the day has none). */
static int plan_day(struct put_plan *p, int64_t d, const redisReply *old,
                    const struct joi_readings *rd, struct joi_error *err)
{
    struct joi_buf chunk, rec;
    joi_buf_init(&chunk);
    joi_buf_init(&rec);
    if (joi_chunk_encode(rd->items, rd->n, &chunk, err) != 0) {
        joi_buf_free(&chunk);
        return -1;
    }
    struct joi_summary_day day;
    joi_summary_day_build(rd->items, rd->n, d, &day);
    day.has_buckets = joi_layout_day_keeps_buckets(&day);
    joi_layout_day_encode(&day, &rec);
    joi_summary_day_free(&day);
    plan_arg_int(p, (long long)(d * JOI_LAYOUT_DAY_SECONDS));
    plan_arg(p, old ? old->str : "", old ? old->len : 0);
    plan_arg(p, chunk.data, chunk.len);
    plan_arg_int(p, (long long)d);
    plan_arg(p, rec.data, rec.len);
    p->ndays++;
    joi_buf_free(&chunk);
    joi_buf_free(&rec);
    return 0;
}

/* One attempt at storing the sorted, distinct batch b.  Returns 0 stored, 1 the
 * token record changed (copied to current), 2 another writer came between, -1. */
static int put_attempt(struct redis_store *r, const char *meter, const struct joi_readings *b,
                       const char *token, char *current, size_t currentlen, struct joi_error *err)
{
    char key[JOI_LAYOUT_KEY_MAX], ekey[JOI_LAYOUT_KEY_MAX], hkey[JOI_LAYOUT_KEY_MAX],
        tkey[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(ekey, meter, JOI_LAYOUT_DAYS);
    joi_layout_key(hkey, meter, JOI_LAYOUT_HEAD);
    joi_layout_key(tkey, meter, JOI_LAYOUT_TOKEN);
    /* The batch's days: [starts[k], starts[k + 1]) of b are day days[k]. */
    size_t ndays = 0;
    int64_t *days = joi_mem_alloc((b->n + 1) * sizeof *days);
    size_t *starts = joi_mem_alloc((b->n + 2) * sizeof *starts);
    for (size_t i = 0; i < b->n; i++) {
        int64_t d = joi_layout_day(b->items[i].time);
        if (ndays == 0 || days[ndays - 1] != d) {
            days[ndays] = d;
            starts[ndays++] = i;
        }
    }
    starts[ndays] = b->n;
    /* Round 1: the head's header and each day's chunk. */
    int ncmd = 1 + (int)ndays;
    const char ***argvs = joi_mem_alloc((size_t)ncmd * sizeof *argvs);
    const char **argv = joi_mem_alloc(4 * (size_t)ncmd * sizeof *argv);
    int *argcs = joi_mem_alloc((size_t)ncmd * sizeof *argcs);
    char(*score)[24] = joi_mem_alloc((ndays + 1) * sizeof *score);
    redisReply **reps = joi_mem_calloc((size_t)ncmd, sizeof *reps);
    argv[0] = "GETRANGE";
    argv[1] = hkey;
    argv[2] = "0";
    argv[3] = "23";
    argvs[0] = argv;
    argcs[0] = 4;
    for (size_t k = 0; k < ndays; k++) {
        digits_z((long long)(days[k] * JOI_LAYOUT_DAY_SECONDS), score[k]);
        const char **a = argv + 4 * (k + 1);
        a[0] = "ZRANGEBYSCORE";
        a[1] = key;
        a[2] = score[k];
        a[3] = score[k];
        argvs[k + 1] = a;
        argcs[k + 1] = 4;
    }
    struct put_plan plan;
    memset(&plan, 0, sizeof plan);
    joi_buf_init(&plan.args);
    struct joi_buf newhead;
    joi_buf_init(&newhead);
    struct joi_readings rd;
    joi_readings_init(&rd);
    redisReply *head = NULL, *rep = NULL;
    int rc = joi_redis_pipeline(&r->conn, ncmd, (const char **const *)argvs, argcs, reps, err);
    if (rc != 0) {
        memset(reps, 0, (size_t)ncmd * sizeof *reps);
        goto out;
    }
    if (reps[0]->type != REDIS_REPLY_STRING) {
        rc = joi_error_set(err, 500, "the store holds a malformed reading");
        goto out;
    }
    /* The head's day H, or -1 for none. */
    int64_t hday = -1;
    const char *nl = memchr(reps[0]->str, '\n', reps[0]->len);
    size_t hlen = 0;
    if (reps[0]->len > 0) {
        if (nl == NULL) {
            rc = joi_error_set(err, 500, "the store holds a malformed reading");
            goto out;
        }
        hlen = (size_t)(nl - reps[0]->str) + 1;
        int64_t v = 0;
        for (const char *c = reps[0]->str; c < nl; c++)
            v = v * 10 + (*c - '0');
        hday = v;
    }
    int64_t newest = days[ndays - 1] > hday ? days[ndays - 1] : hday;
    const char *hop = "N";
    char expect[32] = "-";
    if (newest > hday || hday < 0) {
        /* A new head for the batch's newest day; the old head's day is sealed. */
        memcpy(expect, reps[0]->str, hlen);
        expect[hlen] = '\0';
        hop = "S";
        joi_layout_head_header(&newhead, newest);
    } else if (days[ndays - 1] == hday) {
        memcpy(expect, reps[0]->str, hlen);
        expect[hlen] = '\0';
        hop = "A";
    }
    int sealed = 0; /* 1 once the old head's day is in the plan */
    for (size_t k = 0; k <= ndays && rc == 0; k++) {
        int64_t d;
        if (k < ndays)
            d = days[k];
        else if (!sealed && hday >= 0 && newest > hday)
            d = hday; /* the old head's day, without readings of the batch */
        else
            break;
        const struct joi_reading *br = k < ndays ? b->items + starts[k] : NULL;
        size_t bn = k < ndays ? starts[k + 1] - starts[k] : 0;
        if (d == newest && *hop != 'N') { /* into the head */
            for (size_t i = 0; i < bn; i++)
                joi_layout_head_record(&newhead, br[i].time, br[i].kw);
            continue;
        }
        rd.n = 0;
        const redisReply *old = NULL;
        if (d == hday) { /* sealing the old head: its readings, then the batch's */
            const char *argv2[] = {"GET", hkey};
            head = joi_redis_run_str(&r->conn, 2, argv2, err);
            if (head == NULL) {
                rc = -1;
                break;
            }
            if (head->type != REDIS_REPLY_STRING || head->len < hlen ||
                memcmp(head->str, expect, hlen) != 0) {
                rc = 2; /* sealed or replaced meanwhile */
                break;
            }
            if (head_readings(head->str, head->len, &hday, &rd, err) != 0) {
                rc = -1;
                break;
            }
            sealed = 1;
        } else {
            if (one_chunk(reps[k + 1], &old, err) != 0 ||
                (old &&
                 joi_chunk_decode((const unsigned char *)old->str, old->len, &rd, err) != 0)) {
                rc = -1;
                break;
            }
        }
        for (size_t i = 0; i < bn; i++)
            joi_readings_push(&rd, br[i].time, br[i].kw);
        joi_readings_sort_unique(&rd);
        if (rd.n > 0 && plan_day(&plan, d, old, &rd, err) != 0)
            rc = -1;
        if (k == ndays)
            break;
    }
    if (rc != 0)
        goto out;
    /* The script: EVALSHA sha 4 keys, token, expect, hop, head bytes, ndays, days... */
    size_t fixed = 2 + 1 + 4 + 5, argc = fixed + plan.nargs;
    const char **sargv = joi_mem_alloc(argc * sizeof *sargv);
    size_t *slens = joi_mem_alloc(argc * sizeof *slens);
    char nd[24];
    digits_z((long long)plan.ndays, nd);
    const char *fx[] = {
        "4", key, ekey, hkey, tkey, token, expect, hop, newhead.data ? newhead.data : "", nd};
    for (size_t i = 0; i < 10; i++) {
        sargv[2 + i] = fx[i];
        slens[2 + i] = i == 8 ? newhead.len : strlen(fx[i]);
    }
    const char *at = plan.args.data;
    for (size_t i = 0; i < plan.nargs; i++) {
        sargv[fixed + i] = at;
        slens[fixed + i] = plan.lens[i];
        at += plan.lens[i];
    }
    rep = joi_redis_eval(&r->conn, JOI_LUA_STORE_BATCH, JOI_LUA_STORE_BATCH_SHA, (int)argc, sargv,
                         slens, err);
    free(sargv);
    free(slens);
    if (rep == NULL) {
        rc = -1;
    } else if (rep->type == REDIS_REPLY_ARRAY) { /* the token record changed: { record } */
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
    } else {
        rc = rep->integer == 1 ? 0 : 2;
    }
out:
    if (rep)
        freeReplyObject(rep);
    if (head)
        freeReplyObject(head);
    for (int i = 0; i < ncmd; i++)
        if (reps[i])
            freeReplyObject(reps[i]);
    free(reps);
    free(score);
    free(argcs);
    free(argv);
    free(argvs);
    free(days);
    free(starts);
    free(plan.lens);
    joi_buf_free(&plan.args);
    joi_buf_free(&newhead);
    joi_readings_free(&rd);
    return rc;
}

static int redis_readings_put(struct joi_store *s, const char *meter,
                              const struct joi_reading *batch, size_t nbatch, const char *token,
                              char *current, size_t currentlen, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    if (layout_check(r, err) != 0)
        return -1;
    if (nbatch == 0)
        return 0;
    struct joi_readings sorted; /* the last one sent of a time wins */
    joi_readings_init(&sorted);
    for (size_t i = 0; i < nbatch; i++)
        joi_readings_push(&sorted, batch[i].time, batch[i].kw);
    joi_readings_sort_unique(&sorted);
    int rc = 2;
    for (int attempt = 0; attempt < PUT_ATTEMPTS && rc == 2; attempt++)
        rc = put_attempt(r, meter, &sorted, token, current, currentlen, err);
    joi_readings_free(&sorted);
    if (rc == 2)
        return joi_error_set(err, 503,
                             "other batches for this meter kept arriving while this "
                             "one was stored; nothing of it was stored, try again");
    return rc;
}

/* ---- reading: the chunks of a range and the head, as one sequence ---- */

/* A meter's readings over [from, to] as the store holds them: the chunks whose day
 * can hold readings of the range, ascending, and the head's readings. */
struct view {
    redisReply *chunks; /* array of chunk members, ascending by day */
    redisReply *head;   /* the head string (or nil) */
    struct joi_chunk_info *info;
    size_t n;
    struct joi_layout_head_entry *h; /* the head's readings, ascending */
    size_t nh;
};

static void view_free(struct view *v)
{
    if (v->chunks)
        freeReplyObject(v->chunks);
    if (v->head)
        freeReplyObject(v->head);
    free(v->info);
    free(v->h);
    memset(v, 0, sizeof *v);
}

static int malformed(struct joi_error *err)
{
    return joi_error_set(err, 500, "the store holds a malformed reading");
}

/* Checks the chunks' headers and the head, and that they ascend without overlap. */
static int view_check(struct view *v, struct joi_error *err)
{
    if (v->chunks->type != REDIS_REPLY_ARRAY ||
        (v->head->type != REDIS_REPLY_STRING && v->head->type != REDIS_REPLY_NIL))
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    v->n = v->chunks->elements;
    v->info = joi_mem_alloc((v->n + 1) * sizeof *v->info);
    int64_t prev = -1;
    for (size_t i = 0; i < v->n; i++) {
        const redisReply *e = v->chunks->element[i];
        if (e->type != REDIS_REPLY_STRING ||
            joi_chunk_peek((const unsigned char *)e->str, e->len, &v->info[i], err) != 0 ||
            v->info[i].first <= prev ||
            joi_layout_day(v->info[i].first) != joi_layout_day(v->info[i].last))
            return malformed(err);
        prev = v->info[i].last;
    }
    if (v->head->type == REDIS_REPLY_STRING) {
        int64_t day;
        if (joi_layout_head_parse(v->head->str, v->head->len, &day, &v->h, &v->nh, err) != 0)
            return -1;
        if (v->nh > 0 && v->h[0].time <= prev)
            return malformed(err);
    }
    return 0;
}

/* Reads the view of [from, to] (from <= to). */
static int view_read(struct redis_store *r, const char *meter, int64_t from, int64_t to,
                     struct view *v, struct joi_error *err)
{
    memset(v, 0, sizeof *v);
    if (layout_check(r, err) != 0)
        return -1;
    char key[JOI_LAYOUT_KEY_MAX], hkey[JOI_LAYOUT_KEY_MAX], lo[24], hi[24];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(hkey, meter, JOI_LAYOUT_HEAD);
    digits_z((long long)(joi_layout_day(from < 0 ? 0 : from) * JOI_LAYOUT_DAY_SECONDS), lo);
    digits_z((long long)to, hi);
    const char *c0[] = {"ZRANGEBYSCORE", key, lo, hi};
    const char *c1[] = {"GET", hkey};
    const char **const argvs[] = {c0, c1};
    const int argcs[] = {4, 2};
    redisReply *reps[2];
    if (joi_redis_pipeline(&r->conn, 2, argvs, argcs, reps, err) != 0)
        return -1;
    v->chunks = reps[0];
    v->head = reps[1];
    if (view_check(v, err) != 0) {
        view_free(v);
        return -1;
    }
    return 0;
}

/* Where a walk over a view hands readings: parsed into out, or text to fn. */
struct walk {
    int64_t from, to;
    size_t skip, take; /* in-range readings to pass over, then to hand over */
    struct joi_readings *out;
    joi_store_reading_fn fn;
    void *arg;
    size_t given;
    struct joi_readings tmp;
};

/* Counts the readings of chunk i in [from, to]. */
static int count_fn(void *arg, int64_t time, const char *text, size_t len)
{
    (void)text;
    (void)len;
    struct walk *w = arg;
    if (time >= w->from && time <= w->to)
        w->given++;
    return time > w->to;
}

/* joi_chunk_each's fn for a text walk. */
static int text_fn(void *arg, int64_t time, const char *text, size_t len)
{
    struct walk *w = arg;
    if (time < w->from)
        return 0;
    if (time > w->to || w->given == w->take)
        return 1;
    if (w->skip > 0) {
        w->skip--;
        return 0;
    }
    w->fn(w->arg, time, text, len);
    w->given++;
    return 0;
}

/* Hands the view's readings in [from, to] to w: the newest `limit` (limit > 0), or
 * the oldest JOI_READINGS_MAX + 1. */
static int view_walk(struct view *v, size_t limit, struct walk *w, struct joi_error *err)
{
    size_t total = 0;
    size_t *counts = joi_mem_alloc((v->n + 1) * sizeof *counts);
    int rc = 0;
    if (limit > 0) {
        for (size_t i = 0; i < v->n; i++) {
            const redisReply *e = v->chunks->element[i];
            if (v->info[i].first >= w->from && v->info[i].last <= w->to) {
                counts[i] = v->info[i].count;
            } else if (v->info[i].last < w->from || v->info[i].first > w->to) {
                counts[i] = 0;
            } else {
                w->given = 0;
                if (joi_chunk_each((const unsigned char *)e->str, e->len, count_fn, w, err) < 0) {
                    free(counts);
                    return malformed(err);
                }
                counts[i] = w->given;
            }
            total += counts[i];
        }
        for (size_t i = 0; i < v->nh; i++)
            total += v->h[i].time >= w->from && v->h[i].time <= w->to;
        w->take = total < limit ? total : limit;
        w->skip = total - w->take;
    } else {
        w->take = (size_t)JOI_READINGS_MAX + 1;
        w->skip = 0;
    }
    w->given = 0;
    for (size_t i = 0; i < v->n && w->given < w->take && rc == 0; i++) {
        if (v->info[i].last < w->from || v->info[i].first > w->to)
            continue;
        if (limit > 0 && w->skip >= counts[i]) {
            w->skip -= counts[i];
            continue;
        }
        const redisReply *e = v->chunks->element[i];
        if (w->fn) {
            if (joi_chunk_each((const unsigned char *)e->str, e->len, text_fn, w, err) < 0)
                rc = -1;
            continue;
        }
        w->tmp.n = 0;
        if (joi_chunk_decode((const unsigned char *)e->str, e->len, &w->tmp, err) != 0) {
            rc = -1;
            break;
        }
        for (size_t j = 0; j < w->tmp.n && w->given < w->take; j++) {
            const struct joi_reading *x = &w->tmp.items[j];
            if (x->time < w->from || x->time > w->to)
                continue;
            if (w->skip > 0) {
                w->skip--;
                continue;
            }
            joi_readings_push(w->out, x->time, x->kw);
            w->given++;
        }
    }
    for (size_t i = 0; i < v->nh && w->given < w->take && rc == 0; i++) {
        const struct joi_layout_head_entry *x = &v->h[i];
        if (x->time < w->from || x->time > w->to)
            continue;
        if (w->skip > 0) {
            w->skip--;
            continue;
        }
        if (w->fn) {
            w->fn(w->arg, x->time, x->text, x->len);
        } else {
            double kw;
            if (joi_num_parse(x->text, x->len, &kw) != 0) {
                rc = malformed(err);
                break;
            }
            joi_readings_push(w->out, x->time, kw);
        }
        w->given++;
    }
    free(counts);
    return rc != 0 ? malformed(err) : 0;
}

static int redis_readings_get(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                              size_t limit, struct joi_readings *out, struct joi_error *err)
{
    if (from > to)
        return 0;
    struct view v;
    if (view_read((struct redis_store *)s, meter, from, to, &v, err) != 0)
        return -1;
    struct walk w;
    memset(&w, 0, sizeof w);
    w.from = from;
    w.to = to;
    w.out = out;
    joi_readings_init(&w.tmp);
    size_t start = out->n;
    int rc = view_walk(&v, limit, &w, err);
    if (rc != 0)
        out->n = start;
    joi_readings_free(&w.tmp);
    view_free(&v);
    return rc;
}

static int redis_readings_each(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                               size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                               struct joi_error *err)
{
    *count = 0;
    if (from > to)
        return 0;
    struct view v;
    if (view_read((struct redis_store *)s, meter, from, to, &v, err) != 0)
        return -1;
    struct walk w;
    memset(&w, 0, sizeof w);
    w.from = from;
    w.to = to;
    w.fn = fn;
    w.arg = arg;
    int rc = view_walk(&v, limit, &w, err);
    *count = w.given;
    view_free(&v);
    return rc;
}

/* The day records (HGETALL) decoded into days, ascending. */
static int cmp_day(const void *a, const void *b)
{
    int64_t x = ((const struct joi_summary_day *)a)->day,
            y = ((const struct joi_summary_day *)b)->day;
    return x < y ? -1 : (x > y);
}

static void days_free(struct joi_summary_day *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        joi_summary_day_free(&d[i]);
    free(d);
}

/* Fills the buckets of the days whose records left them out, from their chunks. */
static int days_fill(struct redis_store *r, const char *meter, struct joi_summary_day *d, size_t n,
                     struct joi_error *err)
{
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += !d[i].has_buckets;
    if (need == 0)
        return 0;
    /* The chunks of runs of consecutive days, a command per run. */
    char key[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    const char ***argvs = joi_mem_alloc(need * sizeof *argvs);
    const char **argv = joi_mem_alloc(4 * need * sizeof *argv);
    int *argcs = joi_mem_alloc(need * sizeof *argcs);
    char(*num)[2][24] = joi_mem_alloc(need * sizeof *num);
    size_t *run = joi_mem_alloc(need * sizeof *run); /* the first day index of each run */
    int ncmd = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i].has_buckets)
            continue;
        size_t j = i;
        while (j + 1 < n && !d[j + 1].has_buckets && d[j + 1].day == d[j].day + 1)
            j++;
        digits_z((long long)(d[i].day * JOI_LAYOUT_DAY_SECONDS), num[ncmd][0]);
        digits_z((long long)(d[j].day * JOI_LAYOUT_DAY_SECONDS), num[ncmd][1]);
        const char **a = argv + 4 * ncmd;
        a[0] = "ZRANGEBYSCORE";
        a[1] = key;
        a[2] = num[ncmd][0];
        a[3] = num[ncmd][1];
        argvs[ncmd] = a;
        argcs[ncmd] = 4;
        run[ncmd++] = i;
        i = j;
    }
    redisReply **reps = joi_mem_alloc((size_t)ncmd * sizeof *reps);
    int rc = joi_redis_pipeline(&r->conn, ncmd, (const char **const *)argvs, argcs, reps, err);
    int got = rc == 0;
    struct joi_readings rd;
    joi_readings_init(&rd);
    for (int c = 0; c < ncmd && rc == 0; c++) {
        const redisReply *rep = reps[c];
        if (rep->type != REDIS_REPLY_ARRAY) {
            rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
            break;
        }
        size_t i = run[c];
        for (size_t k = 0; k < rep->elements; k++, i++) {
            const redisReply *e = rep->element[k];
            rd.n = 0;
            if (i >= n || d[i].has_buckets || e->type != REDIS_REPLY_STRING ||
                joi_chunk_decode((const unsigned char *)e->str, e->len, &rd, err) != 0 ||
                rd.n != (size_t)d[i].count || rd.items[0].time != d[i].first ||
                rd.items[rd.n - 1].time != d[i].last) {
                rc = malformed(err);
                break;
            }
            joi_summary_day_free(&d[i]);
            joi_summary_day_build(rd.items, rd.n, d[i].day, &d[i]);
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!d[i].has_buckets)
            rc = malformed(err); /* a record without its chunk */
    if (got)
        for (int c = 0; c < ncmd; c++)
            freeReplyObject(reps[c]);
    joi_readings_free(&rd);
    free(reps);
    free(run);
    free(num);
    free(argcs);
    free(argv);
    free(argvs);
    return rc;
}

/* Decodes the day records of HGETALL reply rep into *out (ascending), *n. */
static int days_parse(const redisReply *rep, struct joi_summary_day **out, size_t *n,
                      struct joi_error *err)
{
    *out = NULL;
    *n = 0;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2 != 0)
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    size_t nd = rep->elements / 2;
    struct joi_summary_day *d = joi_mem_calloc(nd + 1, sizeof *d);
    for (size_t i = 0; i < nd; i++) {
        const redisReply *f = rep->element[2 * i], *v = rep->element[2 * i + 1];
        char *end;
        long long day = f->type == REDIS_REPLY_STRING ? strtoll(f->str, &end, 10) : -1;
        if (f->type != REDIS_REPLY_STRING || f->len == 0 || *end != '\0' || day < 0 ||
            day > joi_layout_day(JOI_TIME_MAX) || v->type != REDIS_REPLY_STRING ||
            joi_layout_day_decode(day, (const unsigned char *)v->str, v->len, &d[i], err) != 0) {
            days_free(d, i);
            return joi_error_set(err, 500, "the store holds a malformed day record");
        }
    }
    qsort(d, nd, sizeof *d, cmp_day);
    for (size_t i = 1; i < nd; i++)
        if (d[i].day == d[i - 1].day) {
            days_free(d, nd);
            return joi_error_set(err, 500, "the store holds a malformed day record");
        }
    *out = d;
    *n = nd;
    return 0;
}

/* Adds the head (reply h) as one more day at d[*n] (room for it needed). */
static int days_add_head(const redisReply *h, struct joi_summary_day *d, size_t *n,
                         struct joi_error *err)
{
    if (h->type == REDIS_REPLY_NIL)
        return 0;
    if (h->type != REDIS_REPLY_STRING)
        return malformed(err);
    struct joi_readings rd;
    joi_readings_init(&rd);
    int64_t day;
    int rc = head_readings(h->str, h->len, &day, &rd, err);
    if (rc == 0 && rd.n > 0) {
        if (*n > 0 && d[*n - 1].day >= day) {
            rc = malformed(err);
        } else {
            joi_summary_day_build(rd.items, rd.n, day, &d[*n]);
            (*n)++;
        }
    }
    joi_readings_free(&rd);
    return rc;
}

static int redis_summary_get(struct joi_store *s, const char *meter, struct joi_summary *out,
                             long long *config_version, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    joi_summary_init(out);
    if (layout_check(r, err) != 0)
        return -1;
    char ekey[JOI_LAYOUT_KEY_MAX], hkey[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(ekey, meter, JOI_LAYOUT_DAYS);
    joi_layout_key(hkey, meter, JOI_LAYOUT_HEAD);
    const char *c0[] = {"HGETALL", ekey};
    const char *c1[] = {"GET", hkey};
    const char *c2[] = {"GET", JOI_LAYOUT_CONFIG_VERSION};
    const char **const argvs[] = {c0, c1, c2};
    const int argcs[] = {2, 2, 2};
    redisReply *reps[3];
    if (joi_redis_pipeline(&r->conn, 3, argvs, argcs, reps, err) != 0)
        return -1;
    *config_version = reps[2]->type == REDIS_REPLY_STRING ? strtoll(reps[2]->str, NULL, 10) : 0;
    struct joi_summary_day *d = NULL;
    size_t n = 0;
    int rc = days_parse(reps[0], &d, &n, err);
    if (rc == 0) {
        d = joi_mem_realloc(d, (n + 1) * sizeof *d);
        rc = days_fill(r, meter, d, n, err);
    }
    if (rc == 0)
        rc = days_add_head(reps[1], d, &n, err);
    if (rc == 0)
        joi_summary_from_days(d, n, out);
    days_free(d, n);
    for (int i = 0; i < 3; i++)
        freeReplyObject(reps[i]);
    return rc;
}

static int redis_readings_get_ranges(struct joi_store *s, const char *meter, const int64_t *ranges,
                                     size_t n, struct joi_readings *out, struct joi_error *err)
{
    if (n == 0)
        return 0;
    struct redis_store *r = (struct redis_store *)s;
    int64_t lo = ranges[0], hi = ranges[1];
    for (size_t i = 1; i < n; i++) {
        lo = ranges[2 * i] < lo ? ranges[2 * i] : lo;
        hi = ranges[2 * i + 1] > hi ? ranges[2 * i + 1] : hi;
    }
    if (lo > hi)
        return 0;
    /* One view of the whole span: its chunks are each decoded once. */
    struct view v;
    int rc = view_read(r, meter, lo, hi, &v, err);
    if (rc != 0)
        return -1;
    struct joi_readings all;
    joi_readings_init(&all);
    struct walk w;
    memset(&w, 0, sizeof w);
    w.from = lo;
    w.to = hi;
    w.out = &all;
    joi_readings_init(&w.tmp);
    rc = view_walk(&v, 0, &w, err);
    joi_readings_free(&w.tmp);
    view_free(&v);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            int64_t a = ranges[2 * i], b = ranges[2 * i + 1];
            size_t x = 0, y = all.n;
            while (x < y) { /* the first reading at or after a */
                size_t m = x + (y - x) / 2;
                if (all.items[m].time < a)
                    x = m + 1;
                else
                    y = m;
            }
            for (; x < all.n && all.items[x].time <= b; x++)
                joi_readings_push(out, all.items[x].time, all.items[x].kw);
        }
    }
    joi_readings_free(&all);
    return rc;
}

static int redis_readings_count(struct joi_store *s, const char *meter, long long *count,
                                struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    *count = 0;
    if (layout_check(r, err) != 0)
        return -1;
    char ekey[JOI_LAYOUT_KEY_MAX], hkey[JOI_LAYOUT_KEY_MAX];
    joi_layout_key(ekey, meter, JOI_LAYOUT_DAYS);
    joi_layout_key(hkey, meter, JOI_LAYOUT_HEAD);
    const char *c0[] = {"HVALS", ekey};
    const char *c1[] = {"GET", hkey};
    const char **const argvs[] = {c0, c1};
    const int argcs[] = {2, 2};
    redisReply *reps[2];
    if (joi_redis_pipeline(&r->conn, 2, argvs, argcs, reps, err) != 0)
        return -1;
    int rc = 0;
    if (reps[0]->type != REDIS_REPLY_ARRAY) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    } else {
        for (size_t i = 0; i < reps[0]->elements && rc == 0; i++) {
            const redisReply *e = reps[0]->element[i];
            long long c = e->type == REDIS_REPLY_STRING
                              ? joi_layout_day_count((const unsigned char *)e->str, e->len)
                              : -1;
            if (c < 0)
                rc = joi_error_set(err, 500, "the store holds a malformed day record");
            else
                *count += c;
        }
    }
    if (rc == 0 && reps[1]->type != REDIS_REPLY_NIL) {
        int64_t day;
        struct joi_layout_head_entry *e = NULL;
        size_t nh = 0;
        if (reps[1]->type != REDIS_REPLY_STRING)
            rc = malformed(err);
        else if ((rc = joi_layout_head_parse(reps[1]->str, reps[1]->len, &day, &e, &nh, err)) == 0)
            *count += (long long)nh;
        free(e);
    }
    for (int i = 0; i < 2; i++)
        freeReplyObject(reps[i]);
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
