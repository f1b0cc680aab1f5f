/*
 * test_auth.c -- the Authorization and Accept headers, the access mode, and the
 * key names a meter listing and erasure go by (joi/auth.h, joi/layout.h).
 */
#include <string.h>

#include "joi/auth.h"
#include "joi/layout.h"
#include "suites.h"

struct auth_case {
    int line;
    const char *header;
    enum joi_auth_scheme scheme;
    const char *credential;
};

#define KEY64 "3139d82e59451f3fdc979429b462a0c12ca491b40881a44c1103945da575761b"
/* base64("KEY64:") */
#define KEY64_BASIC                                                                                \
    "MzEzOWQ4MmU1OTQ1MWYzZmRjOTc5NDI5YjQ2MmEwYzEyY2E0OTFiNDA4ODFhNDRjMTEwMzk0NWRhNTc1NzYxYjo="

static void test_authorization(void)
{
    static const struct auth_case cases[] = {
        {__LINE__, NULL, JOI_AUTH_ABSENT, ""},
        {__LINE__, "", JOI_AUTH_ABSENT, ""},
        {__LINE__, "   ", JOI_AUTH_ABSENT, ""},
        {__LINE__, "Bearer " KEY64, JOI_AUTH_BEARER, KEY64},
        {__LINE__, "bearer " KEY64, JOI_AUTH_BEARER, KEY64},
        {__LINE__, "BEARER   " KEY64 " \t", JOI_AUTH_BEARER, KEY64},
        {__LINE__, "Bearer abc-._~+/=", JOI_AUTH_BEARER, "abc-._~+/="},
        {__LINE__, "Bearer", JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Bearer ", JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Bearer a b", JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Bearer a,b", JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Bearer\t" KEY64, JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Bearer " KEY64 KEY64 "x", JOI_AUTH_MALFORMED, ""}, /* 129 characters */
        {__LINE__, KEY64, JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Token " KEY64, JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Basic " KEY64_BASIC, JOI_AUTH_BASIC, KEY64},
        {__LINE__, "basic " KEY64_BASIC, JOI_AUTH_BASIC, KEY64},
        {__LINE__, "Basic YTo=", JOI_AUTH_BASIC, "a"},       /* "a:" */
        {__LINE__, "Basic YWI6", JOI_AUTH_BASIC, "ab"},      /* "ab:" */
        {__LINE__, "Basic YWJjOg==", JOI_AUTH_BASIC, "abc"}, /* "abc:" */
        {__LINE__, "Basic YTpi", JOI_AUTH_MALFORMED, ""},    /* "a:b": a password */
        {__LINE__, "Basic YQ==", JOI_AUTH_MALFORMED, ""},    /* "a": no colon */
        {__LINE__, "Basic Og==", JOI_AUTH_MALFORMED, ""},    /* ":": no user */
        {__LINE__, "Basic YTo", JOI_AUTH_MALFORMED, ""},     /* unpadded */
        {__LINE__, "Basic YTp=", JOI_AUTH_MALFORMED, ""},    /* non-canonical padding bits */
        {__LINE__, "Basic Y=o=", JOI_AUTH_MALFORMED, ""},    /* padding in the middle */
        {__LINE__, "Basic YT*=", JOI_AUTH_MALFORMED, ""},    /* not base64 */
        {__LINE__, "Basic ", JOI_AUTH_MALFORMED, ""},
        {__LINE__, "Basic " KEY64, JOI_AUTH_MALFORMED, ""}, /* the key, not encoded */
        {__LINE__, "Basic ICA6", JOI_AUTH_MALFORMED, ""},   /* "  :": spaces as user */
        {__LINE__, "Basic YTo6", JOI_AUTH_MALFORMED, ""},   /* "a::" */
        {__LINE__, "Basic AAA6", JOI_AUTH_MALFORMED, ""},   /* NUL bytes as user */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct auth_case *c = &cases[i];
        char out[JOI_AUTH_CREDENTIAL_MAX + 1];
        memset(out, 'x', sizeof out);
        enum joi_auth_scheme got = joi_auth_parse(c->header, out);
        test_check(got == c->scheme && strcmp(out, c->credential) == 0, __FILE__, c->line,
                   "Authorization \"%s\": scheme %d credential \"%s\", expected %d \"%s\"",
                   c->header ? c->header : "(none)", (int)got, out, (int)c->scheme, c->credential);
    }
    /* 128 characters is the longest credential */
    char header[160], out[JOI_AUTH_CREDENTIAL_MAX + 1];
    snprintf(header, sizeof header, "Bearer %s%s", KEY64, KEY64);
    CU_ASSERT_EQUAL(joi_auth_parse(header, out), JOI_AUTH_BEARER);
    CU_ASSERT_EQUAL(strlen(out), 128);
}

struct accept_case {
    int line;
    const char *header;
    enum joi_accept want;
};

static void test_accept(void)
{
    static const struct accept_case cases[] = {
        {__LINE__, NULL, JOI_ACCEPT_JSON},
        {__LINE__, "", JOI_ACCEPT_JSON},
        {__LINE__, " , ", JOI_ACCEPT_JSON},
        {__LINE__, "*/*", JOI_ACCEPT_JSON},
        {__LINE__, "application/json", JOI_ACCEPT_JSON},
        {__LINE__, "text/csv", JOI_ACCEPT_CSV},
        {__LINE__, "TEXT/CSV", JOI_ACCEPT_CSV},
        {__LINE__, "text/csv;charset=utf-8", JOI_ACCEPT_CSV},
        {__LINE__, "text/csv ; charset=\"utf-8\" ; header=present", JOI_ACCEPT_CSV},
        {__LINE__, "text/*", JOI_ACCEPT_CSV},
        {__LINE__, "application/*", JOI_ACCEPT_JSON},
        {__LINE__, "text/csv, application/json;q=0.5", JOI_ACCEPT_CSV},
        {__LINE__, "application/json;q=0.5, text/csv", JOI_ACCEPT_CSV},
        {__LINE__, "text/csv;q=0.5, application/json", JOI_ACCEPT_JSON},
        {__LINE__, "text/csv, application/json", JOI_ACCEPT_JSON}, /* a tie: JSON */
        {__LINE__, "text/csv, */*;q=0.1", JOI_ACCEPT_CSV},
        {__LINE__, "text/csv;q=0.2, */*;q=0.1", JOI_ACCEPT_CSV},
        {__LINE__, "*/*;q=0.8, text/csv;q=0.9", JOI_ACCEPT_CSV},
        /* the most specific range decides, even with a lower q */
        {__LINE__, "text/csv;q=0, */*", JOI_ACCEPT_JSON},
        {__LINE__, "application/json;q=0, */*", JOI_ACCEPT_CSV},
        {__LINE__, "application/json;q=0, text/csv;q=0", JOI_ACCEPT_NONE},
        {__LINE__, "*/*;q=0", JOI_ACCEPT_NONE},
        {__LINE__, "text/html", JOI_ACCEPT_NONE},
        {__LINE__, "image/png, text/html;q=0.9", JOI_ACCEPT_NONE},
        {__LINE__, "application/problem+json", JOI_ACCEPT_NONE},
        {__LINE__, "text/csvx", JOI_ACCEPT_NONE},
        {__LINE__, "application/json;q=0.001", JOI_ACCEPT_JSON},
        {__LINE__, "text/csv;q=1.000", JOI_ACCEPT_CSV},
        /* what does not parse matches nothing */
        {__LINE__, "csv", JOI_ACCEPT_NONE},
        {__LINE__, "text/csv;q=2", JOI_ACCEPT_NONE},
        {__LINE__, "text/csv;q=0.5555", JOI_ACCEPT_NONE},
        {__LINE__, "text/csv;q=1.5", JOI_ACCEPT_NONE},
        {__LINE__, "text/csv;q=", JOI_ACCEPT_NONE},
        {__LINE__, "text/csv;q", JOI_ACCEPT_NONE},
        {__LINE__, "text/csv;charset=\"utf-8", JOI_ACCEPT_NONE},
        {__LINE__, "*/csv", JOI_ACCEPT_NONE},
        {__LINE__, "text/", JOI_ACCEPT_NONE},
        {__LINE__, "/csv", JOI_ACCEPT_NONE},
        {__LINE__, "garbage, text/csv", JOI_ACCEPT_CSV},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct accept_case *c = &cases[i];
        enum joi_accept got = joi_accept_choose(c->header);
        test_check(got == c->want, __FILE__, c->line, "Accept \"%s\": %d, expected %d",
                   c->header ? c->header : "(none)", (int)got, (int)c->want);
    }
}

static void test_mode(void)
{
    enum joi_auth_mode m = JOI_AUTH_KEYS;
    CU_ASSERT_EQUAL(joi_auth_mode_parse(NULL, &m), 0);
    CU_ASSERT_EQUAL(m, JOI_AUTH_OPEN);
    CU_ASSERT_EQUAL(joi_auth_mode_parse("keys", &m), 0);
    CU_ASSERT_EQUAL(m, JOI_AUTH_KEYS);
    CU_ASSERT_EQUAL(joi_auth_mode_parse("", &m), 0);
    CU_ASSERT_EQUAL(m, JOI_AUTH_OPEN);
    CU_ASSERT_EQUAL(joi_auth_mode_parse("open", &m), 0);
    CU_ASSERT_EQUAL(m, JOI_AUTH_OPEN);
    m = JOI_AUTH_KEYS;
    CU_ASSERT_EQUAL(joi_auth_mode_parse("Keys", &m), -1);
    CU_ASSERT_EQUAL(joi_auth_mode_parse("closed", &m), -1);
    CU_ASSERT_EQUAL(m, JOI_AUTH_KEYS);
}

struct key_case {
    int line;
    const char *key;
    int rc;
    const char *meter, *suffix;
};

static void test_key_split(void)
{
    static const struct key_case cases[] = {
        {__LINE__, "joi:{smart-meter-0}:r", 0, "smart-meter-0", "r"},
        {__LINE__, "joi:{m}:e", 0, "m", "e"},
        {__LINE__, "joi:{m}:l", 0, "m", "l"},
        {__LINE__, "joi:{m.x_y-1}:token", 0, "m.x_y-1", "token"},
        {__LINE__, "joi:{m}:key", 0, "m", "key"},
        {__LINE__, "joi:{m}:h", 0, "m", "h"},
        {__LINE__, "joi:{m}:turn", 0, "m", "turn"},
        {__LINE__, "joi:{config}:doc", -1, "", ""},
        {__LINE__, "joi:{config}:version", -1, "", ""},
        {__LINE__, "joi:{health}:probe", -1, "", ""},
        {__LINE__, "joi:{m}:keys", -1, "", ""},
        {__LINE__, "joi:{m}:", -1, "", ""},
        {__LINE__, "joi:{}:r", -1, "", ""},
        {__LINE__, "joi:{a b}:r", -1, "", ""},
        {__LINE__, "joi:{m}r", -1, "", ""},
        {__LINE__, "joi:m:r", -1, "", ""},
        {__LINE__, "other:{m}:r", -1, "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct key_case *c = &cases[i];
        char meter[JOI_METER_MAX + 1] = "";
        const char *suffix = "";
        int rc = joi_layout_key_split(c->key, strlen(c->key), meter, &suffix);
        test_check(rc == c->rc && strcmp(meter, c->meter) == 0 && strcmp(suffix, c->suffix) == 0,
                   __FILE__, c->line, "key %s: %d \"%s\" \"%s\", expected %d \"%s\" \"%s\"", c->key,
                   rc, meter, suffix, c->rc, c->meter, c->suffix);
    }
    /* a 64-character meter id is the longest */
    char key[128], meter[JOI_METER_MAX + 1];
    const char *suffix;
    snprintf(key, sizeof key, "joi:{%s}:r",
             "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm");
    CU_ASSERT_EQUAL(joi_layout_key_split(key, strlen(key), meter, &suffix), 0);
    snprintf(key, sizeof key, "joi:{%s}:r",
             "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm");
    CU_ASSERT_EQUAL(joi_layout_key_split(key, strlen(key), meter, &suffix), -1);
}

void add_auth_suite(void)
{
    static const struct test_case tests[] = {
        {"Authorization: Bearer and Basic", test_authorization},
        {"Accept: JSON, CSV or neither", test_accept},
        {"JOI_AUTH", test_mode},
        {"meter key names", test_key_split},
        {NULL, NULL},
    };
    test_add_suite("auth", tests);
}
