/*
 * store_redis_write.c -- a batch of readings into the Redis store (see
 * store_redis.c for the layout's rules, joi/store.h for the contract).
 *
 * Rules: the worker reads what the batch touches (the head's header, each day's
 * chunk), merges and encodes in C, and hands redis/store_batch.lua the bytes with
 * what it read; the script writes only if that is still what the store holds.  A
 * lost race is tried again after a random pause that doubles each time (so that
 * writers of one meter that keep meeting fall out of step), at most PUT_ATTEMPTS
 * times and for at most PUT_BUDGET_MS, then answered 503.  A batch that lost a
 * race takes the meter's turn (the turn marker, JOI_LAYOUT_TURN): the other
 * writers of the meter wait while it reads again and stores.  Without it a seal
 * could be starved by a steady stream of appends (an append checks only the
 * head's header, so it wins every race with a seal), and a writer that backed off
 * by fresh writers that have not.
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

/* A batch is tried again after a compare and swap that failed (another writer of
 * the meter came between the read and the script) at most PUT_ATTEMPTS times
 * (waits for another batch's turn, which do no work, are not counted) and while
 * less than PUT_BUDGET_MS have passed since it began, before the store answers
 * 503.  Its k-th pause is a random time below min(PUT_PAUSE_US << k,
 * PUT_PAUSE_MAX_US); a batch that took the turn reads again without one. */
#define PUT_ATTEMPTS 64
#define PUT_BUDGET_MS 2000
#define PUT_PAUSE_US 250
#define PUT_PAUSE_MAX_US 16000
/* The turn marker's life: how long the other writers of a meter wait at most for
 * a batch that took the turn and then did not come back (its worker died or
 * stalled).  Longer than a try of the largest batch (a day of second readings),
 * so that the marker is still there when the batch, read again, comes back; it
 * deletes the marker when stored. */
#define PUT_TURN_MS 1000
#define PUT_STR_(x) #x
#define PUT_STR(x) PUT_STR_(x)

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
    if (joi_layout_day_build(rd->items, rd->n, d, &chunk, &rec, err) != 0) {
        joi_buf_free(&chunk);
        joi_buf_free(&rec);
        return -1;
    }
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

/* The keys a batch of one meter touches. */
struct put_keys {
    char readings[JOI_LAYOUT_KEY_MAX], days[JOI_LAYOUT_KEY_MAX], head[JOI_LAYOUT_KEY_MAX],
        token[JOI_LAYOUT_KEY_MAX], turn[JOI_LAYOUT_KEY_MAX];
};

static void put_keys_init(struct put_keys *k, const char *meter)
{
    joi_layout_key(k->readings, meter, JOI_LAYOUT_READINGS);
    joi_layout_key(k->days, meter, JOI_LAYOUT_DAYS);
    joi_layout_key(k->head, meter, JOI_LAYOUT_HEAD);
    joi_layout_key(k->token, meter, JOI_LAYOUT_TOKEN);
    joi_layout_key(k->turn, meter, JOI_LAYOUT_TURN);
}

/* Runs redis/store_batch.lua with what an attempt prepared: the head's expected
 * bytes and operation, the new head bytes (or records to append) and the plan's
 * days, for the batch with id `id` (distinct per batch), which takes the meter's
 * turn if it lost and `claim` is set.  Returns 0 stored, 1 the token record changed (copied to
 * current), 2 the store no longer holds what was expected (or another batch has the turn), 3 the
 * same, the batch having taken the turn, -1. */
static int put_script(struct redis_store *r, const struct put_keys *keys, const char *token,
                      const char *id, int claim, const char *expect, size_t expect_len,
                      const char *hop, const struct joi_buf *head, const struct put_plan *plan,
                      char *current, size_t currentlen, struct joi_error *err)
{
    /* EVALSHA sha 5 keys, token, expect, hop, head bytes, ndays, days..., turn life,
     * id, claim */
    size_t fixed = 2 + 1 + 5 + 5, argc = fixed + plan->nargs + 3;
    const char **sargv = joi_mem_alloc(argc * sizeof *sargv);
    size_t *slens = joi_mem_alloc(argc * sizeof *slens);
    char nd[24];
    joi_store_redis_digits((long long)plan->ndays, nd);
    const char *fx[] = {
        "5",        keys->readings, keys->days, keys->head, keys->token,
        keys->turn, token,          expect,     hop,        head->data ? head->data : "",
        nd};
    for (size_t i = 0; i < 11; i++) {
        sargv[2 + i] = fx[i];
        slens[2 + i] = i == 9 ? head->len : i == 7 ? expect_len : strlen(fx[i]);
    }
    const char *at = plan->args.data;
    for (size_t i = 0; i < plan->nargs; i++) {
        sargv[fixed + i] = at;
        slens[fixed + i] = plan->lens[i];
        at += plan->lens[i];
    }
    const char *tail[] = {PUT_STR(PUT_TURN_MS), id, claim ? "1" : "0"};
    for (size_t i = 0; i < 3; i++) {
        sargv[argc - 3 + i] = tail[i];
        slens[argc - 3 + i] = strlen(tail[i]);
    }
    redisReply *rep = joi_redis_eval(&r->conn, JOI_LUA_STORE_BATCH, JOI_LUA_STORE_BATCH_SHA,
                                     (int)argc, sargv, slens, err);
    free(sargv);
    free(slens);
    int rc;
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
        rc = rep->integer == 1 ? 0 : rep->integer == 2 ? 3 : 2;
    }
    if (rep)
        freeReplyObject(rep);
    return rc;
}

/* 1 if the meter's turn marker `key` counts (0 < time left <= its life), 0 if not,
 * -1 (err set). */
static int put_turn_held(struct redis_store *r, const char *key, struct joi_error *err)
{
    const char *argv[] = {"PTTL", key};
    redisReply *rep = joi_redis_run_str(&r->conn, 2, argv, err);
    if (rep == NULL)
        return -1;
    int held = rep->type == REDIS_REPLY_INTEGER && rep->integer > 0 && rep->integer <= PUT_TURN_MS;
    freeReplyObject(rep);
    return held;
}

/* One attempt at storing the sorted, distinct batch b; a lost compare takes the
 * meter's turn.  `last` is what the batch's last attempt returned: 3, it took the
 * turn (else a turn there is another batch's); 4, it waits for another's turn (and
 * asks only its time left until it ends).  Returns 0 stored, 1 the token record changed (copied
 * to current), 2 another writer came between or has the turn, 3 the same and this
 * batch took the turn, 4 another batch has the turn (seen before any work), -1. */
static int put_attempt(struct redis_store *r, const char *meter, const struct joi_readings *b,
                       const char *token, const char *id, int last, char *current,
                       size_t currentlen, struct joi_error *err)
{
    struct put_keys keys;
    put_keys_init(&keys, meter);
    if (last == 4) {
        int held = put_turn_held(r, keys.turn, err);
        if (held != 0)
            return held < 0 ? -1 : 4;
    }
    const char *key = keys.readings, *hkey = keys.head;
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
    /* Round 1: the head's header, each day's chunk, and the time left of the
     * meter's turn (so that a batch the script would refuse waits without the work). */
    int ncmd = 1 + (int)ndays + 1;
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
        joi_store_redis_digits((long long)(days[k] * JOI_LAYOUT_DAY_SECONDS), score[k]);
        const char **a = argv + 4 * (k + 1);
        a[0] = "ZRANGEBYSCORE";
        a[1] = key;
        a[2] = score[k];
        a[3] = score[k];
        argvs[k + 1] = a;
        argcs[k + 1] = 4;
    }
    const char **turn = argv + 4 * (ndays + 1);
    turn[0] = "PTTL";
    turn[1] = keys.turn;
    argvs[ndays + 1] = turn;
    argcs[ndays + 1] = 2;
    struct put_plan plan;
    memset(&plan, 0, sizeof plan);
    joi_buf_init(&plan.args);
    struct joi_buf newhead;
    joi_buf_init(&newhead);
    struct joi_readings rd;
    joi_readings_init(&rd);
    redisReply *head = NULL;
    int rc = joi_redis_pipeline(&r->conn, ncmd, (const char **const *)argvs, argcs, reps, err);
    if (rc != 0) {
        memset(reps, 0, (size_t)ncmd * sizeof *reps);
        goto out;
    }
    if (reps[0]->type != REDIS_REPLY_STRING) {
        rc = joi_error_set(err, 500, "the store holds a malformed reading");
        goto out;
    }
    const redisReply *left = reps[ndays + 1];
    if (last != 3 && left->type == REDIS_REPLY_INTEGER && left->integer > 0 &&
        left->integer <= PUT_TURN_MS) {
        rc = 4; /* another batch's turn: the script would refuse this one */
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
    /* What the script checks of the head: for an append, its header (appends to one
     * day commute: of equal times the record appended last wins); for a seal, the
     * whole head as sealed, so that a record appended after it was read is never
     * dropped; nothing when the batch leaves the head alone. */
    const char *hop = "N";
    char header[32] = "-";
    const char *expect = header;
    size_t expect_len = 1;
    if (newest > hday || hday < 0) {
        /* A new head for the batch's newest day; the old head's day is sealed. */
        memcpy(header, reps[0]->str, hlen);
        expect_len = hlen;
        hop = "S";
        joi_layout_head_header(&newhead, newest);
    } else if (days[ndays - 1] == hday) {
        memcpy(header, reps[0]->str, hlen);
        expect_len = hlen;
        hop = "A";
    }
    header[expect_len] = '\0';
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
                memcmp(head->str, header, hlen) != 0) {
                rc = 2; /* sealed or replaced meanwhile */
                break;
            }
            expect = head->str; /* the script stores only if the head is still this */
            expect_len = head->len;
            if (joi_store_redis_head_readings(head->str, head->len, &hday, &rd, err) != 0) {
                rc = -1;
                break;
            }
            sealed = 1;
        } else {
            if (joi_store_redis_one_chunk(reps[k + 1], &old, err) != 0 ||
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
    rc = put_script(r, &keys, token, id, 1, expect, expect_len, hop, &newhead, &plan, current,
                    currentlen, err);
out:
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

/* The common case in one round trip: a batch of one day, guessed to be the head's
 * day, appended to the head if its header says so.  Returns 2, having written
 * nothing, when the guess is wrong (no head, another day, several days in the
 * batch): the full attempt reads what the batch touches first.  Otherwise as
 * put_attempt. */
static int put_append(struct redis_store *r, const char *meter, const struct joi_readings *b,
                      const char *token, const char *id, char *current, size_t currentlen,
                      struct joi_error *err)
{
    int64_t d = joi_layout_day(b->items[0].time);
    if (joi_layout_day(b->items[b->n - 1].time) != d)
        return 2;
    struct put_keys keys;
    put_keys_init(&keys, meter);
    struct joi_buf header, records;
    joi_buf_init(&header);
    joi_buf_init(&records);
    joi_layout_head_header(&header, d);
    for (size_t i = 0; i < b->n; i++)
        joi_layout_head_record(&records, b->items[i].time, b->items[i].kw);
    struct put_plan none;
    memset(&none, 0, sizeof none);
    joi_buf_init(&none.args);
    int rc = put_script(r, &keys, token, id, 0, header.data, header.len, "A", &records, &none,
                        current, currentlen, err);
    joi_buf_free(&header);
    joi_buf_free(&records);
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64, seeded per process: pauses and batch ids, not secrets. */
static uint64_t put_random(void)
{
    static uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ 0x9e3779b97f4a7c15u;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* Sleeps a random time below min(PUT_PAUSE_US << k, PUT_PAUSE_MAX_US). */
static void pause_before(int k)
{
    long long cap = k < 7 ? (long long)PUT_PAUSE_US << k : PUT_PAUSE_MAX_US;
    if (cap > PUT_PAUSE_MAX_US)
        cap = PUT_PAUSE_MAX_US;
    long long us = (long long)(put_random() % (uint64_t)cap);
    struct timespec d = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&d, NULL);
}

/* A batch's id, 16 hex digits from put_random (seeded with the process id, so
 * that ids of batches in flight at once differ; no system call a batch). */
static void put_id(char id[17])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = put_random();
    for (int i = 0; i < 16; i++)
        id[i] = hex[(v >> (4 * i)) & 15];
    id[16] = '\0';
}

int joi_store_redis_readings_put(struct joi_store *s, const char *meter,
                                 const struct joi_reading *batch, size_t nbatch, const char *token,
                                 char *current, size_t currentlen, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    if (joi_store_redis_layout_check(r, err) != 0)
        return -1;
    if (nbatch == 0)
        return 0;
    struct joi_readings sorted; /* the last one sent of a time wins */
    joi_readings_init(&sorted);
    for (size_t i = 0; i < nbatch; i++)
        joi_readings_push(&sorted, batch[i].time, batch[i].kw);
    joi_readings_sort_unique(&sorted);
    char id[17];
    put_id(id);
    int rc = put_append(r, meter, &sorted, token, id, current, currentlen, err);
    long long began = rc == 2 ? now_ms() : 0;
    /* Tries that did the work are at most PUT_ATTEMPTS; waits for another batch's
     * turn (4) are bounded by the budget alone.  A batch that took the turn (3)
     * reads again at once, once: a holder that loses again pauses like any other. */
    int tries = 0, pauses = 0, held = 0; /* held: tries in a row that returned 3 */
    for (int n = 0; (rc == 2 || rc == 3 || rc == 4) && tries < PUT_ATTEMPTS; n++) {
        if (n > 0) {
            if (now_ms() - began >= PUT_BUDGET_MS)
                break;
            held = rc == 3 ? held + 1 : 0;
            if (held != 1)
                pause_before(++pauses);
        }
        rc = put_attempt(r, meter, &sorted, token, id, rc, current, currentlen, err);
        if (rc != 4)
            tries++;
    }
    joi_readings_free(&sorted);
    if (rc >= 2)
        return joi_error_set(err, 503,
                             "other batches for this meter kept arriving while this "
                             "one was stored; nothing of it was stored, try again");
    return rc;
}
