/*
 * test_http.c -- percent-decoding and query strings.
 */
#include <string.h>

#include "joi/http.h"
#include "suites.h"

static long decode(const char *s, char *out, size_t outcap, int plus)
{
    return joi_url_decode(s, strlen(s), out, outcap, plus);
}

static void test_decode_valid(void)
{
    char out[64];
    CU_ASSERT_EQUAL(decode("smart-meter-0", out, sizeof out - 1, 0), 13);
    CU_ASSERT_STRING_EQUAL(out, "smart-meter-0");
    CU_ASSERT_EQUAL(decode("%41%62%7a", out, sizeof out - 1, 0), 3);
    CU_ASSERT_STRING_EQUAL(out, "Abz");
    CU_ASSERT_EQUAL(decode("", out, sizeof out - 1, 0), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(decode("%25", out, sizeof out - 1, 0), 1);
    CU_ASSERT_STRING_EQUAL(out, "%");
}

static void test_decode_slash(void)
{
    char out[64];
    CU_ASSERT_EQUAL(decode("bad%2Fid", out, sizeof out - 1, 0), 6);
    CU_ASSERT_STRING_EQUAL(out, "bad/id");
    CU_ASSERT_EQUAL(decode("bad%2fid", out, sizeof out - 1, 0), 6);
    CU_ASSERT_STRING_EQUAL(out, "bad/id");
}

static void test_decode_plus(void)
{
    char out[64];
    CU_ASSERT_EQUAL(decode("a+b", out, sizeof out - 1, 1), 3);
    CU_ASSERT_STRING_EQUAL(out, "a b");
    CU_ASSERT_EQUAL(decode("a+b", out, sizeof out - 1, 0), 3);
    CU_ASSERT_STRING_EQUAL(out, "a+b");
    CU_ASSERT_EQUAL(decode("a%2Bb", out, sizeof out - 1, 1), 3);
    CU_ASSERT_STRING_EQUAL(out, "a+b");
}

static void test_decode_nul_escape(void)
{
    char out[8];
    CU_ASSERT_EQUAL(decode("a%00b", out, sizeof out - 1, 0), 3);
    CU_ASSERT_EQUAL(memcmp(out, "a\0b", 4), 0);
}

static void test_decode_bad_escapes(void)
{
    char out[64];
    CU_ASSERT_EQUAL(decode("%G1", out, sizeof out - 1, 0), -1);
    CU_ASSERT_EQUAL(decode("%1G", out, sizeof out - 1, 0), -1);
    CU_ASSERT_EQUAL(decode("abc%", out, sizeof out - 1, 0), -1);
    CU_ASSERT_EQUAL(decode("abc%4", out, sizeof out - 1, 0), -1);
    CU_ASSERT_EQUAL(decode("%%41", out, sizeof out - 1, 0), -1);
    CU_ASSERT_EQUAL(decode("% 41", out, sizeof out - 1, 0), -1);
    CU_ASSERT_EQUAL(decode("%-1", out, sizeof out - 1, 0), -1);
    /* An escape cut by the length is malformed even when the bytes after it are hex. */
    CU_ASSERT_EQUAL(joi_url_decode("ab%41", 4, out, sizeof out - 1, 0), -1);
}

static void test_decode_overflow(void)
{
    char out[8];
    memset(out, '#', sizeof out);
    CU_ASSERT_EQUAL(decode("abcdefgh", out, 7, 0), -1);
    CU_ASSERT_EQUAL(decode("abcdefg", out, 7, 0), 7);
    CU_ASSERT_STRING_EQUAL(out, "abcdefg");
    CU_ASSERT_EQUAL(decode("%41%41%41%41%41%41%41", out, 7, 0), 7);
    CU_ASSERT_STRING_EQUAL(out, "AAAAAAA");
    CU_ASSERT_EQUAL(decode("%41%41%41%41%41%41%41%41", out, 7, 0), -1);
    CU_ASSERT_EQUAL(decode("x", out, 0, 0), -1);
    CU_ASSERT_EQUAL(decode("", out, 0, 0), 0);
    CU_ASSERT_EQUAL(out[0], '\0');
}

static void test_query_basic(void)
{
    struct joi_query q;
    const char *s = "a=1&b=2";
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_EQUAL_FATAL(q.n, 2);
    CU_ASSERT_STRING_EQUAL(q.params[0].key, "a");
    CU_ASSERT_STRING_EQUAL(q.params[0].value, "1");
    CU_ASSERT_EQUAL(q.params[0].value_len, 1);
    CU_ASSERT_STRING_EQUAL(q.params[1].key, "b");
    CU_ASSERT_STRING_EQUAL(q.params[1].value, "2");
    int count = -1;
    const struct joi_query_param *p = joi_query_get(&q, "b", &count);
    CU_ASSERT_PTR_EQUAL(p, &q.params[1]);
    CU_ASSERT_EQUAL(count, 1);
    CU_ASSERT_PTR_NULL(joi_query_get(&q, "c", &count));
    CU_ASSERT_EQUAL(count, 0);
    CU_ASSERT_PTR_EQUAL(joi_query_get(&q, "a", NULL), &q.params[0]);
}

static void test_query_empty_pieces(void)
{
    struct joi_query q;
    const char *s = "&&a=1&&&b=&c&";
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_EQUAL_FATAL(q.n, 3);
    CU_ASSERT_STRING_EQUAL(q.params[0].key, "a");
    CU_ASSERT_STRING_EQUAL(q.params[0].value, "1");
    CU_ASSERT_STRING_EQUAL(q.params[1].key, "b");
    CU_ASSERT_STRING_EQUAL(q.params[1].value, "");
    CU_ASSERT_EQUAL(q.params[1].value_len, 0);
    CU_ASSERT_STRING_EQUAL(q.params[2].key, "c");
    CU_ASSERT_STRING_EQUAL(q.params[2].value, "");
    CU_ASSERT_EQUAL(q.params[2].value_len, 0);
    CU_ASSERT_EQUAL(joi_query_parse("", 0, &q), 0);
    CU_ASSERT_EQUAL(q.n, 0);
}

static void test_query_plus_and_escapes(void)
{
    struct joi_query q;
    const char *s = "from=2024-01-01T08%3A01%3A00%2B01%3A00&name=a+b%20c&k%65y=v";
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_EQUAL_FATAL(q.n, 3);
    CU_ASSERT_STRING_EQUAL(q.params[0].value, "2024-01-01T08:01:00+01:00");
    CU_ASSERT_STRING_EQUAL(q.params[1].value, "a b c");
    CU_ASSERT_EQUAL(q.params[1].value_len, 5);
    CU_ASSERT_STRING_EQUAL(q.params[2].key, "key");
    /* A raw '+' in a time is a space: a client must write %2B. */
    s = "from=2024-01-01T08:01:00+01:00";
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_STRING_EQUAL(q.params[0].value, "2024-01-01T08:01:00 01:00");
}

static void test_query_nul_in_value(void)
{
    struct joi_query q;
    const char *s = "a=x%00y";
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_EQUAL(q.params[0].value_len, 3);
    CU_ASSERT_EQUAL(memcmp(q.params[0].value, "x\0y", 4), 0);
    s = "a%00b=1";
    CU_ASSERT_EQUAL(joi_query_parse(s, strlen(s), &q), -1);
}

static void test_query_duplicates(void)
{
    struct joi_query q;
    const char *s = "limit=1&x=0&limit=2&limit=3";
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    int count = 0;
    const struct joi_query_param *p = joi_query_get(&q, "limit", &count);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->value, "1");
    CU_ASSERT_EQUAL(count, 3);
    joi_query_get(&q, "x", &count);
    CU_ASSERT_EQUAL(count, 1);
}

static void test_query_too_many_params(void)
{
    struct joi_query q;
    char s[256] = "";
    for (int i = 0; i < JOI_QUERY_MAX_PARAMS; i++)
        strcat(s, i ? "&a=1" : "a=1");
    CU_ASSERT_EQUAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_EQUAL(q.n, JOI_QUERY_MAX_PARAMS);
    strcat(s, "&a=1");
    CU_ASSERT_EQUAL(joi_query_parse(s, strlen(s), &q), -1);
    /* Empty pieces do not count. */
    char t[300] = "";
    for (int i = 0; i < JOI_QUERY_MAX_PARAMS; i++)
        strcat(t, "&&a=1");
    CU_ASSERT_EQUAL(joi_query_parse(t, strlen(t), &q), 0);
    CU_ASSERT_EQUAL(q.n, JOI_QUERY_MAX_PARAMS);
}

static void test_query_too_long(void)
{
    struct joi_query q;
    char s[2 + JOI_QUERY_MAX_VALUE + 2];
    s[0] = 'v';
    s[1] = '=';
    memset(s + 2, 'x', JOI_QUERY_MAX_VALUE);
    s[2 + JOI_QUERY_MAX_VALUE] = '\0';
    CU_ASSERT_EQUAL_FATAL(joi_query_parse(s, strlen(s), &q), 0);
    CU_ASSERT_EQUAL(q.params[0].value_len, JOI_QUERY_MAX_VALUE);
    CU_ASSERT_EQUAL(strlen(q.params[0].value), JOI_QUERY_MAX_VALUE);
    s[2 + JOI_QUERY_MAX_VALUE] = 'x';
    s[3 + JOI_QUERY_MAX_VALUE] = '\0';
    CU_ASSERT_EQUAL(joi_query_parse(s, strlen(s), &q), -1);

    char k[JOI_QUERY_MAX_VALUE + 4];
    memset(k, 'k', JOI_QUERY_MAX_VALUE + 1);
    memcpy(k + JOI_QUERY_MAX_VALUE + 1, "=1", 3);
    CU_ASSERT_EQUAL(joi_query_parse(k, strlen(k), &q), -1);
}

static void test_query_bad_escape(void)
{
    struct joi_query q;
    CU_ASSERT_EQUAL(joi_query_parse("a=%zz", 5, &q), -1);
    CU_ASSERT_EQUAL(joi_query_parse("a=1%", 4, &q), -1);
    CU_ASSERT_EQUAL(joi_query_parse("%g=1", 4, &q), -1);
}

void add_http_suite(void)
{
    static const struct test_case tests[] = {
        {"url decode valid", test_decode_valid},
        {"url decode %2F", test_decode_slash},
        {"url decode plus", test_decode_plus},
        {"url decode %00", test_decode_nul_escape},
        {"url decode bad escapes", test_decode_bad_escapes},
        {"url decode overflow", test_decode_overflow},
        {"query a=1&b=2", test_query_basic},
        {"query empty pieces", test_query_empty_pieces},
        {"query plus and escapes", test_query_plus_and_escapes},
        {"query NUL in value", test_query_nul_in_value},
        {"query duplicates", test_query_duplicates},
        {"query too many params", test_query_too_many_params},
        {"query too long", test_query_too_long},
        {"query bad escape", test_query_bad_escape},
        {NULL, NULL},
    };
    test_add_suite("http", tests);
}
