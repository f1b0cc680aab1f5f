/*
 * layout.h -- how the Redis store lays a meter out: key names and the bytes of
 * members and fields.  Pure functions over (buf, len), no I/O, so every rule here
 * has byte-level unit tests (tests/unit/test_layout.c).
 *
 * LAYOUT 2 (the store's joi:{config}:layout holds "2").  The keys of a meter, each
 * with the meter id as its hash tag, so that a sharding proxy or a Redis Cluster
 * keeps them on one server:
 *   joi:{METER}:r      sorted set of sealed days: score = the UTC day's start (epoch
 *                      seconds), member = joi_chunk_encode of that day's readings
 *                      (joi/chunk.h; its first byte is the chunk version, 0x01)
 *   joi:{METER}:h      string, the open head: the readings of the meter's newest day,
 *                      which has no chunk yet: a header "DAY\n" (the day number,
 *                      epoch seconds / 86400, in digits), then records
 *                      "time:reading\n" appended as batches come, in any order;
 *                      of records with one time the last one counts
 *   joi:{METER}:e      hash: field = day number (digits), value = the day record of
 *                      that day's chunk (joi_layout_day_encode below): count,
 *                      first and last reading, half-hour buckets, long intervals
 *   joi:{METER}:token  string: the write-token record (joi/token.h)
 *   joi:{METER}:key    string: the read-key record (the same form as a token's)
 *   joi:{METER}:turn   string, the id of the batch whose turn it is, with an
 *                      expiry (1 s): there only while a batch that lost a race
 *                      is tried again; the meter's other writers wait for it
 *                      (redis/store_batch.lua)
 * Every suffix a meter's keys can have is in JOI_LAYOUT_METER_SUFFIXES: erasing a
 * meter deletes exactly those keys, and listing meters finds them by it, so a new
 * kind of key must be added there.
 * Every day of a meter is in exactly one place: a chunk (and its record) for a day
 * before the head's day, the head for the newest day.
 *
 * LAYOUT 1 (no joi:{config}:layout key; converted by joi-admin migrate): :r held one
 * member "time:reading" per reading, :e a day of 48 little-endian doubles per
 * field, :l the long intervals "t1:t2:p1:p2".  The member functions below still read
 * those members (the migration does), and write the head's records.
 *
 * The plans file is under joi:{config}:doc and :version, the health probe under
 * joi:{health}:probe.
 */
#ifndef JOI_LAYOUT_H
#define JOI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "joi/meter.h"
#include "joi/num.h"
#include "joi/buf.h"
#include "joi/error.h"
#include "joi/summary.h"

#define JOI_LAYOUT_KEY_MAX (JOI_METER_MAX + 16) /* a meter key, NUL included */
#define JOI_LAYOUT_READINGS "r"
#define JOI_LAYOUT_BUCKETS "e"
#define JOI_LAYOUT_LONGS "l"
#define JOI_LAYOUT_TOKEN "token"
#define JOI_LAYOUT_HEAD "h"
#define JOI_LAYOUT_DAYS "e" /* layout 2: day records; layout 1: buckets */
#define JOI_LAYOUT_VERSION_KEY "joi:{config}:layout"
#define JOI_LAYOUT_VERSION "2"
#define JOI_LAYOUT_DAY_SECONDS 86400
#define JOI_LAYOUT_KEY "key"
#define JOI_LAYOUT_TURN "turn"
/* Every suffix of a meter's keys, as an initializer list. */
#define JOI_LAYOUT_METER_SUFFIXES                                                                  \
    JOI_LAYOUT_READINGS, JOI_LAYOUT_BUCKETS, JOI_LAYOUT_LONGS, JOI_LAYOUT_TOKEN, JOI_LAYOUT_KEY,   \
        JOI_LAYOUT_HEAD, JOI_LAYOUT_TURN
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

/* ---- layout 2 ---- */

/* The UTC day number of time t (>= 0). */
int64_t joi_layout_day(int64_t t);

/* Appends the head's header for day `day` ("DAY\n") to out. */
void joi_layout_head_header(struct joi_buf *out, int64_t day);

/* Appends the head record of reading (time, kw) ("time:reading\n") to out. */
void joi_layout_head_record(struct joi_buf *out, int64_t time, double kw);

/* A reading of the head: its time and its text, borrowed from the head's bytes. */
struct joi_layout_head_entry {
    int64_t time;
    const char *text;
    size_t len;
};

/* Parses a head h[0..len): sets *day and *out (malloc'ed, caller frees; NULL when
 * there are no records) to its readings ascending by time, of records with one
 * time the last one, and *n.  Returns 0, or -1 with err set (500 "the store holds
 * a malformed reading") when the header or any record is not what
 * joi_layout_head_header/record write, or a record's time is not in the day. */
int joi_layout_head_parse(const char *h, size_t len, int64_t *day,
                          struct joi_layout_head_entry **out, size_t *n, struct joi_error *err);

/* THE DAY RECORD, version 1 (a field of :e):
 *   byte 0   0x01
 *   varint   count (1 .. 86400)
 *   varint   first - day start (0 .. 86399)
 *   varint   last - first
 *   8 bytes  first reading, 8 bytes last reading (little-endian IEEE doubles)
 *   varint   nlong_intervals, then each long interval: varint t1 - day start, varint
 *            t2 - t1, 8 bytes p1, 8 bytes p2
 *   byte     1 when the buckets follow, 0 when they are left out (cheaper to
 *            recompute from the chunk than to keep: fewer than 8 readings a
 *            bucket, as for 15-minute readings)
 *   6 bytes  (buckets) bit k of byte k / 8: bucket k is present, then 8 bytes
 *            (double) per present bucket, in order
 * Varints are LEB128 as in the chunk format; nothing follows.  The record holds
 * the day's own intervals only (see joi_summary_day). */

/* 1 when d's buckets are worth keeping in its record: at most a byte a reading. */
int joi_layout_day_keeps_buckets(const struct joi_summary_day *d);

/* Appends d's record to out (its buckets when d->has_buckets). */
void joi_layout_day_encode(const struct joi_summary_day *d, struct joi_buf *out);

/* Decodes the record of day `day` from v[0..len) into out (free with
 * joi_summary_day_free).  Returns 0, or -1 with err set (500 "the store holds a
 * malformed day record") and nothing to free. */
int joi_layout_day_decode(int64_t day, const unsigned char *v, size_t len,
                          struct joi_summary_day *out, struct joi_error *err);

/* What layout 2 keeps for a sealed day: appends to chunk the joi_chunk_encode of
 * readings r[0..n) (n >= 1, sorted, distinct times, all in UTC day `day`) and to
 * rec the day's record (joi_layout_day_encode, its buckets when
 * joi_layout_day_keeps_buckets says so): the bytes a batch stores for a day, and
 * the migration from layout 1 too.  Returns 0, or -1 with err set as
 * joi_chunk_encode sets it (then rec is left as it was). */
int joi_layout_day_build(const struct joi_reading *r, size_t n, int64_t day, struct joi_buf *chunk,
                         struct joi_buf *rec, struct joi_error *err);

/* Reads only the count of a day record.  Returns it, or -1 when malformed. */
long long joi_layout_day_count(const unsigned char *v, size_t len);

#endif
