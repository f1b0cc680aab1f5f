/*
 * pricing.h -- pricing a meter: which data to read, and how to price it.
 *
 * The price endpoints (compare-all, recommend) and usage ask this module, not
 * the store: it decides between the meter's pre-aggregates (the whole history:
 * half-hour energy buckets, exact except inside the buckets where a plan changes
 * price, for which it reads only the readings around them) and the readings
 * themselves (a range with from/to), and it keeps the worker's parsed copy of the
 * plans file, fetched again only when the file's version in the store changes.
 *
 * Ownership: a joi_priced borrows its config from the cache; it stays valid until
 * the next call that can refresh the cache (any joi_plans_* or joi_pricing_*).
 */
#ifndef JOI_PRICING_H
#define JOI_PRICING_H

#include <stdint.h>

#include "joi/config.h"
#include "joi/error.h"
#include "joi/price.h"
#include "joi/summary.h"
#include "joi/readings.h"

struct joi_store;

/* The worker's copy of the plans file. */
struct joi_plans {
    struct joi_config *config; /* owned; NULL until one is loaded */
    long long version;         /* the store's version of it; 0 = none */
};

void joi_plans_init(struct joi_plans *pl);
void joi_plans_free(struct joi_plans *pl); /* frees the config */

/* The current plans file (asking the store for its version, and for the file when
 * that changed).  NULL with err set: 503 when none is loaded or the store failed,
 * 500 when the stored file is invalid. */
const struct joi_config *joi_plans_current(struct joi_plans *pl, struct joi_store *s,
                                           struct joi_error *err);

/* Like joi_plans_current for a caller that has just read the version along with
 * its own data (one round trip): the store is asked only when version differs
 * from the cached one. */
const struct joi_config *joi_plans_at(struct joi_plans *pl, struct joi_store *s, long long version,
                                      struct joi_error *err);

/* 0 when readings spanning span seconds can be priced (JOI_PRICE_MAX_SPAN), else
 * -1 with a 422. */
int joi_pricing_span_check(int64_t span, struct joi_error *err);

/* The bound on readings one request reads (JOI_READINGS_MAX): 0 when n readings
 * are within it, else -1 with a 422 that says how to narrow the request.  The store
 * hands over at most one more than the bound, so n past it means "too many".  `what`
 * is what the endpoint does with them ("answered", "priced", "bucketed"), `narrow`
 * how to ask for fewer. */
int joi_pricing_readings_check(size_t n, int ranged, const char *what, const char *narrow,
                               struct joi_error *err);

/* The `limit` to ask the store for: the client's, but never more than one past the
 * bound (enough to tell that the range holds too many). */
size_t joi_pricing_store_limit(size_t limit);

/* Every plan's cost of one meter's energy. */
struct joi_priced {
    const struct joi_config *cfg;   /* borrowed from the plans cache */
    struct joi_cost *costs;         /* cfg->nplans of them, cheapest first */
    struct joi_usage usage;         /* what was priced */
    const struct joi_plan *current; /* the meter's account plan, or NULL */
    struct joi_readings readings;   /* the readings priced, when they were read */
};

/* Prices meter's readings in [from, to] on every plan; ranged is 0 when the caller
 * asked for the whole history (from/to not given).  Returns 0, or -1 with err set
 * (404 no readings, 422 fewer than two times or too long a span, 5xx from the
 * store).  Free p with joi_priced_free in both cases. */
int joi_pricing_price(struct joi_plans *pl, struct joi_store *s, const char *meter, int64_t from,
                      int64_t to, int ranged, struct joi_priced *p, struct joi_error *err);
void joi_priced_free(struct joi_priced *p);

#endif
