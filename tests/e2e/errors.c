/*
 * errors.c -- requests the service refuses: wrong method, unknown route, wrong
 * media type, malformed or invalid bodies, bodies too large or without a
 * length.  Every refused store is checked to have written nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define MIB (1024 * 1024)

static const char *const json_ct[] = {"Content-Type: application/json", NULL};

/* POSTs len bytes of body to /readings/store. */
static void post_raw(const char *body, size_t len, const char *const *headers,
                     enum http_body_mode mode, struct http_response *r)
{
    struct http_request req = {.method = "POST",
                               .path = "/readings/store",
                               .headers = headers,
                               .body = body,
                               .body_len = len,
                               .mode = mode};
    http_send(&req, r);
}

/* A valid store body for meter, padded with spaces to exactly size bytes. */
static char *padded_body(const char *meter, size_t size)
{
    char *doc = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":"
                         "[{\"time\":60,\"reading\":1}]}",
                         meter);
    size_t n = strlen(doc);
    char *body = malloc(size + 1);
    if (body == NULL || n > size)
        abort();
    memcpy(body, doc, n);
    memset(body + n, ' ', size - n);
    body[size] = '\0';
    free(doc);
    return body;
}

static void expect_not_allowed(const char *method, const char *path, const char *body,
                               const char *allow, const char *file, unsigned line)
{
    struct http_request req = {.method = method,
                               .path = path,
                               .headers = json_ct,
                               .body = body,
                               .body_len = body ? strlen(body) : 0};
    struct http_response r;
    http_send(&req, &r);
    e2e_check(r.status == 405, file, line, "%s %s: status %ld, expected 405", method, path,
              r.status);
    if (strcmp(method, "HEAD") != 0)
        e2e_expect_problem(&r, 405, NULL, NULL, file, line);
    char got[128];
    e2e_check(http_header(&r, "Allow", got, sizeof got), file, line, "%s %s: has an Allow header",
              method, path);
    e2e_expect_str("Allow", got, allow, file, line);
    http_response_free(&r);
}
#define EXPECT_NOT_ALLOWED(method, path, body, allow)                                              \
    expect_not_allowed((method), (path), (body), (allow), __FILE__, __LINE__)

static void test_method_not_allowed(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-method");
    char *body = e2e_strf(
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}", m);
    EXPECT_NOT_ALLOWED("GET", "/readings/store", NULL, "POST");
    EXPECT_NOT_ALLOWED("HEAD", "/readings/store", NULL, "POST");
    EXPECT_NOT_ALLOWED("PUT", "/readings/store", body, "POST");
    EXPECT_NOT_ALLOWED("PATCH", "/readings/store", body, "POST");
    EXPECT_NOT_ALLOWED("DELETE", "/readings/store", NULL, "POST");
    EXPECT_READ(m, NULL); /* a PUT or PATCH stored nothing */
    char path[128];
    snprintf(path, sizeof path, "/readings/read/%s", m);
    EXPECT_NOT_ALLOWED("POST", path, body, "GET, HEAD");
    EXPECT_NOT_ALLOWED("POST", "/readings/read/x", "{}", "GET, HEAD");
    EXPECT_NOT_ALLOWED("DELETE", "/readings/read/smart-meter-0", NULL, "GET, HEAD");
    EXPECT_NOT_ALLOWED("POST", "/price-plans/compare-all/smart-meter-0", "{}", "GET, HEAD");
    EXPECT_NOT_ALLOWED("PUT", "/price-plans/recommend/smart-meter-0", "{}", "GET, HEAD");
    EXPECT_NOT_ALLOWED("DELETE", "/price-plans", NULL, "GET, HEAD");
    EXPECT_NOT_ALLOWED("OPTIONS", "/health", NULL, "GET, HEAD");
    free(body);
}

static void test_unknown_routes(void)
{
    static const char *const paths[] = {
        "/readings",
        "/readings/",
        "/readings/nope",
        "/readings/read",
        "/readings/read/a/b",
        "/readings/read/smart-meter-0/",
        "/readings/store/x",
        "/readings/storex",
        "/price-plans/",
        "/price-plans/nope",
        "/price-plans/compare-all",
        "/price-plans/compare-all/a/b",
        "/price-plans/recommend",
        "/price-plans/recommend/smart-meter-0/extra",
        "/price-plans/recommend-all/smart-meter-0",
        "/nothing-here",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct http_response r;
        http_get(paths[i], &r);
        EXPECT(r.status == 404, "GET %s: status %ld, expected 404", paths[i], r.status);
        EXPECT_PROBLEM(&r, 404, NULL, NULL);
        http_response_free(&r);
    }
    struct http_response r;
    http_post_json("/readings/nope", "{}", &r);
    EXPECT_PROBLEM(&r, 404, NULL, NULL);
    http_response_free(&r);
}

static void test_unsupported_media_type(void)
{
    static const char *const refused[] = {"text/plain", "application/jsonx", "text/json",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"};
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-media");
    char *body = e2e_strf(
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}", m);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char header[128];
        snprintf(header, sizeof header, "Content-Type: %s", refused[i]);
        const char *const headers[] = {header, NULL};
        struct http_response r;
        post_raw(body, strlen(body), headers, HTTP_BODY_LENGTH, &r);
        EXPECT(r.status == 415, "Content-Type %s: status %ld, expected 415", refused[i], r.status);
        EXPECT_PROBLEM(&r, 415, NULL, NULL);
        http_response_free(&r);
    }
    EXPECT_READ(m, NULL);

    /* JSON with parameters, in any case, and no Content-Type at all, are accepted */
    static const char *const accepted[] = {"Content-Type: application/json; charset=utf-8",
                                           "Content-Type: Application/JSON", "Content-Type:"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        const char *const headers[] = {accepted[i], NULL};
        struct http_response r;
        post_raw(body, strlen(body), headers, HTTP_BODY_LENGTH, &r);
        EXPECT(r.status == 200, "%s: status %ld, expected 200", accepted[i], r.status);
        EXPECT_JSON(&r, 200, body);
        http_response_free(&r);
    }
    EXPECT_READ(m, "[{\"time\":1,\"reading\":1}]");
    free(body);
}

static void test_malformed_json(void)
{
    /* %s is the meter: none of these may store anything for it */
    static const char *const bodies[] = {
        "",
        "   ",
        "{",
        "nul",
        "{'smartMeterId':'%s','electricityReadings':[{'time':1,'reading':1}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]} x",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}{}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1},]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}],}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]} // c",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":01}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":00}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1.}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":.5}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":+1}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1e}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":01,\"reading\":1}]}",
        "{\"smartMeterId\":\"%s\",\"note\":\"tab\there\",\"electricityReadings\":"
        "[{\"time\":1,\"reading\":1}]}",
        "{\"smartMeterId\":\"%s\",\"note\":\"\xff\",\"electricityReadings\":"
        "[{\"time\":1,\"reading\":1}]}",
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]",
        "{\"smartMeterId\":\"%s\" \"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
        "{\"smartMeterId\":\"%s\",\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]"
        "]]"
        "]]]]]]]]],\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
    };
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-malformed");
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char *body = e2e_strf(bodies[i], m);
        struct http_response r;
        post_raw(body, strlen(body), json_ct, HTTP_BODY_LENGTH, &r);
        EXPECT(r.status == 400, "body %zu (%s): status %ld, expected 400", i, body, r.status);
        EXPECT_PROBLEM(&r, 400, NULL, NULL);
        http_response_free(&r);
        free(body);
    }
    /* a NUL byte after the document */
    char *doc = e2e_strf(
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}", m);
    size_t n = strlen(doc);
    struct http_response r;
    post_raw(doc, n + 1, json_ct, HTTP_BODY_LENGTH, &r);
    EXPECT_PROBLEM(&r, 400, NULL, NULL);
    http_response_free(&r);
    free(doc);
    /* null is valid JSON but not an object */
    post_raw("null", 4, json_ct, HTTP_BODY_LENGTH, &r);
    EXPECT_PROBLEM(&r, 400, E2E_ANY, NULL);
    http_response_free(&r);
    EXPECT_READ(m, NULL);
}

static void test_invalid_fields(void)
{
    static const struct {
        const char *body; /* %s is the meter */
        const char *pointer;
    } cases[] = {
        {"[]", ""},
        {"\"%s\"", ""},
        {"42", ""},
        {"{}", "/smartMeterId"},
        {"{\"electricityReadings\":[{\"time\":1,\"reading\":1}]}", "/smartMeterId"},
        {"{\"smartMeterId\":7,\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
         "/smartMeterId"},
        {"{\"smartMeterId\":null,\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
         "/smartMeterId"},
        {"{\"smartMeterId\":\"\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
         "/smartMeterId"},
        {"{\"smartMeterId\":\"%s/x\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
         "/smartMeterId"},
        {"{\"smartMeterId\":\"%s "
         "x\",\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
         "/smartMeterId"},
        {"{\"smartMeterId\":\"%s-"
         "123456789012345678901234567890123456789012345678901234567890\","
         "\"electricityReadings\":[{\"time\":1,\"reading\":1}]}",
         "/smartMeterId"},
        {"{\"smartMeterId\":\"%s\"}", "/electricityReadings"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[]}", "/electricityReadings"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":{}}", "/electricityReadings"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":null}", "/electricityReadings"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":\"1\"}", "/electricityReadings"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[1]}", "/electricityReadings/0"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1},[]]}",
         "/electricityReadings/1"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1}]}",
         "/electricityReadings/0/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1},"
         "{\"time\":2,\"reading\":2},{\"time\":3,\"reading\":\"3\"}]}",
         "/electricityReadings/2/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1},"
         "{\"time\":2,\"reading\":2},{\"time\":3,\"reading\":1000000.5}]}",
         "/electricityReadings/2/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1},"
         "{\"time\":2,\"reading\":2},{\"time\":3,\"reading\":-0.001}]}",
         "/electricityReadings/2/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":null}]}",
         "/electricityReadings/0/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":true}]}",
         "/electricityReadings/0/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":1e400}]}",
         "/electricityReadings/0/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1,\"reading\":[1]}]}",
         "/electricityReadings/0/reading"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1.5,\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1000.0,\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":1e3,\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":-1,\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":253402300800,"
         "\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":99999999999999999999,"
         "\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":\"1606636800\","
         "\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":\"2024-01-01T07:01:00\","
         "\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":\"2024-02-30T00:00:00Z\","
         "\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":\"1969-12-31T23:59:59Z\","
         "\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":null,\"reading\":1}]}",
         "/electricityReadings/0/time"},
        {"{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":true,\"reading\":1}]}",
         "/electricityReadings/0/time"},
    };
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-fields");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = e2e_strf(cases[i].body, m);
        struct http_response r;
        post_raw(body, strlen(body), json_ct, HTTP_BODY_LENGTH, &r);
        EXPECT(r.status == 400, "body %zu (%s): status %ld, expected 400", i, body, r.status);
        EXPECT_PROBLEM(&r, 400, cases[i].pointer, NULL);
        http_response_free(&r);
        free(body);
    }
    EXPECT_READ(m, NULL);
}

/* {"time":T,"reading":0.5} n times, T = 60, 120, ... */
static char *readings_body(const char *meter, size_t n)
{
    size_t cap = 64 + n * 40, len;
    char *s = malloc(cap);
    if (s == NULL)
        abort();
    len = (size_t)snprintf(s, cap, "{\"smartMeterId\":\"%s\",\"electricityReadings\":[", meter);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"time\":%zu,\"reading\":0.5}",
                                i ? "," : "", (i + 1) * 60);
    snprintf(s + len, cap - len, "]}");
    return s;
}

static void test_too_many_readings(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-10001");
    char *body = readings_body(m, 10001);
    struct http_response r;
    post_raw(body, strlen(body), json_ct, HTTP_BODY_LENGTH, &r);
    EXPECT_PROBLEM(&r, 400, "/electricityReadings", NULL);
    http_response_free(&r);
    free(body);
    EXPECT_READ(m, NULL);
}

static void test_body_too_large(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-large");
    /* exactly 1 MiB is allowed */
    char *body = padded_body(m, MIB);
    struct http_response r;
    post_raw(body, MIB, json_ct, HTTP_BODY_LENGTH, &r);
    EXPECT_STATUS(&r, 200);
    http_response_free(&r);
    free(body);
    EXPECT_READ(m, "[{\"time\":60,\"reading\":1}]");

    /* one byte more is not, whether the length is announced or the body is chunked */
    char big[E2E_ID_SIZE];
    e2e_meter(big, "err-large-refused");
    body = padded_body(big, MIB + 1);
    post_raw(body, MIB + 1, json_ct, HTTP_BODY_LENGTH, &r);
    EXPECT_PROBLEM(&r, 413, NULL, NULL);
    http_response_free(&r);
    post_raw(body, MIB + 1, json_ct, HTTP_BODY_CHUNKED, &r);
    EXPECT_PROBLEM(&r, 413, NULL, NULL);
    http_response_free(&r);
    free(body);
    body = readings_body(big, 40000); /* a real batch of 1.3 MB */
    post_raw(body, strlen(body), json_ct, HTTP_BODY_LENGTH, &r);
    EXPECT_PROBLEM(&r, 413, NULL, NULL);
    http_response_free(&r);
    free(body);
    EXPECT_READ(big, NULL);
}

static void test_length_required(void)
{
    struct http_response r;
    post_raw(NULL, 0, json_ct, HTTP_BODY_NO_LENGTH, &r);
    EXPECT_PROBLEM(&r, 411, NULL, NULL);
    http_response_free(&r);
}

static void test_chunked_body(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "err-chunked");
    char *body = readings_body(m, 300); /* about 9 kB, sent in several chunks */
    struct http_response r;
    post_raw(body, strlen(body), json_ct, HTTP_BODY_CHUNKED, &r);
    EXPECT_JSON(&r, 200, body);
    http_response_free(&r);
    free(body);
    char path[128];
    snprintf(path, sizeof path, "/readings/read/%s?limit=1", m);
    http_get(path, &r);
    EXPECT_JSON(&r, 200, "[{\"time\":18000,\"reading\":0.5}]");
    http_response_free(&r);
}

static CU_TestInfo tests[] = {
    {"a known route with a wrong method is 405 with Allow", test_method_not_allowed},
    {"unknown routes are 404 problems", test_unknown_routes},
    {"a Content-Type that is not JSON is 415", test_unsupported_media_type},
    {"malformed JSON is 400 and stores nothing", test_malformed_json},
    {"wrong types and missing fields are 400 with a pointer", test_invalid_fields},
    {"more than 10000 readings are 400", test_too_many_readings},
    {"a body over 1 MiB is 413", test_body_too_large},
    {"a POST without a length is 411", test_length_required},
    {"a chunked body is accepted", test_chunked_body},
    CU_TEST_INFO_NULL,
};

int e2e_suite_errors(void)
{
    return e2e_add_suite("errors", tests);
}
