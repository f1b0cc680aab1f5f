/*
 * store_redis_internal.h -- what the files of the Redis store share (for
 * src/store_redis*.c, and src/migrate.c, which reads layout 1's members; everyone
 * else uses joi/store.h).
 */
#ifndef JOI_STORE_REDIS_INTERNAL_H
#define JOI_STORE_REDIS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "joi/readings.h"
#include "joi/redis_conn.h"
#include "joi/store.h"
#include "joi/summary.h"

struct redis_store {
    struct joi_store base;
    struct joi_redis conn;
    int layout_ok; /* the store's layout version was found to be JOI_LAYOUT_VERSION */
};

/* Checks once per connection that the store is of layout JOI_LAYOUT_VERSION:
 * 0, or -1 with a 503 that says what to run. */
int joi_store_redis_layout_check(struct redis_store *r, struct joi_error *err);

/* The one chunk member of a ZRANGEBYSCORE day day reply (*out NULL for none):
 * 0, or -1 with err set. */
int joi_store_redis_one_chunk(const redisReply *rep, const redisReply **out, struct joi_error *err);

/* The head's readings (head bytes h[0..len)) appended to out; *day is its day.
 * 0, or -1 with a 500. */
int joi_store_redis_head_readings(const char *h, size_t len, int64_t *day, struct joi_readings *out,
                                  struct joi_error *err);

/* Appends the layout-1 members "time:reading" of ranks start..stop (ZRANGE, as
 * Redis counts them: ascending by time) of sorted set key to out, parsed as
 * hiredis reads them (no reply object per member).  Returns 0, or -1 with err set:
 * 500 "the store holds a malformed reading" when any member is not one layout 1
 * writes (out then holds what parsed), as joi_redis_run for the command. */
int joi_store_redis_members_range(struct joi_redis *conn, const char *key, long long start,
                                  long long stop, struct joi_readings *out, struct joi_error *err);

/* The 500 of a chunk, head or record that does not decode.  Returns -1. */
int joi_store_redis_malformed(struct joi_error *err);

/* v in digits into out (24 bytes), NUL-terminated; returns out. */
const char *joi_store_redis_digits(long long v, char *out);

/* The store functions of store_redis_write.c and store_redis_read.c (joi/store.h
 * has their contracts). */
int joi_store_redis_readings_put(struct joi_store *s, const char *meter,
                                 const struct joi_reading *batch, size_t nbatch, const char *token,
                                 char *current, size_t currentlen, struct joi_error *err);
int joi_store_redis_readings_get(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                                 size_t limit, struct joi_readings *out, struct joi_error *err);
int joi_store_redis_readings_each(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                                  size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                                  struct joi_error *err);
int joi_store_redis_summary_get(struct joi_store *s, const char *meter, struct joi_summary *out,
                                long long *config_version, struct joi_error *err);
int joi_store_redis_summary_range(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                                  struct joi_summary *out, struct joi_error *err);
int joi_store_redis_readings_get_ranges(struct joi_store *s, const char *meter,
                                        const int64_t *ranges, size_t n, struct joi_readings *out,
                                        struct joi_error *err);
int joi_store_redis_readings_count(struct joi_store *s, const char *meter, long long *count,
                                   struct joi_error *err);

#endif
