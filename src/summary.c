/*
 * summary.c -- a meter's pre-aggregates, and pricing from them (see joi/summary.h).
 */
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/summary.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : (x > y);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

void joi_summary_init(struct joi_summary *s)
{
    memset(s, 0, sizeof *s);
}

void joi_summary_free(struct joi_summary *s)
{
    if (s == NULL)
        return;
    free(s->buckets);
    free(s->long_intervals);
    joi_summary_init(s);
}

static int cmp_bucket(const void *a, const void *b)
{
    int64_t x = ((const struct joi_bucket_energy *)a)->index;
    int64_t y = ((const struct joi_bucket_energy *)b)->index;
    return x < y ? -1 : (x > y);
}

static int cmp_interval(const void *a, const void *b)
{
    int64_t x = ((const struct joi_interval *)a)->t1, y = ((const struct joi_interval *)b)->t1;
    return x < y ? -1 : (x > y);
}

void joi_summary_sort(struct joi_summary *s)
{
    /* Stores that keep buckets in order (a day of them per field) hand them over
     * sorted or nearly: one pass tells, before a sort of 17520 buckets a year. */
    size_t i = 1;
    while (i < s->nbuckets && s->buckets[i - 1].index < s->buckets[i].index)
        i++;
    if (i < s->nbuckets)
        qsort(s->buckets, s->nbuckets, sizeof *s->buckets, cmp_bucket);
    if (s->nlong_intervals > 1)
        qsort(s->long_intervals, s->nlong_intervals, sizeof *s->long_intervals, cmp_interval);
}

/* Energy of the part of interval (t1, p1)-(t2, p2) inside [lo, hi], computed as
 * joi_price_integrate() computes a piece between two boundaries. */
static double piece(int64_t t1, double p1, int64_t t2, double p2, int64_t lo, int64_t hi)
{
    int64_t dt = t2 - t1, a = t1 > lo ? t1 : lo, b = t2 < hi ? t2 : hi;
    if (b <= a)
        return 0;
    double pa = a == t1 ? p1 : p1 + (p2 - p1) * (double)(a - t1) / (double)dt;
    double pb = b == t2 ? p2 : p1 + (p2 - p1) * (double)(b - t1) / (double)dt;
    return (pa + pb) / 2 * (double)(b - a) / 3600;
}

void joi_summary_build(const struct joi_reading *r, size_t n, struct joi_summary *out)
{
    joi_summary_init(out);
    out->count = (long long)n;
    if (n == 0)
        return;
    out->first = r[0].time;
    out->last = r[n - 1].time;
    size_t capb = 0, capl = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t t1 = r[i - 1].time, t2 = r[i].time;
        if (t2 - t1 > JOI_LONG_INTERVAL) {
            if (out->nlong_intervals == capl) {
                capl = capl ? 2 * capl : 16;
                out->long_intervals =
                    joi_mem_realloc(out->long_intervals, capl * sizeof *out->long_intervals);
            }
            out->long_intervals[out->nlong_intervals++] =
                (struct joi_interval){t1, t2, r[i - 1].kw, r[i].kw};
            continue;
        }
        int64_t k0 = floor_div(t1, JOI_BUCKET_SECONDS), k1 = floor_div(t2 - 1, JOI_BUCKET_SECONDS);
        for (int64_t k = k0; k <= k1; k++) {
            double e = piece(t1, r[i - 1].kw, t2, r[i].kw, k * JOI_BUCKET_SECONDS,
                             (k + 1) * JOI_BUCKET_SECONDS);
            if (out->nbuckets > 0 && out->buckets[out->nbuckets - 1].index == k) {
                out->buckets[out->nbuckets - 1].kwh += e;
                continue;
            }
            if (out->nbuckets == capb) {
                capb = capb ? 2 * capb : 64;
                out->buckets = joi_mem_realloc(out->buckets, capb * sizeof *out->buckets);
            }
            out->buckets[out->nbuckets++] = (struct joi_bucket_energy){k, e};
        }
    }
}

/* 1 when a schedule bound lies strictly inside bucket k. */
static int bound_inside(const struct joi_schedule *s, int64_t k, size_t *from)
{
    int64_t lo = k * JOI_BUCKET_SECONDS, hi = lo + JOI_BUCKET_SECONDS;
    while (*from < s->nbounds && s->bounds[*from] <= lo)
        (*from)++;
    return *from < s->nbounds && s->bounds[*from] < hi;
}

void joi_summary_split_buckets(const struct joi_config *c, const struct joi_summary *sm,
                               const struct joi_schedule *sched, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (size_t p = 0; p < c->nplans; p++) {
        const struct joi_schedule *s = &sched[p];
        /* Bounds and buckets are both ascending: walk them together, keeping the
         * buckets that hold energy and a bound off the half-hour grid. */
        size_t k = 0;
        for (size_t b = 0; b < s->nbounds && k < sm->nbuckets; b++) {
            if (s->bounds[b] % JOI_BUCKET_SECONDS == 0)
                continue;
            int64_t index = floor_div(s->bounds[b], JOI_BUCKET_SECONDS);
            while (k < sm->nbuckets && sm->buckets[k].index < index)
                k++;
            if (k == sm->nbuckets || sm->buckets[k].index != index)
                continue;
            if (*n == cap) {
                cap = cap ? 2 * cap : 64;
                *out = joi_mem_realloc(*out, cap * sizeof **out);
            }
            (*out)[(*n)++] = index;
        }
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++)
        if (u == 0 || (*out)[u - 1] != (*out)[i])
            (*out)[u++] = (*out)[i];
    *n = u;
}

/* The exact cost of bucket k on schedule s at unit rate `rate`: every interval of
 * at most JOI_LONG_INTERVAL in around that overlaps the bucket, clipped to it and
 * split at the schedule's bounds inside it.  *ok is 0 when around does not hold
 * the bucket's readings. */
static double bucket_cost_exact(const struct joi_reading *around, size_t naround,
                                const struct joi_schedule *s, double rate, int64_t k, int *ok)
{
    int64_t lo = k * JOI_BUCKET_SECONDS, hi = lo + JOI_BUCKET_SECONDS;
    /* The first reading at or after lo - JOI_LONG_INTERVAL. */
    size_t a = 0, b = naround;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (around[m].time < lo - JOI_LONG_INTERVAL)
            a = m + 1;
        else
            b = m;
    }
    double cost = 0;
    int found = 0;
    for (size_t i = a; i + 1 < naround && around[i].time < hi; i++) {
        int64_t t1 = around[i].time, t2 = around[i + 1].time;
        if (t2 - t1 > JOI_LONG_INTERVAL || t2 <= lo)
            continue;
        found = 1;
        int64_t x = t1 > lo ? t1 : lo, end = t2 < hi ? t2 : hi;
        size_t seg = 0;
        while (seg < s->nbounds && s->bounds[seg] <= x)
            seg++;
        while (x < end) {
            int64_t y = (seg < s->nbounds && s->bounds[seg] < end) ? s->bounds[seg] : end;
            cost += piece(t1, around[i].kw, t2, around[i + 1].kw, x, y) * (rate * s->values[seg]);
            if (y < end)
                seg++;
            x = y;
        }
    }
    *ok = found;
    return cost;
}

int joi_price_compare_summary(const struct joi_config *c, const struct joi_summary *sm,
                              const struct joi_schedule *sched, const struct joi_reading *around,
                              size_t naround, struct joi_cost *out, struct joi_usage *u)
{
    if (c->max_gap > 0 && c->max_gap < JOI_LONG_INTERVAL)
        return 1;
    int64_t t0 = sm->first, t1 = sm->last;
    /* Usage: the buckets, the long intervals that are not gaps. */
    double kwh = 0;
    int64_t gap_seconds = 0, gaps = 0;
    for (size_t i = 0; i < sm->nbuckets; i++)
        kwh += sm->buckets[i].kwh;
    for (size_t i = 0; i < sm->nlong_intervals; i++) {
        const struct joi_interval *l = &sm->long_intervals[i];
        if (c->max_gap > 0 && l->t2 - l->t1 > c->max_gap) {
            gaps++;
            gap_seconds += l->t2 - l->t1;
        } else {
            kwh += (l->p1 + l->p2) / 2 * (double)(l->t2 - l->t1) / 3600;
        }
    }
    for (size_t p = 0; p < c->nplans; p++) {
        const struct joi_plan *plan = &c->plans[p];
        const struct joi_schedule *s = &sched[p];
        double cost = 0;
        size_t seg = 0, inner = 0;
        for (size_t i = 0; i < sm->nbuckets; i++) {
            int64_t k = sm->buckets[i].index;
            if (bound_inside(s, k, &inner)) {
                int ok;
                cost += bucket_cost_exact(around, naround, s, plan->unit_rate, k, &ok);
                if (!ok)
                    return 1; /* the caller did not fetch this bucket's readings */
                continue;
            }
            while (seg < s->nbounds && s->bounds[seg] <= k * JOI_BUCKET_SECONDS)
                seg++;
            cost += sm->buckets[i].kwh * (plan->unit_rate * s->values[seg]);
        }
        double *lk = joi_mem_calloc(s->nbounds + 1, sizeof *lk);
        for (size_t i = 0; i < sm->nlong_intervals; i++) {
            const struct joi_interval *l = &sm->long_intervals[i];
            struct joi_reading two[2] = {{l->t1, l->p1}, {l->t2, l->p2}};
            joi_price_integrate(two, 2, c->max_gap, s, lk, NULL);
        }
        for (size_t k = 0; k <= s->nbounds; k++)
            cost += lk[k] * (plan->unit_rate * s->values[k]);
        free(lk);
        cost += plan->standing_charge * (double)(t1 - t0) / 86400;
        out[p].plan = plan;
        out[p].cost = cost;
    }
    joi_costs_sort(out, c->nplans);
    if (u) {
        u->from = t0;
        u->to = t1;
        u->kwh = kwh;
        u->covered = (t1 - t0) - gap_seconds;
        u->gaps = gaps;
    }
    return 0;
}

void joi_summary_day_build(const struct joi_reading *r, size_t n, int64_t day,
                           struct joi_summary_day *out)
{
    memset(out, 0, sizeof *out);
    struct joi_summary sm;
    joi_summary_build(r, n, &sm);
    out->day = day;
    out->count = (long long)n;
    out->first = r[0].time;
    out->last = r[n - 1].time;
    out->first_kw = r[0].kw;
    out->last_kw = r[n - 1].kw;
    out->has_buckets = 1;
    for (size_t i = 0; i < sm.nbuckets; i++) {
        int64_t k = sm.buckets[i].index - day * JOI_BUCKETS_PER_FIELD;
        out->present |= UINT64_C(1) << k;
        out->buckets[k] = sm.buckets[i].kwh;
    }
    out->long_intervals = sm.long_intervals;
    out->nlong_intervals = sm.nlong_intervals;
    sm.long_intervals = NULL;
    joi_summary_free(&sm);
}

int joi_summary_day_build_range(const struct joi_reading *r, size_t n, int64_t day, int64_t from,
                                int64_t to, struct joi_summary_day *out)
{
    size_t a = 0, b = n;
    while (a < n && r[a].time < from)
        a++;
    while (b > a && r[b - 1].time > to)
        b--;
    if (a == b)
        return 0;
    joi_summary_day_build(r + a, b - a, day, out);
    return 1;
}

void joi_summary_day_free(struct joi_summary_day *d)
{
    if (d == NULL)
        return;
    free(d->long_intervals);
    d->long_intervals = NULL;
    d->nlong_intervals = 0;
}

/* Adds the pieces of interval (t1, p1)-(t2, p2) (at most JOI_LONG_INTERVAL) that
 * fall in day `day` to its buckets (present, v). */
static void add_pieces(int64_t t1, double p1, int64_t t2, double p2, int64_t day, uint64_t *present,
                       double *v)
{
    int64_t k0 = floor_div(t1, JOI_BUCKET_SECONDS), k1 = floor_div(t2 - 1, JOI_BUCKET_SECONDS);
    for (int64_t k = k0; k <= k1; k++) {
        int64_t slot = k - day * JOI_BUCKETS_PER_FIELD;
        if (slot < 0 || slot >= JOI_BUCKETS_PER_FIELD)
            continue;
        v[slot] += piece(t1, p1, t2, p2, k * JOI_BUCKET_SECONDS, (k + 1) * JOI_BUCKET_SECONDS);
        *present |= UINT64_C(1) << slot;
    }
}

void joi_summary_from_days(const struct joi_summary_day *d, size_t n, struct joi_summary *out)
{
    joi_summary_init(out);
    if (n == 0)
        return;
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        nl += d[i].nlong_intervals + 1;
    out->buckets = joi_mem_alloc((n * JOI_BUCKETS_PER_FIELD + 1) * sizeof *out->buckets);
    out->long_intervals = joi_mem_alloc((nl + 1) * sizeof *out->long_intervals);
    out->first = d[0].first;
    out->last = d[n - 1].last;
    /* The current day's buckets, and the next day's first pieces (from the crossing
     * interval) which come before its own. */
    double cur[JOI_BUCKETS_PER_FIELD], next[JOI_BUCKETS_PER_FIELD];
    uint64_t cur_present = 0, next_present = 0;
    memset(next, 0, sizeof next);
    for (size_t i = 0; i < n; i++) {
        const struct joi_summary_day *x = &d[i];
        out->count += x->count;
        /* cur = next's crossing pieces, then the day's own. */
        cur_present = next_present | x->present;
        for (int k = 0; k < JOI_BUCKETS_PER_FIELD; k++)
            cur[k] = (next_present >> k & 1) ? next[k] + x->buckets[k] : x->buckets[k];
        next_present = 0;
        memset(next, 0, sizeof next);
        for (size_t j = 0; j < x->nlong_intervals; j++)
            out->long_intervals[out->nlong_intervals++] = x->long_intervals[j];
        if (i + 1 < n) {
            const struct joi_summary_day *y = &d[i + 1];
            if (y->first - x->last > JOI_LONG_INTERVAL) {
                out->long_intervals[out->nlong_intervals++] =
                    (struct joi_interval){x->last, y->first, x->last_kw, y->first_kw};
            } else {
                add_pieces(x->last, x->last_kw, y->first, y->first_kw, x->day, &cur_present, cur);
                add_pieces(x->last, x->last_kw, y->first, y->first_kw, y->day, &next_present, next);
            }
        }
        for (int k = 0; k < JOI_BUCKETS_PER_FIELD; k++)
            if (cur_present >> k & 1)
                out->buckets[out->nbuckets++] =
                    (struct joi_bucket_energy){x->day * JOI_BUCKETS_PER_FIELD + k, cur[k]};
    }
}
