/*
 * token.c -- write tokens and read keys, hashed with OpenSSL's libcrypto (see
 * joi/token.h).
 *
 * SHA-256 is libcrypto's (EVP), the comparison CRYPTO_memcmp, the randomness the
 * kernel's (getrandom).  The record format is unchanged from the records written
 * before libcrypto was used: "v1:<salt hex>:<hex SHA-256(salt hex || token)>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "joi/token.h"

void joi_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    /* EVP_Digest fails only when libcrypto cannot allocate a context: there is
     * no digest to return then, and a token check must not pass by accident. */
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        fprintf(stderr, "joi: libcrypto failed to compute SHA-256\n");
        abort();
    }
}

/* SHA-256 of a || b, without joining them first. */
static void sha256_two(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        fprintf(stderr, "joi: libcrypto failed to compute SHA-256\n");
        abort();
    }
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* hex(SHA-256(salt_hex || token)) */
static void digest(const char *salt_hex, const char *token, size_t token_len, char out[65])
{
    uint8_t d[32];
    sha256_two(salt_hex, strlen(salt_hex), token, token_len, d);
    hex(d, 32, out);
}

int joi_token_create(char *token, char *record)
{
    uint8_t raw[48];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -1;
    char salt[33], d[65];
    hex(raw, 32, token); /* 64 hex characters */
    hex(raw + 32, 16, salt);
    digest(salt, token, JOI_TOKEN_LEN, d);
    snprintf(record, JOI_TOKEN_RECORD_MAX, "v1:%s:%s", salt, d);
    return 0;
}

int joi_token_verify(const char *record, const char *presented)
{
    char salt[33];
    if (strncmp(record, "v1:", 3) != 0 || strlen(record) != 3 + 32 + 1 + 64 || record[35] != ':')
        return 0;
    memcpy(salt, record + 3, 32);
    salt[32] = '\0';
    size_t plen = strnlen(presented, 256);
    char d[65];
    digest(salt, presented, plen, d);
    int same = CRYPTO_memcmp(d, record + 36, 64) == 0;
    return same && plen == JOI_TOKEN_LEN;
}
