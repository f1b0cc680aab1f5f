/*
 * json.h -- the json-c settings every module shares.
 *
 * Input is parsed strictly (RFC 8259, UTF-8 validated, depth-limited, whole
 * buffer consumed).  Output uses json-c with the API's number format.
 */
#ifndef JOI_JSON_H
#define JOI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "joi/buf.h"
#include "joi/error.h"
#include "joi/readings.h"

#define JOI_JSON_DEPTH 16

/* Parses buf[0..len) as one strict JSON document.  Returns a new object (the
 * caller owns one reference) or NULL with err set to 400.  A `null` document
 * is reported as an error too. */
struct json_object *joi_json_parse(const char *buf, size_t len, struct joi_error *err);

/* A json-c double that serialises in the shortest round-trip form.  v must be finite. */
struct json_object *joi_json_number(double v);

/* Appends obj serialised without spaces or slash escaping to out. */
void joi_json_append(struct joi_buf *out, struct json_object *obj);

/* Reads obj as a time (integer epoch seconds or RFC 3339 string).  Returns 0
 * and sets *out, or -1 (the caller reports the field). */
int joi_json_time(struct json_object *obj, int64_t *out);

#endif
