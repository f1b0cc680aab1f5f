/*
 * config.h -- price plans and accounts (the plans file).
 *
 * joi_config_parse() validates a whole plans-and-accounts document; a
 * document with any fault is rejected with a message naming it and nothing
 * of it is returned.  A parsed config is immutable: the worker keeps one per
 * version of the file in the store and frees it when a newer one arrives.
 */
#ifndef JOI_CONFIG_H
#define JOI_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "joi/error.h"

#define JOI_DEFAULT_TZ "UTC"

/* One peakTimeMultipliers rule: a window of local wall-clock time. */
struct joi_rule {
    unsigned days;  /* bit d set = starts on weekday d (0 = Monday .. 6 = Sunday) */
    int from_min;   /* minute of the day the window starts, 0..1439 */
    int length_min; /* 1..1440 wall-clock minutes; a window past midnight belongs to
                       the day it starts on */
    double multiplier;
};

struct joi_plan {
    char *id;
    char *supplier;
    double unit_rate;
    double standing_charge; /* per day */
    char *timezone;         /* the plan's own zone, or NULL for the file's */
    struct joi_rule *rules; /* first match wins */
    size_t nrules;
};

struct joi_account {
    char *meter;
    const struct joi_plan *plan; /* borrowed from the config's plans */
};

struct joi_config {
    char *timezone;         /* IANA name, never NULL */
    int64_t max_gap;        /* seconds; 0 = no limit */
    struct joi_plan *plans; /* sorted by id */
    size_t nplans;
    struct joi_account *accounts; /* sorted by meter */
    size_t naccounts;
};

/* Parses and validates a plans file.  Returns 0 and *out (free with
 * joi_config_free), or -1 with err->detail naming the fault (status 400). */
int joi_config_parse(const char *buf, size_t len, struct joi_config **out, struct joi_error *err);
void joi_config_free(struct joi_config *c); /* c can be NULL */

/* The plan of a meter's account, or NULL when the meter has none. */
const struct joi_plan *joi_config_account(const struct joi_config *c, const char *meter);
/* The zone a plan is priced in. */
const char *joi_config_plan_tz(const struct joi_config *c, const struct joi_plan *p);

/* The names of the days as the plans file writes them, 0 = MONDAY .. 6 = SUNDAY. */
extern const char *const joi_day_names[7];

/* 1 when name is a zone of the system's time-zone database, else 0. */
int joi_config_tz_valid(const char *name);

#endif
