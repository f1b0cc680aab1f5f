/*
 * response.c -- the answers a handler gives (see joi/app.h and joi/handler.h).
 *
 * joi_response_problem() is the one place where an error becomes an HTTP answer.
 */
#include <stdio.h>

#include "joi/handler.h"
#include "joi/json.h"

#define TYPE_JSON JOI_TYPE_JSON
#define TYPE_PROBLEM "application/problem+json"

void joi_response_init(struct joi_response *resp)
{
    resp->status = 200;
    resp->content_type = TYPE_JSON;
    resp->allow[0] = '\0';
    resp->retry_after = 0;
    resp->www_authenticate = NULL;
    resp->vary = NULL;
    resp->disposition[0] = '\0';
    resp->meter[0] = '\0';
    resp->cause[0] = '\0';
    resp->stored = 0;
    joi_buf_init(&resp->body);
}

void joi_response_free(struct joi_response *resp)
{
    joi_buf_free(&resp->body);
}

void joi_response_problem(struct joi_response *resp, const struct joi_error *err,
                          const char *parameter)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(joi_error_title(err->status)));
    json_object_object_add(o, "status", json_object_new_int(err->status));
    json_object_object_add(o, "detail", json_object_new_string(err->detail));
    if (err->has_pointer)
        json_object_object_add(o, "pointer", json_object_new_string(err->pointer));
    if (parameter)
        json_object_object_add(o, "parameter", json_object_new_string(parameter));
    resp->status = err->status;
    resp->content_type = TYPE_PROBLEM;
    snprintf(resp->cause, sizeof resp->cause, "%s", err->detail);
    /* Every 503 (the store, no plans loaded, or one lighttpd decided and hands to
     * the error handler) and every 429 (too much in hand from one address) tells
     * the client when to try again. */
    resp->retry_after = err->status == 503   ? JOI_RETRY_AFTER_SECONDS
                        : err->status == 429 ? JOI_RETRY_AFTER_BUSY_SECONDS
                                             : 0;
    joi_buf_reset(&resp->body);
    joi_json_append(&resp->body, o);
    json_object_put(o);
}

void joi_response_written(struct joi_response *resp)
{
    resp->status = 200;
    resp->content_type = TYPE_JSON;
}

void joi_response_json(struct joi_response *resp, struct json_object *o)
{
    joi_buf_reset(&resp->body);
    joi_json_append(&resp->body, o);
    json_object_put(o);
    joi_response_written(resp);
}

int joi_error_no_readings(struct joi_error *err, const char *meter, int ranged)
{
    if (ranged)
        return joi_error_set(err, 404, "meter %s has no readings in the requested range", meter);
    return joi_error_set(err, 404, "meter %s has no readings", meter);
}
