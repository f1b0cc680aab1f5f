/*
 * token.h -- per-meter write tokens.
 *
 * A token is 64 hex characters of fresh randomness, shown once.  The store
 * keeps only a record "v1:<salt hex>:<SHA-256(salt || token) hex>", and a
 * presented token is checked against it in constant time.
 */
#ifndef JOI_TOKEN_H
#define JOI_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define JOI_TOKEN_LEN 64         /* hex characters */
#define JOI_TOKEN_RECORD_MAX 128 /* record text, NUL included */

/* SHA-256 of data[0..len) into out[32] (libcrypto's EVP digest; aborts with a message
 * only if libcrypto cannot allocate its context). */
void joi_sha256(const void *data, size_t len, uint8_t out[32]);

/* Makes a new token (token: JOI_TOKEN_LEN + 1 bytes) and its record
 * (record: JOI_TOKEN_RECORD_MAX bytes).  Returns 0, or -1 when the system has
 * no randomness to give. */
int joi_token_create(char *token, char *record);

/* 1 when presented matches record, else 0.  Takes the same time whatever the
 * presented token is, for tokens of the right length. */
int joi_token_verify(const char *record, const char *presented);

#endif
