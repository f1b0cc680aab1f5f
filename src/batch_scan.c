/*
 * batch_scan.c -- the common shape of a store body, read without building a
 * JSON tree (see joi/readings.h).
 *
 * Meters send one shape: {"smartMeterId":"ID","electricityReadings":[{"time":T,
 * "reading":R},...]}, keys in either order, any JSON white space.  This reader
 * accepts only that shape, and only where the full parse (json-c, then the
 * checks in readings.c) would accept it with the same result: ASCII only, no
 * escapes, each key once and no other key, a time of plain digits in range, a
 * reading a JSON number in range.  Anything else -- every body with a fault, and
 * the valid bodies it does not cover (RFC 3339 times, extra keys, escapes) -- it
 * leaves to the full parse, which owns every error message.  tests/fuzz/
 * fuzz_batch.c holds it to that: whatever it accepts, the full parse accepts
 * with the same meter and readings.
 */
#include <math.h>
#include <string.h>

#include "joi/num.h"
#include "joi/readings.h"
#include "joi/timeparse.h"

struct scan {
    const char *s;
    size_t len, i;
};

static void skip_ws(struct scan *p)
{
    while (p->i < p->len &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* Skips white space, then the byte c.  Returns 0, or -1 when c is not next. */
static int expect(struct scan *p, char c)
{
    skip_ws(p);
    if (p->i >= p->len || p->s[p->i] != c)
        return -1;
    p->i++;
    return 0;
}

/* A string of meter-id characters (no escapes, nothing outside the id rule):
 * sets *start and *n.  Returns 0, or -1 for any other string or no string. */
static int plain_string(struct scan *p, const char **start, size_t *n)
{
    if (expect(p, '"') != 0)
        return -1;
    size_t from = p->i;
    while (p->i < p->len && p->s[p->i] != '"')
        p->i++;
    if (p->i >= p->len || !joi_meter_id_valid(p->s + from, p->i - from))
        return -1;
    *start = p->s + from;
    *n = p->i - from;
    p->i++;
    return 0;
}

/* One key and its colon: returns 0 time, 1 reading, 2 smartMeterId, 3
 * electricityReadings, -1 anything else (another key, an escape, no key). */
static int key(struct scan *p)
{
    static const struct {
        const char *name;
        size_t len;
    } names[] = {{"time", 4}, {"reading", 7}, {"smartMeterId", 12}, {"electricityReadings", 19}};
    if (expect(p, '"') != 0)
        return -1;
    const char *k = p->s + p->i;
    const char *end = memchr(k, '"', p->len - p->i);
    if (end == NULL)
        return -1;
    size_t n = (size_t)(end - k);
    p->i += n + 1;
    if (expect(p, ':') != 0)
        return -1;
    for (int i = 0; i < 4; i++)
        if (names[i].len == n && memcmp(names[i].name, k, n) == 0)
            return i;
    return -1; /* an escaped key is never one of the four: the full parse decodes it */
}

/* A JSON number at p, as its text: sets *start and *n.  The next byte, after white
 * space, must end a value (',', '}' or ']'): "1.", "01" and "1e" are not numbers. */
static int number(struct scan *p, const char **start, size_t *n)
{
    skip_ws(p);
    size_t span = joi_num_json_span(p->s + p->i, p->len - p->i, NULL);
    if (span == 0)
        return -1;
    *start = p->s + p->i;
    *n = span;
    p->i += span;
    skip_ws(p);
    if (p->i >= p->len || (p->s[p->i] != ',' && p->s[p->i] != '}' && p->s[p->i] != ']'))
        return -1;
    return 0;
}

/* {"time":T,"reading":R} in either order; pushes the reading. */
static int reading(struct scan *p, struct joi_readings *out)
{
    if (expect(p, '{') != 0)
        return -1;
    int64_t time = 0;
    double kw = 0;
    int seen = 0;
    for (int k = 0; k < 2; k++) {
        if (k > 0 && expect(p, ',') != 0)
            return -1;
        int which = key(p);
        const char *text;
        size_t n;
        if (which < 0 || which > 1 || (seen & (1 << which)) || number(p, &text, &n) != 0)
            return -1;
        seen |= 1 << which;
        if (which == 0) {
            /* Digits only: a sign, a fraction or an exponent is for the full parse. */
            if ((n > 1 && text[0] == '0') || joi_time_parse_epoch(text, n, &time) != 0)
                return -1;
        } else if (joi_num_parse(text, n, &kw) != 0 || !isfinite(kw) || kw < 0 ||
                   kw > JOI_READING_MAX) {
            return -1;
        }
    }
    if (expect(p, '}') != 0)
        return -1;
    joi_readings_push(out, time, kw == 0 ? 0.0 : kw); /* -0 is stored as 0 */
    return 0;
}

static int readings_array(struct scan *p, struct joi_readings *out)
{
    if (expect(p, '[') != 0)
        return -1;
    do {
        if (out->n == JOI_BATCH_MAX || reading(p, out) != 0)
            return -1;
        skip_ws(p);
    } while (p->i < p->len && p->s[p->i++] == ',');
    return p->i > 0 && p->s[p->i - 1] == ']' ? 0 : -1;
}

int joi_batch_scan(const char *buf, size_t len, struct joi_batch *out)
{
    struct scan p = {buf, len, 0};
    out->meter[0] = '\0';
    joi_readings_init(&out->readings);
    int seen = 0;
    if (expect(&p, '{') != 0)
        goto no;
    for (int k = 0; k < 2; k++) {
        if (k > 0 && expect(&p, ',') != 0)
            goto no;
        int which = key(&p);
        if (which < 2 || (seen & (1 << which)))
            goto no;
        seen |= 1 << which;
        if (which == 2) {
            const char *id;
            size_t n;
            if (plain_string(&p, &id, &n) != 0)
                goto no;
            memcpy(out->meter, id, n);
            out->meter[n] = '\0';
        } else if (readings_array(&p, &out->readings) != 0) {
            goto no;
        }
    }
    if (expect(&p, '}') != 0)
        goto no;
    skip_ws(&p);
    if (p.i == len)
        return 1;
no:
    joi_batch_free(out);
    return 0;
}
