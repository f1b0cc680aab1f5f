/*
 * store_redis_members.c -- layout 1's members ("time:reading", one per reading)
 * read while hiredis reads the reply (see joi/redis_conn.h's sink): parsed straight
 * into readings, or handed over with their stored text.  The migration from layout
 * 1 reads them this way, and tests/fuzz/fuzz_reply.c fuzzes the reader with these
 * functions (joi_store_redis_reader_new).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "joi/buf.h"
#include "joi/chunk.h"
#include "joi/layout.h"
#include "joi/num.h"
#include "joi/redis_conn.h"
#include "joi/store.h"
#include "joi/store_redis_internal.h"
#include "joi/summary.h"
#include "joi/timeparse.h"

/* A list of readings ("time:reading" members, as ZRANGEBYSCORE answers) goes to a
 * member_sink while hiredis reads it (see joi/redis_conn.h): parsed straight into
 * the caller's readings, or handed to readings_each's fn with its text as stored,
 * never built as a reply object per member. */
struct member_sink {
    struct joi_redis_sink rs; /* what the connection sees; rs.arg is this sink */
    struct joi_readings *out; /* either the readings, parsed */
    joi_store_reading_fn fn;  /* or each reading handed to fn (readings_each) */
    void *arg;
    /* fn's newest-first lists: the members are held here ("time:reading" each,
     * ends[k] where the k-th ends) until the reply is complete, then handed over
     * oldest first.  NULL when members go to fn as they arrive. */
    struct joi_buf *held;
    size_t *ends;
    size_t cap;
    size_t start; /* out->n before the command: a retried command starts there */
};

/* Hands member "time:reading" to the sink's fn (or holds it, for a newest-first
 * list): the reading's text as stored, which the store writes in the shortest form
 * that reads back (joi_num_format).  Returns -1 when the member is malformed. */
static int member_take(struct member_sink *sink, const char *str, size_t len)
{
    int64_t t;
    size_t tl = joi_layout_member_split(str, len, &t);
    if (tl == 0)
        return -1;
    if (sink->held == NULL) {
        sink->fn(sink->arg, t, str + tl + 1, len - tl - 1);
        return 0;
    }
    joi_buf_append(sink->held, str, len);
    if (sink->rs.count >= sink->cap) { /* indexed by count, which malformed members advance too */
        while (sink->rs.count >= sink->cap)
            sink->cap = sink->cap ? 2 * sink->cap : 64;
        sink->ends = joi_mem_realloc(sink->ends, sink->cap * sizeof *sink->ends);
    }
    sink->ends[sink->rs.count] = sink->held->len;
    return 0;
}

/* The sink's element(): a member, parsed or handed over. */
static int member_element(void *arg, const char *str, size_t len)
{
    struct member_sink *sink = arg;
    if (sink->fn)
        return member_take(sink, str, len);
    int64_t t;
    double kw;
    if (joi_layout_member_parse(str, len, &t, &kw) != 0)
        return -1;
    joi_readings_push(sink->out, t, kw);
    return 0;
}

/* The sink's restart(): what an attempt that failed took is forgotten. */
static void member_restart(void *arg)
{
    struct member_sink *sink = arg;
    if (sink->held)
        joi_buf_reset(sink->held);
    else
        sink->out->n = sink->start;
}

/* A sink for out (parsed readings) or fn (readings_each); held, when not NULL, is
 * where a newest-first list waits to be handed over oldest first. */
static void member_sink_init(struct member_sink *sink, struct joi_readings *out,
                             joi_store_reading_fn fn, void *arg, struct joi_buf *held)
{
    memset(sink, 0, sizeof *sink);
    sink->rs.element = member_element;
    /* Readings handed to fn as they arrive cannot be taken back. */
    sink->rs.restart = fn && held == NULL ? NULL : member_restart;
    sink->rs.arg = sink;
    sink->out = out;
    sink->fn = fn;
    sink->arg = arg;
    sink->held = held;
    sink->start = out ? out->n : 0;
}

void *joi_store_redis_reader_new(struct joi_readings *readings, joi_store_reading_fn fn, void *arg)
{
    redisReader *reader = redisReaderCreate();
    if (reader == NULL)
        return NULL;
    joi_redis_reader_install(reader);
    if (readings || fn) {
        struct member_sink *sink = joi_mem_alloc(sizeof *sink);
        member_sink_init(sink, readings, readings ? NULL : fn, arg, NULL);
        reader->privdata = &sink->rs;
    }
    return reader;
}

void joi_store_redis_reader_free(void *p)
{
    redisReader *reader = p;
    if (reader == NULL)
        return;
    struct joi_redis_sink *rs = reader->privdata;
    if (rs) {
        struct member_sink *sink = rs->arg;
        free(sink->ends);
        free(sink);
    }
    redisReaderFree(reader);
}

int joi_store_redis_members_range(struct joi_redis *conn, const char *key, long long start,
                                  long long stop, struct joi_readings *out, struct joi_error *err)
{
    struct member_sink sink;
    member_sink_init(&sink, out, NULL, NULL, NULL);
    char lo[24], hi[24];
    const char *argv[] = {"ZRANGE", key, joi_store_redis_digits(start, lo),
                          joi_store_redis_digits(stop, hi)};
    conn->sink = &sink.rs;
    redisReply *rep = joi_redis_run_str(conn, 4, argv, err);
    conn->sink = NULL;
    if (rep == NULL)
        return -1;
    if (!joi_redis_sink_took(rep)) {
        freeReplyObject(rep);
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    }
    if (sink.rs.malformed)
        return joi_error_set(err, 500, "the store holds a malformed reading");
    return 0;
}
