/*
 * migrate.c -- joi-admin migrate: a store from layout 1 to layout 2 (see
 * joi/migrate.h for what it does and why a crash leaves every meter whole).
 *
 * Memory is bounded by a page of members (JOI_MIGRATE_PAGE readings), one day of
 * readings and the days waiting for the replacing script (at most
 * JOI_MIGRATE_SCRIPT_DAYS days or JOI_MIGRATE_SCRIPT_BYTES bytes), however many
 * readings a meter has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/layout.h"
#include "joi/migrate.h"
#include "joi/num.h"
#include "joi/readings.h"
#include "joi/redis_conn.h"
#include "joi/store_redis_internal.h"
#include "scripts.h"

/* A meter being converted: its keys, and its new days not yet written (four
 * arguments a day: score, chunk, field, record). */
struct job {
    struct joi_redis *conn;
    char r[JOI_LAYOUT_KEY_MAX], e[JOI_LAYOUT_KEY_MAX], l[JOI_LAYOUT_KEY_MAX], h[JOI_LAYOUT_KEY_MAX],
        tr[JOI_LAYOUT_KEY_MAX], te[JOI_LAYOUT_KEY_MAX];
    struct joi_buf bytes; /* the pending arguments, one after the other */
    size_t *lens;
    size_t nargs, cap, ndays;
    int temp;       /* 1 once days were written to the temporary keys */
    long long days; /* days of the meter built so far */
    struct joi_buf chunk, rec;
};

static void job_arg(struct job *j, const void *data, size_t len)
{
    if (j->nargs == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 64;
        j->lens = joi_mem_realloc(j->lens, j->cap * sizeof *j->lens);
    }
    joi_buf_append(&j->bytes, data, len);
    j->lens[j->nargs++] = len;
}

/* The pending days as arguments: args[k], lens[k] for k < nargs. */
static const char **job_args(const struct job *j)
{
    const char **a = joi_mem_alloc((j->nargs + 1) * sizeof *a);
    const char *at = j->bytes.data;
    for (size_t k = 0; k < j->nargs; k++) {
        a[k] = at;
        at += j->lens[k];
    }
    return a;
}

/* Writes the pending days to the temporary keys (ZADD :mig-r, HSET :mig-e). */
static int flush_temp(struct job *j, struct joi_error *err)
{
    const char **a = job_args(j);
    size_t n = 2 + 2 * j->ndays;
    const char **za = joi_mem_alloc(n * sizeof *za), **ha = joi_mem_alloc(n * sizeof *ha);
    size_t *zl = joi_mem_alloc(n * sizeof *zl), *hl = joi_mem_alloc(n * sizeof *hl);
    za[0] = "ZADD";
    za[1] = j->tr;
    ha[0] = "HSET";
    ha[1] = j->te;
    zl[0] = hl[0] = 4;
    zl[1] = strlen(j->tr);
    hl[1] = strlen(j->te);
    for (size_t k = 0; k < j->ndays; k++) {
        for (size_t i = 0; i < 2; i++) {
            za[2 + 2 * k + i] = a[4 * k + i];
            zl[2 + 2 * k + i] = j->lens[4 * k + i];
            ha[2 + 2 * k + i] = a[4 * k + 2 + i];
            hl[2 + 2 * k + i] = j->lens[4 * k + 2 + i];
        }
    }
    int rc = -1;
    redisReply *rep = joi_redis_run(j->conn, (int)n, za, zl, err);
    if (rep) {
        freeReplyObject(rep);
        rep = joi_redis_run(j->conn, (int)n, ha, hl, err);
        if (rep) {
            freeReplyObject(rep);
            rc = 0;
        }
    }
    free(a);
    free(za);
    free(ha);
    free(zl);
    free(hl);
    joi_buf_reset(&j->bytes);
    j->nargs = j->ndays = 0;
    j->temp = 1;
    return rc;
}

/* Day `day`'s readings rd (ascending by time; made distinct here) become a sealed
 * day of the plan, written to the temporary keys once the plan is full. */
static int job_day(struct job *j, int64_t day, struct joi_readings *rd, struct joi_error *err)
{
    joi_readings_sort_unique(rd);
    joi_buf_reset(&j->chunk);
    joi_buf_reset(&j->rec);
    if (joi_layout_day_build(rd->items, rd->n, day, &j->chunk, &j->rec, err) != 0)
        return -1;
    char t[24];
    job_arg(j, t, joi_num_int((long long)(day * JOI_LAYOUT_DAY_SECONDS), t));
    job_arg(j, j->chunk.data, j->chunk.len);
    job_arg(j, t, joi_num_int((long long)day, t));
    job_arg(j, j->rec.data, j->rec.len);
    j->ndays++;
    j->days++;
    if (j->ndays >= JOI_MIGRATE_SCRIPT_DAYS || j->bytes.len >= JOI_MIGRATE_SCRIPT_BYTES)
        return flush_temp(j, err);
    return 0;
}

/* The replacing script: the meter's :r must still be count members from first to
 * last.  Returns its answer (1, 0, -1), or -2 with err set. */
static int job_swap(struct job *j, long long count, const redisReply *first, const redisReply *last,
                    const struct joi_buf *head, struct joi_error *err)
{
    size_t fixed = 2 + 1 + 6 + 5, argc = fixed + j->nargs;
    const char **argv = joi_mem_alloc(argc * sizeof *argv);
    size_t *lens = joi_mem_alloc(argc * sizeof *lens);
    char nc[24];
    const char *fx[] = {"6",
                        j->r,
                        j->e,
                        j->l,
                        j->h,
                        j->tr,
                        j->te,
                        joi_store_redis_digits(count, nc),
                        first->str,
                        last->str,
                        j->temp ? "T" : "",
                        head->data};
    size_t fl[] = {1, 0, 0, 0, 0, 0, 0, 0, first->len, last->len, j->temp ? 1 : 0, head->len};
    for (size_t i = 0; i < 12; i++) {
        argv[2 + i] = fx[i];
        lens[2 + i] = i >= 1 && i <= 7 ? strlen(fx[i]) : fl[i];
    }
    const char **a = job_args(j);
    for (size_t k = 0; k < j->nargs; k++) {
        argv[fixed + k] = a[k];
        lens[fixed + k] = j->lens[k];
    }
    free(a);
    redisReply *rep = joi_redis_eval(j->conn, JOI_LUA_MIGRATE_METER, JOI_LUA_MIGRATE_METER_SHA,
                                     (int)argc, argv, lens, err);
    free(argv);
    free(lens);
    if (rep == NULL)
        return -2;
    int rc;
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer >= -1 && rep->integer <= 1)
        rc = (int)rep->integer;
    else
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply") - 1;
    freeReplyObject(rep);
    return rc;
}

/* Converts one meter on conn.  Returns 1 converted, 0 skipped (already layout 2, or
 * gone), -1 with err set (the meter is left as it was). */
static int migrate_meter(struct joi_redis *conn, const char *meter, long long page, FILE *out,
                         struct joi_migrate_totals *totals, struct joi_error *err)
{
    struct job j;
    memset(&j, 0, sizeof j);
    j.conn = conn;
    joi_layout_key(j.r, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(j.e, meter, JOI_LAYOUT_DAYS);
    joi_layout_key(j.l, meter, JOI_LAYOUT_LONGS);
    joi_layout_key(j.h, meter, JOI_LAYOUT_HEAD);
    joi_layout_key(j.tr, meter, JOI_MIGRATE_TEMP_R);
    joi_layout_key(j.te, meter, JOI_MIGRATE_TEMP_E);
    joi_buf_init(&j.bytes);
    joi_buf_init(&j.chunk);
    joi_buf_init(&j.rec);
    const char *a0[] = {"ZCARD", j.r}, *a1[] = {"ZRANGE", j.r, "0", "0"},
               *a2[] = {"ZRANGE", j.r, "-1", "-1"}, *a3[] = {"DEL", j.tr, j.te};
    const char **argvs[] = {a0, a1, a2};
    const int argcs[] = {2, 4, 4};
    redisReply *reps[3] = {NULL, NULL, NULL};
    struct joi_readings pg, day;
    joi_readings_init(&pg);
    joi_readings_init(&day);
    struct joi_buf head;
    joi_buf_init(&head);
    int rc = joi_redis_pipeline(conn, 3, (const char **const *)argvs, argcs, reps, err);
    if (rc != 0)
        goto out;
    if (reps[0]->type != REDIS_REPLY_INTEGER || reps[1]->type != REDIS_REPLY_ARRAY ||
        reps[2]->type != REDIS_REPLY_ARRAY) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
        goto out;
    }
    long long count = reps[0]->integer;
    if (count == 0 || reps[1]->elements != 1 || reps[2]->elements != 1) {
        fprintf(out, "%s: no readings (erased meanwhile); skipped\n", meter);
        totals->skipped++;
        goto out; /* rc 0 */
    }
    const redisReply *first = reps[1]->element[0], *last = reps[2]->element[0];
    if (first->type != REDIS_REPLY_STRING || last->type != REDIS_REPLY_STRING) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
        goto out;
    }
    if (first->len > 0 && (unsigned char)first->str[0] == 0x01) {
        fprintf(out, "%s: already layout 2; skipped\n", meter);
        totals->skipped++;
        goto out;
    }
    if (first->len == 0 || first->str[0] < '0' || first->str[0] > '9') {
        rc = joi_error_set(err, 500, "its readings are neither layout 1's nor layout 2's");
        goto out;
    }
    if (joi_redis_do_str(conn, 3, a3, err) != 0) { /* what a crashed run left */
        rc = -1;
        goto out;
    }
    int64_t cur = -1, prev = -1;
    long long seen = 0;
    while (seen < count && rc == 0) {
        pg.n = 0;
        if (joi_store_redis_members_range(conn, j.r, seen, seen + page - 1, &pg, err) != 0) {
            rc = -1;
            break;
        }
        if (pg.n == 0)
            break;
        for (size_t i = 0; i < pg.n && rc == 0; i++) {
            int64_t t = pg.items[i].time, d = joi_layout_day(t);
            if (t < prev) {
                rc = joi_error_set(err, 500, "its readings changed while they were read");
                break;
            }
            prev = t;
            if (d != cur && day.n > 0) {
                rc = job_day(&j, cur, &day, err);
                day.n = 0;
            }
            cur = d;
            joi_readings_push(&day, t, pg.items[i].kw);
        }
        seen += (long long)pg.n;
    }
    if (rc == 0 && (seen != count || day.n == 0))
        rc = joi_error_set(err, 500, "its readings changed while they were read");
    if (rc != 0)
        goto out;
    joi_readings_sort_unique(&day);
    joi_layout_head_header(&head, cur);
    for (size_t i = 0; i < day.n; i++)
        joi_layout_head_record(&head, day.items[i].time, day.items[i].kw);
    long long days = j.days + 1;
    int sw = job_swap(&j, count, first, last, &head, err);
    if (sw == 1) {
        fprintf(out, "%s: %lld readings in %lld days converted to layout 2\n", meter, count, days);
        totals->converted++;
        totals->readings += count;
        totals->days += days;
        fflush(out);
        rc = 1;
    } else if (sw == 0) {
        rc = joi_error_set(err, 500, "its readings changed while they were converted; run again");
    } else if (sw == -1) {
        rc = joi_error_set(err, 500,
                           "its temporary keys vanished while it was converted; run again");
    } else {
        rc = -1;
    }
out:
    if (rc < 0 && j.temp) {
        struct joi_error ignored;
        joi_redis_do_str(conn, 3, a3, &ignored);
    }
    for (int i = 0; i < 3; i++)
        if (reps[i])
            freeReplyObject(reps[i]);
    joi_readings_free(&pg);
    joi_readings_free(&day);
    joi_buf_free(&head);
    joi_buf_free(&j.bytes);
    joi_buf_free(&j.chunk);
    joi_buf_free(&j.rec);
    free(j.lens);
    return rc;
}

/* Every joi:{METER}:r on conn, converted.  A meter that fails is counted and
 * reported; returns -1 only when the server fails (err set). */
static int migrate_server(struct joi_redis *conn, long long page, FILE *out,
                          struct joi_migrate_totals *totals, struct joi_error *err)
{
    char cursor[32] = "0", pattern[16];
    snprintf(pattern, sizeof pattern, "joi:{*}:%s", JOI_LAYOUT_READINGS);
    do {
        redisReply *rep;
        const redisReply *keys = joi_redis_scan(conn, cursor, pattern, &rep, err);
        if (keys == NULL)
            return -1;
        size_t n = keys->elements;
        char(*meters)[JOI_METER_MAX + 1] = joi_mem_alloc((n + 1) * sizeof *meters);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const redisReply *key = keys->element[i];
            const char *suffix;
            if (key->type == REDIS_REPLY_STRING &&
                joi_layout_key_split(key->str, key->len, meters[k], &suffix) == 0 &&
                strcmp(suffix, JOI_LAYOUT_READINGS) == 0)
                k++;
        }
        freeReplyObject(rep);
        int rc = 0;
        for (size_t i = 0; i < k && rc == 0; i++) {
            struct joi_error merr;
            joi_error_clear(&merr);
            if (migrate_meter(conn, meters[i], page, out, totals, &merr) >= 0)
                continue;
            totals->failed++;
            fprintf(out, "%s: FAILED, left in layout 1: %s\n", meters[i], merr.detail);
            fflush(out);
            if (merr.status == 503) { /* the server, not the meter: stop here */
                *err = merr;
                rc = -1;
            }
        }
        free(meters);
        if (rc != 0)
            return -1;
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

int joi_migrate_run(const char *addr, int nshards, char **shards, long long page, FILE *out,
                    struct joi_migrate_totals *totals, struct joi_error *err)
{
    memset(totals, 0, sizeof *totals);
    if (page < 1)
        page = JOI_MIGRATE_PAGE;
    struct joi_redis store;
    if (addr == NULL || joi_redis_init(&store, addr, 5000) != 0)
        return joi_error_set(err, 2, "JOI_REDIS must be unix:/path or host:port");
    const char *mget[] = {"MGET", JOI_LAYOUT_VERSION_KEY, JOI_LAYOUT_CONFIG_DOC};
    redisReply *rep = joi_redis_run_str(&store, 3, mget, err);
    int rc = 0;
    if (rep == NULL) {
        rc = -1;
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    } else if (rep->element[0]->type == REDIS_REPLY_STRING) {
        if (strcmp(rep->element[0]->str, JOI_LAYOUT_VERSION) == 0) {
            fprintf(out, "the store's layout is version %s: nothing to migrate\n",
                    JOI_LAYOUT_VERSION);
            rc = 1;
        } else {
            rc = joi_error_set(err, 500,
                               "the store's layout is version %.20s; this joi-admin converts "
                               "version 1 to %s only",
                               rep->element[0]->str, JOI_LAYOUT_VERSION);
        }
    } else if (rep->element[1]->type != REDIS_REPLY_STRING) {
        fprintf(out,
                "a fresh store (no plans, no layout version): nothing to migrate; loading "
                "its plans makes it layout %s\n",
                JOI_LAYOUT_VERSION);
        rc = 1;
    }
    if (rep)
        freeReplyObject(rep);
    if (rc != 0) {
        joi_redis_close(&store);
        return rc > 0 ? 0 : -1;
    }
    if (nshards == 0) {
        if (migrate_server(&store, page, out, totals, err) != 0) {
            char why[sizeof err->detail];
            snprintf(why, sizeof why, "%s", err->detail);
            joi_error_set(err, err->status,
                          "%.180s (behind a sharding proxy, name each shard "
                          "with --shard ADDR)",
                          why);
            rc = -1;
        }
    }
    for (int i = 0; i < nshards && rc == 0; i++) {
        struct joi_redis shard;
        if (joi_redis_init(&shard, shards[i], 5000) != 0) {
            rc = joi_error_set(err, 2, "--shard %.100s must be unix:/path or host:port", shards[i]);
            break;
        }
        if (migrate_server(&shard, page, out, totals, err) != 0) {
            char why[sizeof err->detail];
            snprintf(why, sizeof why, "%s", err->detail);
            rc = joi_error_set(err, err->status, "shard %.60s: %.180s", shards[i], why);
        }
        joi_redis_close(&shard);
    }
    int done = rc == 0 && totals->failed == 0;
    if (done) {
        const char *set[] = {"SET", JOI_LAYOUT_VERSION_KEY, JOI_LAYOUT_VERSION};
        if (joi_redis_do_str(&store, 3, set, err) != 0) {
            rc = -1;
            done = 0;
        }
    }
    fprintf(out,
            "%lld meters converted (%lld readings, %lld days), %lld skipped, %lld failed; %s\n",
            totals->converted, totals->readings, totals->days, totals->skipped, totals->failed,
            done ? "the store's layout is now version 2"
                 : "the store's layout is left at version 1 (the service refuses it): run "
                   "joi-admin migrate again");
    if (rc == 0 && !done)
        rc = joi_error_set(err, 500, "%lld meters could not be converted", totals->failed);
    joi_redis_close(&store);
    return rc;
}
