/*
 * layout.c -- key names and the bytes of members and fields (see joi/layout.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/chunk.h"
#include "joi/layout.h"

/* Appends s to out[*n..], cut as snprintf would at JOI_LAYOUT_KEY_MAX - 1 bytes. */
static void key_put(char *out, size_t *n, const char *s)
{
    size_t len = strlen(s), room = JOI_LAYOUT_KEY_MAX - 1 - *n;
    if (len > room)
        len = room;
    memcpy(out + *n, s, len);
    *n += len;
}

void joi_layout_key(char *out, const char *meter, const char *suffix)
{
    size_t n = 0; /* "joi:{METER}:SUFFIX" without printf: every request names keys */
    key_put(out, &n, "joi:{");
    key_put(out, &n, meter);
    key_put(out, &n, "}:");
    key_put(out, &n, suffix);
    out[n] = '\0';
}

size_t joi_layout_member_format(int64_t time, double kw, char *out, size_t *timelen)
{
    size_t tl = joi_num_int((long long)time, out);
    out[tl] = ':';
    size_t n = tl + 1 + joi_num_format(kw, out + tl + 1);
    out[n] = '\0';
    *timelen = tl;
    return n;
}

size_t joi_layout_member_split(const char *s, size_t len, int64_t *time)
{
    size_t tl = 0;
    int64_t t = 0;
    while (tl < len && s[tl] >= '0' && s[tl] <= '9' && tl <= 12)
        t = t * 10 + (s[tl++] - '0');
    if (tl == 0 || tl > 12 || tl + 1 >= len || s[tl] != ':' || (s[0] == '0' && tl > 1))
        return 0;
    /* The reading: a JSON number that reads as a finite double (1e999 does not).  Text
     * without an exponent and of at most 300 characters always does, which is what
     * the store writes. */
    const char *r = s + tl + 1;
    size_t rl = len - tl - 1;
    int exponent;
    if (joi_num_json_span(r, rl, &exponent) != rl)
        return 0;
    double v;
    if ((exponent || rl > 300) && (joi_num_parse(r, rl, &v) != 0 || !isfinite(v)))
        return 0;
    *time = t;
    return tl;
}

int joi_layout_member_parse(const char *s, size_t len, int64_t *time, double *kw)
{
    size_t tl = joi_layout_member_split(s, len, time);
    if (tl == 0 || joi_num_parse(s + tl + 1, len - tl - 1, kw) != 0)
        return -1;
    return 0;
}

/* A little-endian IEEE double. */
static double le_double(const unsigned char *p)
{
    uint64_t bits = 0;
    for (int i = 7; i >= 0; i--)
        bits = bits << 8 | p[i];
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

int joi_layout_buckets_parse(int64_t day, const char *v, size_t len, struct joi_bucket_energy *out,
                             size_t *n)
{
    if (len != 8 * JOI_BUCKETS_PER_FIELD)
        return -1;
    for (int k = 0; k < JOI_BUCKETS_PER_FIELD; k++) {
        double kwh = le_double((const unsigned char *)v + 8 * k);
        if (kwh == 0)
            continue;
        out[*n].index = day * JOI_BUCKETS_PER_FIELD + k;
        out[*n].kwh = kwh;
        (*n)++;
    }
    return 0;
}

int joi_layout_interval_parse(const char *s, struct joi_interval *out)
{
    long long t1, t2;
    if (sscanf(s, "%lld:%lld:%lf:%lf", &t1, &t2, &out->p1, &out->p2) != 4)
        return -1;
    out->t1 = t1;
    out->t2 = t2;
    return 0;
}

int joi_layout_key_split(const char *s, size_t len, char *meter, const char **suffix)
{
    static const char *const suffixes[] = {JOI_LAYOUT_METER_SUFFIXES};
    if (len < 8 || memcmp(s, "joi:{", 5) != 0)
        return -1;
    const char *close = memchr(s + 5, '}', len - 5);
    if (close == NULL || close + 1 >= s + len || close[1] != ':')
        return -1;
    size_t ml = (size_t)(close - s - 5);
    const char *sfx = close + 2;
    size_t sl = (size_t)(s + len - sfx);
    if (!joi_meter_id_valid(s + 5, ml))
        return -1;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strlen(suffixes[i]) == sl && memcmp(sfx, suffixes[i], sl) == 0) {
            memcpy(meter, s + 5, ml);
            meter[ml] = '\0';
            *suffix = suffixes[i];
            return 0;
        }
    }
    return -1;
}

/* ---- layout 2 ---- */

int64_t joi_layout_day(int64_t t)
{
    return t / JOI_LAYOUT_DAY_SECONDS;
}

void joi_layout_head_header(struct joi_buf *out, int64_t day)
{
    char *p = joi_buf_extend(out, 24);
    size_t n = joi_num_int((long long)day, p);
    p[n] = '\n';
    out->len -= 24 - (n + 1);
    out->data[out->len] = '\0';
}

void joi_layout_head_record(struct joi_buf *out, int64_t time, double kw)
{
    char *p = joi_buf_extend(out, JOI_LAYOUT_MEMBER_MAX + 1);
    size_t tl, n = joi_layout_member_format(time, kw, p, &tl);
    p[n] = '\n';
    out->len -= JOI_LAYOUT_MEMBER_MAX + 1 - (n + 1);
    out->data[out->len] = '\0';
}

struct head_item {
    struct joi_layout_head_entry e;
    size_t seq;
};

static int cmp_head_item(const void *a, const void *b)
{
    const struct head_item *x = a, *y = b;
    if (x->e.time != y->e.time)
        return x->e.time < y->e.time ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Digits s[0..len) (no leading zero, at most 12) as a number, or -1. */
static int64_t digits(const char *s, size_t len)
{
    if (len == 0 || len > 12 || (s[0] == '0' && len > 1))
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int joi_layout_head_parse(const char *h, size_t len, int64_t *day,
                          struct joi_layout_head_entry **out, size_t *n, struct joi_error *err)
{
    *out = NULL;
    *n = 0;
    const char *nl = memchr(h, '\n', len);
    int64_t d = nl ? digits(h, (size_t)(nl - h)) : -1;
    if (d < 0 || d > joi_layout_day(INT64_C(253402300799)))
        return joi_error_set(err, 500, "the store holds a malformed reading");
    *day = d;
    size_t count = 0;
    for (const char *p = nl + 1, *end = h + len; p < end; count++) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL)
            break;
        p = e + 1;
    }
    struct head_item *items = joi_mem_alloc((count + 1) * sizeof *items);
    size_t k = 0;
    int ascending = 1; /* a meter sends in order: then no sort is needed */
    const char *p = nl + 1, *end = h + len;
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        int64_t t = -1;
        size_t tl = e ? joi_layout_member_split(p, (size_t)(e - p), &t) : 0;
        if (tl == 0 || joi_layout_day(t) != d) {
            free(items);
            return joi_error_set(err, 500, "the store holds a malformed reading");
        }
        items[k].e.time = t;
        items[k].e.text = p + tl + 1;
        items[k].e.len = (size_t)(e - p) - tl - 1;
        items[k].seq = k;
        ascending &= k == 0 || items[k - 1].e.time <= t;
        k++;
        p = e + 1;
    }
    if (!ascending) /* stable by seq: of equal times the last record stays last */
        qsort(items, k, sizeof *items, cmp_head_item);
    if (k == 0) {
        free(items);
        return 0;
    }
    struct joi_layout_head_entry *r = joi_mem_alloc(k * sizeof *r);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (i + 1 < k && items[i + 1].e.time == items[i].e.time)
            continue; /* a later record of this time follows */
        r[u++] = items[i].e;
    }
    free(items);
    *out = r;
    *n = u;
    return 0;
}

static void put_varint(struct joi_buf *out, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    joi_buf_append(out, b, n);
}

static void put_double(struct joi_buf *out, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(bits >> (8 * i));
    joi_buf_append(out, b, 8);
}

/* A reader over v[0..len): every get fails (sets bad) past the end. */
struct rd {
    const unsigned char *p, *end;
    int bad;
};

static uint64_t get_varint(struct rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        unsigned char b = *r->p++;
        if (shift == 63 && b > 1) {
            r->bad = 1;
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift > 0)
                r->bad = 1; /* not the shortest form */
            return v;
        }
    }
    r->bad = 1;
    return 0;
}

static double get_double(struct rd *r)
{
    if (r->end - r->p < 8) {
        r->bad = 1;
        return 0;
    }
    double d = le_double(r->p);
    r->p += 8;
    return d;
}

int joi_layout_day_keeps_buckets(const struct joi_summary_day *d)
{
    return 8 * __builtin_popcountll(d->present) <= d->count;
}

void joi_layout_day_encode(const struct joi_summary_day *d, struct joi_buf *out)
{
    int64_t start = d->day * JOI_LAYOUT_DAY_SECONDS;
    unsigned char v = 1;
    joi_buf_append(out, &v, 1);
    put_varint(out, (uint64_t)d->count);
    put_varint(out, (uint64_t)(d->first - start));
    put_varint(out, (uint64_t)(d->last - d->first));
    put_double(out, d->first_kw);
    put_double(out, d->last_kw);
    put_varint(out, d->nlong_intervals);
    for (size_t i = 0; i < d->nlong_intervals; i++) {
        put_varint(out, (uint64_t)(d->long_intervals[i].t1 - start));
        put_varint(out, (uint64_t)(d->long_intervals[i].t2 - d->long_intervals[i].t1));
        put_double(out, d->long_intervals[i].p1);
        put_double(out, d->long_intervals[i].p2);
    }
    unsigned char has = d->has_buckets ? 1 : 0;
    joi_buf_append(out, &has, 1);
    if (!has)
        return;
    unsigned char mask[6];
    for (int i = 0; i < 6; i++)
        mask[i] = (unsigned char)(d->present >> (8 * i));
    joi_buf_append(out, mask, 6);
    for (int k = 0; k < JOI_BUCKETS_PER_FIELD; k++)
        if (d->present >> k & 1)
            put_double(out, d->buckets[k]);
}

static int day_bad(struct joi_summary_day *out, struct joi_error *err)
{
    joi_summary_day_free(out);
    return joi_error_set(err, 500, "the store holds a malformed day record");
}

/* 1 when p is a reading the store keeps: finite, 0 .. 1000000. */
static int reading_ok(double p)
{
    return isfinite(p) && p >= 0 && p <= 1000000;
}

int joi_layout_day_decode(int64_t day, const unsigned char *v, size_t len,
                          struct joi_summary_day *out, struct joi_error *err)
{
    memset(out, 0, sizeof *out);
    struct rd r = {v, v + len, 0};
    if (len < 1 || *r.p++ != 1)
        return day_bad(out, err);
    int64_t start = day * JOI_LAYOUT_DAY_SECONDS;
    out->day = day;
    uint64_t count = get_varint(&r), first = get_varint(&r), span = get_varint(&r);
    out->first_kw = get_double(&r);
    out->last_kw = get_double(&r);
    uint64_t nlong_intervals = get_varint(&r);
    if (r.bad || count < 1 || count > JOI_LAYOUT_DAY_SECONDS || first >= JOI_LAYOUT_DAY_SECONDS ||
        span >= JOI_LAYOUT_DAY_SECONDS - first || (count == 1) != (span == 0) || span < count - 1 ||
        nlong_intervals >= count || !reading_ok(out->first_kw) || !reading_ok(out->last_kw))
        return day_bad(out, err);
    out->count = (long long)count;
    out->first = start + (int64_t)first;
    out->last = out->first + (int64_t)span;
    out->long_intervals = joi_mem_alloc((nlong_intervals + 1) * sizeof *out->long_intervals);
    for (uint64_t i = 0; i < nlong_intervals; i++) {
        uint64_t t1 = get_varint(&r), dt = get_varint(&r);
        struct joi_interval *l = &out->long_intervals[out->nlong_intervals++];
        l->p1 = get_double(&r);
        l->p2 = get_double(&r);
        l->t1 = start + (int64_t)t1;
        l->t2 = l->t1 + (int64_t)dt;
        if (r.bad || l->t1 < out->first || dt <= JOI_LONG_INTERVAL || l->t2 > out->last ||
            (i > 0 && l->t1 < l[-1].t2) || !reading_ok(l->p1) || !reading_ok(l->p2))
            return day_bad(out, err);
    }
    if (r.p >= r.end)
        return day_bad(out, err);
    unsigned char has = *r.p++;
    if (has > 1)
        return day_bad(out, err);
    out->has_buckets = has;
    if (has) {
        if (r.end - r.p < 6)
            return day_bad(out, err);
        for (int i = 0; i < 6; i++)
            out->present |= (uint64_t)r.p[i] << (8 * i);
        r.p += 6;
        for (int k = 0; k < JOI_BUCKETS_PER_FIELD; k++) {
            if (!(out->present >> k & 1))
                continue;
            out->buckets[k] = get_double(&r);
            if (r.bad || !isfinite(out->buckets[k]) || out->buckets[k] < 0)
                return day_bad(out, err);
        }
    }
    if (r.p != r.end)
        return day_bad(out, err);
    return 0;
}

long long joi_layout_day_count(const unsigned char *v, size_t len)
{
    struct rd r = {v, v + len, 0};
    if (len < 1 || *r.p++ != 1)
        return -1;
    uint64_t count = get_varint(&r);
    if (r.bad || count < 1 || count > JOI_LAYOUT_DAY_SECONDS)
        return -1;
    return (long long)count;
}

int joi_layout_day_build(const struct joi_reading *r, size_t n, int64_t day, struct joi_buf *chunk,
                         struct joi_buf *rec, struct joi_error *err)
{
    if (joi_chunk_encode(r, n, chunk, err) != 0)
        return -1;
    struct joi_summary_day d;
    joi_summary_day_build(r, n, day, &d);
    d.has_buckets = joi_layout_day_keeps_buckets(&d);
    joi_layout_day_encode(&d, rec);
    joi_summary_day_free(&d);
    return 0;
}
