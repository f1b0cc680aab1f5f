/*
 * jsonw.h -- the API's JSON written straight into a buffer.
 *
 * The answers on the hot paths (readings, costs) have a fixed shape, so they are
 * written here rather than built as json-c objects (a hash table per object).
 * The text is what json.c's json-c output gives for the same values: numbers in
 * the shortest round-trip form (joi_num_format), strings escaped as json-c
 * escapes them (without escaping '/'), no white space.  Every function appends
 * to b and cannot fail (joi_buf aborts when memory runs out).
 */
#ifndef JOI_JSONW_H
#define JOI_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "joi/buf.h"

/* s as it is: punctuation and keys the caller knows need no escaping. */
void joi_jsonw_raw(struct joi_buf *b, const char *s);
/* A finite double in the shortest form that reads back to it. */
void joi_jsonw_number(struct joi_buf *b, double v);
void joi_jsonw_int(struct joi_buf *b, long long v);
/* A JSON string, quoted and escaped. */
void joi_jsonw_string(struct joi_buf *b, const char *s);
/* One element of a readings array, {"time":T,"reading":R}, with a comma before it
 * when comma is 1.  reading[0..len) is the reading's text as stored: a JSON number
 * in its shortest round-trip form, copied as it is. */
void joi_jsonw_reading(struct joi_buf *b, int comma, int64_t time, const char *reading, size_t len);

#endif
