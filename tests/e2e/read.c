/*
 * read.c -- GET /readings/read/{smartMeterId}: ids, ranges and limits.
 */
#include <stdio.h>
#include <string.h>

#include "e2e.h"

/* GET /readings/read/<meter><query> into r. */
static void read_meter(const char *meter, const char *query, struct http_response *r)
{
    char path[512];
    snprintf(path, sizeof path, "/readings/read/%s%s", meter, query);
    http_get(path, r);
}

/* Expects GET /readings/read/<meter><query> to answer 200 with exactly body. */
#define EXPECT_QUERY(meter, query, body)                                                           \
    do {                                                                                           \
        struct http_response r_;                                                                   \
        read_meter((meter), (query), &r_);                                                         \
        EXPECT_JSON(&r_, 200, (body));                                                             \
        http_response_free(&r_);                                                                   \
    } while (0)

/* Expects GET /readings/read/<meter><query> to answer a problem. */
#define EXPECT_QUERY_PROBLEM(meter, query, status, parameter)                                      \
    do {                                                                                           \
        struct http_response r_;                                                                   \
        read_meter((meter), (query), &r_);                                                         \
        EXPECT_PROBLEM(&r_, (status), NULL, (parameter));                                          \
        http_response_free(&r_);                                                                   \
    } while (0)

static const char five[] = "{\"time\":1000,\"reading\":1},{\"time\":2000,\"reading\":2},"
                           "{\"time\":3000,\"reading\":3},{\"time\":4000,\"reading\":4},"
                           "{\"time\":5000,\"reading\":5}";

static void test_read_exact(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "read-exact");
    STORE_OK(m, five);
    EXPECT_READ(m, "[{\"time\":1000,\"reading\":1},{\"time\":2000,\"reading\":2},"
                   "{\"time\":3000,\"reading\":3},{\"time\":4000,\"reading\":4},"
                   "{\"time\":5000,\"reading\":5}]");
}

static void test_read_unknown_meter(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "read-unknown");
    EXPECT_READ(m, NULL);
    EXPECT_QUERY_PROBLEM(m, "?limit=1", 404, NULL);
    EXPECT_QUERY_PROBLEM(m, "?from=0&to=10", 404, NULL);
    /* 64 characters: a valid id, just unknown */
    EXPECT_READ("a123456789b123456789c123456789d123456789e123456789f123456789g123", NULL);
}

static void test_read_invalid_ids(void)
{
    static const char *const ids[] = {
        "bad%2Fid", "a123456789b123456789c123456789d123456789e123456789f123456789g1234", /* 65 */
        "%ZZ",      "%",
        "%4",       "bad%20id",
        "bad+id",   "bad*id",
        "%00",      "caf%C3%A9",
        "",         "bad%3Fid",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct http_response r;
        read_meter(ids[i], "", &r);
        EXPECT(r.status == 400, "GET /readings/read/%s: status %ld, expected 400", ids[i],
               r.status);
        EXPECT_PROBLEM(&r, 400, NULL, NULL);
        http_response_free(&r);
    }
}

static void test_read_percent_encoded_id(void)
{
    char m[E2E_ID_SIZE], encoded[3 * E2E_ID_SIZE];
    e2e_meter(m, "read.enc_od");
    STORE_OK(m, "{\"time\":60,\"reading\":0.5}");
    /* every character percent-encoded decodes to the same meter */
    size_t n = 0;
    for (const char *p = m; *p; p++)
        n += (size_t)snprintf(encoded + n, sizeof encoded - n, "%%%02X", (unsigned char)*p);
    EXPECT_QUERY(encoded, "", "[{\"time\":60,\"reading\":0.5}]");
}

static void test_read_limit(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "read-limit");
    STORE_OK(m, five);
    EXPECT_QUERY(m, "?limit=2", "[{\"time\":4000,\"reading\":4},{\"time\":5000,\"reading\":5}]");
    EXPECT_QUERY(m, "?limit=1", "[{\"time\":5000,\"reading\":5}]");
    EXPECT_QUERY(m, "?limit=0", "[]");
    EXPECT_QUERY(m, "?limit=5",
                 "[{\"time\":1000,\"reading\":1},{\"time\":2000,\"reading\":2},"
                 "{\"time\":3000,\"reading\":3},{\"time\":4000,\"reading\":4},"
                 "{\"time\":5000,\"reading\":5}]");
    EXPECT_QUERY(m, "?limit=99999999999999999999",
                 "[{\"time\":1000,\"reading\":1},{\"time\":2000,\"reading\":2},"
                 "{\"time\":3000,\"reading\":3},{\"time\":4000,\"reading\":4},"
                 "{\"time\":5000,\"reading\":5}]");
    EXPECT_QUERY(m, "?from=1000&to=4000&limit=2",
                 "[{\"time\":3000,\"reading\":3},{\"time\":4000,\"reading\":4}]");
    EXPECT_QUERY_PROBLEM(m, "?limit=-1", 400, "limit");
    EXPECT_QUERY_PROBLEM(m, "?limit=abc", 400, "limit");
    EXPECT_QUERY_PROBLEM(m, "?limit=1.5", 400, "limit");
    EXPECT_QUERY_PROBLEM(m, "?limit=", 400, "limit");
    EXPECT_QUERY_PROBLEM(m, "?limit=1&limit=2", 400, "limit");
}

static void test_read_range(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "read-range");
    STORE_OK(m, five);
    EXPECT_QUERY(m, "?from=2000&to=4000",
                 "[{\"time\":2000,\"reading\":2},{\"time\":3000,\"reading\":3},"
                 "{\"time\":4000,\"reading\":4}]");
    EXPECT_QUERY(m, "?from=4001", "[{\"time\":5000,\"reading\":5}]");
    EXPECT_QUERY(m, "?to=1999", "[{\"time\":1000,\"reading\":1}]");
    EXPECT_QUERY(m, "?from=3000&to=3000", "[{\"time\":3000,\"reading\":3}]");
    EXPECT_QUERY(m, "?from=1970-01-01T00:50:00Z&to=1970-01-01T01:06:40%2B00:00",
                 "[{\"time\":3000,\"reading\":3},{\"time\":4000,\"reading\":4}]");
    EXPECT_QUERY(m, "?from=2001&to=2999", "[]");
    EXPECT_QUERY(m, "?from=6000", "[]");
    EXPECT_QUERY_PROBLEM(m, "?from=abc", 400, "from");
    EXPECT_QUERY_PROBLEM(m, "?from=-1", 400, "from");
    EXPECT_QUERY_PROBLEM(m, "?from=1.5", 400, "from");
    EXPECT_QUERY_PROBLEM(m, "?from=253402300800", 400, "from");
    EXPECT_QUERY_PROBLEM(m, "?from=2024-01-01T00:00:00", 400, "from");
    EXPECT_QUERY_PROBLEM(m, "?to=xyz", 400, "to");
    EXPECT_QUERY_PROBLEM(m, "?from=4000&to=2000", 400, "from");
    EXPECT_QUERY_PROBLEM(m, "?from=1&from=2", 400, "from");
}

static void test_read_seeded_meter(void)
{
    struct http_response r;
    read_meter("smart-meter-0", "", &r);
    EXPECT_STATUS(&r, 200);
    EXPECT_STR("Content-Type", r.content_type, TYPE_JSON);
    struct json_object *doc = e2e_json(&r);
    size_t n = doc && json_object_is_type(doc, json_type_array) ? json_object_array_length(doc) : 0;
    EXPECT(n == 7 * 96 + 1, "smart-meter-0 has a week of 15-minute readings: %zu", n);
    int ascending = n > 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *t, *v, *item = json_object_array_get_idx(doc, i);
        if (!json_object_object_get_ex(item, "time", &t) ||
            !json_object_object_get_ex(item, "reading", &v) ||
            json_object_get_int64(t) != 1606089600 + (int64_t)i * 900 ||
            !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
            ascending = 0;
    }
    EXPECT(ascending, "smart-meter-0: readings every 900 s from 1606089600, ascending");
    json_object_put(doc);
    http_response_free(&r);

    read_meter("smart-meter-0", "?limit=2", &r);
    EXPECT_STATUS(&r, 200);
    doc = e2e_json(&r);
    EXPECT(doc && json_object_array_length(doc) == 2, "limit=2 gives two readings");
    EXPECT_AT(doc, "/0/time", "1606693500");
    EXPECT_AT(doc, "/1/time", "1606694400");
    json_object_put(doc);
    http_response_free(&r);
}

static CU_TestInfo tests[] = {
    {"a meter's readings read back exactly", test_read_exact},
    {"an unknown meter is 404", test_read_unknown_meter},
    {"invalid meter ids are 400", test_read_invalid_ids},
    {"a percent-encoded id is decoded", test_read_percent_encoded_id},
    {"limit returns the latest N ascending; bad limits are 400", test_read_limit},
    {"from/to select a range; bad values are 400", test_read_range},
    {"the seeded demo meter has a week of readings", test_read_seeded_meter},
    CU_TEST_INFO_NULL,
};

int e2e_suite_read(void)
{
    return e2e_add_suite("GET /readings/read", tests);
}
