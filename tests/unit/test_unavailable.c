/*
 * test_unavailable.c -- a store that refuses for now: Redis error replies mapped
 * to 503 with the reason, and every 503 carrying Retry-After.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/app.h"
#include "joi/redis_conn.h"
#include "joi/store.h"
#include "suites.h"

static void check_mapping(const char *reply, int status, const char *detail)
{
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(joi_redis_error(reply, &err), -1);
    CU_ASSERT_EQUAL(err.status, status);
    CU_ASSERT_STRING_EQUAL(err.detail, detail);
    if (err.status != status || strcmp(err.detail, detail) != 0)
        fprintf(stderr, "\n    %s -> %d %s\n", reply, err.status, err.detail);
}

static void test_redis_refusals(void)
{
    check_mapping("OOM command not allowed when used memory > 'maxmemory'.", 503,
                  "the store is out of memory and refuses writes");
    /* Redis 7 keeps the code of an error raised inside a script. */
    check_mapping("OOM command not allowed when used memory > 'maxmemory'. script: "
                  "5dc9e070daa8bd15890eef2f8f982e4e148a5138, on @user_script:24.",
                  503, "the store is out of memory and refuses writes");
    /* Redis 6 wraps it. */
    check_mapping("ERR Error running script (call to f_5dc9e070daa8bd15890eef2f8f982e4e148a5138): "
                  "@user_script:24: -OOM command not allowed when used memory > 'maxmemory'. ",
                  503, "the store is out of memory and refuses writes");
    check_mapping("MISCONF Errors writing to the AOF file: No space left on device", 503,
                  "the store cannot write to its disk and refuses writes");
    check_mapping("MISCONF Redis is configured to save RDB snapshots, but it's currently unable "
                  "to persist to disk.",
                  503, "the store cannot write to its disk and refuses writes");
    check_mapping("LOADING Redis is loading the dataset in memory", 503,
                  "the store is loading its data");
    check_mapping("READONLY You can't write against a read only replica.", 503,
                  "the store is a read-only replica and refuses writes");
    check_mapping("NOREPLICAS Not enough good replicas to write.", 503,
                  "the store has too few replicas to accept writes");
    check_mapping("BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                  "SHUTDOWN NOSAVE.",
                  503, "the store is busy running a script");
    check_mapping(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", 503,
        "the store is unavailable");
    check_mapping("ERR Connection refused", 503, "the store is unavailable");
    check_mapping("ERR Server unavailable", 503, "the store is unavailable");
    check_mapping("ERR Connection timed out", 503, "the store is unavailable");
    /* What data the service did not write, or a bug, causes: not worth a retry. */
    check_mapping("WRONGTYPE Operation against a key holding the wrong kind of value", 500,
                  "the store refused a command");
    check_mapping("ERR Error running script (call to f_0): @user_script:3: user_script:3: "
                  "attempt to compare nil with number",
                  500, "the store refused a command");
    check_mapping("ERR unknown command 'FOO'", 500, "the store refused a command");
    check_mapping("", 500, "the store refused a command");
}

static int handle(struct joi_app *app, const char *method, const char *uri, int redirect_status,
                  struct joi_response *resp)
{
    joi_response_free(resp);
    joi_response_init(resp);
    struct joi_request req = {.method = method,
                              .uri = uri,
                              .content_length = -1,
                              .body = "",
                              .redirect_status = redirect_status};
    if (joi_app_precheck(&req, resp) >= 0)
        joi_app_handle(app, &req, resp);
    return resp->status;
}

static void test_every_503_has_retry_after(void)
{
    struct joi_store *store = joi_store_mem_new();
    struct joi_app app;
    joi_app_init(&app, store);
    struct joi_response resp;
    joi_response_init(&resp);

    /* No plans loaded: a 503 of the service itself. */
    CU_ASSERT_EQUAL(handle(&app, "GET", "/price-plans/compare-all/m", 0, &resp), 503);
    CU_ASSERT_EQUAL(resp.retry_after, JOI_RETRY_AFTER_SECONDS);
    /* Other errors and successes carry none. */
    CU_ASSERT_EQUAL(handle(&app, "GET", "/readings/read/m", 0, &resp), 404);
    CU_ASSERT_EQUAL(resp.retry_after, 0);
    CU_ASSERT_EQUAL(handle(&app, "GET", "/health", 0, &resp), 200);
    CU_ASSERT_EQUAL(resp.retry_after, 0);
    /* A 503 lighttpd decided and hands to the error handler. */
    CU_ASSERT_EQUAL(handle(&app, "GET", "/.error", 503, &resp), 503);
    CU_ASSERT_EQUAL(resp.retry_after, JOI_RETRY_AFTER_SECONDS);
    CU_ASSERT_EQUAL(handle(&app, "GET", "/.error", 500, &resp), 500);
    CU_ASSERT_EQUAL(resp.retry_after, 0);

    /* The store down: every endpoint, health included. */
    joi_store_mem_set_down(store, 1);
    static const char *const uris[] = {"/health", "/readings/read/m", "/price-plans",
                                       "/price-plans/compare-all/m", "/price-plans/recommend/m"};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        CU_ASSERT_EQUAL(handle(&app, "GET", uris[i], 0, &resp), 503);
        CU_ASSERT_EQUAL(resp.retry_after, JOI_RETRY_AFTER_SECONDS);
    }
    CU_ASSERT_EQUAL(handle(&app, "GET", "/health/live", 0, &resp), 200);
    CU_ASSERT_EQUAL(resp.retry_after, 0);
    joi_store_mem_set_down(store, 0);
    CU_ASSERT_EQUAL(handle(&app, "GET", "/health", 0, &resp), 200);
    CU_ASSERT_EQUAL(resp.retry_after, 0);

    joi_response_free(&resp);
    joi_app_free(&app);
    joi_store_free(store);
}

void add_unavailable_suite(void)
{
    static const struct test_case tests[] = {
        {"Redis refusals are 503 with the reason", test_redis_refusals},
        {"every 503 carries Retry-After", test_every_503_has_retry_after},
        {NULL, NULL},
    };
    test_add_suite("unavailable", tests);
}
