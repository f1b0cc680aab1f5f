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

#endif
