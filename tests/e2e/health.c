/*
 * health.c -- GET /health and /health/live.
 */
#include "e2e.h"

static void test_health_ok(void)
{
    struct http_response r;
    http_get("/health", &r);
    EXPECT_JSON(&r, 200, "{\"status\":\"ok\"}");
    http_response_free(&r);
}

static void test_health_live(void)
{
    struct http_response r;
    http_get("/health/live", &r);
    EXPECT_JSON(&r, 200, "{\"status\":\"ok\"}");
    http_response_free(&r);
}

static void test_health_head(void)
{
    struct http_request req = {.method = "HEAD", .path = "/health"};
    struct http_response r;
    http_send(&req, &r);
    EXPECT_STATUS(&r, 200);
    EXPECT_STR("Content-Type", r.content_type, TYPE_JSON);
    EXPECT(r.body_len == 0, "HEAD has no body, got %zu bytes", r.body_len);
    http_response_free(&r);
}

static void test_health_post_not_allowed(void)
{
    struct http_response r;
    http_post_json("/health", "{}", &r);
    EXPECT_PROBLEM(&r, 405, NULL, NULL);
    char allow[128];
    EXPECT(http_header(&r, "Allow", allow, sizeof allow), "405 has an Allow header");
    EXPECT_STR("Allow", allow, "GET, HEAD");
    http_response_free(&r);
}

static CU_TestInfo tests[] = {
    {"GET /health answers 200 {\"status\":\"ok\"}", test_health_ok},
    {"GET /health/live answers 200 {\"status\":\"ok\"}", test_health_live},
    {"HEAD /health answers 200 without a body", test_health_head},
    {"POST /health answers 405 with Allow: GET, HEAD", test_health_post_not_allowed},
    CU_TEST_INFO_NULL,
};

int e2e_suite_health(void)
{
    return e2e_add_suite("health", tests);
}
