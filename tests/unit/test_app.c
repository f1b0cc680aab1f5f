/*
 * test_app.c -- the request handler over the in-memory store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/app.h"
#include "joi/store.h"
#include "joi/token.h"
#include "suites.h"

#define TYPE_JSON "application/json"
#define TYPE_PROBLEM "application/problem+json"

struct fixture {
    struct joi_store *store;
    struct joi_app app;
    struct joi_response resp;
    const char *authorization;
};

static void setup(struct fixture *f, int load_plans)
{
    f->store = joi_store_mem_new();
    joi_app_init(&f->app, f->store);
    joi_response_init(&f->resp);
    f->authorization = NULL;
    if (load_plans) {
        size_t len = 0;
        char *doc = test_read_source_file("redis/plans.json", &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
        struct joi_error err;
        joi_error_clear(&err);
        CU_ASSERT_EQUAL(f->store->ops->config_put(f->store, doc, len, &err), 0);
        free(doc);
    }
}

static void teardown(struct fixture *f)
{
    joi_response_free(&f->resp);
    joi_app_free(&f->app);
    joi_store_free(f->store);
}

/* Runs one request the way the FastCGI loop does (precheck, then the handler
 * when precheck allows), with an explicit Content-Length.  Returns the status. */
static int request_ex(struct fixture *f, const char *method, const char *uri, const char *ctype,
                      const char *body, long long content_length)
{
    joi_response_free(&f->resp);
    joi_response_init(&f->resp);
    struct joi_request req = {
        .method = method,
        .uri = uri,
        .content_type = ctype,
        .content_length = content_length,
        .authorization = f->authorization,
        .body = body ? body : "",
        .body_len = body ? strlen(body) : 0,
    };
    if (joi_app_precheck(&req, &f->resp) >= 0)
        joi_app_handle(&f->app, &req, &f->resp);
    return f->resp.status;
}

static int request(struct fixture *f, const char *method, const char *uri, const char *body)
{
    return request_ex(f, method, uri, body ? "application/json" : NULL, body,
                      body ? (long long)strlen(body) : -1);
}

static const char *body(const struct fixture *f)
{
    return f->resp.body.data ? f->resp.body.data : "";
}

static long long count(struct fixture *f, const char *meter)
{
    long long n = -1;
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(f->store->ops->readings_count(f->store, meter, &n, &err), 0);
    return n;
}

#define CHECK_RESPONSE(f, status_, type_, body_)                                                   \
    do {                                                                                           \
        CU_ASSERT_EQUAL((f)->resp.status, status_);                                                \
        CU_ASSERT_STRING_EQUAL((f)->resp.content_type, type_);                                     \
        CU_ASSERT_STRING_EQUAL(body(f), body_);                                                    \
        if (strcmp(body(f), body_) != 0)                                                           \
            fprintf(stderr, "\n    body was: %s\n", body(f));                                      \
    } while (0)

#define WORKED_EXAMPLE                                                                             \
    "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["                                \
    "{\"time\":1606645800,\"reading\":35.0},{\"time\":1606647600,\"reading\":5.0}]}"

/* ------------------------------------------------------------------------ */

static void test_store_then_read(void)
{
    struct fixture f;
    setup(&f, 0);
    static const char batch[] = "{\"smartMeterId\": \"smart-meter-0\", \"electricityReadings\": ["
                                "{\"time\": 1606636800, \"reading\": 0.0503},"
                                "{\"time\": 1606636860, \"reading\": 0.0621}]}";
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", batch), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["
                   "{\"time\":1606636800,\"reading\":0.0503},"
                   "{\"time\":1606636860,\"reading\":0.0621}]}");
    CU_ASSERT_EQUAL(count(&f, "smart-meter-0"), 2);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/smart-meter-0", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"time\":1606636800,\"reading\":0.0503},"
                   "{\"time\":1606636860,\"reading\":0.0621}]");
    CU_ASSERT_STRING_EQUAL(f.resp.allow, "");
    teardown(&f);
}

static void test_store_echo_and_replace(void)
{
    struct fixture f;
    setup(&f, 0);
    /* Echoed in the order sent, ISO times as epoch seconds, -0 as 0; read back ascending
     * with the last of equal times kept. */
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                            "{\"time\":\"2024-01-01T08:01:00+01:00\",\"reading\":0.1},"
                            "{\"time\":1704092400,\"reading\":-0},"
                            "{\"time\":1704092460,\"reading\":0.30000000000000004}]}"),
                    200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                   "{\"time\":1704092460,\"reading\":0.1},"
                   "{\"time\":1704092400,\"reading\":0},"
                   "{\"time\":1704092460,\"reading\":0.30000000000000004}]}");
    CU_ASSERT_EQUAL(count(&f, "m-1"), 2);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m-1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"time\":1704092400,\"reading\":0},"
                   "{\"time\":1704092460,\"reading\":0.30000000000000004}]");
    /* Storing a time again replaces it. */
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                            "{\"time\":1704092400,\"reading\":7}]}"),
                    200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m-1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"time\":1704092400,\"reading\":7},"
                   "{\"time\":1704092460,\"reading\":0.30000000000000004}]");
    CU_ASSERT_EQUAL(count(&f, "m-1"), 2);
    teardown(&f);
}

static void test_read_range_and_limit(void)
{
    struct fixture f;
    setup(&f, 0);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"m\",\"electricityReadings\":["
                            "{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2},"
                            "{\"time\":300,\"reading\":3}]}"),
                    200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?limit=1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"time\":300,\"reading\":3}]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?from=150&to=300", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"time\":200,\"reading\":2},{\"time\":300,\"reading\":3}]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?from=1970-01-01T00:03:20Z&to=250", NULL),
                    200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"time\":200,\"reading\":2}]");
    /* A meter that has readings, none in range: an empty list. */
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?from=400", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?limit=0", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?from=300&to=100", NULL), 400);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?from=yesterday", NULL), 400);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m?limit=x", NULL), 400);
    teardown(&f);
}

static void test_not_found(void)
{
    struct fixture f;
    setup(&f, 1);
    static const char *const uris[] = {"/",
                                       "/readings",
                                       "/readings/",
                                       "/readings/read",
                                       "/readings/read/smart-meter-0/extra",
                                       "/readings/store/x",
                                       "/price-plans/unknown/smart-meter-0",
                                       "/price-plans/compare-all/smart-meter-0/x",
                                       "/healthz"};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        CU_ASSERT_EQUAL(request(&f, "GET", uris[i], NULL), 404);
        CHECK_RESPONSE(&f, 404, TYPE_PROBLEM,
                       "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                       "\"detail\":\"no such resource\"}");
    }
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/nobody", NULL), 404);
    CHECK_RESPONSE(&f, 404, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                   "\"detail\":\"meter nobody has no readings\"}");
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/nobody", NULL), 404);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/nobody", NULL), 404);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/nobody?limit=0", NULL), 404);
    teardown(&f);
}

static void test_method_not_allowed(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/store", NULL), 405);
    CU_ASSERT_STRING_EQUAL(f.resp.allow, "POST");
    CHECK_RESPONSE(&f, 405, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\",\"status\":405,"
                   "\"detail\":\"GET is not allowed here; use POST\"}");
    CU_ASSERT_EQUAL(request(&f, "PUT", "/readings/store", "{}"), 405);
    CU_ASSERT_STRING_EQUAL(f.resp.allow, "POST");
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/read/smart-meter-0", "{}"), 405);
    CU_ASSERT_STRING_EQUAL(f.resp.allow, "GET, HEAD");
    CU_ASSERT_EQUAL(request(&f, "DELETE", "/price-plans/compare-all/smart-meter-0", NULL), 405);
    CU_ASSERT_STRING_EQUAL(f.resp.allow, "GET, HEAD");
    CU_ASSERT_EQUAL(request(&f, "POST", "/health", "{}"), 405);
    CU_ASSERT_STRING_EQUAL(f.resp.allow, "GET, HEAD");
    teardown(&f);
}

static void test_invalid_meter_in_path(void)
{
    struct fixture f;
    setup(&f, 1);
    static const char *const uris[] = {
        "/readings/read/bad%2Fid",
        "/readings/read/bad%zzid",
        "/readings/read/bad%",
        "/readings/read/a%00b",
        "/readings/read/a%20b",
        "/readings/read/caf%C3%A9",
        "/readings/read/",
        "/readings/read/m2345678901234567890123456789012345678901234567890123456789012345",
        "/price-plans/compare-all/bad%2Fid",
        "/price-plans/recommend/a+b",
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        CU_ASSERT_EQUAL(request(&f, "GET", uris[i], NULL), 400);
        CHECK_RESPONSE(&f, 400, TYPE_PROBLEM,
                       "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                       "\"detail\":\"the meter id must be 1 to 64 characters from A-Z a-z 0-9 . "
                       "_ -\"}");
    }
    /* Percent-encoded characters that are allowed decode to the same meter. */
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                            "{\"time\":5,\"reading\":1}]}"),
                    200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/m%2D1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"time\":5,\"reading\":1}]");
    /* 64 characters is fine (no readings: 404). */
    CU_ASSERT_EQUAL(
        request(&f, "GET",
                "/readings/read/m234567890123456789012345678901234567890123456789012345678901234",
                NULL),
        404);
    teardown(&f);
}

static void test_body_prechecks(void)
{
    struct fixture f;
    setup(&f, 0);
    static const char one[] = "{\"smartMeterId\":\"m\",\"electricityReadings\":["
                              "{\"time\":5,\"reading\":1}]}";
    const long long len = (long long)strlen(one);

    CU_ASSERT_EQUAL(request_ex(&f, "POST", "/readings/store", "text/plain", one, len), 415);
    CHECK_RESPONSE(&f, 415, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Unsupported Media Type\",\"status\":415,"
                   "\"detail\":\"Content-Type must be application/json\"}");
    CU_ASSERT_EQUAL(request_ex(&f, "POST", "/readings/store", "application/jsonp", one, len), 415);
    CU_ASSERT_EQUAL(
        request_ex(&f, "POST", "/readings/store", "application/x-www-form-urlencoded", one, len),
        415);
    CU_ASSERT_EQUAL(count(&f, "m"), 0);

    CU_ASSERT_EQUAL(request_ex(&f, "POST", "/readings/store", "application/json", one, -1), 411);
    CHECK_RESPONSE(&f, 411, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Length Required\",\"status\":411,"
                   "\"detail\":\"a Content-Length is required\"}");
    CU_ASSERT_EQUAL(
        request_ex(&f, "POST", "/readings/store", "application/json", one, JOI_BODY_MAX + 1), 413);
    CHECK_RESPONSE(&f, 413, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Content Too Large\",\"status\":413,"
                   "\"detail\":\"the body is larger than 1048576 bytes\"}");
    CU_ASSERT_EQUAL(count(&f, "m"), 0);

    /* JSON types with parameters, in any case, and no type at all, are accepted. */
    CU_ASSERT_EQUAL(
        request_ex(&f, "POST", "/readings/store", "application/json; charset=utf-8", one, len),
        200);
    CU_ASSERT_EQUAL(request_ex(&f, "POST", "/readings/store", "Application/JSON", one, len), 200);
    CU_ASSERT_EQUAL(request_ex(&f, "POST", "/readings/store", NULL, one, len), 200);
    CU_ASSERT_EQUAL(request_ex(&f, "POST", "/readings/store", "", one, len), 200);
    CU_ASSERT_EQUAL(count(&f, "m"), 1);
    teardown(&f);
}

static void test_precheck_return_values(void)
{
    struct joi_response resp;
    joi_response_init(&resp);
    struct joi_request req = {.method = "POST",
                              .uri = "/readings/store",
                              .content_type = "application/json",
                              .content_length = 10,
                              .authorization = NULL,
                              .body = "",
                              .body_len = 0};
    CU_ASSERT_EQUAL(joi_app_precheck(&req, &resp), 1); /* read the body */
    CU_ASSERT_EQUAL(resp.status, 200);
    req.content_length = JOI_BODY_MAX;
    CU_ASSERT_EQUAL(joi_app_precheck(&req, &resp), 1);
    req.content_length = JOI_BODY_MAX + 1;
    CU_ASSERT_EQUAL(joi_app_precheck(&req, &resp), -1);
    CU_ASSERT_EQUAL(resp.status, 413);
    joi_response_free(&resp);
    joi_response_init(&resp);
    req.method = "GET";
    req.uri = "/readings/read/m";
    req.content_length = -1;
    CU_ASSERT_EQUAL(joi_app_precheck(&req, &resp), 0); /* no body needed */
    req.method = "GET";
    req.uri = "/readings/store";
    CU_ASSERT_EQUAL(joi_app_precheck(&req, &resp), 0); /* the handler answers 405 */
    CU_ASSERT_EQUAL(resp.status, 200);
    joi_response_free(&resp);
}

static void test_failed_batch_writes_nothing(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["
                            "{\"time\":1,\"reading\":1},{\"time\":2,\"reading\":1},"
                            "{\"time\":3,\"reading\":-1}]}"),
                    400);
    CHECK_RESPONSE(&f, 400, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                   "\"detail\":\"electricityReadings[2].reading must be a number between 0 and "
                   "1000000\",\"pointer\":\"/electricityReadings/2/reading\"}");
    CU_ASSERT_EQUAL(count(&f, "smart-meter-0"), 0);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/smart-meter-0", NULL), 404);

    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", "[]"), 400);
    CHECK_RESPONSE(&f, 400, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                   "\"detail\":\"the body must be a JSON object with smartMeterId and "
                   "electricityReadings\",\"pointer\":\"\"}");
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", "{\"smartMeterId\":\"smart-meter-0\""),
                    400);
    CU_ASSERT_EQUAL(count(&f, "smart-meter-0"), 0);
    teardown(&f);
}

static void test_store_down(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "GET", "/health", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "{\"status\":\"ok\"}");
    joi_store_mem_set_down(f.store, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 503);
    CHECK_RESPONSE(&f, 503, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,"
                   "\"detail\":\"the store is unavailable\"}");
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/smart-meter-0", NULL), 503);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-0", NULL), 503);
    CU_ASSERT_EQUAL(request(&f, "GET", "/health", NULL), 503);
    CU_ASSERT_STRING_EQUAL(f.resp.content_type, TYPE_PROBLEM);
    CU_ASSERT_EQUAL(request(&f, "GET", "/health/live", NULL), 200);
    joi_store_mem_set_down(f.store, 0);
    CU_ASSERT_EQUAL(count(&f, "smart-meter-0"), 0);
    CU_ASSERT_EQUAL(request(&f, "GET", "/health", NULL), 200);
    teardown(&f);
}

static void test_compare_all_worked_example(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["
                   "{\"time\":1606645800,\"reading\":35},{\"time\":1606647600,\"reading\":5}]}");
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-0", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"pricePlanId\":\"price-plan-0\",\"pricePlanComparisons\":["
                   "{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}],"
                   "\"usage\":{\"from\":1606645800,\"to\":1606647600,\"kWh\":10,"
                   "\"coveredSeconds\":1800,\"gaps\":0}}");
    /* HEAD is answered like GET (the FastCGI loop drops the body). */
    CU_ASSERT_EQUAL(request(&f, "HEAD", "/price-plans/compare-all/smart-meter-0", NULL), 200);
    teardown(&f);
}

static void test_compare_all_without_account(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"no-account\",\"electricityReadings\":["
                            "{\"time\":0,\"reading\":1},{\"time\":3600,\"reading\":3}]}"),
                    200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/no-account", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"pricePlanId\":null,\"pricePlanComparisons\":["
                   "{\"price-plan-2\":2},{\"price-plan-1\":4},{\"price-plan-0\":20}],"
                   "\"usage\":{\"from\":0,\"to\":3600,\"kWh\":2,"
                   "\"coveredSeconds\":3600,\"gaps\":0}}");
    teardown(&f);
}

static void test_single_reading_422(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"smart-meter-1\",\"electricityReadings\":["
                            "{\"time\":1606645800,\"reading\":35},"
                            "{\"time\":1606645800,\"reading\":36}]}"),
                    200);
    CU_ASSERT_EQUAL(count(&f, "smart-meter-1"), 1);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-1", NULL), 422);
    CHECK_RESPONSE(&f, 422, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Unprocessable Content\",\"status\":422,"
                   "\"detail\":\"meter smart-meter-1 has readings at fewer than two distinct "
                   "times, so no consumption can be computed\"}");
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-1", NULL), 422);
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/smart-meter-1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"time\":1606645800,\"reading\":36}]");
    teardown(&f);
}

static void test_no_plans_loaded(void)
{
    struct fixture f;
    setup(&f, 0);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-0", NULL), 503);
    CU_ASSERT_STRING_EQUAL(f.resp.content_type, TYPE_PROBLEM);
    /* Loading the file takes effect on the next request. */
    size_t len = 0;
    char *doc = test_read_source_file("redis/plans.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(f.store->ops->config_put(f.store, doc, len, &err), 0);
    free(doc);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?limit=1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"price-plan-2\":10}]");
    /* And a new version replaces it. */
    static const char cheaper[] = "{\"pricePlans\":[{\"id\":\"only\",\"unitRate\":0.5}]}";
    CU_ASSERT_EQUAL(f.store->ops->config_put(f.store, cheaper, strlen(cheaper), &err), 0);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-0", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"pricePlanId\":null,\"pricePlanComparisons\":[{\"only\":5}],"
                   "\"usage\":{\"from\":1606645800,\"to\":1606647600,\"kWh\":10,"
                   "\"coveredSeconds\":1800,\"gaps\":0}}");
    teardown(&f);
}

static void test_recommend(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?limit=1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"price-plan-2\":10}]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?limit=2", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"price-plan-2\":10},{\"price-plan-1\":20}]");
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?limit=0", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[]");
    CU_ASSERT_EQUAL(request(&f, "GET",
                            "/price-plans/recommend/smart-meter-0?limit=99999999999999999999999",
                            NULL),
                    200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]");
    teardown(&f);
}

static void test_recommend_bad_limit(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?limit=abc", NULL),
                    400);
    CHECK_RESPONSE(&f, 400, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                   "\"detail\":\"query parameter limit must be an integer >= 0\","
                   "\"parameter\":\"limit\"}");
    static const char *const bad[] = {"limit=",    "limit=-1",   "limit=1.5",       "limit=+1",
                                      "limit=1e2", "limit=%201", "limit=1&limit=2", "limit=0x1"};
    char uri[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(uri, sizeof uri, "/price-plans/recommend/smart-meter-0?%s", bad[i]);
        CU_ASSERT_EQUAL(request(&f, "GET", uri, NULL), 400);
        CU_ASSERT_PTR_NOT_NULL(strstr(body(&f), "\"parameter\":\"limit\""));
    }
    teardown(&f);
}

static void test_recommend_savings(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/recommend/smart-meter-0?include=savings", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10,\"savingVsCurrent\":90},"
                   "{\"pricePlanId\":\"price-plan-1\",\"cost\":20,\"savingVsCurrent\":80},"
                   "{\"pricePlanId\":\"price-plan-0\",\"cost\":100,\"savingVsCurrent\":0}]");
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/recommend/smart-meter-0?include=savings&limit=1", NULL),
        200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10,\"savingVsCurrent\":90}]");
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/recommend/smart-meter-0?include=everything", NULL), 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(body(&f), "\"parameter\":\"include\""));
    /* A meter without an account has no saving to show. */
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"guest\",\"electricityReadings\":["
                            "{\"time\":1606645800,\"reading\":35},"
                            "{\"time\":1606647600,\"reading\":5}]}"),
                    200);
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/recommend/guest?include=savings&limit=1", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON, "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10}]");
    teardown(&f);
}

static void test_price_range(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"smart-meter-3\",\"electricityReadings\":["
                            "{\"time\":1606645800,\"reading\":35},"
                            "{\"time\":1606647600,\"reading\":5},"
                            "{\"time\":1606649400,\"reading\":5}]}"),
                    200);
    /* All three: 10 + 2.5 = 12.5 kWh. */
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-3", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"pricePlanId\":\"price-plan-2\",\"pricePlanComparisons\":["
                   "{\"price-plan-2\":12.5},{\"price-plan-1\":25},{\"price-plan-0\":125}],"
                   "\"usage\":{\"from\":1606645800,\"to\":1606649400,\"kWh\":12.5,"
                   "\"coveredSeconds\":3600,\"gaps\":0}}");
    /* The last two only. */
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/compare-all/smart-meter-3?from=1606647600", NULL), 200);
    CHECK_RESPONSE(&f, 200, TYPE_JSON,
                   "{\"pricePlanId\":\"price-plan-2\",\"pricePlanComparisons\":["
                   "{\"price-plan-2\":2.5},{\"price-plan-1\":5},{\"price-plan-0\":25}],"
                   "\"usage\":{\"from\":1606647600,\"to\":1606649400,\"kWh\":2.5,"
                   "\"coveredSeconds\":1800,\"gaps\":0}}");
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/compare-all/smart-meter-3?to=2020-11-29T11:00:00Z", NULL),
        200);
    CU_ASSERT_PTR_NOT_NULL(strstr(body(&f), "{\"price-plan-0\":100}"));
    /* from after to. */
    CU_ASSERT_EQUAL(request(&f, "GET",
                            "/price-plans/compare-all/smart-meter-3?from=1606649400&to=1606645800",
                            NULL),
                    400);
    CHECK_RESPONSE(&f, 400, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                   "\"detail\":\"query parameter from must not be after to\","
                   "\"parameter\":\"from\"}");
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/recommend/smart-meter-3?from=200&to=100", NULL), 400);
    /* A range with one reading, and one with none. */
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/compare-all/smart-meter-3?from=1606649400", NULL), 422);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/compare-all/smart-meter-3?to=100", NULL), 404);
    CHECK_RESPONSE(&f, 404, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                   "\"detail\":\"meter smart-meter-3 has no readings in the requested range\"}");
    CU_ASSERT_EQUAL(
        request(&f, "GET", "/price-plans/compare-all/smart-meter-3?from=253402300800", NULL), 400);
    teardown(&f);
}

static void test_malformed_query(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?limit=%zz", NULL),
                    400);
    CHECK_RESPONSE(&f, 400, TYPE_PROBLEM,
                   "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                   "\"detail\":\"the query string is malformed or too long\"}");
    /* Unknown parameters are ignored. */
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans/recommend/smart-meter-0?x=1&&y", NULL), 200);
    teardown(&f);
}

static void test_price_plans_list(void)
{
    struct fixture f;
    setup(&f, 1);
    CU_ASSERT_EQUAL(request(&f, "GET", "/price-plans", NULL), 200);
    CHECK_RESPONSE(
        &f, 200, TYPE_JSON,
        "[{\"id\":\"price-plan-0\",\"supplier\":\"Dr Evil's Dark Energy\",\"unitRate\":10,"
        "\"standingCharge\":0,\"timezone\":\"UTC\",\"peakTimeMultipliers\":[]},"
        "{\"id\":\"price-plan-1\",\"supplier\":\"The Green Eco\",\"unitRate\":2,"
        "\"standingCharge\":0,\"timezone\":\"UTC\",\"peakTimeMultipliers\":[]},"
        "{\"id\":\"price-plan-2\",\"supplier\":\"Power for Everyone\",\"unitRate\":1,"
        "\"standingCharge\":0,\"timezone\":\"UTC\",\"peakTimeMultipliers\":[]}]");
    teardown(&f);
}

static void test_write_token(void)
{
    struct fixture f;
    setup(&f, 0);
    char token[JOI_TOKEN_LEN + 1], record[JOI_TOKEN_RECORD_MAX], auth[80];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(token, record), 0);
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(f.store->ops->token_set(f.store, "smart-meter-0", record, &err), 0);

    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 401);
    CU_ASSERT_STRING_EQUAL(f.resp.content_type, TYPE_PROBLEM);
    snprintf(auth, sizeof auth, "Bearer %.63s", token);
    f.authorization = auth;
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 401);
    snprintf(auth, sizeof auth, "Basic %s", token);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 401);
    CU_ASSERT_EQUAL(count(&f, "smart-meter-0"), 0);
    snprintf(auth, sizeof auth, "Bearer %s", token);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    CU_ASSERT_EQUAL(count(&f, "smart-meter-0"), 2);
    /* Reading needs no token; another meter is not affected. */
    f.authorization = NULL;
    CU_ASSERT_EQUAL(request(&f, "GET", "/readings/read/smart-meter-0", NULL), 200);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store",
                            "{\"smartMeterId\":\"smart-meter-1\",\"electricityReadings\":["
                            "{\"time\":1,\"reading\":1}]}"),
                    200);
    /* Removing the record opens the meter again. */
    CU_ASSERT_EQUAL_FATAL(f.store->ops->token_set(f.store, "smart-meter-0", NULL, &err), 0);
    CU_ASSERT_EQUAL(request(&f, "POST", "/readings/store", WORKED_EXAMPLE), 200);
    teardown(&f);
}

void add_app_suite(void)
{
    static const struct test_case tests[] = {
        {"store then read", test_store_then_read},
        {"store echo and replace", test_store_echo_and_replace},
        {"read range and limit", test_read_range_and_limit},
        {"404 unknown route and meter", test_not_found},
        {"405 with Allow", test_method_not_allowed},
        {"400 invalid meter id in the path", test_invalid_meter_in_path},
        {"411, 413, 415", test_body_prechecks},
        {"precheck return values", test_precheck_return_values},
        {"failed batch writes nothing", test_failed_batch_writes_nothing},
        {"503 when the store is down", test_store_down},
        {"compare-all worked example", test_compare_all_worked_example},
        {"compare-all without account", test_compare_all_without_account},
        {"422 for a single reading", test_single_reading_422},
        {"no plans loaded, then loaded", test_no_plans_loaded},
        {"recommend and limit", test_recommend},
        {"recommend bad limit", test_recommend_bad_limit},
        {"recommend include=savings", test_recommend_savings},
        {"price from/to", test_price_range},
        {"malformed query", test_malformed_query},
        {"price plans list", test_price_plans_list},
        {"write token", test_write_token},
        {NULL, NULL},
    };
    test_add_suite("app", tests);
}
