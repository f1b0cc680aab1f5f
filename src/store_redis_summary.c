/*
 * store_redis_summary.c -- a meter's pre-aggregates out of the Redis store (see
 * store_redis.c for the layout's rules, joi/store.h for the contract): the day
 * records of its sealed days and its head, put together into one summary, for the
 * whole history (summary_get) or for the readings of a range (summary_range: the
 * records of the whole days inside it, the two edge days decoded and cut to it).
 *
 * Rules: the records and the head are read in one pipeline; a record or head that
 * does not decode is a 500 for that meter only; a day without buckets in its record
 * (a sparse day, where they would cost more than its readings) is rebuilt from its
 * chunk.
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
        joi_store_redis_digits((long long)(d[i].day * JOI_LAYOUT_DAY_SECONDS), num[ncmd][0]);
        joi_store_redis_digits((long long)(d[j].day * JOI_LAYOUT_DAY_SECONDS), num[ncmd][1]);
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
                rc = joi_store_redis_malformed(err);
                break;
            }
            joi_summary_day_free(&d[i]);
            joi_summary_day_build(rd.items, rd.n, d[i].day, &d[i]);
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!d[i].has_buckets)
            rc = joi_store_redis_malformed(err); /* a record without its chunk */
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
        return joi_store_redis_malformed(err);
    struct joi_readings rd;
    joi_readings_init(&rd);
    int64_t day;
    int rc = joi_store_redis_head_readings(h->str, h->len, &day, &rd, err);
    if (rc == 0 && rd.n > 0) {
        if (*n > 0 && d[*n - 1].day >= day) {
            rc = joi_store_redis_malformed(err);
        } else {
            joi_summary_day_build(rd.items, rd.n, day, &d[*n]);
            (*n)++;
        }
    }
    joi_readings_free(&rd);
    return rc;
}

int joi_store_redis_summary_get(struct joi_store *s, const char *meter, struct joi_summary *out,
                                long long *config_version, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    joi_summary_init(out);
    if (joi_store_redis_layout_check(r, err) != 0)
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

/* Appends the day of rd's readings in [from, to] (rd sorted, all in day `day`,
 * else a 500) to d[*n] when there are any. */
static int days_add_part(const struct joi_readings *rd, int64_t day, int64_t from, int64_t to,
                         struct joi_summary_day *d, size_t *n, struct joi_error *err)
{
    if (rd->n > 0 && (joi_layout_day(rd->items[0].time) != day ||
                      joi_layout_day(rd->items[rd->n - 1].time) != day))
        return joi_store_redis_malformed(err);
    *n += (size_t)joi_summary_day_build_range(rd->items, rd->n, day, from, to, &d[*n]);
    return 0;
}

int joi_store_redis_summary_range(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                                  struct joi_summary *out, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    joi_summary_init(out);
    if (from < 0)
        from = 0;
    if (from > to)
        return 0;
    if (joi_store_redis_layout_check(r, err) != 0)
        return -1;
    int64_t d0 = joi_layout_day(from), d1 = joi_layout_day(to);
    char ekey[JOI_LAYOUT_KEY_MAX], rkey[JOI_LAYOUT_KEY_MAX], hkey[JOI_LAYOUT_KEY_MAX], s0[24],
        s1[24];
    joi_layout_key(ekey, meter, JOI_LAYOUT_DAYS);
    joi_layout_key(rkey, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(hkey, meter, JOI_LAYOUT_HEAD);
    joi_store_redis_digits((long long)(d0 * JOI_LAYOUT_DAY_SECONDS), s0);
    joi_store_redis_digits((long long)(d1 * JOI_LAYOUT_DAY_SECONDS), s1);
    /* The records (the whole days inside the range), the edge days' chunks, the head. */
    const char *c0[] = {"HGETALL", ekey};
    const char *c1[] = {"ZRANGEBYSCORE", rkey, s0, s0};
    const char *c2[] = {"ZRANGEBYSCORE", rkey, s1, s1};
    const char *c3[] = {"GET", hkey};
    const char **const argvs[] = {c0, c1, c2, c3};
    const int argcs[] = {2, 4, 4, 2};
    redisReply *reps[4];
    if (joi_redis_pipeline(&r->conn, 4, argvs, argcs, reps, err) != 0)
        return -1;
    struct joi_summary_day *d = NULL;
    size_t n = 0, nall = 0;
    int rc = days_parse(reps[0], &d, &nall, err);
    int64_t newest = nall > 0 ? d[nall - 1].day : -1;
    if (rc == 0) {
        for (size_t i = 0; i < nall; i++) {
            if (d[i].day > d0 && d[i].day < d1)
                d[n++] = d[i];
            else
                joi_summary_day_free(&d[i]);
        }
        d = joi_mem_realloc(d, (n + 3) * sizeof *d);
        rc = days_fill(r, meter, d, n, err);
    }
    struct joi_readings rd;
    joi_readings_init(&rd);
    for (int c = 1; c <= 2 && rc == 0; c++) {
        const redisReply *e;
        if (c == 2 && d1 == d0)
            break;
        if ((rc = joi_store_redis_one_chunk(reps[c], &e, err)) != 0 || e == NULL)
            continue;
        rd.n = 0;
        if (joi_chunk_decode((const unsigned char *)e->str, e->len, &rd, err) != 0) {
            rc = joi_store_redis_malformed(err);
            break;
        }
        rc = days_add_part(&rd, c == 1 ? d0 : d1, from, to, d, &n, err);
    }
    if (rc == 0 && reps[3]->type != REDIS_REPLY_NIL) {
        int64_t day;
        rd.n = 0;
        if (reps[3]->type != REDIS_REPLY_STRING)
            rc = joi_store_redis_malformed(err);
        else if ((rc = joi_store_redis_head_readings(reps[3]->str, reps[3]->len, &day, &rd, err)) ==
                     0 &&
                 rd.n > 0) {
            if (day <= newest)
                rc = joi_store_redis_malformed(err);
            else
                rc = days_add_part(&rd, day, from, to, d, &n, err);
        }
    }
    joi_readings_free(&rd);
    if (rc == 0) {
        qsort(d, n, sizeof *d, cmp_day);
        for (size_t i = 1; i < n && rc == 0; i++)
            if (d[i].day == d[i - 1].day)
                rc = joi_store_redis_malformed(err);
    }
    if (rc == 0)
        joi_summary_from_days(d, n, out);
    days_free(d, n);
    for (int i = 0; i < 4; i++)
        freeReplyObject(reps[i]);
    return rc;
}
