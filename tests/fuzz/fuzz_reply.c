/*
 * fuzz_reply.c -- libFuzzer target for the Redis store's reply reader: hiredis's
 * reader with the store's reply functions (joi_store_redis_reader_new), fed any
 * bytes as a server's answers.
 *
 * Input: byte 0 picks how top-level arrays are read (as hiredis reply objects, as
 * a member list parsed into readings, or into the read endpoint's JSON entries),
 * byte 1 where the bytes are cut in two, the rest is what the server sent.  Every
 * reply is taken until there is none or the reader reports an error.  Checks: no
 * crash, leak or undefined behaviour; every reply object is whole (each element
 * there, of a known type); every parsed reading is one a member can hold; and the
 * bytes fed in two pieces give exactly the replies, outputs and error of the same
 * bytes fed at once -- a reply that arrives in parts is read as the same reply.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "joi/buf.h"
#include "joi/jsonw.h"
#include "joi/readings.h"
#include "joi/store.h"

/* Appends a description of the reply to out, checking that it is whole. */
static void describe(struct joi_buf *out, const redisReply *r, int depth)
{
    if (r == NULL || depth > 2000)
        abort();
    joi_buf_printf(out, "(%d", r->type);
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        joi_buf_printf(out, " %lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        break;
    case REDIS_REPLY_ARRAY:
#ifdef REDIS_REPLY_MAP
    case REDIS_REPLY_MAP:
    case REDIS_REPLY_SET:
    case REDIS_REPLY_PUSH:
    case REDIS_REPLY_ATTR:
#endif
        if (r->elements > 0 && r->element == NULL)
            abort();
        for (size_t i = 0; i < r->elements; i++)
            describe(out, r->element[i], depth + 1);
        break;
#ifdef REDIS_REPLY_BOOL
    case REDIS_REPLY_BOOL:
        joi_buf_printf(out, " %lld", r->integer);
        break;
    case REDIS_REPLY_DOUBLE: /* keeps its text, like a string */
    case REDIS_REPLY_BIGNUM:
    case REDIS_REPLY_VERB:
#endif
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        if (r->str == NULL || r->str[r->len] != '\0')
            abort();
        joi_buf_printf(out, " %zu:", r->len);
        joi_buf_append(out, r->str, r->len);
        break;
    default:
        abort(); /* a type hiredis does not build */
    }
    joi_buf_append(out, ")", 1);
}

/* The read endpoint's entries, as its handler writes them from what the store hands over. */
static void json_entry(void *arg, int64_t time, const char *text, size_t len)
{
    struct joi_buf *json = arg;
    joi_jsonw_reading(json, json->len > 0, time, text, len);
}

/* Feeds data in pieces (cut at `cut`, or whole), taking every reply after each
 * piece; describes the replies, then the outputs, into out. */
static void read_all(int mode, const char *data, size_t size, size_t cut, struct joi_buf *out)
{
    struct joi_readings readings;
    struct joi_buf json;
    joi_readings_init(&readings);
    joi_buf_init(&json);
    redisReader *reader = joi_store_redis_reader_new(mode == 1 ? &readings : NULL,
                                                     mode == 2 ? json_entry : NULL, &json);
    if (reader == NULL)
        abort();
    size_t pieces[2][2] = {{0, cut}, {cut, size}};
    int failed = 0;
    for (int p = 0; p < 2 && !failed; p++) {
        if (pieces[p][1] > pieces[p][0] &&
            redisReaderFeed(reader, data + pieces[p][0], pieces[p][1] - pieces[p][0]) != REDIS_OK)
            abort();
        for (int n = 0; n < 100000; n++) {
            void *reply = NULL;
            if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
                if (reader->err == 0)
                    abort();
                joi_buf_printf(out, "error %d %s;", reader->err, reader->errstr);
                failed = 1;
                break;
            }
            if (reply == NULL)
                break;
            describe(out, reply, 0);
            reader->fn->freeObject(reply);
        }
    }
    for (size_t i = 0; i < readings.n; i++) {
        const struct joi_reading *r = &readings.items[i];
        if (r->time < 0 || r->time > 999999999999LL || !isfinite(r->kw))
            abort();
        joi_buf_printf(out, "%lld:%a,", (long long)r->time, r->kw);
    }
    joi_buf_append(out, "|", 1);
    if (json.len > 0)
        joi_buf_append(out, json.data, json.len);
    joi_store_redis_reader_free(reader);
    joi_buf_free(&json);
    joi_readings_free(&readings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int mode = data[0] % 3;
    const char *bytes = (const char *)data + 2;
    size_t n = size - 2;
    size_t cut = n * data[1] / 255;
    struct joi_buf whole, parts;
    joi_buf_init(&whole);
    joi_buf_init(&parts);
    read_all(mode, bytes, n, n, &whole);
    read_all(mode, bytes, n, cut, &parts);
    if (whole.len != parts.len || (whole.len > 0 && memcmp(whole.data, parts.data, whole.len) != 0))
        abort();
    joi_buf_free(&whole);
    joi_buf_free(&parts);
    return 0;
}
