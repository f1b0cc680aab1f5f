/*
 * json.c -- strict parsing and API-formatted output with json-c (see joi/json.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "joi/json.h"
#include "joi/num.h"
#include "joi/timeparse.h"

struct json_object *joi_json_parse(const char *buf, size_t len, struct joi_error *err)
{
    if (len > INT32_MAX - 1) {
        joi_error_set(err, 413, "request body is too large");
        return NULL;
    }
    /* json-c wants to see the end of a trailing number: hand it a NUL-terminated copy
     * and the length including the NUL.  An embedded NUL ends the parse early, which
     * the offset check below reports. */
    char *copy = joi_xstrndup(buf, len);
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
    /* Only white space may follow the document. */
    for (size_t i = off; i < len; i++) {
        char c = copy[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            joi_error_set(err, 400, "malformed JSON at byte %zu: unexpected data after the document",
                          i);
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
