/*
 * auth.c -- Authorization and Accept headers, the access mode (see joi/auth.h).
 */
#include <string.h>
#include <strings.h>

#include "joi/auth.h"

int joi_auth_mode_parse(const char *s, enum joi_auth_mode *mode)
{
    if (s == NULL || *s == '\0' || strcmp(s, "open") == 0)
        *mode = JOI_AUTH_OPEN;
    else if (strcmp(s, "keys") == 0)
        *mode = JOI_AUTH_KEYS;
    else
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Authorization                                                             */
/* ------------------------------------------------------------------------ */

static int is_token68(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes canonical padded base64 s[0..len) into out (room for cap bytes).
 * Returns the decoded length, or -1. */
static long b64_decode(const char *s, size_t len, char *out, size_t cap)
{
    if (len == 0 || len % 4 != 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0 || (v[k] = b64_value(s[i + k])) < 0) {
                return -1;
            }
        }
        unsigned bits =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        /* canonical: the bits that padding drops are zero */
        if ((pad == 1 && (bits & 0xff)) || (pad == 2 && (bits & 0xffff)))
            return -1;
        int bytes = 3 - pad;
        if (n + (size_t)bytes > cap)
            return -1;
        for (int k = 0; k < bytes; k++)
            out[n++] = (char)(bits >> (16 - 8 * k));
    }
    return (long)n;
}

enum joi_auth_scheme joi_auth_parse(const char *header, char *out)
{
    out[0] = '\0';
    if (header == NULL)
        return JOI_AUTH_ABSENT;
    size_t len = strlen(header);
    while (len > 0 && (header[len - 1] == ' ' || header[len - 1] == '\t'))
        len--;
    if (len == 0)
        return JOI_AUTH_ABSENT;
    size_t scheme = 0;
    while (scheme < len && header[scheme] != ' ')
        scheme++;
    size_t at = scheme;
    while (at < len && header[at] == ' ')
        at++;
    if (at == scheme || at == len)
        return JOI_AUTH_MALFORMED;
    const char *v = header + at;
    size_t vlen = len - at;
    if (scheme == 6 && strncasecmp(header, "Bearer", 6) == 0) {
        if (vlen > JOI_AUTH_CREDENTIAL_MAX)
            return JOI_AUTH_MALFORMED;
        for (size_t i = 0; i < vlen; i++)
            if (!is_token68(v[i]))
                return JOI_AUTH_MALFORMED;
        memcpy(out, v, vlen);
        out[vlen] = '\0';
        return JOI_AUTH_BEARER;
    }
    if (scheme == 5 && strncasecmp(header, "Basic", 5) == 0) {
        char raw[JOI_AUTH_CREDENTIAL_MAX + 2];
        long n = b64_decode(v, vlen, raw, sizeof raw);
        /* "user:" with an empty password: the colon is the last byte */
        if (n < 2 || raw[n - 1] != ':')
            return JOI_AUTH_MALFORMED;
        for (long i = 0; i < n - 1; i++)
            if (raw[i] <= ' ' || raw[i] > '~' || raw[i] == ':')
                return JOI_AUTH_MALFORMED;
        memcpy(out, raw, (size_t)n - 1);
        out[n - 1] = '\0';
        return JOI_AUTH_BASIC;
    }
    return JOI_AUTH_MALFORMED;
}

/* ------------------------------------------------------------------------ */
/* Accept                                                                    */
/* ------------------------------------------------------------------------ */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses a qvalue (RFC 9110: "0" ["." 0-3 digits] or "1" ["." 0-3 zeros]) into
 * thousandths.  Returns -1 when it does not parse. */
static int parse_q(const char *s, size_t len)
{
    if (len == 0 || (s[0] != '0' && s[0] != '1') || len > 5 || (len > 1 && s[1] != '.'))
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* How specifically range type/sub (lengths tl, sl) matches want_type/want_sub:
 * 3 exact, 2 type/star, 1 star/star, 0 not at all. */
static int specificity(const char *type, size_t tl, const char *sub, size_t sl,
                       const char *want_type, const char *want_sub)
{
    if (tl == 1 && type[0] == '*')
        return sl == 1 && sub[0] == '*' ? 1 : 0;
    if (tl != strlen(want_type) || strncasecmp(type, want_type, tl) != 0)
        return 0;
    if (sl == 1 && sub[0] == '*')
        return 2;
    return sl == strlen(want_sub) && strncasecmp(sub, want_sub, sl) == 0 ? 3 : 0;
}

static int is_tchar(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* One element s[0..len) of the list: the specificity and q of its match with each
 * of the two types.  Returns 0, or -1 when the element does not parse. */
static int accept_element(const char *s, size_t len, int spec[2], int q_out[2])
{
    size_t i = 0;
    while (i < len && is_tchar(s[i]))
        i++;
    size_t tl = i;
    if (tl == 0 || i >= len || s[i] != '/')
        return -1;
    const char *sub = s + ++i;
    while (i < len && is_tchar(s[i]))
        i++;
    size_t sl = (size_t)(s + i - sub);
    if (sl == 0 || (s[0] == '*' && tl == 1 && !(sl == 1 && sub[0] == '*')))
        return -1;
    int q = 1000;
    while (i < len) { /* parameters: OWS ";" OWS name "=" value */
        while (i < len && is_ows(s[i]))
            i++;
        if (i == len)
            break;
        if (s[i++] != ';')
            return -1;
        while (i < len && is_ows(s[i]))
            i++;
        size_t name = i;
        while (i < len && is_tchar(s[i]))
            i++;
        size_t nl = i - name;
        if (nl == 0 || i >= len || s[i++] != '=')
            return -1;
        size_t value = i;
        if (i < len && s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++)
                ;
            if (i++ >= len)
                return -1;
        } else {
            while (i < len && is_tchar(s[i]))
                i++;
        }
        if (nl == 1 && (s[name] == 'q' || s[name] == 'Q') &&
            (q = parse_q(s + value, i - value)) < 0)
            return -1;
    }
    spec[0] = specificity(s, tl, sub, sl, "application", "json");
    spec[1] = specificity(s, tl, sub, sl, "text", "csv");
    q_out[0] = q_out[1] = q;
    return 0;
}

enum joi_accept joi_accept_choose(const char *accept)
{
    if (accept == NULL)
        return JOI_ACCEPT_JSON;
    int best_spec[2] = {0, 0}, best_q[2] = {0, 0}, any = 0;
    const char *p = accept;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (len > 0 && is_ows(*s))
            s++, len--;
        while (len > 0 && is_ows(s[len - 1]))
            len--;
        int spec[2], q[2];
        if (len > 0) {
            any = 1;
            if (accept_element(s, len, spec, q) == 0)
                for (int k = 0; k < 2; k++)
                    if (spec[k] > best_spec[k]) {
                        best_spec[k] = spec[k];
                        best_q[k] = q[k];
                    }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (!any) /* an empty Accept: as if there were none */
        return JOI_ACCEPT_JSON;
    if (best_q[0] == 0 && best_q[1] == 0)
        return JOI_ACCEPT_NONE;
    return best_q[1] > best_q[0] ? JOI_ACCEPT_CSV : JOI_ACCEPT_JSON;
}
