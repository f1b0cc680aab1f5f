/*
 * store.h -- the store interface.
 *
 * A store is a struct of function pointers, like hiredis's transports: the
 * Redis one (store_redis.c) serves the workers and the end-to-end tests, an
 * in-memory one (store_mem.c) serves unit tests and fuzzers.  Every function
 * returns 0 on success or -1 with err set: 503 when the store cannot be
 * reached, timed out or refuses for now (out of memory, cannot write to its disk,
 * loading, a read-only replica, busy: nothing was written, and the client may try
 * again; err->detail says which), 500 for anything else; the one exception,
 * readings_put's 1 (the token record changed), is described there.
 */
#ifndef JOI_STORE_H
#define JOI_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "joi/buf.h"
#include "joi/error.h"
#include "joi/price.h"
#include "joi/summary.h"
#include "joi/readings.h"

struct joi_store;

/* What readings_each hands over per reading. */
typedef void (*joi_store_reading_fn)(void *arg, int64_t time, const char *text, size_t len);

/* What meters_each hands over: one key of a meter, named by its suffix (one of
 * JOI_LAYOUT_METER_SUFFIXES, joi/layout.h), meter and suffix borrowed for the call. */
typedef void (*joi_store_meter_fn)(void *arg, const char *meter, const char *suffix);

struct joi_store_ops {
    /* Health: 0 when requests can be served and a write can succeed now; else -1
     * with err set (503 and the reason, as for any other call).  The Redis store
     * writes a probe key to find out (see store_redis.c). */
    int (*ping)(struct joi_store *s, struct joi_error *err);
    /* Stores readings atomically: all or nothing; a time already stored is replaced,
     * and within the batch the last occurrence of a time wins.  Only while the meter's
     * write-token record is `token` ("" for an open meter), checked in the same atomic
     * step: otherwise nothing is written, the current record ("" for none) is copied
     * to current (currentlen bytes) and 1 is returned, for the caller to check the
     * request against it and try again. */
    int (*readings_put)(struct joi_store *s, const char *meter, const struct joi_reading *r,
                        size_t n, const char *token, char *current, size_t currentlen,
                        struct joi_error *err);
    /* Appends the readings with from <= time <= to to out, ascending by time.  When
     * limit > 0 only the latest `limit` of them; when limit == 0 all of them, but
     * never more than JOI_READINGS_MAX + 1 (the oldest): a caller that gets that
     * many knows the range holds more than the bound, and the work of the call
     * stays bounded whatever the meter has stored. */
    int (*readings_get)(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                        size_t limit, struct joi_readings *out, struct joi_error *err);
    /* The same readings as readings_get (with the same bound), handed to fn one by one, ascending
     * by time: each one's time and its stored text (a JSON number in the shortest form that reads
     * back to the reading; text[0..len) is borrowed for the call).  This is the path for answers
     * that print readings (JSON, CSV): the text is never parsed or formatted again.  *count is the
     * number of readings handed over.  On failure fn may already have seen some readings: the
     * caller discards what it wrote. */
    int (*readings_each)(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                         size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                         struct joi_error *err);
    /* A meter's pre-aggregates (see joi/price.h), sorted; count 0 when it has no
     * readings.  Free with joi_summary_free.  *config_version is the plans file's
     * version (as config_get gives it), read in the same round trip: pricing needs
     * both. */
    int (*summary_get)(struct joi_store *s, const char *meter, struct joi_summary *out,
                       long long *config_version, struct joi_error *err);
    /* The pre-aggregates of the readings with from <= time <= to alone, as if they
     * were all the meter had: what joi_summary_build() gives for them (sums
     * within rounding), an interval that crosses from or to left out; count 0
     * when there are none.  Sorted; free with joi_summary_free.  The Redis store
     * reads the day records of the whole days inside the range and decodes only
     * the chunks of the two edge days (and the head). */
    int (*summary_range)(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                         struct joi_summary *out, struct joi_error *err);
    /* Appends the readings in each of n inclusive ranges [ranges[2i], ranges[2i+1]]
     * to out (in one round trip where the store allows); the caller sorts them. */
    int (*readings_get_ranges)(struct joi_store *s, const char *meter, const int64_t *ranges,
                               size_t n, struct joi_readings *out, struct joi_error *err);
    /* Number of readings a meter has. */
    int (*readings_count)(struct joi_store *s, const char *meter, long long *count,
                          struct joi_error *err);
    /* The plans file.  *version is the caller's known version on entry; when the
     * stored one differs, *doc is set to a malloc'ed copy (caller frees) and
     * *version updated, else *doc is NULL.  Version 0 = no file loaded. */
    int (*config_get)(struct joi_store *s, long long *version, char **doc, size_t *len,
                      struct joi_error *err);
    /* Replaces the plans file (already validated) and bumps its version. */
    int (*config_put)(struct joi_store *s, const char *doc, size_t len, struct joi_error *err);
    /* Sets (record != NULL) or removes (record == NULL) a meter's token record. */
    int (*token_set)(struct joi_store *s, const char *meter, const char *record,
                     struct joi_error *err);
    /* Sets (record != NULL) or removes (record == NULL) a meter's read-key record. */
    int (*key_set)(struct joi_store *s, const char *meter, const char *record,
                   struct joi_error *err);
    /* Copies a meter's read-key record into record (len bytes, NUL included; "" when
     * the meter has none).  A stored record that does not fit is a 500. */
    int (*key_get)(struct joi_store *s, const char *meter, char *record, size_t len,
                   struct joi_error *err);
    /* Hands fn each key of a meter the store holds (readings, aggregates, credentials),
     * in no particular order, a meter's keys not necessarily together.  The Redis
     * store SCANs its one server: behind a sharding proxy, which does not pass SCAN,
     * this fails (500) and the caller must ask each shard (joi-admin --shard). */
    int (*meters_each)(struct joi_store *s, joi_store_meter_fn fn, void *arg,
                       struct joi_error *err);
    /* Erases every key of the meter (JOI_LAYOUT_METER_SUFFIXES) in one atomic step;
     * *deleted is the number of keys that existed. */
    int (*meter_delete)(struct joi_store *s, const char *meter, long long *deleted,
                        struct joi_error *err);
    void (*free)(struct joi_store *s);
};

struct joi_store {
    const struct joi_store_ops *ops;
};

/* Frees a store of any kind.  s can be NULL. */
void joi_store_free(struct joi_store *s);

/* The Redis store.  addr is "unix:/path" or "host:port"; timeout_ms bounds connect,
 * every read and every write.  Connecting is lazy (on first use, and again after any
 * I/O error), so this returns NULL only when addr is malformed. */
struct joi_store *joi_store_redis_new(const char *addr, int timeout_ms);

/* For tests that feed bytes to the Redis store's reply reader (tests/fuzz/fuzz_reply.c):
 * a hiredis redisReader (void * here, so that only the store includes hiredis.h)
 * that builds replies with the store's functions.  With readings or fn not NULL,
 * every top-level array is read as a range read reads it: its members parsed into
 * readings, or else handed to fn(arg, ...) as readings_each hands them, and the
 * reply given back is a static object.  Free each reply with the reader's fn->freeObject
 * (never freeReplyObject), the reader with joi_store_redis_reader_free.  NULL when
 * hiredis is out of memory. */
void *joi_store_redis_reader_new(struct joi_readings *readings, joi_store_reading_fn fn, void *arg);
/* Frees a reader from joi_store_redis_reader_new.  reader can be NULL. */
void joi_store_redis_reader_free(void *reader);

/* An in-memory store for tests and fuzzers. */
struct joi_store *joi_store_mem_new(void);
/* Makes every call of the in-memory store fail with 503 while down is 1. */
void joi_store_mem_set_down(struct joi_store *s, int down);

#endif
