/*
 * auth.h -- credentials and content negotiation in request headers, pure:
 * the Authorization header (Bearer, Basic), the Accept header (JSON or CSV),
 * and the service's access mode (JOI_AUTH).  No I/O; unit-tested on literal
 * headers (tests/unit/test_auth.c).
 *
 * What a credential opens is decided elsewhere (router.c for reads,
 * handle_readings.c for writes); this module only says what a header holds.
 */
#ifndef JOI_AUTH_H
#define JOI_AUTH_H

#include <stddef.h>

/* The access mode of the service (JOI_AUTH in the workers' environment). */
enum joi_auth_mode {
    JOI_AUTH_OPEN, /* a meter without a credential is open (the original API) */
    JOI_AUTH_KEYS  /* every meter needs a write token to store and a read key to read */
};

/* Parses JOI_AUTH: NULL or "" or "open" is JOI_AUTH_OPEN, "keys" JOI_AUTH_KEYS.
 * Returns 0, or -1 for anything else (*mode untouched). */
int joi_auth_mode_parse(const char *s, enum joi_auth_mode *mode);

/* What an Authorization header holds. */
enum joi_auth_scheme {
    JOI_AUTH_ABSENT,   /* no header, or an empty one */
    JOI_AUTH_BEARER,   /* "Bearer CREDENTIAL" (RFC 6750) */
    JOI_AUTH_BASIC,    /* "Basic base64(CREDENTIAL:)": the credential as user name, no password */
    JOI_AUTH_MALFORMED /* anything else */
};

/* The longest credential joi_auth_parse hands back, NUL excluded. */
#define JOI_AUTH_CREDENTIAL_MAX 128

/* Parses header (NULL: absent).  The scheme is case-insensitive and followed by
 * one or more spaces; trailing spaces and tabs are ignored.  For BEARER and BASIC
 * the credential is copied into out (JOI_AUTH_CREDENTIAL_MAX + 1 bytes), 1 to
 * JOI_AUTH_CREDENTIAL_MAX characters of A-Z a-z 0-9 - . _ ~ + / = for Bearer, of
 * visible ASCII but ':' for a Basic user name.  A Basic value that is not
 * canonical base64 (RFC 4648, padded), has no ':' or a non-empty password is
 * MALFORMED, as is an unknown scheme; out is then "". */
enum joi_auth_scheme joi_auth_parse(const char *header, char *out);

/* What an answer with a JSON and a CSV form is sent as. */
enum joi_accept {
    JOI_ACCEPT_JSON, /* application/json: also for no Accept, an empty one, or a tie */
    JOI_ACCEPT_CSV,  /* text/csv */
    JOI_ACCEPT_NONE  /* the header allows neither: 406 */
};

/* Chooses from an Accept header (RFC 9110 12.5.1; NULL: absent).  Each of
 * application/json and text/csv gets the q of the most specific media range that
 * matches it (type/subtype, then type/star, then star/star; parameters other than
 * q are ignored); the higher q > 0 wins, JSON on a tie.  A media range or q that
 * does not parse matches nothing. */
enum joi_accept joi_accept_choose(const char *accept);

#endif
