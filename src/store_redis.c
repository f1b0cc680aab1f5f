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
 *  - A reply is never read as another command's: every command sent is counted
 *    until its reply is read (send_command, receive_reply), a pipeline reads the
 *    reply of every command it sent even after an error reply, and a connection
 *    that still owes a reply, or holds bytes that no command asked for, is
 *    dropped before the next command (connection_clean).  Any failure that can
 *    leave a reply half read (I/O, timeout, protocol) drops the connection.
 *  - Scripts run with EVALSHA; on NOSCRIPT the same call is repeated with EVAL
 *    (never SCRIPT LOAD, which sharding proxies refuse).
 *  - connect, read and write are bounded by the timeout; a timeout is a 503.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "joi/buf.h"
#include "joi/num.h"
#include "joi/store.h"
#include "joi/timeparse.h"
#include "scripts.h"

#define KEY_CONFIG_DOC "joi:{config}:doc"
#define KEY_CONFIG_VERSION "joi:{config}:version"
#define KEY_HEALTH_PROBE "joi:{health}:probe" /* written by every health check */

/* A list of readings ("time:reading" members, as ZRANGEBYSCORE answers) is parsed
 * while hiredis reads it, straight into the caller's readings, rather than into a
 * reply object per member: the reader's functions are hiredis's own, except while a
 * member_sink is the reader's privdata, and then only for a top-level array and the
 * strings in it.  Anything else (an error reply, say) is built by hiredis's functions
 * as usual, and the caller tells the two apart by the pointer it gets back. */
struct member_sink {
    struct joi_readings *out; /* either the readings, parsed */
    joi_store_reading_fn fn;  /* or each reading handed to fn (readings_each) */
    void *arg;
    /* fn's newest-first lists: the members are held here ("time:reading" each,
     * ends[k] where the k-th ends) until the reply is complete, then handed over
     * oldest first.  NULL when members go to fn as they arrive. */
    struct joi_buf *held;
    size_t *ends;
    size_t cap;
    size_t start;  /* out->n before the command: a retried command starts there */
    size_t count;  /* members taken */
    int malformed; /* a member that is not "time:reading", or not a string */
};

struct redis_store {
    struct joi_store base;
    redisContext *c;
    int pending; /* commands sent on c whose replies have not been read */
    char *path;  /* unix socket, or NULL */
    char *host;
    int port;
    struct timeval timeout;
    struct member_sink *sink; /* set for the duration of one command */
};

static redisReplyObjectFunctions *hiredis_fns; /* hiredis's own, from the first reader */
/* What hiredis holds for a member list and for each member: a reply object that is
 * never freed (hiredis 1.x reads the type of every reply it returns). */
static redisReply sink_obj = {.type = REDIS_REPLY_ARRAY};
#define SINK_REPLY (&sink_obj)

/* Elements an array reply built as hiredis objects may have: hiredis allocates the
 * claimed number before any element arrives, and no command of the store asks for
 * an array anywhere near this long (a member list goes to the sink, whose memory
 * grows with the bytes that really arrive). */
#define REPLY_MAX_ELEMENTS (1 << 24)

#if HIREDIS_MAJOR >= 1
typedef size_t array_length; /* createArray's element count */
#else
typedef int array_length;
#endif

static void log_failure(const char *what, const char *why)
{
    fprintf(stderr, "joi-worker[%d]: redis %s: %s\n", (int)getpid(), what, why);
}

/* 1 when the JSON number s[0..len) reads as a finite double (1e999 does not).
 * Short text without an exponent always does, which is what the store writes. */
static int finite_number(const char *s, size_t len)
{
    if (len <= 20 && memchr(s, 'e', len) == NULL && memchr(s, 'E', len) == NULL)
        return 1;
    double v;
    return joi_num_parse(s, len, &v) == 0 && isfinite(v);
}

/* Splits member "time:reading" as the store writes it: the time in digits (no
 * leading zero, at most 12), the reading a JSON number that is a finite double.
 * Returns the length of the time, or 0 when the member is malformed. */
static size_t split_member(const char *s, size_t len)
{
    size_t tl = 0;
    while (tl < len && s[tl] >= '0' && s[tl] <= '9')
        tl++;
    if (tl == 0 || tl > 12 || tl + 1 >= len || s[tl] != ':' || (s[0] == '0' && tl > 1) ||
        joi_num_json_span(s + tl + 1, len - tl - 1) != len - tl - 1 ||
        !finite_number(s + tl + 1, len - tl - 1))
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

/* Hands member "time:reading" to the sink's fn (or holds it, for a newest-first
 * list): the reading's text as stored, which the store writes in the shortest form
 * that reads back (joi_num_format).  Returns -1 when the member is malformed. */
static int member_take(struct member_sink *sink, const char *str, size_t len)
{
    size_t tl = split_member(str, len);
    if (tl == 0)
        return -1;
    if (sink->held == NULL) {
        long long t = 0;
        for (size_t i = 0; i < tl; i++)
            t = t * 10 + (str[i] - '0');
        sink->fn(sink->arg, t, str + tl + 1, len - tl - 1);
        return 0;
    }
    joi_buf_append(sink->held, str, len);
    if (sink->count >= sink->cap) { /* indexed by count, which malformed members advance too */
        while (sink->count >= sink->cap)
            sink->cap = sink->cap ? 2 * sink->cap : 64;
        sink->ends = joi_xrealloc(sink->ends, sink->cap * sizeof *sink->ends);
    }
    sink->ends[sink->count] = sink->held->len;
    return 0;
}

/* Hands the held members to fn, oldest first (they came newest first). */
static void members_release(struct member_sink *sink)
{
    for (size_t k = sink->count; k-- > 0;) {
        size_t begin = k == 0 ? 0 : sink->ends[k - 1];
        const char *m = sink->held->data + begin;
        size_t len = sink->ends[k] - begin, tl = split_member(m, len);
        long long t = 0;
        for (size_t i = 0; i < tl; i++)
            t = t * 10 + (m[i] - '0');
        sink->fn(sink->arg, t, m + tl + 1, len - tl - 1);
    }
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
    else if (sink->fn)
        sink->malformed |= member_take(sink, str, len) != 0;
    else if (parse_member(str, len, &t, &kw) != 0)
        sink->malformed = 1;
    else
        joi_readings_push(sink->out, t, kw);
    sink->count++;
    return &sink_obj;
}

static void *sink_array(const redisReadTask *task, array_length elements)
{
    int role = sink_role(task);
    if (role == 0) {
        if ((size_t)elements > REPLY_MAX_ELEMENTS) { /* the reader reports "out of memory" */
            log_failure("reply", "an array longer than any the store asks for");
            return NULL;
        }
        return hiredis_fns->createArray(task, elements);
    }
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

#if HIREDIS_MAJOR >= 1
/* RESP3 types: never in a member list (nor sent to a RESP2 client at all). */
static void *sink_double(const redisReadTask *task, double value, char *str, size_t len)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createDouble(task, value, str, len);
    ((struct member_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void *sink_bool(const redisReadTask *task, int value)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createBool(task, value);
    ((struct member_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}
#endif

static void sink_free(void *obj)
{
    if (obj != &sink_obj)
        hiredis_fns->freeObject(obj);
}

/* Every function of the table is filled: a function hiredis finds NULL makes it
 * hand back a type number as the object.  A hiredis with more functions than
 * these fails to compile here rather than build such replies. */
static redisReplyObjectFunctions sink_fns = {
    .createString = sink_string,
    .createArray = sink_array,
    .createInteger = sink_integer,
#if HIREDIS_MAJOR >= 1
    .createDouble = sink_double,
    .createBool = sink_bool,
#endif
    .createNil = sink_nil,
    .freeObject = sink_free,
};
_Static_assert(sizeof(redisReplyObjectFunctions) ==
                   (HIREDIS_MAJOR >= 1 ? 7 : 5) * sizeof(void (*)(void)),
               "redisReplyObjectFunctions has functions this file does not fill");

/* Makes the reader build replies with the functions above. */
static void reader_install(redisReader *reader)
{
    if (hiredis_fns == NULL)
        hiredis_fns = reader->fn;
    reader->fn = &sink_fns;
}

static void drop(struct redis_store *r)
{
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
    r->pending = 0;
}

/* 1 when nothing is owed or buffered on the connection: every command sent has had
 * its reply read, and the reader holds no byte of a reply nobody asked for. */
static int connection_clean(const struct redis_store *r)
{
    const redisReader *rd = r->c->reader;
    return r->pending == 0 && r->c->err == 0 && rd->pos == rd->len && rd->ridx == -1;
}

/* Makes sure there is a connection to send on, and that it owes nothing: one that
 * does is dropped for a new one.  *reused (may be NULL) is set to 1 when the
 * connection was already open.  Returns 0, or -1 with err set (503). */
static int ensure_connected(struct redis_store *r, int *reused, struct joi_error *err)
{
    if (r->c && !connection_clean(r)) {
        log_failure("connection", "replies or bytes left unread: reconnecting");
        drop(r);
    }
    if (reused)
        *reused = r->c != NULL;
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
    reader_install(r->c->reader);
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

/* Appends one command to the output; it is owed a reply from then on.  Returns 0, or
 * -1 (out of memory: c->err is set). */
static int send_command(struct redis_store *r, int argc, const char **argv, const size_t *lens)
{
    if (append_command(r->c, argc, argv, lens) != REDIS_OK)
        return -1;
    r->pending++;
    return 0;
}

/* Sends what is buffered and reads the reply owed to the oldest command sent.
 * Returns it, or NULL after an I/O error, a timeout or a reply that breaks the
 * protocol: then c->err says which, part of a reply may have been read, and the
 * caller must drop the connection. */
static redisReply *receive_reply(struct redis_store *r)
{
    void *rep = NULL;
    if (redisGetReply(r->c, &rep) != REDIS_OK)
        return NULL;
    r->pending--;
    return rep;
}

/* One command on the connection, with the sink (if any) set for its reply. */
static redisReply *command(struct redis_store *r, int argc, const char **argv, const size_t *lens)
{
    if (r->sink) {
        if (r->sink->held)
            joi_buf_reset(r->sink->held);
        else if (r->sink->out)
            r->sink->out->n = r->sink->start;
        r->sink->count = 0;
        r->sink->malformed = 0;
    }
    redisReply *rep = NULL;
    if (send_command(r, argc, argv, lens) == 0) {
        r->c->reader->privdata = r->sink;
        rep = receive_reply(r);
        r->c->reader->privdata = NULL;
    }
    return rep;
}

/* What each error reply that means "not now" says to the client.  A refusal that
 * clears by itself or by an operator's hand (memory, disk, a load after a restart,
 * a replica, a busy script, a proxy that cannot reach its server) is a 503, which
 * the client may retry; anything else (WRONGTYPE, a script error) is a 500. */
static const struct {
    const char *code;
    const char *detail;
} unavailable[] = {
    {"OOM", "the store is out of memory and refuses writes"},
    {"MISCONF", "the store cannot write to its disk and refuses writes"},
    {"LOADING", "the store is loading its data"},
    {"READONLY", "the store is a read-only replica and refuses writes"},
    {"NOREPLICAS", "the store has too few replicas to accept writes"},
    {"BUSY", "the store is busy running a script"},
    {"MASTERDOWN", "the store is unavailable"},
    {"TRYAGAIN", "the store is unavailable"},
    {"CLUSTERDOWN", "the store is unavailable"},
    {"ERR Connection", "the store is unavailable"}, /* twemproxy: a server it cannot reach */
    {"ERR Server", "the store is unavailable"},
};

int joi_store_redis_error(const char *msg, struct joi_error *err)
{
    /* Redis before 7 wraps an error raised inside a script:
     * "ERR Error running script (call to f_...): @user_script:24: -OOM command ...". */
    const char *code = msg;
    const char *inner = strstr(msg, ": -");
    if (strncmp(msg, "ERR Error running script", 24) == 0 && inner)
        code = inner + 3;
    for (size_t i = 0; i < sizeof unavailable / sizeof unavailable[0]; i++)
        if (strncmp(code, unavailable[i].code, strlen(unavailable[i].code)) == 0)
            return joi_error_set(err, 503, "%s", unavailable[i].detail);
    if (strstr(msg, "timed out"))
        return joi_error_set(err, 503, "the store is unavailable");
    return joi_error_set(err, 500, "the store refused a command");
}

static int error_reply(const char *what, const char *msg, struct joi_error *err)
{
    log_failure(what, msg);
    return joi_store_redis_error(msg, err);
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
 * for I/O errors and timeouts, as joi_store_redis_error says for an error reply
 * (503 for a refusal that may clear, else 500), except that EVALSHA's NOSCRIPT is
 * returned for eval() to fall back on.  Every command the store sends is
 * idempotent, so one retry after a stale connection is safe. */
static redisReply *run(struct redis_store *r, int argc, const char **argv, const size_t *lens,
                       struct joi_error *err)
{
    int reused;
    if (ensure_connected(r, &reused, err))
        return NULL;
    redisReply *rep = command(r, argc, argv, lens);
    /* Readings already handed to a sink's fn cannot be taken back: no retry then. */
    int handed = r->sink && r->sink->fn && !r->sink->held && r->sink->count > 0;
    if (rep == NULL && !handed && connection_was_stale(r->c, reused)) {
        drop(r);
        if (ensure_connected(r, NULL, err))
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
        (strncmp(rep->str, "NOSCRIPT", 8) != 0 || strcmp(argv[0], "EVALSHA") != 0)) {
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

/* Health: can a request be served, and can a write succeed now?  Two keyed
 * commands rather than PING, which a sharding proxy such as twemproxy answers itself
 * even with every server behind it down (and INFO, which it does not pass on):
 *  - a read of the plans' version, which every request needs, on the server that
 *    holds the plans;
 *  - a write of the time to KEY_HEALTH_PROBE (its own hash tag): Redis refuses it
 *    for exactly the reasons it would refuse a batch (OOM at maxmemory under
 *    noeviction, MISCONF after a failed write to disk, LOADING, READONLY,
 *    NOREPLICAS), and under appendfsync always a full disk makes Redis exit on it
 *    as on the next batch.  It must really write: a write that changes nothing
 *    (SET NX of a key that exists) skips the AOF and would pass on a full disk.
 * Behind a proxy the write reaches the one server that holds {health}. */
static int redis_ping(struct joi_store *s, struct joi_error *err)
{
    struct redis_store *r = (struct redis_store *)s;
    const char *argv[] = {"EXISTS", KEY_CONFIG_VERSION};
    size_t lens[] = {6, strlen(KEY_CONFIG_VERSION)};
    redisReply *rep = run(r, 2, argv, lens, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    char now[24];
    int n = snprintf(now, sizeof now, "%lld", (long long)time(NULL));
    const char *sargv[] = {"SET", KEY_HEALTH_PROBE, now};
    size_t slens[] = {3, strlen(KEY_HEALTH_PROBE), (size_t)n};
    rep = run(r, 3, sargv, slens, err);
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

/* A meter's readings from..to into the sink, all of them or the newest `limit`.
 * The whole history goes by rank (ZRANGE 0 -1, or -limit -1: ascending, and
 * cheaper for Redis than comparing every score); a range by score (ZRANGEBYSCORE,
 * or ZREVRANGEBYSCORE with a limit: newest first).  Returns 1 when the members
 * came newest first, 0 when ascending, -1 with err set. */
static int range_into(struct redis_store *r, const char *meter, int64_t from, int64_t to,
                      size_t limit, struct member_sink *sink, struct joi_error *err)
{
    char key[JOI_METER_MAX + 16], lo[24], hi[24], lim[24];
    meter_key(key, sizeof key, meter, "r");
    snprintf(lo, sizeof lo, "%lld", (long long)from);
    snprintf(hi, sizeof hi, "%lld", (long long)to);
    snprintf(lim, sizeof lim, "%zu", limit);
    int whole = whole_history(from, to);
    r->sink = sink;
    redisReply *rep;
    if (whole) {
        char first[24];
        snprintf(first, sizeof first, "-%zu", limit);
        const char *argv[] = {"ZRANGE", key, limit > 0 ? first : "0", "-1"};
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
        const char *argv[] = {"ZRANGEBYSCORE", key, lo, hi};
        size_t lens[4];
        for (int i = 0; i < 4; i++)
            lens[i] = strlen(argv[i]);
        rep = run(r, 4, argv, lens, err);
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

static int redis_readings_each(struct joi_store *s, const char *meter, int64_t from, int64_t to,
                               size_t limit, joi_store_reading_fn fn, void *arg, size_t *count,
                               struct joi_error *err)
{
    struct joi_buf held;
    joi_buf_init(&held);
    struct member_sink sink = {.fn = fn, .arg = arg};
    if (limit > 0 && !whole_history(from, to))
        sink.held = &held; /* newest first: held, then handed over oldest first */
    int rc = range_into((struct redis_store *)s, meter, from, to, limit, &sink, err);
    if (rc == 1)
        members_release(&sink);
    free(sink.ends);
    joi_buf_free(&held);
    *count = sink.count;
    return rc < 0 ? -1 : 0;
}

/* One attempt at a pipeline.  Every reply owed is read, even after an error reply
 * (a reply left on the connection would be the next command's answer); after a
 * failure that leaves replies unread the connection is dropped with them.  *stale
 * is set when the first reply failed on a connection Redis had closed. */
static int pipeline_once(struct redis_store *r, int ncmd, const char **const *argvs,
                         const int *argcs, redisReply **reps, int *stale, struct joi_error *err)
{
    int reused;
    if (ensure_connected(r, &reused, err))
        return -1;
    for (int i = 0; i < ncmd; i++) {
        size_t lens[8];
        for (int a = 0; a < argcs[i]; a++)
            lens[a] = strlen(argvs[i][a]);
        if (send_command(r, argcs[i], argvs[i], lens) != 0) {
            log_failure(argvs[i][0], r->c->errstr);
            drop(r);
            return joi_error_set(err, 503, "the store is unavailable or timed out");
        }
    }
    int failed = 0, nread = 0;
    while (nread < ncmd) {
        redisReply *rep = receive_reply(r);
        if (rep == NULL) {
            *stale = nread == 0 && connection_was_stale(r->c, reused);
            log_failure(argvs[nread][0], r->c->errstr[0] ? r->c->errstr : "no reply");
            drop(r);
            joi_error_set(err, 503, "the store is unavailable or timed out");
            failed = 1;
            break;
        }
        reps[nread] = rep;
        if (rep->type == REDIS_REPLY_ERROR && !failed) {
            error_reply(argvs[nread][0], rep->str, err);
            failed = 1;
        }
        nread++;
    }
    if (failed) {
        for (int i = 0; i < nread; i++)
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
    .readings_each = redis_readings_each,
    .summary_get = redis_summary_get,
    .readings_get_ranges = redis_readings_get_ranges,
    .readings_count = redis_readings_count,
    .config_get = redis_config_get,
    .config_put = redis_config_put,
    .token_set = redis_token_set,
    .free = redis_free,
};

void *joi_store_redis_reader_new(struct joi_readings *readings, joi_store_reading_fn fn, void *arg)
{
    redisReader *reader = redisReaderCreate();
    if (reader == NULL)
        return NULL;
    reader_install(reader);
    if (readings || fn) {
        struct member_sink *sink = joi_xcalloc(1, sizeof *sink);
        sink->out = readings;
        sink->fn = readings ? NULL : fn;
        sink->arg = arg;
        sink->start = readings ? readings->n : 0;
        reader->privdata = sink;
    }
    return reader;
}

void joi_store_redis_reader_free(void *p)
{
    redisReader *reader = p;
    if (reader == NULL)
        return;
    struct member_sink *sink = reader->privdata;
    if (sink) {
        free(sink->ends);
        free(sink);
    }
    redisReaderFree(reader);
}

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
