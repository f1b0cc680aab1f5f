/*
 * redis_conn.c -- one connection to Redis, and the reading of its replies (see
 * joi/redis_conn.h).
 *
 * Rules:
 *  - Every command sent is counted until its reply is read (send_command,
 *    receive_reply).  A connection that still owes a reply, or holds bytes nobody
 *    asked for, is dropped before the next command: no command is ever answered
 *    with a reply meant for another.
 *  - Every reply is checked: NULL (I/O error, timeout or a reply that breaks the
 *    protocol: the connection is dropped and the next call reconnects), then
 *    REDIS_REPLY_ERROR, then, by the caller, the expected type.
 *    freeReplyObject() once, on the top-level reply.
 *  - Scripts run with EVALSHA; on NOSCRIPT the same call is repeated with EVAL
 *    (never SCRIPT LOAD, which sharding proxies refuse).
 *  - connect, read and write are bounded by the timeout; a timeout is a 503.
 *
 * The sink: hiredis builds a reply object per element of an array, which for a
 * list of a meter's readings is most of a read's work.  While a command runs with
 * a joi_redis_sink, this file's reply functions hand each string of the reply's
 * top-level array to the sink as hiredis reads it, and build nothing for them;
 * everything else (an error reply, say) is built by hiredis's own functions, and
 * joi_redis_sink_took tells the caller which of the two it got.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joi/buf.h"
#include "joi/num.h"
#include "joi/redis_conn.h"
#include "joi/metrics.h"
#include "joi/store_stats.h"

static redisReplyObjectFunctions *hiredis_fns; /* hiredis's own, from the first reader */
/* What hiredis holds for a sink's array and for each element: a reply object that
 * is never freed (hiredis 1.x reads the type of every reply it returns). */
static redisReply sink_obj = {.type = REDIS_REPLY_ARRAY};

/* Elements an array reply built as hiredis objects may have: hiredis allocates the
 * claimed number before any element arrives, and no command of the store asks for
 * an array anywhere near this long (a list of members goes to a sink, whose memory
 * grows with the bytes that really arrive). */
#define REPLY_MAX_ELEMENTS (1 << 24)

#if HIREDIS_MAJOR >= 1
typedef size_t array_length; /* createArray's element count */
#else
typedef int array_length;
#endif

struct joi_store_stats *joi_store_stats_counter;
static char last_error[192];
static int ever_connected; /* a connection was opened before: the next is a reconnect */

const char *joi_store_last_error(void)
{
    return last_error;
}

void joi_redis_log(const char *what, const char *why)
{
    snprintf(last_error, sizeof last_error, "redis %s: %s", what, why);
    struct joi_buf b;
    joi_buf_init(&b);
    joi_buf_puts(&b, " event=store_error");
    joi_log_field(&b, "op", what);
    joi_log_field(&b, "cause", why);
    joi_log_write("error", &b);
    joi_buf_free(&b);
}

/* Counts one failed store call; c (may be NULL) is the connection it failed on, whose
 * error says whether it timed out.  Called before anything else can change errno. */
static void count_failure(const redisContext *c)
{
    struct joi_store_stats *st = joi_store_stats_counter;
    if (st == NULL)
        return;
    joi_stat_inc(&st->errors);
    if (c && c->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT ||
         strstr(c->errstr, "temporarily unavailable") || strstr(c->errstr, "timed out")))
        joi_stat_inc(&st->timeouts);
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
    struct joi_redis_sink *sink = task->privdata;
    if (task->type != REDIS_REPLY_STRING)
        sink->malformed = 1;
    else
        sink->malformed |= sink->element(sink->arg, str, len) != 0;
    sink->count++;
    return &sink_obj;
}

static void *sink_array(const redisReadTask *task, array_length elements)
{
    int role = sink_role(task);
    if (role == 0) {
        if ((size_t)elements > REPLY_MAX_ELEMENTS) { /* the reader reports "out of memory" */
            joi_redis_log("reply", "an array longer than any the store asks for");
            return NULL;
        }
        return hiredis_fns->createArray(task, elements);
    }
    if (role == 2) /* a nested array: not a member list */
        ((struct joi_redis_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void *sink_integer(const redisReadTask *task, long long value)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createInteger(task, value);
    ((struct joi_redis_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void *sink_nil(const redisReadTask *task)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createNil(task);
    ((struct joi_redis_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

#if HIREDIS_MAJOR >= 1
/* RESP3 types: never in a member list (nor sent to a RESP2 client at all). */
static void *sink_double(const redisReadTask *task, double value, char *str, size_t len)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createDouble(task, value, str, len);
    ((struct joi_redis_sink *)task->privdata)->malformed = 1;
    return &sink_obj;
}

static void *sink_bool(const redisReadTask *task, int value)
{
    if (sink_role(task) == 0)
        return hiredis_fns->createBool(task, value);
    ((struct joi_redis_sink *)task->privdata)->malformed = 1;
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
void joi_redis_reader_install(redisReader *reader)
{
    if (hiredis_fns == NULL)
        hiredis_fns = reader->fn;
    reader->fn = &sink_fns;
}

static void drop(struct joi_redis *r)
{
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
    r->pending = 0;
}

/* 1 when nothing is owed or buffered on the connection: every command sent has had
 * its reply read, and the reader holds no byte of a reply nobody asked for. */
static int connection_clean(const struct joi_redis *r)
{
    const redisReader *rd = r->c->reader;
    return r->pending == 0 && r->c->err == 0 && rd->pos == rd->len && rd->ridx == -1;
}

/* Makes sure there is a connection to send on, and that it owes nothing: one that
 * does is dropped for a new one.  *reused (may be NULL) is set to 1 when the
 * connection was already open.  Returns 0, or -1 with err set (503). */
static int ensure_connected(struct joi_redis *r, int *reused, struct joi_error *err)
{
    if (r->c && !connection_clean(r)) {
        joi_redis_log("connection", "replies or bytes left unread: reconnecting");
        drop(r);
    }
    if (reused)
        *reused = r->c != NULL;
    if (r->c)
        return 0;
    r->c = r->path ? redisConnectUnixWithTimeout(r->path, r->timeout)
                   : redisConnectWithTimeout(r->host, r->port, r->timeout);
    if (ever_connected && joi_store_stats_counter)
        joi_stat_inc(&joi_store_stats_counter->reconnects);
    ever_connected = 1;
    if (r->c == NULL) {
        count_failure(NULL);
        joi_redis_log("connect", "out of memory");
        return joi_error_set(err, 503, "the store is unavailable");
    }
    if (r->c->err) {
        count_failure(r->c);
        joi_redis_log("connect", r->c->errstr);
        drop(r);
        return joi_error_set(err, 503, "the store is unavailable");
    }
    redisSetTimeout(r->c, r->timeout);
    joi_redis_reader_install(r->c->reader);
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
    char *buf = n <= sizeof small ? small : joi_mem_alloc(n);
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
static int send_command(struct joi_redis *r, int argc, const char **argv, const size_t *lens)
{
    if (append_command(r->c, argc, argv, lens) != REDIS_OK)
        return -1;
    r->pending++;
    return 0;
}

/* Waits, at most the timeout, until the connection has bytes to read, before the
 * first read of a reply.  A read() blocked on a Unix socket is woken again each time
 * Redis takes the command's bytes off the socket (readers and writers share its
 * wait queue), and each wake-up costs both processes a switch; poll() is woken
 * by input only.  When it times out the socket is made non-blocking, so that the
 * read that follows fails at once with EAGAIN, as a read timed out by the socket's
 * own timeout does (a 503, and the connection is dropped); when poll itself fails
 * the blocking read, bounded by that timeout, still runs. */
static void wait_for_input(struct joi_redis *r)
{
    struct pollfd p = {.fd = r->c->fd, .events = POLLIN};
    int ms = (int)(r->timeout.tv_sec * 1000 + r->timeout.tv_usec / 1000);
    if (poll(&p, 1, ms > 0 ? ms : -1) == 0) {
        int fl = fcntl(r->c->fd, F_GETFL);
        if (fl != -1)
            fcntl(r->c->fd, F_SETFL, fl | O_NONBLOCK);
    }
}

/* Sends what is buffered and reads the reply owed to the oldest command sent.
 * Returns it, or NULL after an I/O error, a timeout or a reply that breaks the
 * protocol: then c->err says which, part of a reply may have been read, and the
 * caller must drop the connection. */
static redisReply *receive_reply(struct joi_redis *r)
{
    void *rep = NULL;
    if (redisGetReplyFromReader(r->c, &rep) != REDIS_OK)
        return NULL;
    if (rep == NULL) {
        int done = 0;
        do {
            if (redisBufferWrite(r->c, &done) != REDIS_OK)
                return NULL;
        } while (!done);
        wait_for_input(r);
        if (redisGetReply(r->c, &rep) != REDIS_OK)
            return NULL;
    }
    r->pending--;
    return rep;
}

/* One command on the connection, with the sink (if any) set for its reply. */
static redisReply *command(struct joi_redis *r, int argc, const char **argv, const size_t *lens)
{
    if (r->sink) {
        if (r->sink->restart)
            r->sink->restart(r->sink->arg);
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

int joi_redis_error(const char *msg, struct joi_error *err)
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
    count_failure(NULL);
    joi_redis_log(what, msg);
    return joi_redis_error(msg, err);
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
redisReply *joi_redis_run(struct joi_redis *r, int argc, const char **argv, const size_t *lens,
                          struct joi_error *err)
{
    int reused;
    if (ensure_connected(r, &reused, err))
        return NULL;
    redisReply *rep = command(r, argc, argv, lens);
    /* Elements a sink handed over and cannot take back: no retry then. */
    int handed = r->sink && r->sink->restart == NULL && r->sink->count > 0;
    if (rep == NULL && !handed && connection_was_stale(r->c, reused)) {
        drop(r);
        if (ensure_connected(r, NULL, err))
            return NULL;
        rep = command(r, argc, argv, lens);
    }
    if (rep == NULL) {
        count_failure(r->c);
        joi_redis_log(argv[0], r->c->errstr[0] ? r->c->errstr : "no reply");
        drop(r);
        joi_error_set(err, 503, "the store is unavailable or timed out");
        return NULL;
    }
    if (rep != &sink_obj && rep->type == REDIS_REPLY_ERROR &&
        (strncmp(rep->str, "NOSCRIPT", 8) != 0 || strcmp(argv[0], "EVALSHA") != 0)) {
        error_reply(argv[0], rep->str, err);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

redisReply *joi_redis_run_str(struct joi_redis *r, int argc, const char **argv,
                              struct joi_error *err)
{
    size_t lens[16];
    for (int i = 0; i < argc && i < 16; i++)
        lens[i] = strlen(argv[i]);
    return joi_redis_run(r, argc < 16 ? argc : 16, argv, lens, err);
}

int joi_redis_do_str(struct joi_redis *r, int argc, const char **argv, struct joi_error *err)
{
    redisReply *rep = joi_redis_run_str(r, argc, argv, err);
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return 0;
}

/* EVALSHA, falling back to EVAL on NOSCRIPT.  argv[0] and argv[1] are filled here. */
redisReply *joi_redis_eval(struct joi_redis *r, const char *script, const char *sha, int argc,
                           const char **argv, size_t *lens, struct joi_error *err)
{
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = sha;
    lens[1] = strlen(sha);
    redisReply *rep = joi_redis_run(r, argc, argv, lens, err);
    if (rep && rep->type == REDIS_REPLY_ERROR) { /* NOSCRIPT */
        freeReplyObject(rep);
        argv[0] = "EVAL";
        lens[0] = 4;
        argv[1] = script;
        lens[1] = strlen(script);
        rep = joi_redis_run(r, argc, argv, lens, err);
        if (rep && rep->type == REDIS_REPLY_ERROR) {
            error_reply("EVAL", rep->str, err);
            freeReplyObject(rep);
            return NULL;
        }
    }
    return rep;
}

/* One attempt at a pipeline.  Every reply owed is read, even after an error reply
 * (a reply left on the connection would be the next command's answer); after a
 * failure that leaves replies unread the connection is dropped with them.  *stale
 * is set when the first reply failed on a connection Redis had closed. */
static int pipeline_once(struct joi_redis *r, int ncmd, const char **const *argvs, const int *argcs,
                         redisReply **reps, int *stale, struct joi_error *err)
{
    int reused;
    if (ensure_connected(r, &reused, err))
        return -1;
    for (int i = 0; i < ncmd; i++) {
        size_t lens[8];
        for (int a = 0; a < argcs[i]; a++)
            lens[a] = strlen(argvs[i][a]);
        if (send_command(r, argcs[i], argvs[i], lens) != 0) {
            count_failure(r->c);
            joi_redis_log(argvs[i][0], r->c->errstr);
            drop(r);
            return joi_error_set(err, 503, "the store is unavailable or timed out");
        }
    }
    int failed = 0, nread = 0;
    while (nread < ncmd) {
        redisReply *rep = receive_reply(r);
        if (rep == NULL) {
            *stale = nread == 0 && connection_was_stale(r->c, reused);
            if (!*stale) /* a stale connection is tried again, not a failure yet */
                count_failure(r->c);
            joi_redis_log(argvs[nread][0], r->c->errstr[0] ? r->c->errstr : "no reply");
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
int joi_redis_pipeline(struct joi_redis *r, int ncmd, const char **const *argvs, const int *argcs,
                       redisReply **reps, struct joi_error *err)
{
    int stale = 0;
    int rc = pipeline_once(r, ncmd, argvs, argcs, reps, &stale, err);
    if (rc != 0 && stale)
        rc = pipeline_once(r, ncmd, argvs, argcs, reps, &stale, err);
    return rc;
}

int joi_redis_init(struct joi_redis *r, const char *addr, int timeout_ms)
{
    memset(r, 0, sizeof *r);
    if (addr == NULL || *addr == '\0')
        return -1;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    if (strncmp(addr, "unix:", 5) == 0) {
        if (addr[5] == '\0')
            return -1;
        r->path = joi_mem_strndup(addr + 5, strlen(addr + 5));
        return 0;
    }
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr)
        return -1;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port <= 0 || port > 65535)
        return -1;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (h[0] == '[' && h[hl - 1] == ']') { /* [::1]:6379 */
        h++;
        hl -= 2;
    }
    r->host = joi_mem_strndup(h, hl);
    r->port = (int)port;
    return 0;
}

void joi_redis_close(struct joi_redis *r)
{
    drop(r);
    free(r->path);
    free(r->host);
    r->path = r->host = NULL;
}

const redisReply *joi_redis_scan(struct joi_redis *r, char cursor[32], const char *pattern,
                                 redisReply **reply, struct joi_error *err)
{
    const char *argv[] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
    redisReply *rep = joi_redis_run_str(r, 6, argv, err);
    *reply = rep;
    if (rep == NULL)
        return NULL;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len >= 32 ||
        rep->element[1]->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        *reply = NULL;
        joi_error_set(err, 500, "the store answered SCAN with an unexpected reply");
        return NULL;
    }
    memcpy(cursor, rep->element[0]->str, rep->element[0]->len + 1);
    return rep->element[1];
}

int joi_redis_sink_took(const redisReply *rep)
{
    return rep == &sink_obj;
}
