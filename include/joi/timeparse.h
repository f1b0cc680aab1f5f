/*
 * timeparse.h -- times on input.
 *
 * A time is an epoch-seconds integer from 0 to JOI_TIME_MAX, or an RFC 3339
 * date-time string with a `Z` or `+hh:mm`/`-hh:mm` offset; fractional seconds
 * are dropped.  Both parsers are pure functions of their arguments.
 */
#ifndef JOI_TIMEPARSE_H
#define JOI_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#define JOI_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

/* Parses an RFC 3339 date-time ("2024-01-01T07:01:00Z", "...T08:01:00.5+01:00").
 * Returns 0 and sets *out, or -1 when s is not a valid date-time in range. */
int joi_time_parse_rfc3339(const char *s, size_t len, int64_t *out);

/* Parses a plain decimal integer (digits only, no sign) in 0..JOI_TIME_MAX.
 * Returns 0 and sets *out, or -1. */
int joi_time_parse_epoch(const char *s, size_t len, int64_t *out);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t joi_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
