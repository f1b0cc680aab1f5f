/*
 * num.h -- numbers as the API writes them.
 *
 * The contract writes every number in the shortest form that reads back to
 * the same double: 0.1, not 0.10000000000000001; 100, not 1e+02.
 */
#ifndef JOI_NUM_H
#define JOI_NUM_H

#include <stddef.h>

/* Longest text joi_num_format can write, NUL included. */
#define JOI_NUM_MAX 32

/* Writes the shortest round-trip decimal form of the finite double v into
 * out (at least JOI_NUM_MAX bytes) and returns its length.  -0 is written as 0.
 * v must be finite (the caller checks isfinite()). */
size_t joi_num_format(double v, char *out);

/* Writes the decimal form of v into out (at least 21 bytes) and returns its
 * length; out is not NUL-terminated. */
size_t joi_num_int(long long v, char *out);

/* Reads the number text s[0..len) as strtod would (the same double), with a fast
 * path for plain decimals of up to 15 digits.  Returns 0, or -1 when s[0..len)
 * is not a number as a whole. */
int joi_num_parse(const char *s, size_t len, double *out);

/* The JSON number grammar (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?),
 * the one rule for every module that checks a number's text: returns the length of
 * the longest number that s[0..len) starts with, or 0 when it starts with none.
 * *exponent (when not NULL) is set to 1 when that number has an exponent part. */
size_t joi_num_json_span(const char *s, size_t len, int *exponent);

#endif
