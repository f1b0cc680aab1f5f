/*
 * test_pathological.c -- named worst-case inputs through the handler and the
 * in-memory store, each with its exact answer and a bound on its CPU time and
 * on the memory it adds to the process (VmHWM after resetting it through
 * /proc/self/clear_refs).  The same family runs through the real stack in
 * tests/e2e/pathological_test.sh; here it needs no server and runs under the
 * sanitizers too (with the time bounds ten times looser and no memory bound:
 * their shadow memory is not the handler's).  JOI_PATHOLOGICAL_VERBOSE=1 prints
 * every case's time and memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joi/app.h"
#include "joi/buf.h"
#include "joi/price.h"
#include "joi/readings.h"
#include "joi/store.h"
#include "suites.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define TYPE_JSON "application/json"
#define TYPE_PROBLEM "application/problem+json"
#define T_99_YEARS INT64_C(3124224000) /* 2069-01-01T00:00:00Z */

struct fixture {
    struct joi_store *store;
    struct joi_app app;
    struct joi_response resp;
};

static const char flat_plans[] =
    "{\"pricePlans\":[{\"id\":\"price-plan-0\",\"unitRate\":10},"
    "{\"id\":\"price-plan-1\",\"unitRate\":2},{\"id\":\"price-plan-2\",\"unitRate\":1}]}";

static void load_plans(struct fixture *f, const char *doc)
{
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(f->store->ops->config_put(f->store, doc, strlen(doc), &err), 0);
}

static void setup(struct fixture *f)
{
    f->store = joi_store_mem_new();
    joi_app_init(&f->app, f->store);
    joi_response_init(&f->resp);
    load_plans(f, flat_plans);
}

static void teardown(struct fixture *f)
{
    joi_response_free(&f->resp);
    joi_app_free(&f->app);
    joi_store_free(f->store);
}

static int request(struct fixture *f, const char *method, const char *uri, const char *body,
                   size_t len)
{
    joi_response_free(&f->resp);
    joi_response_init(&f->resp);
    struct joi_request req = {
        .method = method,
        .uri = uri,
        .content_type = body ? "application/json" : NULL,
        .content_length = body ? (long long)len : -1,
        .body = body ? body : "",
        .body_len = body ? len : 0,
    };
    if (joi_app_precheck(&req, &f->resp) >= 0)
        joi_app_handle(&f->app, &req, &f->resp);
    return f->resp.status;
}

static const char *body(const struct fixture *f)
{
    return f->resp.body.data ? f->resp.body.data : "";
}

/* Puts readings straight into the store (no request: a meter's whole history). */
static void put(struct fixture *f, const char *meter, const struct joi_reading *r, size_t n)
{
    struct joi_error err;
    joi_error_clear(&err);
    char current[8];
    CU_ASSERT_EQUAL_FATAL(
        f->store->ops->readings_put(f->store, meter, r, n, "", current, sizeof current, &err), 0);
}

/* ------------------------------------------------------------------------ */
/* Time and memory of one case                                               */
/* ------------------------------------------------------------------------ */

struct measure {
    const char *name;
    struct timespec start;
    long rss0; /* kB */
};

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return kb;
}

static void begin(struct measure *m, const char *name)
{
    m->name = name;
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) { /* "5" resets VmHWM to the current RSS (Linux 4.0 and later) */
        fputs("5", f);
        fclose(f);
    }
    m->rss0 = status_kb("VmRSS");
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &m->start);
}

/* Checks that the case took at most max_ms of this process's CPU time (not the
 * wall clock, which other work on a shared machine stretches) and raised the peak
 * RSS by at most max_mb. */
static void end(const struct measure *m, double max_ms, long max_mb)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    double ms = (double)(now.tv_sec - m->start.tv_sec) * 1e3 +
                (double)(now.tv_nsec - m->start.tv_nsec) / 1e6;
    long grew = status_kb("VmHWM") - m->rss0;
    double limit = SANITIZED ? 10 * max_ms : max_ms;
    if (getenv("JOI_PATHOLOGICAL_VERBOSE"))
        fprintf(stderr, "\n    %-58s %7.1f ms (bound %.0f)  peak RSS +%6ld kB (bound %ld MB)",
                m->name, ms, limit, grew, max_mb);
    if (ms > limit)
        fprintf(stderr, "\n    %s: %.0f ms, bound %.0f ms", m->name, ms, limit);
    CU_ASSERT(ms <= limit);
    if (!SANITIZED && m->rss0 > 0) {
        if (grew > max_mb * 1024)
            fprintf(stderr, "\n    %s: peak RSS +%ld kB, bound %ld MB", m->name, grew, max_mb);
        CU_ASSERT(grew <= max_mb * 1024);
    }
}

#define CHECK(f, status_, type_, body_)                                                            \
    do {                                                                                           \
        CU_ASSERT_EQUAL((f)->resp.status, status_);                                                \
        CU_ASSERT_STRING_EQUAL((f)->resp.content_type, type_);                                     \
        CU_ASSERT_STRING_EQUAL(body(f), body_);                                                    \
        if (strcmp(body(f), body_) != 0)                                                           \
            fprintf(stderr, "\n    body was: %.600s", body(f));                                    \
    } while (0)

#define PROBLEM(status, title, detail)                                                             \
    "{\"type\":\"about:blank\",\"title\":\"" title "\",\"status\":" #status                        \
    ",\"detail\":\"" detail "\"}"
#define PROBLEM_AT(status, title, detail, pointer)                                                 \
    "{\"type\":\"about:blank\",\"title\":\"" title "\",\"status\":" #status                        \
    ",\"detail\":\"" detail "\",\"pointer\":\"" pointer "\"}"

/* ------------------------------------------------------------------------ */
/* Bodies                                                                    */
/* ------------------------------------------------------------------------ */

static void test_deep_json(void)
{
    struct fixture f;
    setup(&f);
    size_t n = 100000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    struct measure m;
    begin(&m, "100000 [");
    request(&f, "POST", "/readings/store", deep, n);
    end(&m, 200, 8);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM(400, "Bad Request", "malformed JSON: nested more than 16 levels deep"));
    /* Objects nested as deep, in 700 KB. */
    struct joi_buf b;
    joi_buf_init(&b);
    for (size_t i = 0; i < n; i++)
        joi_buf_puts(&b, "{\"a\":");
    begin(&m, "100000 {\"a\":");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 200, 8);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM(400, "Bad Request", "malformed JSON: nested more than 16 levels deep"));
    joi_buf_free(&b);
    free(deep);
    teardown(&f);
}

/* A batch of n readings, time start + i * step, reading 0.5, as the service
 * echoes it. */
static void batch(struct joi_buf *b, const char *meter, size_t n, int64_t start, int64_t step)
{
    joi_buf_reset(b);
    joi_buf_printf(b, "{\"smartMeterId\":\"%s\",\"electricityReadings\":[", meter);
    for (size_t i = 0; i < n; i++)
        joi_buf_printf(b, "%s{\"time\":%lld,\"reading\":0.5}", i ? "," : "",
                       (long long)(start + (int64_t)i * step));
    joi_buf_puts(b, "]}");
}

static void test_batches(void)
{
    struct fixture f;
    setup(&f);
    struct joi_buf b;
    joi_buf_init(&b);
    struct measure m;
    long long count = 0;
    struct joi_error err;
    joi_error_clear(&err);
    /* 10000 readings at one time: stored as one (the last wins), echoed whole. */
    batch(&b, "same-time", 10000, 1700000000, 0);
    begin(&m, "10000 readings at one time");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 500, 16);
    CHECK(&f, 200, TYPE_JSON, b.data);
    CU_ASSERT_EQUAL(f.store->ops->readings_count(f.store, "same-time", &count, &err), 0);
    CU_ASSERT_EQUAL(count, 1);
    /* 10000 readings spread over a year, then over 100 years. */
    batch(&b, "spread-year", 10000, 1700000000, 3154);
    begin(&m, "10000 readings over a year");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 500, 16);
    CHECK(&f, 200, TYPE_JSON, b.data);
    CU_ASSERT_EQUAL(f.store->ops->readings_count(f.store, "spread-year", &count, &err), 0);
    CU_ASSERT_EQUAL(count, 10000);
    batch(&b, "spread-century", 10000, 0, 315360);
    begin(&m, "10000 readings over 100 years");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 500, 16);
    CHECK(&f, 200, TYPE_JSON, b.data);
    begin(&m, "usage by hour of 10000 readings over 100 years");
    request(&f, "GET", "/readings/usage/spread-century?period=hour", NULL, 0);
    end(&m, 100, 4);
    CHECK(&f, 422, TYPE_PROBLEM,
          PROBLEM(422, "Unprocessable Content",
                  "usage by hour over this range would be 875913 buckets; at most 100000 are "
                  "answered: narrow from/to or choose a longer period"));
    begin(&m, "usage by month of 10000 readings over 100 years");
    request(&f, "GET", "/readings/usage/spread-century?period=month", NULL, 0);
    end(&m, 200, 8);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    CU_ASSERT_EQUAL(strncmp(body(&f), "[{\"start\":0,\"end\":2678400,\"kWh\":", 32), 0);
    /* 10001 readings: refused before anything is stored. */
    batch(&b, "too-many", 10001, 1700000000, 60);
    request(&f, "POST", "/readings/store", b.data, b.len);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM_AT(400, "Bad Request",
                     "electricityReadings must be an array of 1 to 10000 readings",
                     "/electricityReadings"));
    joi_buf_free(&b);
    teardown(&f);
}

static void test_repeated_keys_and_long_strings(void)
{
    struct fixture f;
    setup(&f);
    struct joi_buf b;
    joi_buf_init(&b);
    struct measure m;
    /* 40000 repeats of smartMeterId in 900 KB: the last wins. */
    joi_buf_puts(&b, "{");
    for (int i = 0; i < 40000; i++)
        joi_buf_printf(&b, "\"smartMeterId\":\"m%d\",", i % 10);
    joi_buf_puts(&b, "\"smartMeterId\":\"repeated\","
                     "\"electricityReadings\":[{\"time\":1,\"reading\":1}]}");
    begin(&m, "40000 repeated keys");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 300, 16);
    CHECK(&f, 200, TYPE_JSON,
          "{\"smartMeterId\":\"repeated\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}");
    /* A 900 KB meter id, and a 900 KB string in a field nobody reads. */
    joi_buf_reset(&b);
    joi_buf_puts(&b, "{\"smartMeterId\":\"");
    memset(joi_buf_extend(&b, 900000), 'a', 900000);
    joi_buf_puts(&b, "\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}");
    begin(&m, "a 900 KB meter id");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 200, 16);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM_AT(400, "Bad Request",
                     "smartMeterId must be 1 to 64 characters from A-Z a-z 0-9 . _ -",
                     "/smartMeterId"));
    joi_buf_reset(&b);
    joi_buf_puts(&b, "{\"note\":\"");
    memset(joi_buf_extend(&b, 900000), 'a', 900000);
    joi_buf_puts(&b, "\",\"smartMeterId\":\"long-note\","
                     "\"electricityReadings\":[{\"time\":1,\"reading\":1}]}");
    begin(&m, "a 900 KB unknown field");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 200, 16);
    CHECK(&f, 200, TYPE_JSON,
          "{\"smartMeterId\":\"long-note\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}");
    joi_buf_free(&b);
    teardown(&f);
}

static void test_huge_numbers(void)
{
    struct fixture f;
    setup(&f);
    struct joi_buf b;
    joi_buf_init(&b);
    struct measure m;
    static const char *const readings[] = {"1e999999", "-1e999999", "1e400",
                                           "123456789012345678901"};
    for (size_t i = 0; i < sizeof readings / sizeof readings[0]; i++) {
        joi_buf_reset(&b);
        joi_buf_printf(&b,
                       "{\"smartMeterId\":\"huge\",\"electricityReadings\":[{\"time\":1,"
                       "\"reading\":%s}]}",
                       readings[i]);
        request(&f, "POST", "/readings/store", b.data, b.len);
        CHECK(&f, 400, TYPE_PROBLEM,
              PROBLEM_AT(400, "Bad Request",
                         "electricityReadings[0].reading must be a number between 0 and 1000000",
                         "/electricityReadings/0/reading"));
    }
    static const char *const times[] = {"1e400", "99999999999999999999999", "-1", "1.5",
                                        "253402300800"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        joi_buf_reset(&b);
        joi_buf_printf(&b,
                       "{\"smartMeterId\":\"huge\",\"electricityReadings\":[{\"time\":%s,"
                       "\"reading\":1}]}",
                       times[i]);
        request(&f, "POST", "/readings/store", b.data, b.len);
        CHECK(&f, 400, TYPE_PROBLEM,
              PROBLEM_AT(400, "Bad Request",
                         "electricityReadings[0].time must be epoch seconds (an integer from 0 to "
                         "253402300799) or an RFC 3339 date-time with an offset",
                         "/electricityReadings/0/time"));
    }
    /* A number of 900000 digits: 0.000...0001 is a valid reading, near enough 0. */
    joi_buf_reset(&b);
    joi_buf_puts(&b, "{\"smartMeterId\":\"tiny\",\"electricityReadings\":[{\"time\":1,"
                     "\"reading\":0.");
    memset(joi_buf_extend(&b, 900000), '0', 900000);
    joi_buf_puts(&b, "1}]}");
    begin(&m, "a reading of 900000 digits");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 500, 16);
    CHECK(&f, 200, TYPE_JSON,
          "{\"smartMeterId\":\"tiny\",\"electricityReadings\":[{\"time\":1,\"reading\":0}]}");
    /* And one of 900000 digits before the point: out of range. */
    joi_buf_reset(&b);
    joi_buf_puts(&b, "{\"smartMeterId\":\"tiny\",\"electricityReadings\":[{\"time\":1,"
                     "\"reading\":1");
    memset(joi_buf_extend(&b, 900000), '0', 900000);
    joi_buf_puts(&b, "}]}");
    begin(&m, "an integer of 900000 digits");
    request(&f, "POST", "/readings/store", b.data, b.len);
    end(&m, 500, 16);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM_AT(400, "Bad Request",
                     "electricityReadings[0].reading must be a number between 0 and 1000000",
                     "/electricityReadings/0/reading"));
    joi_buf_free(&b);
    teardown(&f);
}

/* ------------------------------------------------------------------------ */
/* URIs                                                                      */
/* ------------------------------------------------------------------------ */

static void test_query_and_ids(void)
{
    struct fixture f;
    setup(&f);
    struct joi_buf b;
    joi_buf_init(&b);
    struct measure m;
    static const struct joi_reading two[] = {{1000, 1}, {2000, 1}};
    put(&f, "q", two, 2);
    /* 1000 query parameters (at most 32 are read). */
    joi_buf_puts(&b, "/readings/read/q?");
    for (int i = 0; i < 1000; i++)
        joi_buf_printf(&b, "%sp%d=%d", i ? "&" : "", i, i);
    begin(&m, "1000 query parameters");
    request(&f, "GET", b.data, NULL, 0);
    end(&m, 50, 2);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM(400, "Bad Request", "the query string is malformed or too long"));
    /* A 257-character value, then a 256-digit limit (saturates: every reading). */
    joi_buf_reset(&b);
    joi_buf_puts(&b, "/readings/read/q?limit=");
    memset(joi_buf_extend(&b, 257), '9', 257);
    request(&f, "GET", b.data, NULL, 0);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM(400, "Bad Request", "the query string is malformed or too long"));
    b.len--;
    b.data[b.len] = '\0';
    request(&f, "GET", b.data, NULL, 0);
    CHECK(&f, 200, TYPE_JSON, "[{\"time\":1000,\"reading\":1},{\"time\":2000,\"reading\":1}]");
    /* The same parameter 32 times. */
    joi_buf_reset(&b);
    joi_buf_puts(&b, "/readings/read/q?");
    for (int i = 0; i < 32; i++)
        joi_buf_printf(&b, "%slimit=1", i ? "&" : "");
    request(&f, "GET", b.data, NULL, 0);
    CHECK(&f, 400, TYPE_PROBLEM,
          "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"query "
          "parameter limit is given more than once\",\"parameter\":\"limit\"}");
    /* Ids of 64 characters (valid), 65 (not), and the same percent-encoded. */
    char id64[65], id65[66], enc64[3 * 64 + 1], enc65[3 * 65 + 1], uri[512];
    memset(id64, 'A', 64);
    id64[64] = '\0';
    memset(id65, 'A', 65);
    id65[65] = '\0';
    for (int i = 0; i < 65; i++)
        memcpy(enc65 + 3 * i, "%41", 3);
    enc65[3 * 65] = '\0';
    memcpy(enc64, enc65, 3 * 64);
    enc64[3 * 64] = '\0';
    char want[256];
    snprintf(want, sizeof want, PROBLEM(404, "Not Found", "meter %s has no readings"), id64);
    snprintf(uri, sizeof uri, "/readings/read/%s", id64);
    request(&f, "GET", uri, NULL, 0);
    CHECK(&f, 404, TYPE_PROBLEM, want);
    snprintf(uri, sizeof uri, "/price-plans/compare-all/%s", enc64);
    request(&f, "GET", uri, NULL, 0);
    CHECK(&f, 404, TYPE_PROBLEM, want);
    static const char bad_id[] = PROBLEM(
        400, "Bad Request", "the meter id must be 1 to 64 characters from A-Z a-z 0-9 . _ -");
    snprintf(uri, sizeof uri, "/readings/read/%s", id65);
    request(&f, "GET", uri, NULL, 0);
    CHECK(&f, 400, TYPE_PROBLEM, bad_id);
    snprintf(uri, sizeof uri, "/readings/usage/%s", enc65);
    request(&f, "GET", uri, NULL, 0);
    CHECK(&f, 400, TYPE_PROBLEM, bad_id);
    /* A 64-character id stores; 65 does not. */
    joi_buf_reset(&b);
    joi_buf_printf(
        &b, "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}", id64);
    request(&f, "POST", "/readings/store", b.data, b.len);
    CHECK(&f, 200, TYPE_JSON, b.data);
    joi_buf_reset(&b);
    joi_buf_printf(
        &b, "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}", id65);
    request(&f, "POST", "/readings/store", b.data, b.len);
    CHECK(&f, 400, TYPE_PROBLEM,
          PROBLEM_AT(400, "Bad Request",
                     "smartMeterId must be 1 to 64 characters from A-Z a-z 0-9 . _ -",
                     "/smartMeterId"));
    /* An id segment of 100 KB of escapes. */
    joi_buf_reset(&b);
    joi_buf_puts(&b, "/readings/read/");
    for (int i = 0; i < 34000; i++)
        joi_buf_puts(&b, "%41");
    begin(&m, "a 100 KB percent-encoded id");
    request(&f, "GET", b.data, NULL, 0);
    end(&m, 50, 2);
    CHECK(&f, 400, TYPE_PROBLEM, bad_id);
    joi_buf_free(&b);
    teardown(&f);
}

/* ------------------------------------------------------------------------ */
/* Long spans and long histories                                             */
/* ------------------------------------------------------------------------ */

/* The usage of two readings of 1 kW at 0 and T_99_YEARS by day, in UTC. */
static char *usage_days_99_years(void)
{
    struct joi_buf b;
    joi_buf_init(&b);
    joi_buf_puts(&b, "[");
    for (int64_t d = 0; d < T_99_YEARS / 86400; d++)
        joi_buf_printf(&b, "%s{\"start\":%lld,\"end\":%lld,\"kWh\":24}", d ? "," : "",
                       (long long)(d * 86400), (long long)((d + 1) * 86400));
    joi_buf_puts(&b, "]");
    return b.data;
}

static void test_century_spans(void)
{
    struct fixture f;
    setup(&f);
    struct measure m;
    static const struct joi_reading far[] = {{0, 1}, {T_99_YEARS, 1}};
    put(&f, "far", far, 2);
    begin(&m, "usage by hour over 99 years");
    request(&f, "GET", "/readings/usage/far?period=hour", NULL, 0);
    end(&m, 50, 2);
    CHECK(&f, 422, TYPE_PROBLEM,
          PROBLEM(422, "Unprocessable Content",
                  "usage by hour over this range would be 867841 buckets; at most 100000 are "
                  "answered: narrow from/to or choose a longer period"));
    char *days = usage_days_99_years();
    begin(&m, "usage by day over 99 years");
    request(&f, "GET", "/readings/usage/far?period=day", NULL, 0);
    end(&m, 300, 24);
    CHECK(&f, 200, TYPE_JSON, days);
    free(days);
    begin(&m, "usage by week over 99 years");
    request(&f, "GET", "/readings/usage/far?period=week", NULL, 0);
    end(&m, 100, 8);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    CU_ASSERT_EQUAL(strncmp(body(&f), "[{\"start\":-259200,\"end\":345600,\"kWh\":96},", 41), 0);
    begin(&m, "usage by month over 99 years");
    request(&f, "GET", "/readings/usage/far?period=month", NULL, 0);
    end(&m, 50, 4);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    CU_ASSERT_EQUAL(strncmp(body(&f), "[{\"start\":0,\"end\":2678400,\"kWh\":744},", 37), 0);
    /* At the bound: 100000 hour buckets are worked out (the one t1 starts holds
     * nothing, so 99999 are answered); one more is refused. */
    static const struct joi_reading edge[] = {{0, 1}, {INT64_C(99999) * 3600, 1}};
    put(&f, "edge", edge, 2);
    begin(&m, "usage by hour at the bound");
    request(&f, "GET", "/readings/usage/edge?period=hour", NULL, 0);
    end(&m, 300, 24);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    static const struct joi_reading over[] = {{0, 1}, {INT64_C(100000) * 3600, 1}};
    put(&f, "over", over, 2);
    request(&f, "GET", "/readings/usage/over?period=hour", NULL, 0);
    CHECK(&f, 422, TYPE_PROBLEM,
          PROBLEM(422, "Unprocessable Content",
                  "usage by hour over this range would be 100001 buckets; at most 100000 are "
                  "answered: narrow from/to or choose a longer period"));
    /* Flat plans price a century in no time. */
    static const char compare[] =
        "{\"pricePlanId\":null,\"pricePlanComparisons\":[{\"price-plan-2\":867840},"
        "{\"price-plan-1\":1735680},{\"price-plan-0\":8678400}],\"usage\":{\"from\":0,"
        "\"to\":3124224000,\"kWh\":867840,\"coveredSeconds\":3124224000,\"gaps\":0}}";
    begin(&m, "compare-all over 99 years");
    request(&f, "GET", "/price-plans/compare-all/far", NULL, 0);
    end(&m, 50, 2);
    CHECK(&f, 200, TYPE_JSON, compare);
    request(&f, "GET", "/price-plans/compare-all/far?from=0", NULL, 0);
    CHECK(&f, 200, TYPE_JSON, compare);
    request(&f, "GET", "/price-plans/recommend/far?limit=1", NULL, 0);
    CHECK(&f, 200, TYPE_JSON, "[{\"price-plan-2\":867840}]");
    request(&f, "GET", "/readings/read/far", NULL, 0);
    CHECK(&f, 200, TYPE_JSON, "[{\"time\":0,\"reading\":1},{\"time\":3124224000,\"reading\":1}]");
    /* Past 100 years: refused by every endpoint that prices or buckets. */
    static const struct joi_reading past[] = {{0, 1}, {JOI_PRICE_MAX_SPAN + 1, 1}};
    put(&f, "past", past, 2);
    static const char too_long[] =
        PROBLEM(422, "Unprocessable Content",
                "the readings span more than 100 years; choose a range with from and to");
    static const char *const priced[] = {
        "/price-plans/compare-all/past", "/price-plans/compare-all/past?from=0",
        "/price-plans/recommend/past", "/readings/usage/past", "/readings/usage/past?period=month"};
    for (size_t i = 0; i < sizeof priced / sizeof priced[0]; i++) {
        request(&f, "GET", priced[i], NULL, 0);
        CHECK(&f, 422, TYPE_PROBLEM, too_long);
    }
    teardown(&f);
}

/* Plans with time-of-use windows over a century: within the window bound, then
 * past it. */
static void test_century_time_of_use(void)
{
    struct fixture f;
    setup(&f);
    struct measure m;
    static const char rules[] =
        "\"peakTimeMultipliers\":["
        "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],\"from\":"
        "\"16:10\",\"to\":\"19:00\",\"multiplier\":2},"
        "{\"days\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\",\"FRIDAY\"],\"from\":"
        "\"07:00\",\"to\":\"09:00\",\"multiplier\":1.5},"
        "{\"days\":[\"SATURDAY\",\"SUNDAY\"],\"from\":\"10:00\",\"to\":\"14:00\",\"multiplier\":1."
        "2},"
        "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5}]";
    struct joi_buf doc;
    joi_buf_init(&doc);
    joi_buf_puts(&doc, "{\"timezone\":\"Europe/London\",\"pricePlans\":[");
    for (int p = 0; p < 5; p++)
        joi_buf_printf(&doc, "%s{\"id\":\"tou-%d\",\"unitRate\":1,%s}", p ? "," : "", p, rules);
    joi_buf_puts(&doc, "]}");
    load_plans(&f, doc.data);
    /* 5 plans x 98162 windows over 99 years: 490810, under the bound. */
    static const struct joi_reading far[] = {
        {0, 1}, {60, 1}, {T_99_YEARS, 1}, {T_99_YEARS + 60, 1}};
    put(&f, "far", far, 4);
    begin(&m, "compare-all, 5 time-of-use plans over 99 years");
    request(&f, "GET", "/price-plans/compare-all/far", NULL, 0);
    end(&m, 1500, 64);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    begin(&m, "compare-all from/to, 5 time-of-use plans over 99 years");
    request(&f, "GET", "/price-plans/compare-all/far?from=0", NULL, 0);
    end(&m, 1500, 64);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    /* A sixth plan takes it past the bound. */
    joi_buf_reset(&doc);
    joi_buf_puts(&doc, "{\"timezone\":\"Europe/London\",\"pricePlans\":[");
    for (int p = 0; p < 6; p++)
        joi_buf_printf(&doc, "%s{\"id\":\"tou-%d\",\"unitRate\":1,%s}", p ? "," : "", p, rules);
    joi_buf_puts(&doc, "]}");
    load_plans(&f, doc.data);
    static const char too_many[] = PROBLEM(
        422, "Unprocessable Content",
        "pricing readings over 36161 days on these time-of-use plans means up to 588972 tariff "
        "windows; at most 500000 are worked out in one request: narrow the range with from and to");
    static const char *const priced[] = {"/price-plans/compare-all/far",
                                         "/price-plans/compare-all/far?from=0",
                                         "/price-plans/recommend/far"};
    for (size_t i = 0; i < sizeof priced / sizeof priced[0]; i++) {
        begin(&m, priced[i]);
        request(&f, "GET", priced[i], NULL, 0);
        end(&m, 50, 2);
        CHECK(&f, 422, TYPE_PROBLEM, too_many);
    }
    /* Narrowed to the last readings, it prices. */
    request(&f, "GET", "/price-plans/recommend/far?from=3124224000&limit=1", NULL, 0);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    joi_buf_free(&doc);
    teardown(&f);
}

/* A meter with one reading more than a request reads: every endpoint that reads
 * readings refuses the whole range, and answers a narrower one. */
static void test_longest_history(void)
{
    struct fixture f;
    setup(&f);
    struct measure m;
    size_t n = JOI_READINGS_MAX + 1;
    struct joi_reading *r = malloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = (struct joi_reading){1600000000 + (int64_t)i * 60, 0.5};
    put(&f, "long", r, n);
    free(r);
    static const char too_many_read[] =
        PROBLEM(422, "Unprocessable Content",
                "the meter has more than 1000000 readings; at most 1000000 are answered in one "
                "request: narrow the range with from and to, or give a limit");
    begin(&m, "read 1000001 readings");
    request(&f, "GET", "/readings/read/long", NULL, 0);
    end(&m, 1500, 160);
    CHECK(&f, 422, TYPE_PROBLEM, too_many_read);
    request(&f, "GET", "/readings/read/long?limit=1000001", NULL, 0);
    CHECK(&f, 422, TYPE_PROBLEM, too_many_read);
    request(&f, "GET", "/readings/read/long?to=1660000000", NULL, 0);
    CHECK(&f, 422, TYPE_PROBLEM,
          PROBLEM(422, "Unprocessable Content",
                  "the range holds more than 1000000 readings; at most 1000000 are answered in "
                  "one request: narrow the range with from and to, or give a limit"));
    request(&f, "GET", "/readings/read/long?limit=2", NULL, 0);
    CHECK(&f, 200, TYPE_JSON,
          "[{\"time\":1659999940,\"reading\":0.5},{\"time\":1660000000,\"reading\":0.5}]");
    /* Exactly the bound: the readings after the first. */
    begin(&m, "read 1000000 readings");
    request(&f, "GET", "/readings/read/long?from=1600000060", NULL, 0);
    end(&m, 1500, 160);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    CU_ASSERT_EQUAL(f.resp.body.len,
                    2 + 1000000 * strlen("{\"time\":1600000060,\"reading\":0.5}") + 999999);
    request(&f, "GET", "/readings/read/long?limit=1000000", NULL, 0);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    static const char too_many_priced[] =
        PROBLEM(422, "Unprocessable Content",
                "the range holds more than 1000000 readings; at most 1000000 are priced in one "
                "request: narrow the range with from and to");
    begin(&m, "compare-all from/to over 1000001 readings");
    request(&f, "GET", "/price-plans/compare-all/long?from=0", NULL, 0);
    end(&m, 1500, 160);
    CHECK(&f, 422, TYPE_PROBLEM, too_many_priced);
    request(&f, "GET", "/price-plans/recommend/long?to=1700000000", NULL, 0);
    CHECK(&f, 422, TYPE_PROBLEM, too_many_priced);
    begin(&m, "usage over 1000001 readings");
    request(&f, "GET", "/readings/usage/long?period=month", NULL, 0);
    end(&m, 1500, 160);
    CHECK(&f, 422, TYPE_PROBLEM,
          PROBLEM(422, "Unprocessable Content",
                  "the meter has more than 1000000 readings; at most 1000000 are bucketed in one "
                  "request: narrow the range with from and to"));
    begin(&m, "usage by month of 1000000 readings");
    request(&f, "GET", "/readings/usage/long?period=month&from=1600000060", NULL, 0);
    end(&m, 1500, 160);
    CU_ASSERT_EQUAL(f.resp.status, 200);
    teardown(&f);
}

void add_pathological_suite(void)
{
    static const struct test_case tests[] = {
        {"deep JSON", test_deep_json},
        {"10000 readings at one time, over a year, over 100 years", test_batches},
        {"repeated keys and long strings", test_repeated_keys_and_long_strings},
        {"huge numbers and exponents", test_huge_numbers},
        {"1000 query parameters, long values, the longest ids", test_query_and_ids},
        {"100-year spans on every endpoint", test_century_spans},
        {"time-of-use plans over a century", test_century_time_of_use},
        {"one reading more than a request reads", test_longest_history},
        {NULL, NULL},
    };
    test_add_suite("pathological", tests);
}
