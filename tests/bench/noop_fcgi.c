/*
 * noop_fcgi.c -- the store ceilings of scripts/bench.sh: a FastCGI responder that
 * reads each request's whole body and answers 200 with a constant JSON body, and
 * does nothing else (no parsing, no Redis).  lighttpd starts it in place of
 * joi-worker (scripts/joi-service's JOI_WORKER_WRAPPER: the worker's path that
 * follows on the command line is ignored), so the POSTs it receives take the
 * same lighttpd, the same config and the same FastCGI socket as the worker's.
 * It closes each connection the way joi-worker does (FCGX_Detach, then
 * FCGX_Finish_r), so the ceiling is not slower than the worker for that reason.
 *
 * Built with -DDURABLE it also makes one durable write per request before it
 * answers: SET of the body to a key of its own, on the store JOI_REDIS names
 * (unix:/path or host:port, as the workers get it), whose appendfsync always
 * puts it on disk before the reply.  That is the least any store path can do,
 * so the store row is measured against it too.  It waits for the reply with
 * poll, as joi-worker does (src/redis_conn.c), and stops at the first error.
 * With -DDURABLE -DROUND_TRIP it sends GET of that key instead: a Redis round
 * trip a request without a write, to tell the round trip's cost from the fsync's
 * (not run by make bench).  With -DDURABLE -DSCRIPT it writes through a script
 * shaped like the store's append (redis/store_batch.lua): EVALSHA of GET of a
 * token key, GETRANGE of the key's head, SET of the body; the cost of writing
 * through one atomic script instead of a plain command (not run by make bench).
 *
 *   cc -O2 -o noop-fcgi tests/bench/noop_fcgi.c -lfcgi
 *   cc -O2 -DDURABLE $(pkg-config --cflags hiredis) -o noop-durable \
 *       tests/bench/noop_fcgi.c -lfcgi -lhiredis
 */
#define _POSIX_C_SOURCE 200809L
#include <fcgiapp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#ifdef DURABLE
#include <hiredis.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

static redisContext *store;
static char key[64];
#ifdef SCRIPT
static char token_key[80];
static char sha[41];
static const char script[] = "local r = redis.call('GET', KEYS[2]) or '' "
                             "if r ~= ARGV[1] then return 0 end "
                             "redis.call('GETRANGE', KEYS[1], 0, 3) "
                             "redis.call('SET', KEYS[1], ARGV[2]) return 1";
#endif

static int store_open(void)
{
    const char *addr = getenv("JOI_REDIS");
    if (addr == NULL)
        return -1;
    if (strncmp(addr, "unix:", 5) == 0) {
        store = redisConnectUnix(addr + 5);
    } else {
        const char *colon = strrchr(addr, ':');
        if (colon == NULL)
            return -1;
        char host[256];
        size_t n = (size_t)(colon - addr);
        if (n >= sizeof host)
            return -1;
        memcpy(host, addr, n);
        host[n] = '\0';
        store = redisConnect(host, atoi(colon + 1));
    }
    snprintf(key, sizeof key, "joi:bench:noop-durable:%ld", (long)getpid());
    if (store == NULL || store->err)
        return -1;
#ifdef SCRIPT
    snprintf(token_key, sizeof token_key, "%s:token", key);
    redisReply *r = redisCommand(store, "SCRIPT LOAD %s", script);
    int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
    if (ok)
        memcpy(sha, r->str, 41);
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
#else
    return 0;
#endif
}

/* SET key body (GET key with ROUND_TRIP, the script with SCRIPT), then waits
 * for the reply. */
static int store_write(const char *body, size_t len)
{
#if defined ROUND_TRIP
    const char *argv[] = {"GET", key};
    size_t lens[] = {3, strlen(key)};
    (void)body;
    (void)len;
#elif defined SCRIPT
    const char *argv[] = {"EVALSHA", sha, "2", key, token_key, "", body};
    size_t lens[] = {7, 40, 1, strlen(key), strlen(token_key), 0, len};
#else
    const char *argv[] = {"SET", key, body};
    size_t lens[] = {3, strlen(key), len};
#endif
    void *reply = NULL;
    int done = 0;
    if (redisAppendCommandArgv(store, (int)(sizeof lens / sizeof lens[0]), argv, lens) != REDIS_OK)
        return -1;
    do {
        if (redisBufferWrite(store, &done) != REDIS_OK)
            return -1;
    } while (!done);
    struct pollfd p = {.fd = store->fd, .events = POLLIN};
    if (poll(&p, 1, 2000) != 1 || redisGetReply(store, &reply) != REDIS_OK)
        return -1;
    int type = ((redisReply *)reply)->type;
#if defined ROUND_TRIP
    int ok = type == REDIS_REPLY_NIL || type == REDIS_REPLY_STRING;
#elif defined SCRIPT
    int ok = type == REDIS_REPLY_INTEGER && ((redisReply *)reply)->integer == 1;
#else
    int ok = type == REDIS_REPLY_STATUS;
#endif
    freeReplyObject(reply);
    return ok ? 0 : -1;
}
#endif

static volatile sig_atomic_t stop_requested;

static void on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    if (FCGX_Init() != 0)
        return 1;
#ifdef DURABLE
    if (store_open() != 0)
        return 1;
#endif
    FCGX_Request rq;
    FCGX_InitRequest(&rq, 0, 0);
    static char buf[65536];
    static const char answer[] = "Status: 200 OK\r\n"
                                 "Content-Type: application/json\r\n"
                                 "Content-Length: 2\r\n"
                                 "\r\n"
                                 "{}";
    while (!stop_requested && FCGX_Accept_r(&rq) >= 0) {
        size_t len = 0;
        int n;
        while ((n = FCGX_GetStr(buf + len, (int)(sizeof buf - len), rq.in)) > 0)
            if ((len += (size_t)n) == sizeof buf)
                len = 0; /* a body over 64 KiB: only its tail is kept */
#ifdef DURABLE
        if (store_write(buf, len) != 0)
            return 1;
#endif
        FCGX_PutStr(answer, (int)sizeof answer - 1, rq.out);
        FCGX_Detach(&rq);
        FCGX_Finish_r(&rq);
    }
    return 0;
}
