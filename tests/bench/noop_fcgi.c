/*
 * noop_fcgi.c -- the store ceiling of scripts/bench.sh: a FastCGI responder that
 * reads each request's whole body and answers 200 with a constant JSON body, and
 * does nothing else (no parsing, no Redis).  lighttpd starts it in place of
 * joi-worker (scripts/joi-service's JOI_WORKER_WRAPPER: the worker's path that
 * follows on the command line is ignored), so the POSTs it receives take the
 * same lighttpd, the same config and the same FastCGI socket as the worker's.
 * It closes each connection the way joi-worker does (FCGX_Detach, then
 * FCGX_Finish_r), so the ceiling is not slower than the worker for that reason.
 *
 *   cc -O2 -o noop-fcgi tests/bench/noop_fcgi.c -lfcgi
 */
#define _POSIX_C_SOURCE 200809L
#include <fcgiapp.h>
#include <signal.h>
#include <string.h>

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
    FCGX_Request rq;
    FCGX_InitRequest(&rq, 0, 0);
    static char buf[65536];
    static const char answer[] = "Status: 200 OK\r\n"
                                 "Content-Type: application/json\r\n"
                                 "Content-Length: 2\r\n"
                                 "\r\n"
                                 "{}";
    while (!stop_requested && FCGX_Accept_r(&rq) >= 0) {
        while (FCGX_GetStr(buf, (int)sizeof buf, rq.in) > 0)
            ;
        FCGX_PutStr(answer, (int)sizeof answer - 1, rq.out);
        FCGX_Detach(&rq);
        FCGX_Finish_r(&rq);
    }
    return 0;
}
