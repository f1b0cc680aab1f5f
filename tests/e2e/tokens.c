/*
 * tokens.c -- per-meter write tokens issued and revoked with joi-admin.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

/* POSTs one reading at time t for meter with an optional Authorization header. */
static void post_reading(const char *meter, int t, const char *authorization,
                         struct http_response *r)
{
    char *body =
        e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":[{\"time\":%d,\"reading\":1}]}",
                 meter, t);
    char auth[256];
    const char *headers[] = {"Content-Type: application/json", NULL, NULL};
    if (authorization != NULL) {
        snprintf(auth, sizeof auth, "Authorization: %s", authorization);
        headers[1] = auth;
    }
    struct http_request req = {.method = "POST",
                               .path = "/readings/store",
                               .headers = headers,
                               .body = body,
                               .body_len = strlen(body)};
    http_send(&req, r);
    free(body);
}

static void expect_post(const char *meter, int t, const char *authorization, long status,
                        const char *file, unsigned line)
{
    struct http_response r;
    post_reading(meter, t, authorization, &r);
    e2e_check(r.status == status, file, line,
              "POST for %s with Authorization %s: %ld, expected %ld", meter,
              authorization ? authorization : "(none)", r.status, status);
    if (status == 401) {
        e2e_expect_problem(&r, 401, NULL, NULL, file, line);
        char challenge[128];
        e2e_check(http_header(&r, "WWW-Authenticate", challenge, sizeof challenge), file, line,
                  "401 has a WWW-Authenticate header");
        e2e_check(strncmp(challenge, "Bearer", 6) == 0, file, line,
                  "WWW-Authenticate names Bearer: %s", challenge);
    } else {
        e2e_expect_status(&r, status, file, line);
    }
    http_response_free(&r);
}
#define EXPECT_POST(meter, t, authorization, status)                                               \
    expect_post((meter), (t), (authorization), (status), __FILE__, __LINE__)

/* Issues a token for meter into token (65 bytes); checks it is 64 hex characters. */
static void create_token(const char *meter, char *token, const char *file, unsigned line)
{
    char out[512];
    int rc = e2e_admin(out, sizeof out, "token", "create", meter, (const char *)NULL);
    e2e_check(rc == 0, file, line, "token create %s: exit %d: %s", meter, rc, out);
    size_t n = strcspn(out, "\n");
    int hex = n == 64;
    for (size_t i = 0; i < n; i++)
        hex &= isxdigit((unsigned char)out[i]) && !isupper((unsigned char)out[i]);
    e2e_check(hex && strcmp(out + n, "\n") == 0, file, line,
              "token create prints one line of 64 hex characters: %s", out);
    snprintf(token, 65, "%.*s", (int)(n < 64 ? n : 64), out);
}
#define CREATE_TOKEN(meter, token) create_token((meter), (token), __FILE__, __LINE__)

static void revoke_token(const char *meter, const char *file, unsigned line)
{
    char out[512];
    int rc = e2e_admin(out, sizeof out, "token", "revoke", meter, (const char *)NULL);
    e2e_check(rc == 0, file, line, "token revoke %s: exit %d: %s", meter, rc, out);
}
#define REVOKE_TOKEN(meter) revoke_token((meter), __FILE__, __LINE__)

static void test_token_flow(void)
{
    char m[E2E_ID_SIZE], token[65], bearer[128];
    e2e_meter(m, "tok-flow");
    EXPECT_POST(m, 60, NULL, 200); /* open until a token is issued */
    CREATE_TOKEN(m, token);
    snprintf(bearer, sizeof bearer, "Bearer %s", token);

    EXPECT_POST(m, 120, NULL, 401);
    EXPECT_POST(m, 120, "Bearer 0000000000000000000000000000000000000000000000000000000000000000",
                401);
    char wrong[128];
    snprintf(wrong, sizeof wrong, "Bearer %.63s%c", token, token[63] == 'a' ? 'b' : 'a');
    EXPECT_POST(m, 120, wrong, 401);
    EXPECT_POST(m, 120, "Bearer", 401);
    EXPECT_POST(m, 120, "Bearer ", 401);
    EXPECT_POST(m, 120, token, 401); /* without the scheme */
    char basic[128];
    snprintf(basic, sizeof basic, "Basic %s", token);
    EXPECT_POST(m, 120, basic, 401);
    char longer[160];
    snprintf(longer, sizeof longer, "Bearer %s0", token);
    EXPECT_POST(m, 120, longer, 401);
    EXPECT_READ(m, "[{\"time\":60,\"reading\":1}]"); /* nothing of the refused posts */

    EXPECT_POST(m, 120, bearer, 200);
    char lower[128];
    snprintf(lower, sizeof lower, "bearer %s", token); /* the scheme is case-insensitive */
    EXPECT_POST(m, 180, lower, 200);
    EXPECT_READ(m, "[{\"time\":60,\"reading\":1},{\"time\":120,\"reading\":1},"
                   "{\"time\":180,\"reading\":1}]");

    REVOKE_TOKEN(m);
    EXPECT_POST(m, 240, NULL, 200);
    EXPECT_READ(m, "[{\"time\":60,\"reading\":1},{\"time\":120,\"reading\":1},"
                   "{\"time\":180,\"reading\":1},{\"time\":240,\"reading\":1}]");
}

static void test_token_per_meter(void)
{
    char a[E2E_ID_SIZE], b[E2E_ID_SIZE], open[E2E_ID_SIZE];
    char ta[65], tb[65], bearer_a[128], bearer_b[128];
    e2e_meter(a, "tok-a");
    e2e_meter(b, "tok-b");
    e2e_meter(open, "tok-open");
    CREATE_TOKEN(a, ta);
    CREATE_TOKEN(b, tb);
    EXPECT(strcmp(ta, tb) != 0, "two tokens differ");
    snprintf(bearer_a, sizeof bearer_a, "Bearer %s", ta);
    snprintf(bearer_b, sizeof bearer_b, "Bearer %s", tb);
    EXPECT_POST(b, 60, bearer_a, 401);
    EXPECT_POST(a, 60, bearer_b, 401);
    EXPECT_POST(a, 60, bearer_a, 200);
    EXPECT_POST(b, 60, bearer_b, 200);
    EXPECT_POST(open, 60, bearer_a, 200); /* a meter without a token stays open */

    /* a new token replaces the old one */
    char ta2[65], bearer_a2[128];
    CREATE_TOKEN(a, ta2);
    snprintf(bearer_a2, sizeof bearer_a2, "Bearer %s", ta2);
    EXPECT_POST(a, 120, bearer_a, 401);
    EXPECT_POST(a, 120, bearer_a2, 200);
    REVOKE_TOKEN(a);
    REVOKE_TOKEN(b);
    EXPECT_POST(a, 180, NULL, 200);
    EXPECT_POST(b, 180, NULL, 200);
}

static void test_token_reads_stay_open(void)
{
    char m[E2E_ID_SIZE], token[65];
    e2e_meter(m, "tok-read");
    STORE_OK(m, "{\"time\":60,\"reading\":2},{\"time\":1860,\"reading\":2}");
    CREATE_TOKEN(m, token);
    EXPECT_READ(m, "[{\"time\":60,\"reading\":2},{\"time\":1860,\"reading\":2}]");
    char path[128];
    snprintf(path, sizeof path, "/price-plans/recommend/%s?limit=1", m);
    struct http_response r;
    http_get(path, &r);
    EXPECT_JSON(&r, 200, "[{\"price-plan-2\":1}]");
    http_response_free(&r);
    REVOKE_TOKEN(m);
}

static void test_token_invalid_meter(void)
{
    char out[512];
    int rc = e2e_admin(out, sizeof out, "token", "create", "bad/id", (const char *)NULL);
    EXPECT(rc == 1, "token create for an invalid id: exit %d, expected 1: %s", rc, out);
    rc = e2e_admin(out, sizeof out, "token", "frobnicate", "m", (const char *)NULL);
    EXPECT(rc == 2, "an unknown token command: exit %d, expected 2: %s", rc, out);
}

static CU_TestInfo tests[] = {
    {"a meter with a token needs Authorization: Bearer <token>", test_token_flow},
    {"tokens are per meter and a new one replaces the old", test_token_per_meter},
    {"reading and pricing need no token", test_token_reads_stay_open},
    {"joi-admin token refuses invalid input", test_token_invalid_meter},
    CU_TEST_INFO_NULL,
};

int e2e_suite_tokens(void)
{
    return e2e_add_suite("write tokens", tests);
}
