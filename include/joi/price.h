/*
 * price.h -- energy and cost: pure functions, no I/O.
 *
 * Readings are instantaneous power (kW).  Energy between two consecutive
 * readings is the trapezoid (p1 + p2) / 2 * (t2 - t1) / 3600 kWh.  A
 * "schedule" cuts time into segments at boundary instants; joi_price_integrate()
 * splits every interval exactly at those boundaries (power interpolated
 * linearly) and adds each piece's energy to its segment.  Costs use the
 * segments of a plan's tariff windows; usage buckets use calendar segments:
 * both go through the same joi_price_integrate().
 *
 * Terms used here and in pricing.c:
 *  - a "bucket" is a JOI_BUCKET_SECONDS slice of epoch time (UTC half-hours);
 *    a meter's summary keeps the energy of each bucket;
 *  - a "long interval" is two consecutive readings more than JOI_LONG_INTERVAL
 *    apart: the summary keeps it whole (t1, p1, t2, p2) instead of in buckets,
 *    so that a plans file's maxGapSeconds can still leave it out;
 *  - a "split bucket" is a bucket inside which some plan's price changes (a
 *    window at 16:10, a zone with a :45 offset): its cost cannot come from its
 *    energy alone, so it is priced from the readings "around" it (those within
 *    JOI_LONG_INTERVAL of its edges, which hold every interval touching it).
 *
 * Hidden state: zone conversions switch the process-wide TZ environment
 * variable (setenv + tzset, then mktime/localtime_r), since C11 has no per-call
 * zone.  A worker is single-threaded and nothing else in it reads TZ, so this is
 * safe there; a threaded caller must serialise every function of this header
 * that takes a zone or a config (joi_schedule_tariff, joi_schedule_plan,
 * joi_schedules_build, joi_price_compare, joi_usage_bucket_count, joi_usage_buckets).
 */
#ifndef JOI_PRICE_H
#define JOI_PRICE_H

#include <stddef.h>
#include <stdint.h>

#include "joi/config.h"
#include "joi/readings.h"

/* Segments: segment 0 is everything before bounds[0], segment i is
 * [bounds[i-1], bounds[i]), segment nbounds is from bounds[nbounds-1] on. */
struct joi_schedule {
    int64_t *bounds; /* strictly ascending */
    double *values;  /* nbounds + 1 entries (multipliers, for a tariff) */
    size_t nbounds;
};

void joi_schedule_free(struct joi_schedule *s); /* frees the arrays; s can be NULL */

/* Builds the multiplier schedule of rules (first match wins, 1 where none
 * matches) in zone tz over [t0, t1].  Zone conversions happen once per local
 * day of the span, never per reading.  Returns 0, or -1 if tz cannot be used. */
int joi_schedule_tariff(const struct joi_rule *rules, size_t nrules, const char *tz, int64_t t0,
                        int64_t t1, struct joi_schedule *out);

struct joi_usage {
    int64_t from, to; /* first and last reading time */
    double kwh;       /* energy, gaps excluded */
    int64_t covered;  /* seconds between readings, gaps excluded */
    int64_t gaps;     /* intervals longer than max_gap */
};

/* Integrates readings (sorted by time, times distinct) and adds each piece's
 * energy to kwh[segment] (kwh has s->nbounds + 1 entries, zeroed by the
 * caller; s may be NULL for one segment).  Intervals longer than max_gap
 * (when max_gap > 0) add nothing.  Fills *u when u is not NULL. */
void joi_price_integrate(const struct joi_reading *r, size_t n, int64_t max_gap,
                         const struct joi_schedule *s, double *kwh, struct joi_usage *u);

struct joi_cost {
    const struct joi_plan *plan; /* borrowed from the config */
    double cost;
};

/* ------------------------------------------------------------------------ */
/* Bounds of one request's work                                              */
/* ------------------------------------------------------------------------ */

/* Time-of-use plans and calendar buckets are worked out local day by local day:
 * a span of readings longer than this is not priced or bucketed (422). */
#define JOI_PRICE_MAX_SPAN (INT64_C(100) * 366 * 86400)

/* The tariff windows one request may work out, over every plan (see
 * joi_price_windows()): 490,810 took 0.3 s and 15 MB of a worker
 * (tests/e2e/pathological_test.sh). */
#define JOI_PRICE_MAX_WINDOWS 500000

/* An upper bound on the tariff windows that pricing readings from t0 to t1 on
 * every plan of c works out (what joi_schedule_tariff() loops over: one window
 * per rule for every local day of the span, plus a day on each side, that the
 * rule applies to).  Plans without rules cost none.  Pure arithmetic. */
uint64_t joi_price_windows(const struct joi_config *c, int64_t t0, int64_t t1);

/* The multiplier schedule of a plan over [t0, t1], in the plan's zone.  Returns 0,
 * or -1 (with nothing left to free) when the zone cannot be used. */
int joi_schedule_plan(const struct joi_config *c, const struct joi_plan *plan, int64_t t0,
                      int64_t t1, struct joi_schedule *s);

/* Every plan's multiplier schedule over [t0, t1] (out[p] for c->plans[p]), built
 * once for joi_summary_split_buckets() and joi_price_compare_summary() to share.
 * *out is malloc'ed: free with joi_schedules_free(*out, c->nplans).  Returns 0,
 * or -1 (nothing to free) when a plan's zone cannot be used. */
int joi_schedules_build(const struct joi_config *c, int64_t t0, int64_t t1,
                        struct joi_schedule **out);
void joi_schedules_free(struct joi_schedule *s, size_t n); /* s can be NULL */

/* Sorts costs cheapest first, ties by plan id: the order of every comparison. */
void joi_costs_sort(struct joi_cost *costs, size_t n);

/* Prices readings (sorted, distinct times, n >= 2) on every plan of c.
 * out has c->nplans entries and is sorted cheapest first, ties by plan id.
 * Returns 0, or -1 when a plan's zone cannot be used. */
int joi_price_compare(const struct joi_config *c, const struct joi_reading *r, size_t n,
                      struct joi_cost *out, struct joi_usage *u);

/* ------------------------------------------------------------------------ */
/* Usage per calendar bucket                                                 */
/* ------------------------------------------------------------------------ */

enum joi_period { JOI_HOUR, JOI_DAY, JOI_WEEK, JOI_MONTH };

struct joi_bucket {
    int64_t start, end; /* [start, end): a local calendar hour, day, week (from Monday) or month */
    double kwh;
};

/* At most this many calendar buckets are worked out for one usage request (an
 * hour bucket over 11 years, a day over a century): about 5.5 MB of answer. */
#define JOI_USAGE_MAX_BUCKETS 100000

/* The number of calendar buckets of zone tz from the one that holds t0 to the one
 * that holds t1 (t0 <= t1), covered or not: what joi_usage_buckets() works out
 * for readings from t0 to t1 (a clock change that folds two local midnights onto
 * one instant can make that one fewer).  Two zone conversions, no loop. */
uint64_t joi_usage_bucket_count(int64_t t0, int64_t t1, const char *tz, enum joi_period period);

/* The name of a period as the API spells it: "hour", "day", "week", "month". */
const char *joi_period_name(enum joi_period period);

/* Splits the energy of readings (sorted, distinct times) into calendar buckets of
 * zone tz, through joi_price_integrate(), so the buckets add up to the total energy.
 * Only buckets that some interval (not a gap) covers are returned, in time
 * order.  *out is malloc'ed (caller frees); *nout may be 0.  Returns 0, or -1
 * when tz cannot be used. */
int joi_usage_buckets(const struct joi_reading *r, size_t n, int64_t max_gap, const char *tz,
                      enum joi_period period, struct joi_bucket **out, size_t *nout);

#endif
