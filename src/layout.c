/*
 * layout.c -- key names and the bytes of members and fields (see joi/layout.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "joi/layout.h"

void joi_layout_key(char *out, const char *meter, const char *suffix)
{
    snprintf(out, JOI_LAYOUT_KEY_MAX, "joi:{%s}:%s", meter, suffix);
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
