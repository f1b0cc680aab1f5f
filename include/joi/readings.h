/*
 * readings.h -- meter readings and the batch a meter sends.
 *
 * A reading is power in kW at an instant (epoch seconds).  joi_batch_parse()
 * validates a POST /readings/store body completely before anything is
 * stored: on failure nothing of the batch is kept and err names the field.
 */
#ifndef JOI_READINGS_H
#define JOI_READINGS_H

#include <stddef.h>
#include <stdint.h>

#include "joi/error.h"
#include "joi/meter.h"

#define JOI_BATCH_MAX 10000 /* readings in one POST */
/* Readings one request reads, answers, prices or buckets: a leap year of minute
 * readings is 527,040; at the bound a read answer is about 37 MB. */
#define JOI_READINGS_MAX 1000000
#define JOI_READING_MAX 1000000 /* kW */

struct joi_reading {
    int64_t time; /* epoch seconds */
    double kw;    /* finite, 0 <= kw <= JOI_READING_MAX */
};

/* A growable, owned array of readings. */
struct joi_readings {
    struct joi_reading *items;
    size_t n;
    size_t cap;
};

void joi_readings_init(struct joi_readings *r);
void joi_readings_free(struct joi_readings *r); /* r can be NULL */
void joi_readings_push(struct joi_readings *r, int64_t time, double kw);
/* Sorts by time; of equal times the one pushed last is kept (stable). */
void joi_readings_sort_unique(struct joi_readings *r);
/* Reverses the order of r->items[from..n). */
void joi_readings_reverse(struct joi_readings *r, size_t from);

struct joi_batch {
    char meter[JOI_METER_MAX + 1];
    struct joi_readings readings; /* in the order sent, duplicates kept */
};

/* Parses and validates a store body of len bytes (buf need not be
 * NUL-terminated).  Returns 0 and fills out (free with joi_batch_free), or -1
 * with err set (400, with a pointer when one field is at fault) and out empty. */
int joi_batch_parse(const char *buf, size_t len, struct joi_batch *out, struct joi_error *err);
/* The two halves of joi_batch_parse.  joi_batch_scan reads the common shape of a
 * body without a JSON tree (src/batch_scan.c): it returns 1 and fills out only
 * where joi_batch_parse_full would succeed with the same meter and readings, and
 * otherwise 0 with out empty, setting no error.  joi_batch_parse_full is the full
 * parse with json-c, which owns every error. */
int joi_batch_scan(const char *buf, size_t len, struct joi_batch *out);
int joi_batch_parse_full(const char *buf, size_t len, struct joi_batch *out, struct joi_error *err);
void joi_batch_free(struct joi_batch *b); /* b can be NULL */

#endif
