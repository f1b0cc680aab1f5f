/*
 * store.c -- POST /readings/store: what is echoed and what is read back.
 */
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* POSTs body to /readings/store as application/json. */
static void post(const char *body, struct http_response *r)
{
    http_post_json("/readings/store", body, r);
}

static void test_seed_example(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-seed");
    static const char readings[] =
        "[{\"time\":1606636800,\"reading\":0.0503},{\"time\":1606636860,\"reading\":0.0621},"
        "{\"time\":1606636920,\"reading\":0.0222},{\"time\":1606636980,\"reading\":0.0423},"
        "{\"time\":1606637040,\"reading\":0.0191}]";
    char *body = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":%s}", m, readings);
    struct http_response r;
    post(body, &r);
    EXPECT_JSON(&r, 200, body);
    http_response_free(&r);
    EXPECT_READ(m, readings);
    free(body);
}

static void test_iso_times(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-iso");
    char *body = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":["
                          "{\"time\":\"2024-01-01T07:01:00Z\",\"reading\":0.1},"
                          "{\"time\":\"2024-01-01T08:02:00+01:00\",\"reading\":0.2},"
                          "{\"time\":\"2024-01-01T07:03:00.000000Z\",\"reading\":0.3},"
                          "{\"time\":\"2024-01-01T02:04:59.999-05:00\",\"reading\":0.4}]}",
                          m);
    char *echo = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":["
                          "{\"time\":1704092460,\"reading\":0.1},"
                          "{\"time\":1704092520,\"reading\":0.2},"
                          "{\"time\":1704092580,\"reading\":0.3},"
                          "{\"time\":1704092699,\"reading\":0.4}]}",
                          m);
    struct http_response r;
    post(body, &r);
    EXPECT_JSON(&r, 200, echo);
    http_response_free(&r);
    EXPECT_READ(m, "[{\"time\":1704092460,\"reading\":0.1},{\"time\":1704092520,\"reading\":0.2},"
                   "{\"time\":1704092580,\"reading\":0.3},{\"time\":1704092699,\"reading\":0.4}]");
    free(body);
    free(echo);
}

static void test_number_forms(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-numbers");
    char *body = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":["
                          "{\"time\":1,\"reading\":0.1},{\"time\":2,\"reading\":0},"
                          "{\"time\":3,\"reading\":1000000},{\"time\":4,\"reading\":2.5e2},"
                          "{\"time\":5,\"reading\":1E-3},{\"time\":6,\"reading\":-0.0},"
                          "{\"time\":7,\"reading\":0.30000000000000004},"
                          "{\"time\":253402300799,\"reading\":7.25}]}",
                          m);
    static const char readings[] = "[{\"time\":1,\"reading\":0.1},{\"time\":2,\"reading\":0},"
                                   "{\"time\":3,\"reading\":1000000},{\"time\":4,\"reading\":250},"
                                   "{\"time\":5,\"reading\":0.001},{\"time\":6,\"reading\":0},"
                                   "{\"time\":7,\"reading\":0.30000000000000004},"
                                   "{\"time\":253402300799,\"reading\":7.25}]";
    char *echo = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":%s}", m, readings);
    struct http_response r;
    post(body, &r);
    EXPECT_JSON(&r, 200, echo);
    http_response_free(&r);
    EXPECT_READ(m, readings);
    free(body);
    free(echo);
}

static void test_same_time_replaces(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-replace");
    STORE_OK(m, "{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2},"
                "{\"time\":300,\"reading\":3}");
    /* A meter retrying a batch: same times, and one value corrected. */
    STORE_OK(m, "{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2.5},"
                "{\"time\":300,\"reading\":3}");
    EXPECT_READ(m, "[{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2.5},"
                   "{\"time\":300,\"reading\":3}]");
    STORE_OK(m, "{\"time\":\"1970-01-01T00:05:00Z\",\"reading\":9}");
    EXPECT_READ(m, "[{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2.5},"
                   "{\"time\":300,\"reading\":9}]");
}

static void test_last_in_batch_wins(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-lastwins");
    char *body = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":["
                          "{\"time\":10,\"reading\":1},{\"time\":20,\"reading\":2},"
                          "{\"time\":10,\"reading\":3},{\"time\":\"1970-01-01T00:00:20Z\","
                          "\"reading\":4},{\"time\":10,\"reading\":5}]}",
                          m);
    char *echo = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":["
                          "{\"time\":10,\"reading\":1},{\"time\":20,\"reading\":2},"
                          "{\"time\":10,\"reading\":3},{\"time\":20,\"reading\":4},"
                          "{\"time\":10,\"reading\":5}]}",
                          m);
    struct http_response r;
    post(body, &r);
    EXPECT_JSON(&r, 200, echo);
    http_response_free(&r);
    EXPECT_READ(m, "[{\"time\":10,\"reading\":5},{\"time\":20,\"reading\":4}]");
    free(body);
    free(echo);
}

static void test_out_of_order(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-order");
    char *body = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":["
                          "{\"time\":1606637040,\"reading\":0.5},"
                          "{\"time\":1606636800,\"reading\":0.1},"
                          "{\"time\":1606636980,\"reading\":0.4},"
                          "{\"time\":1606636860,\"reading\":0.2}]}",
                          m);
    struct http_response r;
    post(body, &r);
    EXPECT_JSON(&r, 200, body); /* echoed in the order sent */
    http_response_free(&r);
    STORE_OK(m, "{\"time\":1606636920,\"reading\":0.3}");
    EXPECT_READ(m, "[{\"time\":1606636800,\"reading\":0.1},{\"time\":1606636860,\"reading\":0.2},"
                   "{\"time\":1606636920,\"reading\":0.3},{\"time\":1606636980,\"reading\":0.4},"
                   "{\"time\":1606637040,\"reading\":0.5}]");
    free(body);
}

static void test_extra_fields_ignored(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-extra");
    char *body = e2e_strf("{\"firmware\":\"1.2\",\"smartMeterId\":\"%s\",\"battery\":{\"v\":3},"
                          "\"electricityReadings\":[{\"unit\":\"kW\",\"time\":60,\"reading\":1.5,"
                          "\"quality\":[1,2]}],\"seq\":7}",
                          m);
    char *echo = e2e_strf(
        "{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":60,\"reading\":1.5}]}", m);
    struct http_response r;
    post(body, &r);
    EXPECT_JSON(&r, 200, echo);
    http_response_free(&r);
    EXPECT_READ(m, "[{\"time\":60,\"reading\":1.5}]");
    free(body);
    free(echo);
}

/* "{"time":T,"reading":1}," n times, times t0, t0 + 60, ... (no trailing comma). */
static char *many_readings(size_t n, long long t0)
{
    size_t cap = n * 48 + 1, len = 0;
    char *s = malloc(cap);
    if (s == NULL)
        abort();
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"time\":%lld,\"reading\":1}", i ? "," : "",
                                t0 + (long long)i * 60);
    return s;
}

static void test_ten_thousand_readings(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-10000");
    char *readings = many_readings(10000, 1700000000);
    STORE_OK(m, readings);
    free(readings);
    struct http_response r;
    char path[128];
    snprintf(path, sizeof path, "/readings/read/%s", m);
    http_get(path, &r);
    EXPECT_STATUS(&r, 200);
    struct json_object *doc = e2e_json(&r);
    EXPECT(doc != NULL && json_object_array_length(doc) == 10000, "10000 readings read back");
    EXPECT_AT(doc, "/0", "{\"time\":1700000000,\"reading\":1}");
    EXPECT_AT(doc, "/9999", "{\"time\":1700599940,\"reading\":1}");
    json_object_put(doc);
    http_response_free(&r);
}

static void test_batches_accumulate(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "store-accumulate");
    STORE_OK(m, "{\"time\":1000,\"reading\":1}");
    STORE_OK(m, "{\"time\":3000,\"reading\":3}");
    STORE_OK(m, "{\"time\":2000,\"reading\":2}");
    EXPECT_READ(m, "[{\"time\":1000,\"reading\":1},{\"time\":2000,\"reading\":2},"
                   "{\"time\":3000,\"reading\":3}]");
}

static void test_failed_batch_writes_nothing(void)
{
    char m[E2E_ID_SIZE], fresh[E2E_ID_SIZE];
    e2e_meter(m, "store-atomic");
    e2e_meter(fresh, "store-atomic-fresh");
    STORE_OK(m, "{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2}");
    static const char *const bad[] = {
        /* the third reading is out of range: the first two must not be kept */
        "{\"time\":100,\"reading\":7},{\"time\":300,\"reading\":3},"
        "{\"time\":400,\"reading\":1000001}",
        "{\"time\":100,\"reading\":7},{\"time\":300,\"reading\":3},"
        "{\"time\":400,\"reading\":-1}",
        "{\"time\":100,\"reading\":7},{\"time\":300,\"reading\":3},"
        "{\"time\":400,\"reading\":\"4\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *id = i % 2 ? fresh : m;
        char *body = e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":[%s]}", id, bad[i]);
        struct http_response r;
        post(body, &r);
        EXPECT_PROBLEM(&r, 400, "/electricityReadings/2/reading", NULL);
        http_response_free(&r);
        free(body);
    }
    EXPECT_READ(m, "[{\"time\":100,\"reading\":1},{\"time\":200,\"reading\":2}]");
    EXPECT_READ(fresh, NULL);
}

static CU_TestInfo tests[] = {
    {"the seed example is echoed exactly and read back", test_seed_example},
    {"RFC 3339 times (Z, offsets, fractions) become epoch integers", test_iso_times},
    {"readings are echoed in shortest form (0.1, 250, 0.001)", test_number_forms},
    {"storing a time again replaces its reading", test_same_time_replaces},
    {"within one batch the last occurrence of a time wins", test_last_in_batch_wins},
    {"readings sent out of order read back ascending", test_out_of_order},
    {"unknown extra fields are ignored", test_extra_fields_ignored},
    {"a batch of 10000 readings is stored whole", test_ten_thousand_readings},
    {"batches add up", test_batches_accumulate},
    {"a batch with a bad reading writes nothing", test_failed_batch_writes_nothing},
    CU_TEST_INFO_NULL,
};

int e2e_suite_store(void)
{
    return e2e_add_suite("POST /readings/store", tests);
}
