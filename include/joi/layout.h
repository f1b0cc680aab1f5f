/*
 * layout.h -- how the Redis store lays a meter out: key names and the bytes of
 * members and fields.  Pure functions over (buf, len), no I/O, so every rule here
 * has byte-level unit tests (tests/unit/test_layout.c).
 *
 * The keys of a meter (each with the meter id as its hash tag, so that a sharding
 * proxy or a Redis Cluster keeps them on one server):
 *   joi:{METER}:r      sorted set: one member "time:reading" per reading, scored by
 *                      the time (digits, no leading zero; the reading in the
 *                      shortest text that reads back to it, joi_num_format)
 *   joi:{METER}:e      hash: field = UTC day number (epoch seconds / 86400), value =
 *                      JOI_BUCKETS_PER_FIELD little-endian doubles, the kWh of each
 *                      half-hour bucket of that day (see joi/summary.h)
 *   joi:{METER}:l      sorted set: the long intervals, "t1:t2:p1:p2", scored by t1
 *   joi:{METER}:token  string: the write-token record (joi/token.h)
 *   joi:{METER}:key    string: the read-key record (the same form as a token's)
 * Every suffix a meter's keys can have is in JOI_LAYOUT_METER_SUFFIXES: erasing a
 * meter deletes exactly those keys, and listing meters finds them by it, so a new
 * kind of key must be added there.
 * The plans file is under joi:{config}:doc and :version, the health probe under
 * joi:{health}:probe.
 */
#ifndef JOI_LAYOUT_H
#define JOI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "joi/meter.h"
#include "joi/num.h"
#include "joi/summary.h"

#define JOI_LAYOUT_KEY_MAX (JOI_METER_MAX + 16) /* a meter key, NUL included */
#define JOI_LAYOUT_READINGS "r"
#define JOI_LAYOUT_BUCKETS "e"
#define JOI_LAYOUT_LONGS "l"
#define JOI_LAYOUT_TOKEN "token"
#define JOI_LAYOUT_KEY "key"
/* Every suffix of a meter's keys, as an initializer list. */
#define JOI_LAYOUT_METER_SUFFIXES                                                                  \
    JOI_LAYOUT_READINGS, JOI_LAYOUT_BUCKETS, JOI_LAYOUT_LONGS, JOI_LAYOUT_TOKEN, JOI_LAYOUT_KEY
/* The match pattern of every key that may be a meter's (SCAN MATCH). */
#define JOI_LAYOUT_METER_PATTERN "joi:{*}:*"
#define JOI_LAYOUT_CONFIG_DOC "joi:{config}:doc"
#define JOI_LAYOUT_CONFIG_VERSION "joi:{config}:version"
#define JOI_LAYOUT_HEALTH_PROBE "joi:{health}:probe"

/* Writes meter's key with the given suffix (JOI_LAYOUT_READINGS...) into out
 * (JOI_LAYOUT_KEY_MAX bytes). */
void joi_layout_key(char *out, const char *meter, const char *suffix);

/* Splits key name s[0..len) "joi:{METER}:SUFFIX": when METER is a meter id and
 * SUFFIX one of JOI_LAYOUT_METER_SUFFIXES, copies METER into meter
 * (JOI_METER_MAX + 1 bytes), points *suffix at the static suffix and returns 0;
 * else -1 (the plans' and the health probe's keys, anything else). */
int joi_layout_key_split(const char *s, size_t len, char *meter, const char **suffix);

/* The longest member joi_layout_member_format writes, NUL included. */
#define JOI_LAYOUT_MEMBER_MAX (13 + JOI_NUM_MAX)

/* Writes the member of reading (time, kw) into out (JOI_LAYOUT_MEMBER_MAX bytes)
 * and returns its length; *timelen is the length of its time part (its first
 * characters: the member's score as text). */
size_t joi_layout_member_format(int64_t time, double kw, char *out, size_t *timelen);

/* Checks member s[0..len): returns the length of its time part and sets *time, or
 * returns 0 when it is not a member the store writes (the reading then starts after
 * the time and a ':').  The reading's text must be a JSON number that reads as a
 * finite double. */
size_t joi_layout_member_split(const char *s, size_t len, int64_t *time);

/* Parses member s[0..len).  Returns 0, or -1 when it is malformed. */
int joi_layout_member_parse(const char *s, size_t len, int64_t *time, double *kw);

/* Appends the non-zero buckets of one field of :e (day, value v[0..len)) to out
 * (room for JOI_BUCKETS_PER_FIELD more), in order.  Returns 0, or -1 when the value
 * is not JOI_BUCKETS_PER_FIELD doubles. */
int joi_layout_buckets_parse(int64_t day, const char *v, size_t len, struct joi_bucket_energy *out,
                             size_t *n);

/* Parses a member of :l ("t1:t2:p1:p2", NUL-terminated).  Returns 0, or -1. */
int joi_layout_interval_parse(const char *s, struct joi_interval *out);

#endif
