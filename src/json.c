/*
 * json.c -- strict parsing and API-formatted output with json-c (see joi/json.h).
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "joi/json.h"
#include "joi/num.h"
#include "joi/timeparse.h"

/* json-c's strict mode still accepts a few things RFC 8259 does not: numbers such as
 * "1." and "00", NaN and Infinity, and raw control characters inside strings.  Returns the offset
 * of the first of those in s[0..len) with *what naming it, or len when there is none.  Only called
 * on a document json-c has parsed, so everything else is already valid. */
static size_t lexical_fault(const char *s, size_t len, const char **what)
{
#define DIGIT(i) ((i) < len && s[i] >= '0' && s[i] <= '9')
    size_t i = 0;
    while (i < len) {
        if (s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if ((unsigned char)s[i] < 0x20) {
                    *what = "control character in a string";
                    return i;
                }
                if (s[i] == '\\')
                    i++;
            }
            i++;
        } else if (s[i] == '-' || DIGIT(i)) {
            /* A number must be followed by something that cannot continue one:
             * "01", "1." and "1e" are where json-c is lenient. */
            size_t n = joi_num_json_span(s + i, len - i, NULL);
            size_t end = i + n;
            if (n == 0 || DIGIT(end) ||
                (end < len && (s[end] == '.' || s[end] == 'e' || s[end] == 'E'))) {
                *what = "invalid number";
                return i;
            }
            i = end;
        } else if (s[i] == 'N' || s[i] == 'I') {
            *what = "NaN and Infinity are not JSON";
            return i;
        } else {
            i++;
        }
    }
    return len;
#undef DIGIT
}

/* The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or len.  json-c's own
 * check only looks at the shape of each sequence. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            return i;
        }
        if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return i;
        i += n + 1;
    }
    return len;
}

struct json_object *joi_json_parse(const char *buf, size_t len, struct joi_error *err)
{
    if (len > INT32_MAX - 1) {
        joi_error_set(err, 413, "request body is too large");
        return NULL;
    }
    size_t bad_utf8 = utf8_invalid_at((const unsigned char *)buf, len);
    if (bad_utf8 < len) {
        joi_error_set(err, 400, "malformed JSON at byte %zu: invalid UTF-8", bad_utf8);
        return NULL;
    }
    /* json-c wants to see the end of a trailing number: hand it a NUL-terminated copy
     * and the length including the NUL.  An embedded NUL ends the parse early, which
     * the offset check below reports. */
    char *copy = joi_mem_strndup(buf, len);
    struct json_tokener *tok = json_tokener_new_ex(JOI_JSON_DEPTH);
    if (tok == NULL) {
        free(copy);
        joi_error_set(err, 500, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *obj = json_tokener_parse_ex(tok, copy, (int)len + 1);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    if (obj == NULL || jerr != json_tokener_success) {
        if (jerr == json_tokener_error_depth)
            joi_error_set(err, 400, "malformed JSON: nested more than %d levels deep",
                          JOI_JSON_DEPTH);
        else if (jerr == json_tokener_success)
            joi_error_set(err, 400, "malformed JSON: the document is null");
        else if (jerr == json_tokener_continue)
            joi_error_set(err, 400, "malformed JSON: %s",
                          len == 0 ? "the body is empty" : "unexpected end of input");
        else
            joi_error_set(err, 400, "malformed JSON at byte %zu: %s", off,
                          json_tokener_error_desc(jerr));
        json_object_put(obj);
        obj = NULL;
        goto out;
    }
    const char *what = NULL;
    size_t fault = lexical_fault(copy, off, &what);
    if (fault < off) {
        joi_error_set(err, 400, "malformed JSON at byte %zu: %s", fault, what);
        json_object_put(obj);
        obj = NULL;
        goto out;
    }
    /* Only white space may follow the document. */
    for (size_t i = off; i < len; i++) {
        char c = copy[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            joi_error_set(err, 400,
                          "malformed JSON at byte %zu: unexpected data after the document", i);
            json_object_put(obj);
            obj = NULL;
            goto out;
        }
    }
out:
    json_tokener_free(tok);
    free(copy);
    return obj;
}

struct json_object *joi_json_number(double v)
{
    char text[JOI_NUM_MAX];
    joi_num_format(v, text);
    return json_object_new_double_s(v, text);
}

void joi_json_append(struct joi_buf *out, struct json_object *obj)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    joi_buf_append(out, s, n);
}

int joi_json_time(struct json_object *obj, int64_t *out)
{
    if (json_object_is_type(obj, json_type_int)) {
        /* json-c clamps out-of-range integers to INT64 limits: those are out of range anyway. */
        int64_t v = json_object_get_int64(obj);
        if (v < 0 || v > JOI_TIME_MAX)
            return -1;
        *out = v;
        return 0;
    }
    if (json_object_is_type(obj, json_type_string))
        return joi_time_parse_rfc3339(json_object_get_string(obj),
                                      (size_t)json_object_get_string_len(obj), out);
    return -1;
}
