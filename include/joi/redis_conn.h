/*
 * redis_conn.h -- one connection to Redis: commands, pipelines, scripts, and the
 * reading of replies (redis_conn.c).
 *
 * Only the Redis store (store_redis*.c, which knows the key names and what the
 * members mean) and the migration between its layouts (migrate.c) use this; only
 * they include hiredis.h.  A connection
 * is opened on first use and again after any failure; every call either returns
 * a whole reply or fails with err set and leaves nothing owed on the connection.
 *
 * Every function that returns a reply returns it to the caller, who frees it once
 * with freeReplyObject() -- except the one a sink took (joi_redis_sink_took), which
 * is static and never freed.
 */
#ifndef JOI_REDIS_CONN_H
#define JOI_REDIS_CONN_H

#include <stddef.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "joi/error.h"

/* Takes the elements of a reply's top-level array as hiredis reads them (see
 * redis_conn.c): element() gets each string element (str[0..len) borrowed for the
 * call) and returns 0, or -1 when it cannot use it (the element is "malformed").
 * Any element that is not a string is malformed too.  The reply the command then
 * returns is the sink's static one. */
struct joi_redis_sink {
    int (*element)(void *arg, const char *str, size_t len);
    /* Called before each attempt of the command, to forget what element() was given
     * by an attempt that failed.  NULL when that cannot be done: then a command that
     * failed after elements were handed over is not tried again. */
    void (*restart)(void *arg);
    void *arg;
    size_t count;  /* elements seen in this attempt */
    int malformed; /* 1 when some element was malformed */
};

struct joi_redis {
    redisContext *c; /* NULL while not connected */
    int pending;     /* commands sent on c whose replies have not been read */
    char *path;      /* unix socket, or NULL */
    char *host;
    int port;
    struct timeval timeout;
    struct joi_redis_sink *sink; /* set by the caller for one joi_redis_run */
};

/* Prepares r for addr ("unix:/path" or "host:port", "[::1]:6379" too) without
 * connecting; timeout_ms bounds connect, every read and every write.  Returns 0, or
 * -1 when addr is malformed. */
int joi_redis_init(struct joi_redis *r, const char *addr, int timeout_ms);
/* Closes the connection and frees what init allocated. */
void joi_redis_close(struct joi_redis *r);

/* Runs one command (with r->sink, if set, for its reply).  Returns the reply, or
 * NULL with err set: 503 for I/O errors and timeouts, as joi_redis_error says for an
 * error reply -- except that EVALSHA's NOSCRIPT is returned, for joi_redis_eval to
 * fall back on.  A command that failed because Redis had closed an idle connection
 * (it restarted) is tried once more on a new one: every command the store sends is
 * idempotent. */
redisReply *joi_redis_run(struct joi_redis *r, int argc, const char **argv, const size_t *lens,
                          struct joi_error *err);

/* joi_redis_run with NUL-terminated arguments (at most 16). */
redisReply *joi_redis_run_str(struct joi_redis *r, int argc, const char **argv,
                              struct joi_error *err);

/* joi_redis_run_str for a command whose reply only says it was done: returns 0, or
 * -1 with err set. */
int joi_redis_do_str(struct joi_redis *r, int argc, const char **argv, struct joi_error *err);

/* EVALSHA sha, falling back to EVAL script on NOSCRIPT.  argv[0] and argv[1] are
 * filled here; the keys and arguments follow from argv[2].  Returns as joi_redis_run
 * does (never the NOSCRIPT reply). */
redisReply *joi_redis_eval(struct joi_redis *r, const char *script, const char *sha, int argc,
                           const char **argv, size_t *lens, struct joi_error *err);

/* Sends ncmd commands (each NUL-terminated arguments, at most 8 a command), then
 * reads every reply into reps, even after an error reply; tried once more on a
 * stale connection.  Returns 0, or -1 with err set and every reply freed. */
int joi_redis_pipeline(struct joi_redis *r, int ncmd, const char **const *argvs, const int *argcs,
                       redisReply **reps, struct joi_error *err);

/* One page of SCAN MATCH pattern from cursor (a NUL-terminated decimal, at most 31
 * characters; "0" to start), which is set to the next page's ("0" after the last).
 * Returns the page's array of keys (the caller frees the reply it is part of:
 * *reply), or NULL with err set. */
const redisReply *joi_redis_scan(struct joi_redis *r, char cursor[32], const char *pattern,
                                 redisReply **reply, struct joi_error *err);

/* 1 when rep is the reply of a command whose array a sink took. */
int joi_redis_sink_took(const redisReply *rep);

/* Maps a Redis error reply ("OOM command not allowed ...") to err: 503 with the
 * reason for a refusal that may clear (OOM, MISCONF, LOADING, READONLY, NOREPLICAS,
 * BUSY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN, a proxy's "ERR Connection..." or "ERR
 * Server...", a timeout), also when raised inside a script; 500 "the store refused a
 * command" for anything else.  Returns -1. */
int joi_redis_error(const char *msg, struct joi_error *err);

/* One line on stderr (the worker's error log): what failed and why. */
void joi_redis_log(const char *what, const char *why);

/* Makes reader build replies with this file's functions: with reader->privdata a
 * joi_redis_sink, a top-level array goes to it.  For tests that feed bytes to a
 * reader (tests/fuzz/fuzz_reply.c, through joi_store_redis_reader_new). */
void joi_redis_reader_install(redisReader *reader);

#endif
