/*
 * store_redis_read.c -- readings and pre-aggregates out of the Redis store (see
 * store_redis.c for the layout's rules, joi/store.h for the contract).
 *
 * Rules: a range is read as one pipeline (the chunks whose day can hold readings
 * of it, and the head); every chunk header is checked before anything of it is
 * used, only the chunks a request needs are decoded, and the JOI_READINGS_MAX + 1
 * bound of joi/store.h holds whatever a meter has stored.
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

int joi_store_redis_malformed(struct joi_error *err)
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
            return joi_store_redis_malformed(err);
        prev = v->info[i].last;
    }
    if (v->head->type == REDIS_REPLY_STRING) {
        int64_t day;
        if (joi_layout_head_parse(v->head->str, v->head->len, &day, &v->h, &v->nh, err) != 0)
            return -1;
        if (v->nh > 0 && v->h[0].time <= prev)
            return joi_store_redis_malformed(err);
    }
    return 0;
}

/* Reads the view of [from, to] (from <= to). */
static int view_read(struct redis_store *r, const char *meter, int64_t from, int64_t to,
                     struct view *v, struct joi_error *err)
{
    memset(v, 0, sizeof *v);
    if (joi_store_redis_layout_check(r, err) != 0)
        return -1;
    char key[JOI_LAYOUT_KEY_MAX], hkey[JOI_LAYOUT_KEY_MAX], lo[24], hi[24];
    joi_layout_key(key, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(hkey, meter, JOI_LAYOUT_HEAD);
    joi_store_redis_digits(
        (long long)(joi_layout_day(from < 0 ? 0 : from) * JOI_LAYOUT_DAY_SECONDS), lo);
    joi_store_redis_digits((long long)to, hi);
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
                    return joi_store_redis_malformed(err);
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
                rc = joi_store_redis_malformed(err);
                break;
            }
            joi_readings_push(w->out, x->time, kw);
        }
        w->given++;
    }
    free(counts);
    return rc != 0 ? joi_store_redis_malformed(err) : 0;
}

/* Reads meter's view of [from, to] and walks it with w (from, to and its output
 * set here and by the caller).  Returns view_walk's result; nothing for from > to. */
static int walk_range(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                      size_t limit, struct walk *w, struct joi_error *err)
{
    if (from > to)
        return 0;
    struct view v;
    if (view_read((struct redis_store *)s, meter, from, to, &v, err) != 0)
        return -1;
    w->from = from;
    w->to = to;
    int rc = view_walk(&v, limit, w, err);
    view_free(&v);
    return rc;
}

int joi_store_redis_readings_get(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                                 size_t limit, struct joi_readings *out, struct joi_error *err)
{
    struct walk w;
    memset(&w, 0, sizeof w);
    w.out = out;
    joi_readings_init(&w.tmp);
    size_t start = out->n;
    int rc = walk_range(s, meter, from, to, limit, &w, err);
    if (rc != 0)
        out->n = start;
    joi_readings_free(&w.tmp);
    return rc;
}

int joi_store_redis_readings_each(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                                  size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                                  struct joi_error *err)
{
    struct walk w;
    memset(&w, 0, sizeof w);
    w.fn = fn;
    w.arg = arg;
    int rc = walk_range(s, meter, from, to, limit, &w, err);
    *count = w.given;
    return rc;
}

int joi_store_redis_readings_get_ranges(struct joi_store *s, const char *meter,
                                        const int64_t *ranges, size_t n, struct joi_readings *out,
                                        struct joi_error *err)
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

int joi_store_redis_readings_count(struct joi_store *s, const char *meter, long long *count,
                                   struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    *count = 0;
    if (joi_store_redis_layout_check(r, err) != 0)
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
            rc = joi_store_redis_malformed(err);
        else if ((rc = joi_layout_head_parse(reps[1]->str, reps[1]->len, &day, &e, &nh, err)) == 0)
            *count += (long long)nh;
        free(e);
    }
    for (int i = 0; i < 2; i++)
        freeReplyObject(reps[i]);
    return rc;
}
