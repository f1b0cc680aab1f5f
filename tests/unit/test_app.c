/*
 * test_app.c -- the request handler over the in-memory store.
 *
 * Most tests are scenarios: a fresh store (with or without the default plans
 * file), then a table of exchanges, each one request and the exact answer it
 * must get (status, content type, body, Allow header) and what the store must
 * hold afterwards.  One runner sends them the way the FastCGI loop does and, on
 * a mismatch, names the scenario, the step, its request and what came back
 * against what was expected.  Tests that do something between requests (load
 * plans, set tokens) or call the precheck directly are functions; they use the
 * same runner for their requests.
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

/* One request and what must come of it.  status is always checked; type,
 * expect (the exact body) and contains (a part of the body) when not NULL; the
 * Allow header always (allow, or "" when NULL); when meter is not NULL, the
 * store must hold count readings of it after the request. */
struct exchange {
    int line; /* where the row is written, for failure messages */
    const char *method, *uri, *body;
    const char *auth; /* the Authorization header, or NULL */
    int raw;          /* 1: send ctype and length as given; 0: a body goes as
                         application/json with its length, no body with neither */
    const char *ctype;
    long long length;
    int down; /* the store is down for this request */
    int status;
    const char *type, *expect, *contains, *allow;
    const char *meter;
    long long count;
};

/* A fresh in-memory store, the default plans file loaded when plans is 1, then
 * the exchanges of steps up to a {0} row. */
struct scenario {
    const char *name;
    int plans;
    const struct exchange *steps;
};

#define REQ(method_, uri_, body_) .line = __LINE__, .method = method_, .uri = uri_, .body = body_
#define GET(uri_) REQ("GET", uri_, NULL)
#define POST(uri_, body_) REQ("POST", uri_, body_)
#define HEADERS(ctype_, length_) .raw = 1, .ctype = ctype_, .length = length_
#define JSON(status_, body_) .status = status_, .type = TYPE_JSON, .expect = body_
/* An exact problem-details body, with extra members (",\"name\":...") or none. */
#define PROBLEM_WITH(status_, title_, detail_, extra_)                                             \
    .status = status_, .type = TYPE_PROBLEM,                                                       \
    .expect = "{\"type\":\"about:blank\",\"title\":\"" title_ "\",\"status\":" #status_            \
              ",\"detail\":\"" detail_ "\"" extra_ "}"
#define PROBLEM(status_, title_, detail_) PROBLEM_WITH(status_, title_, detail_, "")
#define COUNT(meter_, count_) .meter = meter_, .count = count_

#define WORKED_EXAMPLE                                                                             \
    "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["                                \
    "{\"time\":1606645800,\"reading\":35.0},{\"time\":1606647600,\"reading\":5.0}]}"

/* ------------------------------------------------------------------------ */

struct fixture {
    struct joi_store *store;
    struct joi_app app;
    struct joi_response resp;
    const char *authorization;
};

static void load_plans_file(struct fixture *f)
{
    size_t len = 0;
    char *doc = test_read_source_file("redis/plans.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(f->store->ops->config_put(f->store, doc, len, &err), 0);
    free(doc);
}

static void setup(struct fixture *f, int load_plans)
{
    f->store = joi_store_mem_new();
    joi_app_init(&f->app, f->store);
    joi_response_init(&f->resp);
    f->authorization = NULL;
    if (load_plans)
        load_plans_file(f);
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

/* One assertion about step i (counted from 0; shown from 1) of scenario name,
 * reported at the step's row; a failure shows the request, and what came back
 * against what was expected. */
static void check(int ok, const char *name, size_t i, const struct exchange *x, const char *what,
                  const char *got, const char *want)
{
    test_check(ok, __FILE__, x->line,
               "%s, step %zu (%s %s): %s differs\n"
               "        got:      %s\n"
               "        expected: %s",
               name, i + 1, x->method, x->uri, what, got, want);
}

/* Sends the exchanges of steps (up to a {0} row) to f and checks every answer. */
static void run_steps(struct fixture *f, const char *name, const struct exchange *steps)
{
    for (size_t i = 0; steps[i].method != NULL; i++) {
        const struct exchange *x = &steps[i];
        char got[32], want[32];
        joi_store_mem_set_down(f->store, x->down);
        f->authorization = x->auth;
        if (x->raw)
            request_ex(f, x->method, x->uri, x->ctype, x->body, x->length);
        else
            request(f, x->method, x->uri, x->body);

        snprintf(got, sizeof got, "%d", f->resp.status);
        snprintf(want, sizeof want, "%d", x->status);
        check(f->resp.status == x->status, name, i, x, "status", got, want);
        const char *type = f->resp.content_type ? f->resp.content_type : "(none)";
        if (x->type != NULL)
            check(strcmp(type, x->type) == 0, name, i, x, "content type", type, x->type);
        if (x->expect != NULL)
            check(strcmp(body(f), x->expect) == 0, name, i, x, "body", body(f), x->expect);
        if (x->contains != NULL)
            check(strstr(body(f), x->contains) != NULL, name, i, x, "body (a part of it)", body(f),
                  x->contains);
        const char *allow = x->allow ? x->allow : "";
        check(strcmp(f->resp.allow, allow) == 0, name, i, x, "Allow header", f->resp.allow, allow);
        if (x->meter != NULL) {
            long long n = count(f, x->meter);
            snprintf(got, sizeof got, "%lld", n);
            snprintf(want, sizeof want, "%lld", x->count);
            check(n == x->count, name, i, x, "count of readings stored", got, want);
        }
    }
    joi_store_mem_set_down(f->store, 0);
    f->authorization = NULL;
}

/* ------------------------------------------------------------------------ */

static const struct exchange store_then_read[] = {
    {POST("/readings/store", "{\"smartMeterId\": \"smart-meter-0\", \"electricityReadings\": ["
                             "{\"time\": 1606636800, \"reading\": 0.0503},"
                             "{\"time\": 1606636860, \"reading\": 0.0621}]}"),
     JSON(200, "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["
               "{\"time\":1606636800,\"reading\":0.0503},"
               "{\"time\":1606636860,\"reading\":0.0621}]}"),
     COUNT("smart-meter-0", 2)},
    {GET("/readings/read/smart-meter-0"), JSON(200, "[{\"time\":1606636800,\"reading\":0.0503},"
                                                    "{\"time\":1606636860,\"reading\":0.0621}]")},
    {0},
};

/* Echoed in the order sent, ISO times as epoch seconds, -0 as 0; read back
 * ascending with the last of equal times kept; storing a time again replaces it. */
static const struct exchange store_echo_and_replace[] = {
    {POST("/readings/store", "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                             "{\"time\":\"2024-01-01T08:01:00+01:00\",\"reading\":0.1},"
                             "{\"time\":1704092400,\"reading\":-0},"
                             "{\"time\":1704092460,\"reading\":0.30000000000000004}]}"),
     JSON(200, "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
               "{\"time\":1704092460,\"reading\":0.1},"
               "{\"time\":1704092400,\"reading\":0},"
               "{\"time\":1704092460,\"reading\":0.30000000000000004}]}"),
     COUNT("m-1", 2)},
    {GET("/readings/read/m-1"),
     JSON(200, "[{\"time\":1704092400,\"reading\":0},"
               "{\"time\":1704092460,\"reading\":0.30000000000000004}]")},
    {POST("/readings/store", "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                             "{\"time\":1704092400,\"reading\":7}]}"),
     .status = 200},
    {GET("/readings/read/m-1"),
     JSON(200, "[{\"time\":1704092400,\"reading\":7},"
               "{\"time\":1704092460,\"reading\":0.30000000000000004}]"),
     COUNT("m-1", 2)},
    {0},
};

static const struct exchange read_range_and_limit[] = {
    {POST("/readings/store", "{\"smartMeterId\":\"m\",\"electricityReadings\":["
                             "{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2},"
                             "{\"time\":300,\"reading\":3}]}"),
     .status = 200},
    {GET("/readings/read/m?limit=1"), JSON(200, "[{\"time\":300,\"reading\":3}]")},
    {GET("/readings/read/m?from=150&to=300"),
     JSON(200, "[{\"time\":200,\"reading\":2},{\"time\":300,\"reading\":3}]")},
    {GET("/readings/read/m?from=1970-01-01T00:03:20Z&to=250"),
     JSON(200, "[{\"time\":200,\"reading\":2}]")},
    /* A meter that has readings, none in range: an empty list. */
    {GET("/readings/read/m?from=400"), JSON(200, "[]")},
    {GET("/readings/read/m?limit=0"), JSON(200, "[]")},
    {GET("/readings/read/m?from=300&to=100"), .status = 400},
    {GET("/readings/read/m?from=yesterday"), .status = 400},
    {GET("/readings/read/m?limit=x"), .status = 400},
    {0},
};

#define NOT_FOUND PROBLEM(404, "Not Found", "no such resource")

static const struct exchange not_found[] = {
    {GET("/"), NOT_FOUND},
    {GET("/readings"), NOT_FOUND},
    {GET("/readings/"), NOT_FOUND},
    {GET("/readings/read"), NOT_FOUND},
    {GET("/readings/read/smart-meter-0/extra"), NOT_FOUND},
    {GET("/readings/store/x"), NOT_FOUND},
    {GET("/price-plans/unknown/smart-meter-0"), NOT_FOUND},
    {GET("/price-plans/compare-all/smart-meter-0/x"), NOT_FOUND},
    {GET("/healthz"), NOT_FOUND},
    {GET("/readings/read/nobody"), PROBLEM(404, "Not Found", "meter nobody has no readings")},
    {GET("/price-plans/compare-all/nobody"), .status = 404},
    {GET("/price-plans/recommend/nobody"), .status = 404},
    {GET("/readings/read/nobody?limit=0"), .status = 404},
    {0},
};

static const struct exchange method_not_allowed[] = {
    {GET("/readings/store"),
     PROBLEM(405, "Method Not Allowed", "GET is not allowed here; use POST"), .allow = "POST"},
    {REQ("PUT", "/readings/store", "{}"), .status = 405, .allow = "POST"},
    {POST("/readings/read/smart-meter-0", "{}"), .status = 405, .allow = "GET, HEAD"},
    {REQ("DELETE", "/price-plans/compare-all/smart-meter-0", NULL), .status = 405,
     .allow = "GET, HEAD"},
    {POST("/health", "{}"), .status = 405, .allow = "GET, HEAD"},
    {0},
};

#define BAD_METER                                                                                  \
    PROBLEM(400, "Bad Request", "the meter id must be 1 to 64 characters from A-Z a-z 0-9 . _ -")

static const struct exchange invalid_meter_in_path[] = {
    {GET("/readings/read/bad%2Fid"), BAD_METER},
    {GET("/readings/read/bad%zzid"), BAD_METER},
    {GET("/readings/read/bad%"), BAD_METER},
    {GET("/readings/read/a%00b"), BAD_METER},
    {GET("/readings/read/a%20b"), BAD_METER},
    {GET("/readings/read/caf%C3%A9"), BAD_METER},
    {GET("/readings/read/"), BAD_METER},
    {GET("/readings/read/m2345678901234567890123456789012345678901234567890123456789012345"),
     BAD_METER},
    {GET("/price-plans/compare-all/bad%2Fid"), BAD_METER},
    {GET("/price-plans/recommend/a+b"), BAD_METER},
    /* Percent-encoded characters that are allowed decode to the same meter. */
    {POST("/readings/store", "{\"smartMeterId\":\"m-1\",\"electricityReadings\":["
                             "{\"time\":5,\"reading\":1}]}"),
     .status = 200},
    {GET("/readings/read/m%2D1"), JSON(200, "[{\"time\":5,\"reading\":1}]")},
    /* 64 characters is fine (no readings: 404). */
    {GET("/readings/read/m234567890123456789012345678901234567890123456789012345678901234"),
     .status = 404},
    {0},
};

#define ONE_READING "{\"smartMeterId\":\"m\",\"electricityReadings\":[{\"time\":5,\"reading\":1}]}"
#define ONE_LEN ((long long)sizeof ONE_READING - 1)

static const struct exchange body_prechecks[] = {
    {POST("/readings/store", ONE_READING), HEADERS("text/plain", ONE_LEN),
     PROBLEM(415, "Unsupported Media Type", "Content-Type must be application/json")},
    {POST("/readings/store", ONE_READING), HEADERS("application/jsonp", ONE_LEN), .status = 415},
    {POST("/readings/store", ONE_READING), HEADERS("application/x-www-form-urlencoded", ONE_LEN),
     .status = 415, COUNT("m", 0)},
    {POST("/readings/store", ONE_READING), HEADERS("application/json", -1),
     PROBLEM(411, "Length Required", "a Content-Length is required")},
    {POST("/readings/store", ONE_READING), HEADERS("application/json", JOI_BODY_MAX + 1),
     PROBLEM(413, "Content Too Large", "the body is larger than 1048576 bytes"), COUNT("m", 0)},
    /* JSON types with parameters, in any case, and no type at all, are accepted. */
    {POST("/readings/store", ONE_READING), HEADERS("application/json; charset=utf-8", ONE_LEN),
     .status = 200},
    {POST("/readings/store", ONE_READING), HEADERS("Application/JSON", ONE_LEN), .status = 200},
    {POST("/readings/store", ONE_READING), HEADERS(NULL, ONE_LEN), .status = 200},
    {POST("/readings/store", ONE_READING), HEADERS("", ONE_LEN), .status = 200, COUNT("m", 1)},
    {0},
};

static const struct exchange failed_batch_writes_nothing[] = {
    {POST("/readings/store", "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["
                             "{\"time\":1,\"reading\":1},{\"time\":2,\"reading\":1},"
                             "{\"time\":3,\"reading\":-1}]}"),
     PROBLEM_WITH(400, "Bad Request",
                  "electricityReadings[2].reading must be a number between 0 and 1000000",
                  ",\"pointer\":\"/electricityReadings/2/reading\""),
     COUNT("smart-meter-0", 0)},
    {GET("/readings/read/smart-meter-0"), .status = 404},
    {POST("/readings/store", "[]"),
     PROBLEM_WITH(400, "Bad Request",
                  "the body must be a JSON object with smartMeterId and electricityReadings",
                  ",\"pointer\":\"\"")},
    {POST("/readings/store", "{\"smartMeterId\":\"smart-meter-0\""), .status = 400,
     COUNT("smart-meter-0", 0)},
    {0},
};

static const struct exchange store_down[] = {
    {GET("/health"), JSON(200, "{\"status\":\"ok\"}")},
    {POST("/readings/store", WORKED_EXAMPLE), .down = 1,
     PROBLEM(503, "Service Unavailable", "the store is unavailable")},
    {GET("/readings/read/smart-meter-0"), .down = 1, .status = 503},
    {GET("/price-plans/compare-all/smart-meter-0"), .down = 1, .status = 503},
    {GET("/health"), .down = 1, .status = 503, .type = TYPE_PROBLEM},
    {GET("/health/live"), .down = 1, .status = 200},
    {GET("/health"), .status = 200, COUNT("smart-meter-0", 0)},
    {0},
};

static const struct exchange compare_all_worked_example[] = {
    {POST("/readings/store", WORKED_EXAMPLE),
     JSON(200, "{\"smartMeterId\":\"smart-meter-0\",\"electricityReadings\":["
               "{\"time\":1606645800,\"reading\":35},{\"time\":1606647600,\"reading\":5}]}")},
    {GET("/price-plans/compare-all/smart-meter-0"),
     JSON(200, "{\"pricePlanId\":\"price-plan-0\",\"pricePlanComparisons\":["
               "{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}],"
               "\"usage\":{\"from\":1606645800,\"to\":1606647600,\"kWh\":10,"
               "\"coveredSeconds\":1800,\"gaps\":0}}")},
    /* HEAD is answered like GET (the FastCGI loop drops the body). */
    {REQ("HEAD", "/price-plans/compare-all/smart-meter-0", NULL), .status = 200},
    {0},
};

static const struct exchange compare_all_without_account[] = {
    {POST("/readings/store", "{\"smartMeterId\":\"no-account\",\"electricityReadings\":["
                             "{\"time\":0,\"reading\":1},{\"time\":3600,\"reading\":3}]}"),
     .status = 200},
    {GET("/price-plans/compare-all/no-account"),
     JSON(200, "{\"pricePlanId\":null,\"pricePlanComparisons\":["
               "{\"price-plan-2\":2},{\"price-plan-1\":4},{\"price-plan-0\":20}],"
               "\"usage\":{\"from\":0,\"to\":3600,\"kWh\":2,"
               "\"coveredSeconds\":3600,\"gaps\":0}}")},
    {0},
};

static const struct exchange single_reading_422[] = {
    {POST("/readings/store", "{\"smartMeterId\":\"smart-meter-1\",\"electricityReadings\":["
                             "{\"time\":1606645800,\"reading\":35},"
                             "{\"time\":1606645800,\"reading\":36}]}"),
     .status = 200, COUNT("smart-meter-1", 1)},
    {GET("/price-plans/compare-all/smart-meter-1"),
     PROBLEM(422, "Unprocessable Content",
             "meter smart-meter-1 has readings at fewer than two distinct times, so no "
             "consumption can be computed")},
    {GET("/price-plans/recommend/smart-meter-1"), .status = 422},
    {GET("/readings/read/smart-meter-1"), JSON(200, "[{\"time\":1606645800,\"reading\":36}]")},
    {0},
};

#define ALL_THREE "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]"

static const struct exchange recommend[] = {
    {POST("/readings/store", WORKED_EXAMPLE), .status = 200},
    {GET("/price-plans/recommend/smart-meter-0"), JSON(200, ALL_THREE)},
    {GET("/price-plans/recommend/smart-meter-0?limit=1"), JSON(200, "[{\"price-plan-2\":10}]")},
    {GET("/price-plans/recommend/smart-meter-0?limit=2"),
     JSON(200, "[{\"price-plan-2\":10},{\"price-plan-1\":20}]")},
    {GET("/price-plans/recommend/smart-meter-0?limit=0"), JSON(200, "[]")},
    {GET("/price-plans/recommend/smart-meter-0?limit=99999999999999999999999"),
     JSON(200, ALL_THREE)},
    {0},
};

#define BAD_LIMIT .status = 400, .contains = "\"parameter\":\"limit\""

static const struct exchange recommend_bad_limit[] = {
    {POST("/readings/store", WORKED_EXAMPLE), .status = 200},
    {GET("/price-plans/recommend/smart-meter-0?limit=abc"),
     PROBLEM_WITH(400, "Bad Request", "query parameter limit must be an integer >= 0",
                  ",\"parameter\":\"limit\"")},
    {GET("/price-plans/recommend/smart-meter-0?limit="), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=-1"), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=1.5"), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=+1"), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=1e2"), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=%201"), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=1&limit=2"), BAD_LIMIT},
    {GET("/price-plans/recommend/smart-meter-0?limit=0x1"), BAD_LIMIT},
    {0},
};

static const struct exchange recommend_savings[] = {
    {POST("/readings/store", WORKED_EXAMPLE), .status = 200},
    {GET("/price-plans/recommend/smart-meter-0?include=savings"),
     JSON(200, "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10,\"savingVsCurrent\":90},"
               "{\"pricePlanId\":\"price-plan-1\",\"cost\":20,\"savingVsCurrent\":80},"
               "{\"pricePlanId\":\"price-plan-0\",\"cost\":100,\"savingVsCurrent\":0}]")},
    {GET("/price-plans/recommend/smart-meter-0?include=savings&limit=1"),
     JSON(200, "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10,\"savingVsCurrent\":90}]")},
    {GET("/price-plans/recommend/smart-meter-0?include=everything"), .status = 400,
     .contains = "\"parameter\":\"include\""},
    /* A meter without an account has no saving to show. */
    {POST("/readings/store", "{\"smartMeterId\":\"guest\",\"electricityReadings\":["
                             "{\"time\":1606645800,\"reading\":35},"
                             "{\"time\":1606647600,\"reading\":5}]}"),
     .status = 200},
    {GET("/price-plans/recommend/guest?include=savings&limit=1"),
     JSON(200, "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10}]")},
    {0},
};

static const struct exchange price_range[] = {
    {POST("/readings/store", "{\"smartMeterId\":\"smart-meter-3\",\"electricityReadings\":["
                             "{\"time\":1606645800,\"reading\":35},"
                             "{\"time\":1606647600,\"reading\":5},"
                             "{\"time\":1606649400,\"reading\":5}]}"),
     .status = 200},
    /* All three: 10 + 2.5 = 12.5 kWh. */
    {GET("/price-plans/compare-all/smart-meter-3"),
     JSON(200, "{\"pricePlanId\":\"price-plan-2\",\"pricePlanComparisons\":["
               "{\"price-plan-2\":12.5},{\"price-plan-1\":25},{\"price-plan-0\":125}],"
               "\"usage\":{\"from\":1606645800,\"to\":1606649400,\"kWh\":12.5,"
               "\"coveredSeconds\":3600,\"gaps\":0}}")},
    /* The last two only. */
    {GET("/price-plans/compare-all/smart-meter-3?from=1606647600"),
     JSON(200, "{\"pricePlanId\":\"price-plan-2\",\"pricePlanComparisons\":["
               "{\"price-plan-2\":2.5},{\"price-plan-1\":5},{\"price-plan-0\":25}],"
               "\"usage\":{\"from\":1606647600,\"to\":1606649400,\"kWh\":2.5,"
               "\"coveredSeconds\":1800,\"gaps\":0}}")},
    {GET("/price-plans/compare-all/smart-meter-3?to=2020-11-29T11:00:00Z"), .status = 200,
     .contains = "{\"price-plan-0\":100}"},
    /* from after to. */
    {GET("/price-plans/compare-all/smart-meter-3?from=1606649400&to=1606645800"),
     PROBLEM_WITH(400, "Bad Request", "query parameter from must not be after to",
                  ",\"parameter\":\"from\"")},
    {GET("/price-plans/recommend/smart-meter-3?from=200&to=100"), .status = 400},
    /* A range with one reading, and one with none. */
    {GET("/price-plans/compare-all/smart-meter-3?from=1606649400"), .status = 422},
    {GET("/price-plans/compare-all/smart-meter-3?to=100"),
     PROBLEM(404, "Not Found", "meter smart-meter-3 has no readings in the requested range")},
    {GET("/price-plans/compare-all/smart-meter-3?from=253402300800"), .status = 400},
    {0},
};

static const struct exchange malformed_query[] = {
    {POST("/readings/store", WORKED_EXAMPLE), .status = 200},
    {GET("/price-plans/recommend/smart-meter-0?limit=%zz"),
     PROBLEM(400, "Bad Request", "the query string is malformed or too long")},
    /* Unknown parameters are ignored. */
    {GET("/price-plans/recommend/smart-meter-0?x=1&&y"), .status = 200},
    {0},
};

static const struct exchange price_plans_list[] = {
    {GET("/price-plans"),
     JSON(200, "[{\"id\":\"price-plan-0\",\"supplier\":\"Dr Evil's Dark Energy\",\"unitRate\":10,"
               "\"standingCharge\":0,\"timezone\":\"UTC\",\"peakTimeMultipliers\":[]},"
               "{\"id\":\"price-plan-1\",\"supplier\":\"The Green Eco\",\"unitRate\":2,"
               "\"standingCharge\":0,\"timezone\":\"UTC\",\"peakTimeMultipliers\":[]},"
               "{\"id\":\"price-plan-2\",\"supplier\":\"Power for Everyone\",\"unitRate\":1,"
               "\"standingCharge\":0,\"timezone\":\"UTC\",\"peakTimeMultipliers\":[]}]")},
    {0},
};

static const struct scenario scenarios[] = {
    {"store then read", 0, store_then_read},
    {"store echo and replace", 0, store_echo_and_replace},
    {"read range and limit", 0, read_range_and_limit},
    {"404 unknown route and meter", 1, not_found},
    {"405 with Allow", 1, method_not_allowed},
    {"400 invalid meter id in the path", 1, invalid_meter_in_path},
    {"411, 413, 415", 0, body_prechecks},
    {"failed batch writes nothing", 1, failed_batch_writes_nothing},
    {"503 when the store is down", 1, store_down},
    {"compare-all worked example", 1, compare_all_worked_example},
    {"compare-all without account", 1, compare_all_without_account},
    {"422 for a single reading", 1, single_reading_422},
    {"recommend and limit", 1, recommend},
    {"recommend bad limit", 1, recommend_bad_limit},
    {"recommend include=savings", 1, recommend_savings},
    {"price from/to", 1, price_range},
    {"malformed query", 1, malformed_query},
    {"price plans list", 1, price_plans_list},
};

#define NSCENARIOS (sizeof scenarios / sizeof scenarios[0])

/* Each scenario is registered as a test of its own, under its name, with this
 * function, which finds the running test's scenario by that name. */
static void test_scenario(void)
{
    const char *name = CU_get_current_test()->pName;
    for (size_t i = 0; i < NSCENARIOS; i++) {
        if (strcmp(scenarios[i].name, name) == 0) {
            struct fixture f;
            setup(&f, scenarios[i].plans);
            run_steps(&f, name, scenarios[i].steps);
            teardown(&f);
            return;
        }
    }
    CU_FAIL("no scenario has the running test's name");
}

/* ------------------------------------------------------------------------ */

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

static void test_no_plans_loaded(void)
{
    static const struct exchange before[] = {
        {POST("/readings/store", WORKED_EXAMPLE), .status = 200},
        {GET("/price-plans/compare-all/smart-meter-0"), .status = 503, .type = TYPE_PROBLEM},
        {0},
    };
    static const struct exchange loaded[] = {
        {GET("/price-plans/recommend/smart-meter-0?limit=1"), JSON(200, "[{\"price-plan-2\":10}]")},
        {0},
    };
    static const struct exchange replaced[] = {
        {GET("/price-plans/compare-all/smart-meter-0"),
         JSON(200, "{\"pricePlanId\":null,\"pricePlanComparisons\":[{\"only\":5}],"
                   "\"usage\":{\"from\":1606645800,\"to\":1606647600,\"kWh\":10,"
                   "\"coveredSeconds\":1800,\"gaps\":0}}")},
        {0},
    };
    struct fixture f;
    setup(&f, 0);
    run_steps(&f, "no plans loaded", before);
    /* Loading the file takes effect on the next request. */
    load_plans_file(&f);
    run_steps(&f, "plans file loaded", loaded);
    /* And a new version replaces it. */
    static const char cheaper[] = "{\"pricePlans\":[{\"id\":\"only\",\"unitRate\":0.5}]}";
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(f.store->ops->config_put(f.store, cheaper, strlen(cheaper), &err), 0);
    run_steps(&f, "plans replaced", replaced);
    teardown(&f);
}

static void test_write_token(void)
{
    struct fixture f;
    setup(&f, 0);
    char token[JOI_TOKEN_LEN + 1], record[JOI_TOKEN_RECORD_MAX];
    char cut[80], basic[80], bearer[80];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(token, record), 0);
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(f.store->ops->token_set(f.store, "smart-meter-0", record, &err), 0);
    snprintf(cut, sizeof cut, "Bearer %.63s", token);
    snprintf(basic, sizeof basic, "Basic %s", token);
    snprintf(bearer, sizeof bearer, "Bearer %s", token);

    const struct exchange with_record[] = {
        {POST("/readings/store", WORKED_EXAMPLE), .status = 401, .type = TYPE_PROBLEM},
        {POST("/readings/store", WORKED_EXAMPLE), .auth = cut, .status = 401},
        {POST("/readings/store", WORKED_EXAMPLE), .auth = basic, .status = 401,
         COUNT("smart-meter-0", 0)},
        {POST("/readings/store", WORKED_EXAMPLE), .auth = bearer, .status = 200,
         COUNT("smart-meter-0", 2)},
        /* Reading needs no token; another meter is not affected. */
        {GET("/readings/read/smart-meter-0"), .status = 200},
        {POST("/readings/store", "{\"smartMeterId\":\"smart-meter-1\",\"electricityReadings\":["
                                 "{\"time\":1,\"reading\":1}]}"),
         .status = 200},
        {0},
    };
    static const struct exchange without_record[] = {
        {POST("/readings/store", WORKED_EXAMPLE), .status = 200},
        {0},
    };
    run_steps(&f, "token set", with_record);
    /* Removing the record opens the meter again. */
    CU_ASSERT_EQUAL_FATAL(f.store->ops->token_set(f.store, "smart-meter-0", NULL, &err), 0);
    run_steps(&f, "token removed", without_record);
    teardown(&f);
}

void add_app_suite(void)
{
    static const struct test_case functions[] = {
        {"precheck return values", test_precheck_return_values},
        {"no plans loaded, then loaded", test_no_plans_loaded},
        {"write token", test_write_token},
        {NULL, NULL},
    };
    struct test_case tests[NSCENARIOS + sizeof functions / sizeof functions[0]];
    for (size_t i = 0; i < NSCENARIOS; i++)
        tests[i] = (struct test_case){scenarios[i].name, test_scenario};
    memcpy(tests + NSCENARIOS, functions, sizeof functions);
    test_add_suite("app", tests);
}
