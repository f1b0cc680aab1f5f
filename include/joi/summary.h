/*
 * summary.h -- a meter's pre-aggregates, and pricing from them: pure functions.
 *
 * The terms (bucket, long interval, split bucket, the readings around a bucket)
 * are explained in joi/price.h.
 */
#ifndef JOI_SUMMARY_H
#define JOI_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "joi/config.h"
#include "joi/price.h"
#include "joi/readings.h"

/* A meter's pre-aggregates, which the store keeps up to date with every batch:
 * the energy of every interval no longer than JOI_LONG_INTERVAL, summed per
 * JOI_BUCKET_SECONDS bucket of epoch time (each interval split at bucket edges
 * exactly as joi_price_integrate() splits at boundaries), and the rare longer
 * intervals on their own so that they can still be left out as gaps. */
#define JOI_BUCKET_SECONDS 1800
#define JOI_LONG_INTERVAL 1800
#define JOI_BUCKETS_PER_FIELD (86400 / JOI_BUCKET_SECONDS) /* a UTC day of buckets per field */

struct joi_bucket_energy {
    int64_t index; /* the bucket [index * JOI_BUCKET_SECONDS, (index + 1) * ...) */
    double kwh;
};

struct joi_interval {
    int64_t t1, t2;
    double p1, p2;
};

struct joi_summary {
    long long count;                   /* readings */
    int64_t first, last;               /* first and last reading time (when count > 0) */
    struct joi_bucket_energy *buckets; /* sorted by index */
    size_t nbuckets;
    struct joi_interval *long_intervals; /* sorted by t1 */
    size_t nlong_intervals;
};

void joi_summary_init(struct joi_summary *s);
void joi_summary_free(struct joi_summary *s); /* frees the arrays; s can be NULL */
/* Sorts buckets and long intervals (stores may hand them over in any order). */
void joi_summary_sort(struct joi_summary *s);

/* Builds the pre-aggregates of readings (sorted, distinct times): the reference
 * implementation of what redis/store_batch.lua maintains. */
void joi_summary_build(const struct joi_reading *r, size_t n, struct joi_summary *out);

/* The buckets of sm inside which some plan of c changes price (a window at 16:10,
 * a zone with a :45 offset): their costs need the readings around them, which lie
 * within [index * JOI_BUCKET_SECONDS - JOI_LONG_INTERVAL,
 *         (index + 1) * JOI_BUCKET_SECONDS + JOI_LONG_INTERVAL].
 * Only buckets that hold energy are named, so there are at most sm->nbuckets of
 * them however long the span.  sched is joi_schedules_build() over
 * [sm->first, sm->last].  Sets *out (malloc'ed, ascending, caller frees) and *n. */
void joi_summary_split_buckets(const struct joi_config *c, const struct joi_summary *sm,
                               const struct joi_schedule *sched, int64_t **out, size_t *n);

/* Prices every plan of c from a summary (count >= 2), like joi_price_compare(),
 * on the schedules sched (joi_schedules_build() over [sm->first, sm->last]).
 * around holds the readings (sorted, distinct) around every bucket that
 * joi_summary_split_buckets() named; those buckets are priced exactly from them.
 * Returns 0, or 1 when the summary cannot give the exact answer (maxGapSeconds is
 * shorter than JOI_LONG_INTERVAL, or around lacks a bucket's readings) and the
 * caller must price the readings. */
int joi_price_compare_summary(const struct joi_config *c, const struct joi_summary *sm,
                              const struct joi_schedule *sched, const struct joi_reading *around,
                              size_t naround, struct joi_cost *out, struct joi_usage *u);

/* What joi_usage_buckets() gives for the readings sm summarises (sums within
 * rounding), from sm alone: each half-hour bucket's energy goes to the calendar
 * bucket that holds it, the long intervals that are not gaps are split at the
 * calendar edges.  Returns 0, 1 when the summary cannot give it (a calendar edge
 * off the half-hour grid, as in a :45 zone, or maxGapSeconds max_gap shorter than
 * JOI_LONG_INTERVAL) and the caller must use the readings, -1 when tz cannot be
 * used. */
int joi_usage_buckets_summary(const struct joi_summary *sm, int64_t max_gap, const char *tz,
                              enum joi_period period, struct joi_bucket **out, size_t *nout);

/* One UTC day of a meter's pre-aggregates, as the chunked layout keeps them beside
 * the day's chunk (joi/layout.h): the day's readings' count, first and last, the
 * buckets of the intervals between the day's own readings, and its own long
 * intervals.  The interval from one day's last reading to the next day's first
 * belongs to neither: joi_summary_from_days() adds it, so that every interval is
 * counted exactly once however the days were computed. */
struct joi_summary_day {
    int64_t day;     /* epoch seconds / 86400 */
    long long count; /* readings, >= 1 */
    int64_t first, last;
    double first_kw, last_kw;
    int has_buckets;  /* 0: buckets not known (the store recomputes them from the chunk) */
    uint64_t present; /* bit k: bucket k of the day has a piece of an interval */
    double buckets[JOI_BUCKETS_PER_FIELD]; /* kWh of bucket k (0 when not present) */
    struct joi_interval *long_intervals;   /* malloc'ed, sorted by t1, inside the day */
    size_t nlong_intervals;
};

/* Computes out for readings r[0..n) (n >= 1, sorted, distinct times, all in UTC
 * day `day`), buckets included (has_buckets = 1).  Free with joi_summary_day_free. */
void joi_summary_day_build(const struct joi_reading *r, size_t n, int64_t day,
                           struct joi_summary_day *out);
/* The same for the readings of r[0..n) with from <= time <= to alone (r sorted,
 * distinct, all in day `day`): returns 1 with out built, or 0 (out untouched) when
 * none is in the range.  A ranged summary is the records of the whole days inside
 * the range and this for its edge days, put together by joi_summary_from_days(). */
int joi_summary_day_build_range(const struct joi_reading *r, size_t n, int64_t day, int64_t from,
                                int64_t to, struct joi_summary_day *out);
void joi_summary_day_free(struct joi_summary_day *d); /* frees long_intervals; d can be NULL */

/* The summary of a meter from its days d[0..n) (ascending by day, each with its
 * buckets): what joi_summary_build() gives for all their readings at once, the
 * intervals between days added here (each bucket's pieces summed in time order as
 * far as the days allow: a bucket at a day's start gets the crossing piece first).
 * out is initialised here; free with joi_summary_free. */
void joi_summary_from_days(const struct joi_summary_day *d, size_t n, struct joi_summary *out);

#endif
