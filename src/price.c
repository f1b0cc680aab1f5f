/*
 * price.c -- schedules, integration and plan comparison (see joi/price.h).
 *
 * Zone conversions go through the C library and the system's zone database:
 * setenv("TZ") + tzset() + localtime_r().  A worker is single-threaded, so the
 * process-wide TZ is only switched when the zone of the plan being priced
 * differs from the last one.  Local wall-clock times become instants through
 * local_to_utc(), not mktime(): the same time always gives the same instant,
 * and a walk through the calendar costs about one localtime_r() a day.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joi/buf.h"
#include "joi/price.h"
#include "joi/summary.h"
#include "joi/timeparse.h"

static char current_tz[80];

/* Instants [lo, hi] over which the current zone's offset is known to be `off`;
 * emptied whenever the zone changes (use_tz). */
static struct {
    int valid;
    int64_t lo, hi;
    long off;
} known;

static void use_tz(const char *tz)
{
    if (strcmp(current_tz, tz) == 0)
        return;
    char value[96];
    snprintf(value, sizeof value, ":%s", tz);
    setenv("TZ", value, 1);
    tzset();
    known.valid = 0;
    snprintf(current_tz, sizeof current_tz, "%s", tz);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The UTC offset (seconds east) of the current zone at instant t. */
static long offset_at(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (localtime_r(&tt, &tm) == NULL)
        return 0;
    return tm.tm_gmtoff;
}

/* More than any UTC offset (at most 14 hours either way), and less than the
 * shortest time between two clock changes of a zone. */
#define OFFSET_REACH 86400

/* The instant at which the zone's clocks show wall-clock time L (seconds since
 * 1970-01-01 00:00 of the wall clock).  Unlike mktime(), whose answer for a time
 * that a clock change skips or repeats depends on the calls made before it, this
 * is a function of L: a skipped time is read with the offset in force before the
 * change, so it lands as far after the jump as it was after the last valid time
 * (01:30 on the London spring day is 02:30 BST); a time that happens twice is the
 * first.  Only two offsets can apply: those OFFSET_REACH either side of L.
 * Where both are the same, the offset holds over that whole reach (no zone changes
 * its clocks twice within a day), which is remembered, so that the next times of
 * a walk forward through the calendar cost a subtraction (glibc's localtime_r()
 * parses the zone's rule again in every call for years past its table). */
static int64_t local_to_utc(int64_t L)
{
    if (known.valid && L - OFFSET_REACH >= known.lo && L - OFFSET_REACH <= known.hi) {
        for (int step = 0; step < 3 && known.hi < L + OFFSET_REACH; step++) {
            if (offset_at(known.hi + OFFSET_REACH) != known.off)
                break;
            known.hi += OFFSET_REACH;
        }
        if (L + OFFSET_REACH <= known.hi)
            return L - known.off;
    }
    long before = offset_at(L - OFFSET_REACH), after = offset_at(L + OFFSET_REACH);
    int64_t ub = L - before, ua = L - after;
    int vb = offset_at(ub) == before;
    if (before == after) {
        if (vb) {
            known.valid = 1;
            known.lo = L - OFFSET_REACH;
            known.hi = L + OFFSET_REACH;
            known.off = before;
        }
        return ub;
    }
    int va = offset_at(ua) == after;
    if (vb && va)
        return ub < ua ? ub : ua;
    if (va)
        return ua;
    return ub; /* valid before the change, or skipped */
}

/* The instant of local wall-clock time day0 + day_offset days, `minute` minutes
 * after midnight (minute may exceed 1439; day0's date fields may be out of range,
 * as mktime() allows), resolved by local_to_utc(); *wday (Monday = 0) is the
 * weekday of that date. */
static int64_t local_instant(const struct tm *day0, int day_offset, int minute, int *wday)
{
    int64_t mon = day0->tm_mon;
    int64_t year = (int64_t)day0->tm_year + 1900 + floor_div(mon, 12);
    mon -= floor_div(mon, 12) * 12;
    int64_t days = joi_days_from_civil(year, (unsigned)mon + 1, 1) + day0->tm_mday - 1 +
                   day_offset + floor_div(minute, 1440);
    if (wday)
        *wday = (int)(((days + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    return local_to_utc(days * 86400 + (int64_t)(minute - floor_div(minute, 1440) * 1440) * 60);
}

void joi_schedule_free(struct joi_schedule *s)
{
    if (s == NULL)
        return;
    free(s->bounds);
    free(s->values);
    s->bounds = NULL;
    s->values = NULL;
    s->nbounds = 0;
}

struct window {
    int64_t start, end;
    size_t rule;
};

static int cmp_window(const void *a, const void *b)
{
    const struct window *x = a, *y = b;
    return x->start < y->start ? -1 : (x->start > y->start);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : (x > y);
}

/* The longest a window can last in real time: 24 wall-clock hours on a day the
 * clocks go back, with margin. */
#define WINDOW_REACH (27 * 3600)

int joi_schedule_tariff(const struct joi_rule *rules, size_t nrules, const char *tz, int64_t t0,
                        int64_t t1, struct joi_schedule *out)
{
    out->bounds = NULL;
    out->nbounds = 0;
    out->values = joi_mem_alloc(sizeof *out->values);
    out->values[0] = 1;
    if (nrules == 0)
        return 0;
    use_tz(tz);
    time_t tt0 = (time_t)t0, tt1 = (time_t)t1;
    struct tm first, last;
    if (localtime_r(&tt0, &first) == NULL || localtime_r(&tt1, &last) == NULL)
        return -1;
    /* Windows that start the day before t0 may still be running at t0. */
    int64_t ndays = (t1 - t0) / 86400 + 3;
    size_t nwin = 0, capwin = 64;
    struct window *win = joi_mem_alloc(capwin * sizeof *win);
    for (int64_t k = -1; k < ndays; k++) {
        int wday;
        int64_t midnight = local_instant(&first, (int)k, 0, &wday);
        if (midnight > t1)
            break;
        for (size_t r = 0; r < nrules; r++) {
            if (!(rules[r].days & (1u << wday)))
                continue;
            int64_t s = local_instant(&first, (int)k, rules[r].from_min, NULL);
            int64_t e =
                local_instant(&first, (int)k, rules[r].from_min + rules[r].length_min, NULL);
            if (e <= t0 || s > t1 || e <= s)
                continue;
            if (nwin == capwin) {
                capwin *= 2;
                win = joi_mem_realloc(win, capwin * sizeof *win);
            }
            win[nwin++] = (struct window){s, e, r};
        }
    }
    qsort(win, nwin, sizeof *win, cmp_window);
    /* Every window edge inside (t0, t1) is a potential boundary. */
    int64_t *b = joi_mem_alloc((2 * nwin + 1) * sizeof *b);
    size_t nb = 0;
    for (size_t i = 0; i < nwin; i++) {
        if (win[i].start > t0 && win[i].start < t1)
            b[nb++] = win[i].start;
        if (win[i].end > t0 && win[i].end < t1)
            b[nb++] = win[i].end;
    }
    qsort(b, nb, sizeof *b, cmp_i64);
    size_t u = 0;
    for (size_t i = 0; i < nb; i++)
        if (u == 0 || b[u - 1] != b[i])
            b[u++] = b[i];
    nb = u;
    /* The value of each segment: the first rule (lowest index) whose window holds
     * the segment's first instant.  Windows are sorted by start, and none is longer
     * than WINDOW_REACH, so only a sliding range of them can hold a given instant. */
    double *val = joi_mem_alloc((nb + 1) * sizeof *val);
    size_t lo = 0;
    for (size_t i = 0; i <= nb; i++) {
        int64_t x = i == 0 ? t0 : b[i - 1];
        while (lo < nwin && win[lo].start < x - WINDOW_REACH)
            lo++;
        size_t best = SIZE_MAX;
        for (size_t w = lo; w < nwin && win[w].start <= x; w++)
            if (x < win[w].end && win[w].rule < best)
                best = win[w].rule;
        val[i] = best == SIZE_MAX ? 1.0 : rules[best].multiplier;
    }
    /* Drop boundaries between segments of equal value. */
    size_t m = 0;
    for (size_t i = 0; i < nb; i++) {
        if (val[i + 1] == val[m])
            continue;
        b[m] = b[i];
        val[m + 1] = val[i + 1];
        m++;
    }
    free(win);
    free(out->values);
    out->bounds = b;
    out->values = val;
    out->nbounds = m;
    return 0;
}

/* The local days joi_schedule_tariff() looks at for a span: k = -1 .. ndays - 1. */
static uint64_t tariff_days(int64_t t0, int64_t t1)
{
    return (uint64_t)((t1 - t0) / 86400) + 4;
}

uint64_t joi_price_windows(const struct joi_config *c, int64_t t0, int64_t t1)
{
    uint64_t days = tariff_days(t0, t1 > t0 ? t1 : t0);
    uint64_t weeks = days / 7, rest = days % 7, total = 0;
    for (size_t p = 0; p < c->nplans; p++)
        for (size_t r = 0; r < c->plans[p].nrules; r++) {
            /* Of `days` consecutive days, at most weeks * m + min(rest, m) fall on
             * the rule's m weekdays. */
            unsigned m = 0;
            for (unsigned d = 0; d < 7; d++)
                m += (c->plans[p].rules[r].days >> d) & 1u;
            total += weeks * m + (rest < m ? rest : m);
        }
    return total;
}

void joi_price_integrate(const struct joi_reading *r, size_t n, int64_t max_gap,
                         const struct joi_schedule *s, double *kwh, struct joi_usage *u)
{
    size_t nb = s ? s->nbounds : 0;
    const int64_t *b = s ? s->bounds : NULL;
    size_t j = 0; /* segment of the current instant */
    double total = 0;
    int64_t covered = 0, gaps = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t t1 = r[i - 1].time, t2 = r[i].time, dt = t2 - t1;
        double p1 = r[i - 1].kw, p2 = r[i].kw;
        if (max_gap > 0 && dt > max_gap) {
            gaps++;
            continue;
        }
        covered += dt;
        while (j < nb && b[j] <= t1)
            j++;
        if (j == nb || b[j] >= t2) {
            double e = (p1 + p2) / 2 * (double)dt / 3600;
            kwh[j] += e;
            total += e;
            continue;
        }
        /* The interval crosses boundaries: split it there, power interpolated. */
        int64_t a = t1;
        double pa = p1;
        while (a < t2) {
            int64_t next = (j < nb && b[j] < t2) ? b[j] : t2;
            double pn = next == t2 ? p2 : p1 + (p2 - p1) * (double)(next - t1) / (double)dt;
            double e = (pa + pn) / 2 * (double)(next - a) / 3600;
            kwh[j] += e;
            total += e;
            if (next < t2)
                j++;
            a = next;
            pa = pn;
        }
    }
    if (u) {
        u->from = n ? r[0].time : 0;
        u->to = n ? r[n - 1].time : 0;
        u->kwh = total;
        u->covered = covered;
        u->gaps = gaps;
    }
}

int joi_schedule_plan(const struct joi_config *c, const struct joi_plan *plan, int64_t t0,
                      int64_t t1, struct joi_schedule *s)
{
    if (joi_schedule_tariff(plan->rules, plan->nrules, joi_config_plan_tz(c, plan), t0, t1, s) == 0)
        return 0;
    joi_schedule_free(s);
    return -1;
}

static int cmp_cost(const void *a, const void *b)
{
    const struct joi_cost *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost < y->cost ? -1 : 1;
    return strcmp(x->plan->id, y->plan->id);
}

void joi_costs_sort(struct joi_cost *costs, size_t n)
{
    qsort(costs, n, sizeof *costs, cmp_cost);
}

int joi_price_compare(const struct joi_config *c, const struct joi_reading *r, size_t n,
                      struct joi_cost *out, struct joi_usage *u)
{
    double one = 0;
    joi_price_integrate(r, n, c->max_gap, NULL, &one, u);
    int64_t t0 = r[0].time, t1 = r[n - 1].time;
    for (size_t p = 0; p < c->nplans; p++) {
        const struct joi_plan *plan = &c->plans[p];
        struct joi_schedule s;
        if (joi_schedule_plan(c, plan, t0, t1, &s) != 0)
            return -1;
        double *kwh = joi_mem_calloc(s.nbounds + 1, sizeof *kwh);
        joi_price_integrate(r, n, c->max_gap, &s, kwh, NULL);
        double cost = 0;
        for (size_t k = 0; k <= s.nbounds; k++)
            cost += kwh[k] * (plan->unit_rate * s.values[k]);
        cost += plan->standing_charge * (double)(t1 - t0) / 86400;
        out[p].plan = plan;
        out[p].cost = cost;
        free(kwh);
        joi_schedule_free(&s);
    }
    joi_costs_sort(out, c->nplans);
    return 0;
}

int joi_schedules_build(const struct joi_config *c, int64_t t0, int64_t t1,
                        struct joi_schedule **out)
{
    struct joi_schedule *s = joi_mem_calloc(c->nplans ? c->nplans : 1, sizeof *s);
    for (size_t p = 0; p < c->nplans; p++)
        if (joi_schedule_plan(c, &c->plans[p], t0, t1, &s[p]) != 0) {
            joi_schedules_free(s, p);
            *out = NULL;
            return -1;
        }
    *out = s;
    return 0;
}

void joi_schedules_free(struct joi_schedule *s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t p = 0; p < n; p++)
        joi_schedule_free(&s[p]);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Usage per calendar bucket                                                 */
/* ------------------------------------------------------------------------ */

const char *joi_period_name(enum joi_period period)
{
    switch (period) {
    case JOI_HOUR:
        return "hour";
    case JOI_DAY:
        return "day";
    case JOI_WEEK:
        return "week";
    case JOI_MONTH:
        return "month";
    }
    return "day";
}

uint64_t joi_usage_bucket_count(int64_t t0, int64_t t1, const char *tz, enum joi_period period)
{
    if (t1 < t0)
        return 0;
    use_tz(tz);
    time_t a = (time_t)t0, b = (time_t)t1;
    struct tm la, lb;
    if (localtime_r(&a, &la) == NULL || localtime_r(&b, &lb) == NULL)
        return 0;
    if (period == JOI_HOUR) /* local hours start at :00 and last 3600 s */
        return (uint64_t)((t1 - (t0 - (la.tm_min * 60 + la.tm_sec))) / 3600) + 1;
    if (period == JOI_MONTH)
        return (uint64_t)(((int64_t)lb.tm_year - la.tm_year) * 12 + (lb.tm_mon - la.tm_mon)) + 1;
    int64_t da = joi_days_from_civil((int64_t)la.tm_year + 1900, (unsigned)la.tm_mon + 1,
                                     (unsigned)la.tm_mday);
    int64_t db = joi_days_from_civil((int64_t)lb.tm_year + 1900, (unsigned)lb.tm_mon + 1,
                                     (unsigned)lb.tm_mday);
    if (period == JOI_DAY)
        return (uint64_t)(db - da) + 1;
    /* Weeks from Monday: day 0 (1970-01-01) was a Thursday, so Monday is day 4 (mod 7). */
    int64_t ma = da - (((da - 4) % 7) + 7) % 7, mb = db - (((db - 4) % 7) + 7) % 7;
    return (uint64_t)((mb - ma) / 7) + 1;
}

/* The start of the calendar bucket that holds t, and the local date it starts on. */
static int64_t bucket_start(int64_t t, enum joi_period period, struct tm *day0)
{
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    if (period == JOI_HOUR)
        return t - (tm.tm_min * 60 + tm.tm_sec);
    if (period == JOI_WEEK)
        tm.tm_mday -= (tm.tm_wday + 6) % 7;
    if (period == JOI_MONTH)
        tm.tm_mday = 1;
    *day0 = tm;
    return local_instant(&tm, 0, 0, NULL);
}

/* The start of bucket k after the one that starts at (start, day0). */
static int64_t bucket_next(int64_t start, enum joi_period period, const struct tm *day0, int k)
{
    switch (period) {
    case JOI_HOUR:
        return start + (int64_t)k * 3600;
    case JOI_DAY:
        return local_instant(day0, k, 0, NULL);
    case JOI_WEEK:
        return local_instant(day0, 7 * k, 0, NULL);
    case JOI_MONTH: {
        struct tm m = *day0;
        m.tm_mon += k;
        return local_instant(&m, 0, 0, NULL);
    }
    }
    return start;
}

/* The edges of the calendar buckets of the current zone from the one that holds t0
 * until past t1: *edges malloc'ed (caller frees), *ne >= 2.  Returns 0, or -1 when
 * the zone cannot be used. */
static int usage_edges(int64_t t0, int64_t t1, enum joi_period period, int64_t **out, size_t *nout)
{
    struct tm day0 = {0};
    int64_t first = bucket_start(t0, period, &day0);
    size_t cap = 64, ne = 0;
    int64_t *edges = joi_mem_alloc(cap * sizeof *edges);
    int stuck = 0;
    for (int k = 0;; k++) {
        int64_t e = bucket_next(first, period, &day0, k);
        if (ne == cap) {
            cap *= 2;
            edges = joi_mem_realloc(edges, cap * sizeof *edges);
        }
        if (ne > 0 && e <= edges[ne - 1]) {
            /* A clock change folded two local starts onto one instant; more than a
             * few in a row means the zone cannot be used. */
            if (++stuck > 3) {
                free(edges);
                return -1;
            }
            continue;
        }
        stuck = 0;
        edges[ne++] = e;
        if (e > t1)
            break;
    }
    *out = edges;
    *nout = ne;
    return 0;
}

int joi_usage_buckets(const struct joi_reading *r, size_t n, int64_t max_gap, const char *tz,
                      enum joi_period period, struct joi_bucket **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (n < 2)
        return 0;
    use_tz(tz);
    int64_t *edges;
    size_t ne;
    if (usage_edges(r[0].time, r[n - 1].time, period, &edges, &ne) != 0)
        return -1;
    /* Interior edges are the schedule's bounds: segment i is [edges[i], edges[i+1]). */
    struct joi_schedule s = {.bounds = edges + 1, .values = NULL, .nbounds = ne - 2};
    double *kwh = joi_mem_calloc(ne, sizeof *kwh);
    joi_price_integrate(r, n, max_gap, &s, kwh, NULL);
    /* A bucket is covered when an interval that is not a gap overlaps it. */
    char *covered = joi_mem_calloc(ne, 1);
    size_t j = 0;
    for (size_t i = 1; i < n; i++) {
        int64_t a = r[i - 1].time, b = r[i].time;
        if (max_gap > 0 && b - a > max_gap)
            continue;
        while (j + 1 < ne && edges[j + 1] <= a)
            j++;
        for (size_t k = j; k + 1 < ne && edges[k] < b; k++)
            covered[k] = 1;
    }
    struct joi_bucket *bk = joi_mem_alloc(ne * sizeof *bk);
    size_t m = 0;
    for (size_t k = 0; k + 1 < ne; k++) {
        if (!covered[k])
            continue;
        bk[m++] = (struct joi_bucket){edges[k], edges[k + 1], kwh[k]};
    }
    free(covered);
    free(kwh);
    free(edges);
    *out = bk;
    *nout = m;
    return 0;
}

int joi_usage_buckets_summary(const struct joi_summary *sm, int64_t max_gap, const char *tz,
                              enum joi_period period, struct joi_bucket **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (max_gap > 0 && max_gap < JOI_LONG_INTERVAL)
        return 1;
    if (sm->count < 2)
        return 0;
    use_tz(tz);
    int64_t *edges;
    size_t ne;
    if (usage_edges(sm->first, sm->last, period, &edges, &ne) != 0)
        return -1;
    for (size_t k = 0; k < ne; k++)
        if (edges[k] % JOI_BUCKET_SECONDS != 0) {
            free(edges); /* a bucket edge inside a half-hour: only the readings tell */
            return 1;
        }
    double *kwh = joi_mem_calloc(ne, sizeof *kwh);
    char *covered = joi_mem_calloc(ne, 1);
    /* A half-hour bucket lies inside one calendar bucket, and is there because an
     * interval overlaps it. */
    size_t j = 0;
    for (size_t i = 0; i < sm->nbuckets; i++) {
        int64_t lo = sm->buckets[i].index * JOI_BUCKET_SECONDS;
        while (j + 1 < ne && edges[j + 1] <= lo)
            j++;
        kwh[j] += sm->buckets[i].kwh;
        covered[j] = 1;
    }
    struct joi_schedule s = {.bounds = edges + 1, .values = NULL, .nbounds = ne - 2};
    j = 0;
    for (size_t i = 0; i < sm->nlong_intervals; i++) {
        const struct joi_interval *l = &sm->long_intervals[i];
        if (max_gap > 0 && l->t2 - l->t1 > max_gap)
            continue;
        struct joi_reading two[2] = {{l->t1, l->p1}, {l->t2, l->p2}};
        joi_price_integrate(two, 2, max_gap, &s, kwh, NULL);
        while (j + 1 < ne && edges[j + 1] <= l->t1)
            j++;
        for (size_t k = j; k + 1 < ne && edges[k] < l->t2; k++)
            covered[k] = 1;
    }
    struct joi_bucket *bk = joi_mem_alloc(ne * sizeof *bk);
    size_t m = 0;
    for (size_t k = 0; k + 1 < ne; k++)
        if (covered[k])
            bk[m++] = (struct joi_bucket){edges[k], edges[k + 1], kwh[k]};
    free(covered);
    free(kwh);
    free(edges);
    *out = bk;
    *nout = m;
    return 0;
}
