/*
 * test_token.c -- SHA-256 (libcrypto's) and per-meter write tokens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/token.h"
#include "suites.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check_sha(const void *data, size_t len, const char *want)
{
    uint8_t d[32];
    char got[65];
    joi_sha256(data, len, d);
    hex(d, 32, got);
    CU_ASSERT_STRING_EQUAL(got, want);
}

static void check_sha_of_a(size_t n, const char *want)
{
    char *s = malloc(n ? n : 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, 'a', n);
    check_sha(s, n, want);
    free(s);
}

static void test_sha256_vectors(void)
{
    check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
              "klmnopqrlmnopqrsmnopqrstnopqrstu",
              112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    check_sha_of_a(1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_padding_edges(void)
{
    /* Lengths around the 55/56/64-byte padding edges. */
    check_sha_of_a(55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_sha_of_a(56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    check_sha_of_a(63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
    check_sha_of_a(64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    check_sha_of_a(119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
}

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void test_token_create_shape(void)
{
    char token[JOI_TOKEN_LEN + 1], record[JOI_TOKEN_RECORD_MAX];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(token, record), 0);
    CU_ASSERT_EQUAL(strlen(token), 64);
    CU_ASSERT(all_hex(token, 64));
    /* "v1:" + 32 hex salt + ":" + 64 hex digest */
    CU_ASSERT_EQUAL_FATAL(strlen(record), 100);
    CU_ASSERT_EQUAL(strncmp(record, "v1:", 3), 0);
    CU_ASSERT(all_hex(record + 3, 32));
    CU_ASSERT_EQUAL(record[35], ':');
    CU_ASSERT(all_hex(record + 36, 64));
    /* The record keeps SHA-256(salt hex || token), never the token. */
    CU_ASSERT_PTR_NULL(strstr(record, token));
    char input[32 + 64 + 1];
    memcpy(input, record + 3, 32);
    memcpy(input + 32, token, 64);
    uint8_t d[32];
    char dh[65];
    joi_sha256(input, 96, d);
    hex(d, 32, dh);
    CU_ASSERT_STRING_EQUAL(record + 36, dh);
    /* Fresh each time. */
    char token2[JOI_TOKEN_LEN + 1], record2[JOI_TOKEN_RECORD_MAX];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(token2, record2), 0);
    CU_ASSERT_STRING_NOT_EQUAL(token, token2);
    CU_ASSERT_NSTRING_NOT_EQUAL(record + 3, record2 + 3, 32);
}

static void test_token_verify(void)
{
    char token[JOI_TOKEN_LEN + 1], record[JOI_TOKEN_RECORD_MAX];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(token, record), 0);
    CU_ASSERT_EQUAL(joi_token_verify(record, token), 1);

    char changed[JOI_TOKEN_LEN + 1];
    memcpy(changed, token, sizeof changed);
    changed[17] = changed[17] == '0' ? '1' : '0';
    CU_ASSERT_EQUAL(joi_token_verify(record, changed), 0);
    memcpy(changed, token, sizeof changed);
    changed[63] = changed[63] == 'f' ? 'e' : 'f';
    CU_ASSERT_EQUAL(joi_token_verify(record, changed), 0);

    char shorter[JOI_TOKEN_LEN + 1];
    memcpy(shorter, token, sizeof shorter);
    shorter[63] = '\0';
    CU_ASSERT_EQUAL(joi_token_verify(record, shorter), 0);
    char longer[JOI_TOKEN_LEN + 2];
    memcpy(longer, token, JOI_TOKEN_LEN);
    longer[64] = '0';
    longer[65] = '\0';
    CU_ASSERT_EQUAL(joi_token_verify(record, longer), 0);
    CU_ASSERT_EQUAL(joi_token_verify(record, ""), 0);

    /* Another meter's token does not open this one. */
    char other[JOI_TOKEN_LEN + 1], other_record[JOI_TOKEN_RECORD_MAX];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(other, other_record), 0);
    CU_ASSERT_EQUAL(joi_token_verify(record, other), 0);
    CU_ASSERT_EQUAL(joi_token_verify(other_record, other), 1);
}

static void test_token_verify_bad_records(void)
{
    char token[JOI_TOKEN_LEN + 1], record[JOI_TOKEN_RECORD_MAX];
    CU_ASSERT_EQUAL_FATAL(joi_token_create(token, record), 0);
    CU_ASSERT_EQUAL(joi_token_verify("", token), 0);
    char bad[JOI_TOKEN_RECORD_MAX];
    memcpy(bad, record, sizeof bad);
    bad[1] = '2'; /* an unknown version */
    CU_ASSERT_EQUAL(joi_token_verify(bad, token), 0);
    memcpy(bad, record, sizeof bad);
    bad[99] = '\0'; /* truncated */
    CU_ASSERT_EQUAL(joi_token_verify(bad, token), 0);
    memcpy(bad, record, sizeof bad);
    bad[35] = '-';
    CU_ASSERT_EQUAL(joi_token_verify(bad, token), 0);
    memcpy(bad, record, sizeof bad);
    bad[50] = bad[50] == 'a' ? 'b' : 'a'; /* digest changed */
    CU_ASSERT_EQUAL(joi_token_verify(bad, token), 0);
}

/* Records written before tokens were hashed with libcrypto (by the hand-written
 * SHA-256 this project had, with joi_token_create): they keep verifying, with
 * their tokens and only with them. */
static void test_token_verify_old_records(void)
{
    static const char *const token[] = {
        "f624e46772b272bc8be94dfa668819c2d681926a58e93af884d9713eab1e0137",
        "cabeea963651c2d624eb145037f900cf873f4dd5ebdccbf062a27db4b4912561",
    };
    static const char *const record[] = {
        "v1:85095d95ecbebb567bb2e5b09b86c69a:"
        "a33702e72e8f536b07010454ebd0aaf3cbe4282a9316923d47c5488af81d7929",
        "v1:541d3ab1682f0d7f519c8b82e2565f46:"
        "f1b1dbef60360499c2809c517862a1a016de513edf16190a451072efc4e8b5ef",
    };
    CU_ASSERT_EQUAL(joi_token_verify(record[0], token[0]), 1);
    CU_ASSERT_EQUAL(joi_token_verify(record[1], token[1]), 1);
    CU_ASSERT_EQUAL(joi_token_verify(record[0], token[1]), 0);
    CU_ASSERT_EQUAL(joi_token_verify(record[1], token[0]), 0);
}

void add_token_suite(void)
{
    static const struct test_case tests[] = {
        {"SHA-256 known vectors", test_sha256_vectors},
        {"SHA-256 padding edges", test_sha256_padding_edges},
        {"token and record shape", test_token_create_shape},
        {"token verify", test_token_verify},
        {"token verify with bad records", test_token_verify_bad_records},
        {"records made before libcrypto still verify", test_token_verify_old_records},
        {NULL, NULL},
    };
    test_add_suite("token", tests);
}
