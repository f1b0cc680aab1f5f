/*
 * jsonw.c -- JSON written straight into a buffer (see joi/jsonw.h).
 */
#include <string.h>

#include "joi/jsonw.h"
#include "joi/num.h"

void joi_jsonw_raw(struct joi_buf *b, const char *s)
{
    joi_buf_append(b, s, strlen(s));
}

void joi_jsonw_number(struct joi_buf *b, double v)
{
    char text[JOI_NUM_MAX];
    joi_buf_append(b, text, joi_num_format(v, text));
}

void joi_jsonw_int(struct joi_buf *b, long long v)
{
    char text[24];
    joi_buf_append(b, text, joi_num_int(v, text));
}

void joi_jsonw_string(struct joi_buf *b, const char *s)
{
    joi_buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        const char *esc = ch == '"'    ? "\\\""
                          : ch == '\\' ? "\\\\"
                          : ch == '\b' ? "\\b"
                          : ch == '\f' ? "\\f"
                          : ch == '\n' ? "\\n"
                          : ch == '\r' ? "\\r"
                          : ch == '\t' ? "\\t"
                                       : NULL;
        if (esc)
            joi_jsonw_raw(b, esc);
        else if (ch < 0x20)
            joi_buf_printf(b, "\\u%04x", ch);
        else
            joi_buf_append(b, s, 1);
    }
    joi_buf_append(b, "\"", 1);
}

void joi_jsonw_reading(struct joi_buf *b, int comma, int64_t time, const char *reading, size_t len)
{
    /* One extend for the whole entry: this runs once per reading of a read. */
    char *p = joi_buf_extend(b, (size_t)comma + 8 + 20 + 11 + len + 1);
    char *start = p;
    if (comma)
        *p++ = ',';
    memcpy(p, "{\"time\":", 8);
    p += 8;
    p += joi_num_int((long long)time, p);
    memcpy(p, ",\"reading\":", 11);
    memcpy(p + 11, reading, len);
    p += 11 + len;
    *p++ = '}';
    b->len -= (size_t)comma + 8 + 20 + 11 + len + 1 - (size_t)(p - start);
    b->data[b->len] = '\0';
}
