/*
 * handle_readings.c -- POST /readings/store and GET /readings/read/{id}
 * (see joi/handler.h).
 *
 * A store is checked against the meter's write token inside the same atomic
 * step that writes the batch (the store's readings_put); a read writes the
 * stored text of each reading straight into the answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "joi/auth.h"
#include "joi/handler.h"
#include "joi/jsonw.h"
#include "joi/num.h"
#include "joi/pricing.h"
#include "joi/readings.h"
#include "joi/store.h"
#include "joi/token.h"

/* What the store is told the token record is before the first attempt: "" (an
 * open meter, the usual guess in open mode), or in keys mode a record that no
 * stored one equals, so that the store writes nothing and answers with the real
 * record, which must then be a token the request matches. */
#define RECORD_UNKNOWN "?"

/* The one 401 of a store in keys mode, whatever the meter and the credential. */
static int write_denied(struct joi_error *err)
{
    return joi_error_set(err, 401,
                         "storing readings for this meter needs its write token: "
                         "Authorization: Bearer TOKEN");
}

/* Checks the request against a meter's write-token record ("" for a meter
 * without one: open in open mode, closed in keys mode). */
static int authorize(const struct joi_ctx *c, const char *meter, const char *record,
                     struct joi_error *err)
{
    if (c->app->auth == JOI_AUTH_KEYS) {
        char cred[JOI_AUTH_CREDENTIAL_MAX + 1];
        int ok = joi_auth_parse(c->req->authorization, cred) == JOI_AUTH_BEARER &&
                 record[0] != '\0' && joi_token_verify(record, cred);
        return ok ? 0 : write_denied(err);
    }
    if (record[0] == '\0')
        return 0; /* no token issued: open meter */
    const char *auth = c->req->authorization;
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return joi_error_set(err, 401, "meter %s needs Authorization: Bearer <token>", meter);
    if (!joi_token_verify(record, auth + 7))
        return joi_error_set(err, 401, "the token is not valid for meter %s", meter);
    return 0;
}

/* The answer to a store: the batch as sent, times as epoch seconds. */
static void put_batch(struct joi_buf *b, const struct joi_batch *batch)
{
    joi_buf_reset(b);
    joi_jsonw_raw(b, "{\"smartMeterId\":");
    joi_jsonw_string(b, batch->meter);
    joi_jsonw_raw(b, ",\"electricityReadings\":[");
    for (size_t i = 0; i < batch->readings.n; i++) {
        char text[JOI_NUM_MAX];
        size_t len = joi_num_format(batch->readings.items[i].kw, text);
        joi_jsonw_reading(b, i > 0, batch->readings.items[i].time, text, len);
    }
    joi_jsonw_raw(b, "]}");
}

int joi_handle_store(struct joi_ctx *c, struct joi_error *err)
{
    struct joi_batch batch;
    if (joi_batch_parse(c->req->body, c->req->body_len, &batch, err) != 0)
        return -1;
    int rc = -1;
    snprintf(c->resp->meter, sizeof c->resp->meter, "%s", batch.meter);
    struct joi_store *s = c->app->store;
    /* The store writes only while the meter's token record is the one the request
     * was checked against; most meters have none, so that is the first guess.  A
     * record that keeps changing under the request (a token issued and revoked
     * over and over) ends in a 503 rather than a loop. */
    char record[JOI_TOKEN_RECORD_MAX] = "", current[JOI_TOKEN_RECORD_MAX];
    if (c->app->auth == JOI_AUTH_KEYS) {
        /* without a Bearer credential the answer is known without asking the store */
        char cred[JOI_AUTH_CREDENTIAL_MAX + 1];
        if (joi_auth_parse(c->req->authorization, cred) != JOI_AUTH_BEARER) {
            write_denied(err);
            goto out;
        }
        memcpy(record, RECORD_UNKNOWN, sizeof RECORD_UNKNOWN);
    }
    for (int attempt = 0;; attempt++) {
        int put = s->ops->readings_put(s, batch.meter, batch.readings.items, batch.readings.n,
                                       record, current, sizeof current, err);
        if (put < 0)
            goto out;
        if (put == 0)
            break;
        if (attempt == 3) {
            joi_error_set(err, 503, "the token of meter %s is changing; try again", batch.meter);
            goto out;
        }
        memcpy(record, current, sizeof record);
        if (authorize(c, batch.meter, record, err) != 0)
            goto out;
    }
    put_batch(&c->resp->body, &batch);
    joi_response_written(c->resp);
    c->resp->stored = batch.readings.n;
    rc = 0;
out:
    joi_batch_free(&batch);
    return rc;
}

/* A read answer in one of its two forms, written as the store hands the readings
 * over (readings_each): the same readings, the same bounds and checks, only the
 * framing differs. */
struct read_answer {
    struct joi_buf *body;
    size_t n;
};

static void json_entry(void *arg, int64_t time, const char *text, size_t len)
{
    struct read_answer *a = arg;
    joi_jsonw_reading(a->body, a->n++ > 0, time, text, len);
}

/* RFC 4180: a record per line, CRLF; a time and a number need no quoting. */
static void csv_entry(void *arg, int64_t time, const char *text, size_t len)
{
    struct read_answer *a = arg;
    char t[24];
    size_t tl = joi_num_int((long long)time, t);
    joi_buf_append(a->body, t, tl);
    joi_buf_append(a->body, ",", 1);
    joi_buf_append(a->body, text, len);
    joi_buf_append(a->body, "\r\n", 2);
    a->n++;
}

struct read_format {
    const char *head, *tail;
    joi_store_reading_fn entry;
    const char *type;
};

static const struct read_format read_json = {"[", "]", json_entry, JOI_TYPE_JSON};
static const struct read_format read_csv = {"time,reading\r\n", "", csv_entry, JOI_TYPE_CSV};

int joi_handle_read(struct joi_ctx *c, struct joi_error *err)
{
    c->resp->vary = "Accept";
    enum joi_accept want = joi_accept_choose(c->req->accept);
    if (want == JOI_ACCEPT_NONE)
        return joi_error_set(err, 406,
                             "readings are answered as application/json or text/csv; the "
                             "Accept header allows neither");
    const struct read_format *fmt = want == JOI_ACCEPT_CSV ? &read_csv : &read_json;
    int64_t from, to;
    int ranged;
    size_t limit = 0;
    if (joi_params_range(&c->params, &from, &to, &ranged, err) != 0 ||
        joi_params_count(&c->params, "limit", &limit, err) < 0)
        return -1;
    /* limit=0 asks for nothing; the meter must still exist. */
    struct joi_store *s = c->app->store;
    struct joi_buf *body = &c->resp->body;
    int fetch = !(limit == 0 && joi_query_get(&c->params.q, "limit", NULL) != NULL);
    size_t n = 0;
    joi_buf_reset(body);
    joi_buf_puts(body, fmt->head);
    if (fetch) {
        struct read_answer a = {body, 0};
        if (s->ops->readings_each(s, c->meter, from, to, joi_pricing_store_limit(limit), fmt->entry,
                                  &a, &n, err) != 0 ||
            joi_pricing_readings_check(n, ranged, "answered",
                                       "narrow the range with from and to, or give a limit", err)) {
            joi_buf_reset(body);
            return -1;
        }
    }
    joi_buf_puts(body, fmt->tail);
    if (n == 0) {
        long long count = 0;
        if (s->ops->readings_count(s, c->meter, &count, err) != 0)
            return -1;
        if (count == 0) {
            joi_buf_reset(body);
            return joi_error_no_readings(err, c->meter, 0);
        }
    }
    joi_response_written(c->resp);
    c->resp->content_type = fmt->type;
    if (fmt == &read_csv)
        snprintf(c->resp->disposition, sizeof c->resp->disposition,
                 "attachment; filename=\"%s.csv\"", c->meter);
    return 0;
}
