/*
 * store_redis.c -- the Redis store (see joi/store.h).
 *
 * The only module that includes hiredis.h, and the only one that knows key
 * names.  Every key of a meter carries the meter id as a hash tag
 * ("joi:{smart-meter-0}:r") and the plans file lives under its own tag
 * ("joi:{config}:..."), so a Redis Cluster or a sharding proxy can place them.
 *
 * Rules:
 *  - Every reply is checked: NULL (I/O error: the context is dropped and the
 *    next call reconnects), then REDIS_REPLY_ERROR, then the expected type.
 *    freeReplyObject() once, on the top-level reply.
 *  - Scripts run with EVALSHA; on NOSCRIPT the same call is repeated with EVAL
 *    (never SCRIPT LOAD, which sharding proxies refuse).
 *  - connect, read and write are bounded by the timeout; a timeout is a 503.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "joi/buf.h"
#include "joi/num.h"
#include "joi/store.h"
#include "joi/timeparse.h"
#include "scripts.h"

#define KEY_CONFIG_DOC "joi:{config}:doc"
#define KEY_CONFIG_VERSION "joi:{config}:version"

/* A list of readings ("time:reading" members, as ZRANGEBYSCORE answers) is parsed
 * while hiredis reads it, straight into the caller's readings, rather than into a
 * reply object per member: the reader's functions are hiredis's own, except while a
 * member_sink is the reader's privdata, and then only for a top-level array and the
 * strings in it.  Anything else (an error reply, say) is built by hiredis's functions
 * as usual, and the caller tells the two apart by the pointer it gets back. */
struct member_sink {
    struct joi_readings *out; /* either the readings, parsed */
    struct joi_buf *json;     /* or the read endpoint's JSON entries, comma-separated */
    size_t start; /* out->n or json->len before the command: a retried command starts there */
    size_t count; /* members taken */
    size_t *ends; /* json: where each entry ends (for turning a newest-first list around) */
    size_t cap;
    int malformed; /* a member that is not "time:reading", or not a string */
};

struct redis_store {
    struct joi_store base;
    redisContext *c;
    char *path; /* unix socket, or NULL */
    char *host;
    int port;
    struct timeval timeout;
    struct member_sink *sink; /* set for the duration of one command */
};

static redisReplyObjectFunctions *hiredis_fns; /* hiredis's own, from the first context */
static redisReplyObjectFunctions sink_fns;
static char sink_obj; /* what hiredis holds for a member list and for each member */
#define SINK_REPLY ((redisReply *)(void *)&sink_obj)

/* Checks that s[0..len) is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if (i < len && s[i] >= '1' && s[i] <= '9')
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < len && s[i] == '.') {
        size_t d = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == len;
}

/* Splits member "time:reading" as the store writes it: the time in digits (no
 * leading zero, at most 12), the reading a JSON number.  Returns the length of the
 * time, or 0 when the member is malformed. */
static size_t split_member(const char *s, size_t len)
{
    size_t tl = 0;
    while (tl < len && s[tl] >= '0' && s[tl] <= '9')
        tl++;
    if (tl == 0 || tl > 12 || tl == len || s[tl] != ':' || (s[0] == '0' && tl > 1) ||
        !json_number(s + tl + 1, len - tl - 1))
        return 0;
    return tl;
}

/* Parses one "time:reading" member.  Returns 0, or -1 when it is malformed. */
static int parse_member(const char *s, size_t len, int64_t *time, double *kw)
{
    size_t tl = split_member(s, len);
    if (tl == 0 || joi_num_parse(s + tl + 1, len - tl - 1, kw) != 0)
        return -1;
    long long t = 0;
    for (size_t i = 0; i < tl; i++)
        t = t * 10 + (s[i] - '0');
    *time = t;
    return 0;
}

/* Appends member "time:reading" to the JSON entries as {"time":T,"reading":R}, the
 * text copied as stored: the store writes the time as digits and the reading in
 * the shortest form that reads back (joi_num_format), which is what formatting
 * the parsed numbers again would give.  Anything else is malformed. */
static int json_entry(struct member_sink *sink, const char *str, size_t len)
{
    size_t tl = split_member(str, len);
    if (tl == 0)
        return -1;
    const char *reading = str + tl + 1;
    size_t rl = len - tl - 1;
    int comma = sink->count > 0;
    char *p = joi_buf_extend(sink->json, (size_t)comma + 8 + tl + 11 + rl + 1);
    if (comma)
        *p++ = ',';
    memcpy(p, "{\"time\":", 8);
    memcpy(p + 8, str, tl);
    p += 8 + tl;
    memcpy(p, ",\"reading\":", 11);
    memcpy(p + 11, reading, rl);
    p[11 + rl] = '}';
    if (sink->ends) {
        if (sink->count == sink->cap) {
            sink->cap *= 2;
            sink->ends = joi_xrealloc(sink->ends, sink->cap * sizeof *sink->ends);
        }
        sink->ends[sink->count] = sink->json->len;
    }
    return 0;
}

/* The sink's share of a task: 1 for the top-level array, 2 for an element of it,
 * 0 when hiredis's own functions build the object. */
static int sink_role(const redisReadTask *task)
{
    if (task->privdata == NULL)
        return 0;
    if (task->parent == NULL)
        return task->type == REDIS_REPLY_ARRAY ? 1 : 0;
    return task->parent->obj == &sink_obj ? 2 : 0;
}

static void *sink_string(const redisReadTask *task, char *str, size_t len)
{
    int role = sink_role(task);
    if (role == 0)
        return hiredis_fns->createString(task, str, len);
    struct member_sink *sink = task->privdata;
    int64_t t;
    double kw;
    if (task->type != REDIS_REPLY_STRING)
        sink->malformed = 1;
    else if (sink->json)
        sink->malformed |= json_entry(sink, str, len) != 0;
    else if (parse_member(str, len, &t, &kw) != 0)
        sink->malformed = 1;
    else
        joi_readings_push(sink->out, t, kw);
    sink->count++;
    return &sink_obj;
}

static void *sink_array(const redisReadTask *task, int elements)
{
    int role = sink_role(task);
    if (role == 0)
        return hiredis_fns->createArray(task, elements);
    if (role == 2) /* a nested array: not a member list */
        ((struct member_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void *sink_integer(const redisReadTask *task, long long value)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createInteger(task, value);
    ((struct member_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void *sink_nil(const redisReadTask *task)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createNil(task);
    ((struct member_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void sink_free(void *obj)
{
    if (obj != &sink_obj)
        hiredis_fns->freeObject(obj);
}

static void log_failure(const char *what, const char *why)
{
    fprintf(stderr, "joi-worker[%d]: redis %s: %s\n", (int)getpid(), what, why);
}

static void drop(struct redis_store *r)
{
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
}

static int ensure_connected(struct redis_store *r, struct joi_error *err)
{
    if (r->c)
        return 0;
    r->c = r->path ? redisConnectUnixWithTimeout(r->path, r->timeout)
                   : redisConnectWithTimeout(r->host, r->port, r->timeout);
    if (r->c == NULL) {
        log_failure("connect", "out of memory");
        return joi_error_set(err, 503, "the store is unavailable");
    }
    if (r->c->err) {
        log_failure("connect", r->c->errstr);
        drop(r);
        return joi_error_set(err, 503, "the store is unavailable");
    }
    redisSetTimeout(r->c, r->timeout);
    if (hiredis_fns == NULL) {
        hiredis_fns = r->c->reader->fn;
        sink_fns =
            (redisReplyObjectFunctions){sink_string, sink_array, sink_integer, sink_nil, sink_free};
    }
    r->c->reader->fn = &sink_fns;
    return 0;
}

/* Appends one command to the connection's output, in the protocol's array form
 * written here: hiredis's own formatting (sdscatfmt per argument) was a sixth of a
 * pricing request's instructions.  Returns REDIS_OK or REDIS_ERR. */
static int append_command(redisContext *c, int argc, const char **argv, const size_t *lens)
{
    size_t n = 24;
    for (int i = 0; i < argc; i++)
        n += 24 + lens[i] + 2;
    char small[2048];
    char *buf = n <= sizeof small ? small : joi_xmalloc(n);
    char *p = buf;
    *p++ = '*';
    p += joi_num_int(argc, p);
    *p++ = '\r';
    *p++ = '\n';
    for (int i = 0; i < argc; i++) {
        *p++ = '$';
        p += joi_num_int((long long)lens[i], p);
        *p++ = '\r';
        *p++ = '\n';
        memcpy(p, argv[i], lens[i]);
        p += lens[i];
        *p++ = '\r';
        *p++ = '\n';
    }
    int rc = redisAppendFormattedCommand(c, buf, (size_t)(p - buf));
    if (buf != small)
        free(buf);
    return rc;
}

/* One command on the connection, with the sink (if any) set for its reply. */
static redisReply *command(struct redis_store *r, int argc, const char **argv, const size_t *lens)
{
    if (r->sink) {
        if (r->sink->json)
            r->sink->json->len = r->sink->start;
        else
            r->sink->out->n = r->sink->start;
        r->sink->count = 0;
        r->sink->malformed = 0;
    }
    r->c->reader->privdata = r->sink;
    void *rep = NULL;
    if (append_command(r->c, argc, argv, lens) != REDIS_OK || redisGetReply(r->c, &rep) != REDIS_OK)
        rep = NULL;
    if (r->c)
        r->c->reader->privdata = NULL;
    return rep;
}

/* The status for an error reply: 503 for the errors that mean the data is out
 * of reach for now (a proxy that cannot reach its server, a Redis still loading
 * its AOF after a restart, a busy script), 500 for anything else. */
static int error_reply_status(const char *msg)
{
    static const char *const unavailable[] = {"ERR Connection", "ERR Server", "LOADING",    "BUSY",
                                              "MASTERDOWN",     "TRYAGAIN",   "CLUSTERDOWN"};
    for (size_t i = 0; i < sizeof unavailable / sizeof unavailable[0]; i++)
        if (strncmp(msg, unavailable[i], strlen(unavailable[i])) == 0)
            return 503;
    return strstr(msg, "timed out") ? 503 : 500;
}

static int error_reply(const char *what, const char *msg, struct joi_error *err)
{
    log_failure(what, msg);
    int status = error_reply_status(msg);
    return joi_error_set(
        err, status, status == 503 ? "the store is unavailable" : "the store refused a command");
}

/* 1 when a command failed because the server closed a connection that had been
 * idle (Redis restarted since): worth one retry on a new connection.  A timeout
 * is not retried, so a request never waits for two. */
static int connection_was_stale(const redisContext *c, int reused)
{
    if (!reused)
        return 0;
    if (c->err == REDIS_ERR_EOF)
        return 1;
    return c->err == REDIS_ERR_IO && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

/* Runs one command.  Returns the reply (caller frees) or NULL with err set: 503
 * for I/O errors and timeouts, 500 for an error reply.  Every command the store
 * sends is idempotent, so one retry after a stale connection is safe. */
static redisReply *run(struct redis_store *r, int argc, const char **argv, const size_t *lens,
                       struct joi_error *err)
{
    int reused = r->c != NULL;
    if (ensure_connected(r, err))
        return NULL;
    redisReply *rep = command(r, argc, argv, lens);
    if (rep == NULL && connection_was_stale(r->c, reused)) {
        drop(r);
        if (ensure_connected(r, err))
            return NULL;
        rep = command(r, argc, argv, lens);
    }
    if (rep == NULL) {
        log_failure(argv[0], r->c->errstr[0] ? r->c->errstr : "no reply");
        drop(r);
        joi_error_set(err, 503, "the store is unavailable or timed out");
        return NULL;
    }
    if (rep != SINK_REPLY && rep->type == REDIS_REPLY_ERROR &&
        strncmp(rep->str, "NOSCRIPT", 8) != 0) {
        error_reply(argv[0], rep->str, err);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* EVALSHA, falling back to EVAL on NOSCRIPT.  argv[0] and argv[1] are filled here. */
static redisReply *eval(struct redis_store *r, const char *script, const char *sha, int argc,
                        const char **argv, size_t *lens, struct joi_error *err)
{
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = sha;
    lens[1] = strlen(sha);
    redisReply *rep = run(r, argc, argv, lens, err);
    if (rep && rep->type == REDIS_REPLY_ERROR) { /* NOSCRIPT */
        freeReplyObject(rep);
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = script;
        lens[1] = strlen(script);
        rep = run(r, argc, argv, lens, err);
        if (rep && rep->type == REDIS_REPLY_ERROR) {
            error_reply("EVAL", rep->str, err);
            freeReplyObject(rep);
            return NULL;
        }
    }
    return rep;
}

static void meter_key(char *out, size_t n, const char *meter, const char *suffix)
{
    snprintf(out, n, "joi:{%s}:%s", meter, suffix);
}

/* A keyed read rather than PING: a sharding proxy such as twemproxy answers PING
 * itself, even with every server behind it down, while this read must reach the
 * server that holds the plans, which every request needs. */
static int redis_ping(struct joi_store *s, struct joi_error *err)
{
    const char *argv[] = {"EXISTS", KEY_CONFIG_VERSION};
    size_t lens[] = {6, strlen(KEY_CONFIG_VERSION)};
    redisReply *rep = run((struct redis_store *)s, 2, argv, lens, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

static int redis_readings_put(struct joi_store *s, const char *meter,
                              const struct joi_reading *batch, size_t nbatch, const char *token,
                              char *current, size_t currentlen, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    /* The script takes the batch sorted, each time once: the last one sent wins. */
    struct joi_readings sorted;
    joi_readings_init(&sorted);
    for (size_t i = 0; i < nbatch; i++)
        joi_readings_push(&sorted, batch[i].time, batch[i].kw);
    joi_readings_sort_unique(&sorted);
    const struct joi_reading *rd = sorted.items;
    size_t n = sorted.n;
    char key[JOI_METER_MAX + 16], bkey[JOI_METER_MAX + 16], lkey[JOI_METER_MAX + 16];
    char tkey[JOI_METER_MAX + 16], w[16], l[16];
    meter_key(key, sizeof key, meter, "r");
    meter_key(bkey, sizeof bkey, meter, "e");
    meter_key(lkey, sizeof lkey, meter, "l");
    meter_key(tkey, sizeof tkey, meter, "token");
    snprintf(w, sizeof w, "%d", JOI_BUCKET_SECONDS);
    snprintf(l, sizeof l, "%d", JOI_LONG_INTERVAL);
    const char *fixed[] = {"4", key, bkey, lkey, tkey, w, l, token};
    const int nfixed = (int)(sizeof fixed / sizeof fixed[0]);
    const int head = 2 + nfixed; /* EVALSHA sha, then the fixed arguments */
    int argc = head + 2 * (int)n;
    const char **argv = joi_xmalloc((size_t)argc * sizeof *argv);
    size_t *lens = joi_xmalloc((size_t)argc * sizeof *lens);
    /* Times and members are written into one buffer: at most 12 + 1 + 12 + JOI_NUM_MAX. */
    size_t slot = 16 + 16 + JOI_NUM_MAX;
    char *text = joi_xmalloc(n * slot);
    for (int i = 0; i < nfixed; i++) {
        argv[2 + i] = fixed[i];
        lens[2 + i] = strlen(fixed[i]);
    }
    for (size_t i = 0; i < n; i++) {
        char *t = text + i * slot;
        int tl = snprintf(t, 16, "%lld", (long long)rd[i].time);
        char *m = t + 16;
        memcpy(m, t, (size_t)tl);
        m[tl] = ':';
        size_t ml = (size_t)tl + 1 + joi_num_format(rd[i].kw, m + tl + 1);
        argv[head + 2 * i] = t;
        lens[head + 2 * i] = (size_t)tl;
        argv[head + 1 + 2 * i] = m;
        lens[head + 1 + 2 * i] = ml;
    }
    redisReply *rep =
        eval(r, JOI_LUA_STORE_READINGS, JOI_LUA_STORE_READINGS_SHA, argc, argv, lens, err);
    free(text);
    free(lens);
    free(argv);
    joi_readings_free(&sorted);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_ARRAY) { /* the token record changed: { record } */
        if (rep->elements != 1 || rep->element[0]->type != REDIS_REPLY_STRING)
            rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
        else if (rep->element[0]->len >= currentlen)
            rc = joi_error_set(err, 500, "the store holds a malformed token record");
        else {
            memcpy(current, rep->element[0]->str, rep->element[0]->len + 1);
            rc = 1;
        }
    } else if (rep->type != REDIS_REPLY_INTEGER) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    }
    freeReplyObject(rep);
    return rc;
}

/* Parses "time:reading" members into out. */
static int parse_members(redisReply *rep, struct joi_readings *out, struct joi_error *err)
{
    if (rep->type != REDIS_REPLY_ARRAY)
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    for (size_t i = 0; i < rep->elements; i++) {
        redisReply *e = rep->element[i];
        int64_t t;
        double kw;
        if (e->type != REDIS_REPLY_STRING || parse_member(e->str, e->len, &t, &kw) != 0)
            return joi_error_set(err, 500, "the store holds a malformed reading");
        joi_readings_push(out, t, kw);
    }
    return 0;
}

/* 1 when from..to holds every time a reading can have (0..JOI_TIME_MAX). */
static int whole_history(int64_t from, int64_t to)
{
    return from <= 0 && to >= JOI_TIME_MAX;
}

/* A meter's readings from..to into the sink, the newest `limit`, or (limit 0) all
 * of them up to JOI_READINGS_MAX + 1, the oldest.  The whole history goes by rank
 * (ZRANGE 0 JOI_READINGS_MAX, or -limit -1: ascending, and cheaper for Redis than
 * comparing every score); a range by score (ZRANGEBYSCORE ... LIMIT, or
 * ZREVRANGEBYSCORE with a limit: newest first).  Returns 1 when the members came
 * newest first, 0 when ascending, -1 with err set. */
static int range_into(struct redis_store *r, const char *meter, int64_t from, int64_t to,
                      size_t limit, struct member_sink *sink, struct joi_error *err)
{
    char key[JOI_METER_MAX + 16], lo[24], hi[24], lim[24], last[24];
    meter_key(key, sizeof key, meter, "r");
    snprintf(lo, sizeof lo, "%lld", (long long)from);
    snprintf(hi, sizeof hi, "%lld", (long long)to);
    snprintf(lim, sizeof lim, "%zu", limit > 0 ? limit : (size_t)JOI_READINGS_MAX + 1);
    snprintf(last, sizeof last, "%d", JOI_READINGS_MAX); /* ranks 0 .. the bound: one too many */
    int whole = whole_history(from, to);
    r->sink = sink;
    redisReply *rep;
    if (whole) {
        char first[24];
        snprintf(first, sizeof first, "-%zu", limit);
        const char *argv[] = {"ZRANGE", key, limit > 0 ? first : "0", limit > 0 ? "-1" : last};
        size_t lens[4];
        for (int i = 0; i < 4; i++)
            lens[i] = strlen(argv[i]);
        rep = run(r, 4, argv, lens, err);
    } else if (limit > 0) {
        const char *argv[] = {"ZREVRANGEBYSCORE", key, hi, lo, "LIMIT", "0", lim};
        size_t lens[7];
        for (int i = 0; i < 7; i++)
            lens[i] = strlen(argv[i]);
        rep = run(r, 7, argv, lens, err);
    } else {
        const char *argv[] = {"ZRANGEBYSCORE", key, lo, hi, "LIMIT", "0", lim};
        size_t lens[7];
        for (int i = 0; i < 7; i++)
            lens[i] = strlen(argv[i]);
        rep = run(r, 7, argv, lens, err);
    }
    r->sink = NULL;
    if (rep == NULL)
        return -1;
    if (rep != SINK_REPLY) {
        freeReplyObject(rep);
        return joi_error_set(err, 500, "the store answered with an unexpected reply");
    }
    if (sink->malformed)
        return joi_error_set(err, 500, "the store holds a malformed reading");
    return !whole && limit > 0;
}

static int redis_readings_get(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                              size_t limit, struct joi_readings *out, struct joi_error *err)
{
    struct member_sink sink = {.out = out, .start = out->n};
    int newest_first = range_into((struct redis_store *)s, meter, from, to, limit, &sink, err);
    if (newest_first < 0)
        return -1;
    if (newest_first)
        for (size_t i = sink.start, j = out->n; i + 1 < j; i++, j--) {
            struct joi_reading x = out->items[i];
            out->items[i] = out->items[j - 1];
            out->items[j - 1] = x;
        }
    return 0;
}

static int redis_readings_json(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                               size_t limit, struct joi_buf *out, size_t *count,
                               struct joi_error *err)
{
    joi_buf_append(out, "[", 1);
    struct member_sink sink = {.json = out, .start = out->len};
    if (limit > 0 &&
        !whole_history(from, to)) { /* newest first: where each entry ends, to turn them around */
        sink.cap = 64;
        sink.ends = joi_xmalloc(sink.cap * sizeof *sink.ends);
    }
    int rc = range_into((struct redis_store *)s, meter, from, to, limit, &sink, err);
    if (rc == 1 && sink.count > 1) {
        size_t n = out->len - sink.start;
        char *copy = joi_xmalloc(n);
        memcpy(copy, out->data + sink.start, n);
        out->len = sink.start;
        for (size_t k = sink.count; k-- > 0;) {
            size_t begin = k == 0 ? 0 : sink.ends[k - 1] - sink.start + 1; /* after the comma */
            size_t end = sink.ends[k] - sink.start;
            if (k + 1 < sink.count)
                joi_buf_append(out, ",", 1);
            joi_buf_append(out, copy + begin, end - begin);
        }
        free(copy);
    }
    free(sink.ends);
    joi_buf_append(out, "]", 1);
    *count = sink.count;
    return rc < 0 ? -1 : 0;
}

static int pipeline_once(struct redis_store *r, int ncmd, const char **const *argvs,
                         const int *argcs, redisReply **reps, int *stale, struct joi_error *err)
{
    int reused = r->c != NULL;
    if (ensure_connected(r, err))
        return -1;
    for (int i = 0; i < ncmd; i++) {
        size_t lens[8];
        for (int a = 0; a < argcs[i]; a++)
            lens[a] = strlen(argvs[i][a]);
        append_command(r->c, argcs[i], argvs[i], lens);
    }
    int failed = 0;
    for (int i = 0; i < ncmd; i++) {
        void *rep = NULL;
        if (!failed && redisGetReply(r->c, &rep) != REDIS_OK) {
            *stale = i == 0 && connection_was_stale(r->c, reused);
            log_failure(argvs[i][0], r->c->errstr[0] ? r->c->errstr : "no reply");
            drop(r);
            joi_error_set(err, 503, "the store is unavailable or timed out");
            failed = 1;
        }
        reps[i] = rep;
        if (rep && reps[i]->type == REDIS_REPLY_ERROR && !failed) {
            error_reply(argvs[i][0], reps[i]->str, err);
            failed = 1;
        }
    }
    if (failed) {
        for (int i = 0; i < ncmd; i++)
            freeReplyObject(reps[i]);
        return -1;
    }
    return 0;
}

/* Sends every command of a pipeline, then reads every reply into reps; retried once
 * on a stale connection.  Returns 0, or -1 with err set and every reply freed. */
static int pipeline(struct redis_store *r, int ncmd, const char **const *argvs, const int *argcs,
                    redisReply **reps, struct joi_error *err)
{
    int stale = 0;
    int rc = pipeline_once(r, ncmd, argvs, argcs, reps, &stale, err);
    if (rc != 0 && stale)
        rc = pipeline_once(r, ncmd, argvs, argcs, reps, &stale, err);
    return rc;
}

static int64_t reply_int(const redisReply *e)
{
    return e->type == REDIS_REPLY_INTEGER  ? e->integer
           : e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10)
                                           : 0;
}

/* A little-endian IEEE double. */
static double le_double(const unsigned char *p)
{
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | p[i];
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* The bucket hash: each field a day of JOI_BUCKETS_PER_FIELD buckets, its value
 * that many little-endian doubles.  Buckets without energy are left out. */
struct day_field {
    int64_t day;
    const redisReply *value;
};

static int cmp_day(const void *a, const void *b)
{
    int64_t x = ((const struct day_field *)a)->day, y = ((const struct day_field *)b)->day;
    return x < y ? -1 : (x > y);
}

/* The days of buckets (HGETALL: day, packed doubles, ...) in order of day, so that
 * the buckets come out sorted without sorting them. */
static int parse_bucket_days(const redisReply *rep, struct joi_summary *out, struct joi_error *err)
{
    size_t ndays = rep->elements / 2;
    struct day_field *days = joi_xmalloc((ndays + 1) * sizeof *days);
    for (size_t i = 0; i < ndays; i++) {
        days[i].day = reply_int(rep->element[2 * i]);
        days[i].value = rep->element[2 * i + 1];
    }
    qsort(days, ndays, sizeof *days, cmp_day);
    out->buckets = joi_xmalloc((ndays * JOI_BUCKETS_PER_FIELD + 1) * sizeof *out->buckets);
    out->nbuckets = 0;
    int rc = 0;
    for (size_t i = 0; i < ndays; i++) {
        const redisReply *v = days[i].value;
        if (v->type != REDIS_REPLY_STRING || v->len != 8 * JOI_BUCKETS_PER_FIELD) {
            rc = joi_error_set(err, 500, "the store holds malformed energy buckets");
            break;
        }
        int64_t day = days[i].day;
        for (int k = 0; k < JOI_BUCKETS_PER_FIELD; k++) {
            double kwh = le_double((const unsigned char *)v->str + 8 * k);
            if (kwh == 0)
                continue;
            out->buckets[out->nbuckets].index = day * JOI_BUCKETS_PER_FIELD + k;
            out->buckets[out->nbuckets].kwh = kwh;
            out->nbuckets++;
        }
    }
    free(days);
    return rc;
}

static int redis_summary_get(struct joi_store *s, const char *meter, struct joi_summary *out,
                             long long *config_version, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    char key[JOI_METER_MAX + 16], bkey[JOI_METER_MAX + 16], lkey[JOI_METER_MAX + 16];
    meter_key(key, sizeof key, meter, "r");
    meter_key(bkey, sizeof bkey, meter, "e");
    meter_key(lkey, sizeof lkey, meter, "l");
    joi_summary_init(out);
    const char *c0[] = {"ZCARD", key};
    const char *c1[] = {"ZRANGE", key, "0", "0", "WITHSCORES"};
    const char *c2[] = {"ZRANGE", key, "-1", "-1", "WITHSCORES"};
    const char *c3[] = {"HGETALL", bkey};
    const char *c4[] = {"ZRANGE", lkey, "0", "-1"};
    const char *c5[] = {"GET", KEY_CONFIG_VERSION};
    const char **const argvs[] = {c0, c1, c2, c3, c4, c5};
    const int argcs[] = {2, 5, 5, 2, 4, 2};
    redisReply *reps[6];
    if (pipeline(r, 6, argvs, argcs, reps, err) != 0)
        return -1;
    int rc = 0;
    *config_version = reps[5]->type == REDIS_REPLY_STRING ? strtoll(reps[5]->str, NULL, 10) : 0;
    out->count = reps[0]->type == REDIS_REPLY_INTEGER ? reps[0]->integer : 0;
    if (out->count > 0) {
        if (reps[1]->type != REDIS_REPLY_ARRAY || reps[1]->elements != 2 ||
            reps[2]->type != REDIS_REPLY_ARRAY || reps[2]->elements != 2 ||
            reps[3]->type != REDIS_REPLY_ARRAY || reps[4]->type != REDIS_REPLY_ARRAY) {
            rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
            goto out;
        }
        out->first = reply_int(reps[1]->element[1]);
        out->last = reply_int(reps[2]->element[1]);
        if (parse_bucket_days(reps[3], out, err) != 0) {
            rc = -1;
            goto out;
        }
        out->nlongs = reps[4]->elements;
        out->longs = joi_xmalloc((out->nlongs + 1) * sizeof *out->longs);
        for (size_t i = 0; i < out->nlongs; i++) {
            const redisReply *m = reps[4]->element[i];
            struct joi_interval *l = &out->longs[i];
            long long t1, t2;
            if (m->type != REDIS_REPLY_STRING ||
                sscanf(m->str, "%lld:%lld:%lf:%lf", &t1, &t2, &l->p1, &l->p2) != 4) {
                rc = joi_error_set(err, 500, "the store holds a malformed interval");
                goto out;
            }
            l->t1 = t1;
            l->t2 = t2;
        }
        joi_summary_sort(out);
    }
out:
    for (int i = 0; i < 6; i++)
        freeReplyObject(reps[i]);
    if (rc != 0)
        joi_summary_free(out);
    return rc;
}

static int redis_readings_get_ranges(struct joi_store *s, const char *meter, const int64_t *ranges,
                                     size_t n, struct joi_readings *out, struct joi_error *err)
{
    if (n == 0)
        return 0;
    struct redis_store *r = (struct redis_store *)s;
    char key[JOI_METER_MAX + 16];
    meter_key(key, sizeof key, meter, "r");
    char(*text)[2][24] = joi_xmalloc(n * sizeof *text);
    const char **argv = joi_xmalloc(4 * n * sizeof *argv);
    const char ***argvs = joi_xmalloc(n * sizeof *argvs);
    int *argcs = joi_xmalloc(n * sizeof *argcs);
    redisReply **reps = joi_xmalloc(n * sizeof *reps);
    for (size_t i = 0; i < n; i++) {
        snprintf(text[i][0], sizeof text[i][0], "%lld", (long long)ranges[2 * i]);
        snprintf(text[i][1], sizeof text[i][1], "%lld", (long long)ranges[2 * i + 1]);
        argv[4 * i] = "ZRANGEBYSCORE";
        argv[4 * i + 1] = key;
        argv[4 * i + 2] = text[i][0];
        argv[4 * i + 3] = text[i][1];
        argvs[i] = &argv[4 * i];
        argcs[i] = 4;
    }
    int rc = pipeline(r, (int)n, (const char **const *)argvs, argcs, reps, err);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            if (rc == 0)
                rc = parse_members(reps[i], out, err);
            freeReplyObject(reps[i]);
        }
    }
    free(reps);
    free(argcs);
    free(argvs);
    free(argv);
    free(text);
    return rc;
}

static int redis_readings_count(struct joi_store *s, const char *meter, long long *count,
                                struct joi_error *err)
{
    char key[JOI_METER_MAX + 16];
    meter_key(key, sizeof key, meter, "r");
    const char *argv[] = {"ZCARD", key};
    size_t lens[] = {5, strlen(key)};
    redisReply *rep = run((struct redis_store *)s, 2, argv, lens, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_INTEGER)
        *count = rep->integer;
    else
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    freeReplyObject(rep);
    return rc;
}

static int redis_config_get(struct joi_store *s, long long *version, char **doc, size_t *len,
                            struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    *doc = NULL;
    const char *argv1[] = {"GET", KEY_CONFIG_VERSION};
    size_t lens1[] = {3, strlen(KEY_CONFIG_VERSION)};
    redisReply *rep = run(r, 2, argv1, lens1, err);
    if (rep == NULL)
        return -1;
    long long v = rep->type == REDIS_REPLY_STRING ? strtoll(rep->str, NULL, 10) : 0;
    freeReplyObject(rep);
    if (v == *version)
        return 0;
    /* Changed: fetch the document and its version together. */
    const char *argv2[] = {"MGET", KEY_CONFIG_VERSION, KEY_CONFIG_DOC};
    size_t lens2[] = {4, strlen(KEY_CONFIG_VERSION), strlen(KEY_CONFIG_DOC)};
    rep = run(r, 3, argv2, lens2, err);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        rc = joi_error_set(err, 500, "the store answered with an unexpected reply");
    } else {
        redisReply *rv = rep->element[0], *rd = rep->element[1];
        *version = rv->type == REDIS_REPLY_STRING ? strtoll(rv->str, NULL, 10) : 0;
        if (rd->type == REDIS_REPLY_STRING) {
            *doc = joi_xstrndup(rd->str, rd->len);
            *len = rd->len;
        }
    }
    freeReplyObject(rep);
    return rc;
}

static int redis_config_put(struct joi_store *s, const char *doc, size_t len, struct joi_error *err)
{
    const char *argv[] = {NULL, NULL, "2", KEY_CONFIG_DOC, KEY_CONFIG_VERSION, doc};
    size_t lens[] = {0, 0, 1, strlen(KEY_CONFIG_DOC), strlen(KEY_CONFIG_VERSION), len};
    redisReply *rep = eval((struct redis_store *)s, JOI_LUA_CONFIG_PUT, JOI_LUA_CONFIG_PUT_SHA, 6,
                           argv, lens, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

static int redis_token_set(struct joi_store *s, const char *meter, const char *record,
                           struct joi_error *err)
{
    char key[JOI_METER_MAX + 16];
    meter_key(key, sizeof key, meter, "token");
    const char *argv[] = {record ? "SET" : "DEL", key, record};
    size_t lens[] = {3, strlen(key), record ? strlen(record) : 0};
    redisReply *rep = run((struct redis_store *)s, record ? 3 : 2, argv, lens, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

static void redis_free(struct joi_store *s)
{
    struct redis_store *r = (struct redis_store *)s;
    drop(r);
    free(r->path);
    free(r->host);
    free(r);
}

static const struct joi_store_ops redis_ops = {
    .ping = redis_ping,
    .readings_put = redis_readings_put,
    .readings_get = redis_readings_get,
    .readings_json = redis_readings_json,
    .summary_get = redis_summary_get,
    .readings_get_ranges = redis_readings_get_ranges,
    .readings_count = redis_readings_count,
    .config_get = redis_config_get,
    .config_put = redis_config_put,
    .token_set = redis_token_set,
    .free = redis_free,
};

struct joi_store *joi_store_redis_new(const char *addr, int timeout_ms)
{
    if (addr == NULL || *addr == '\0')
        return NULL;
    struct redis_store *r = joi_xcalloc(1, sizeof *r);
    r->base.ops = &redis_ops;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    if (strncmp(addr, "unix:", 5) == 0) {
        if (addr[5] == '\0')
            goto bad;
        r->path = joi_xstrndup(addr + 5, strlen(addr + 5));
        return &r->base;
    }
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr)
        goto bad;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port <= 0 || port > 65535)
        goto bad;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (h[0] == '[' && h[hl - 1] == ']') { /* [::1]:6379 */
        h++;
        hl -= 2;
    }
    r->host = joi_xstrndup(h, hl);
    r->port = (int)port;
    return &r->base;
bad:
    free(r);
    return NULL;
}
