/*
 * chunk_text.c -- a reading's value as the decimal of its shortest text, and back:
 * the chunk codec's slow paths (see joi/chunk.h for the format, chunk_internal.h for
 * what the codec's files share; text_of and the fast checks are there, inline).
 *
 * Rules of this file:
 * - A reading's value is the decimal of its shortest round-trip text
 *   (joi_num_format): the encoder takes (m, e) from that text and the decoder
 *   rebuilds the same text from (m, e), so a reading reads back as exactly the text
 *   that was stored.  Where a shortcut gives (m, e) without the text, it is the same
 *   arithmetic as joi_num_format's, so the same digits.
 * - Nothing here trusts an (m, e) it is given to check: joi_chunk_value_check
 *   refuses every one that is not a reading in joi_num_format's form.
 * - Pure: no I/O, no state.
 */
#include <stdlib.h>
#include <string.h>

#include "joi/chunk_internal.h"
#include "joi/num.h"

/* The decimal (m without trailing zeros, e) of joi_num_format's text s[0..len). */
static void decimal_of_text(const char *s, size_t len, uint64_t *m, int *e)
{
    uint64_t v = 0;
    int exp = 0, seen_point = 0, significant = 0;
    size_t i = 0;
    for (; i < len && s[i] != 'e'; i++) {
        if (s[i] == '.') {
            seen_point = 1;
            continue;
        }
        int digit = s[i] - '0';
        if (digit == 0 && !significant) {
            if (seen_point)
                exp--;
            continue;
        }
        significant = 1;
        v = v * 10 + (uint64_t)digit; /* at most 17 significant digits */
        if (seen_point)
            exp--;
    }
    if (i < len)
        exp += atoi(s + i + 1);
    if (v == 0)
        exp = 0;
    while (v != 0 && v % 10 == 0) {
        v /= 10;
        exp++;
    }
    *m = v;
    *e = exp;
}

void joi_chunk_text_split(double v, uint64_t *m, int *e)
{
    char text[JOI_NUM_MAX];
    size_t n = joi_num_format(v, text);
    decimal_of_text(text, n, m, e);
}

/* (Contract in chunk_internal.h.)  Up to 15 digits the text alone settles it
 * (value_plain); longer ones are formatted again and compared. */
int joi_chunk_value_check(uint64_t m, int e, char *text, size_t *tlen, double *kw)
{
    int nd = digits_of(m);
    if (nd > 17)
        return -1;
    int x = nd - 1 + e;
    if (x > 6 || (x == 6 && m != 1) || x < -324)
        return -1; /* above 1000000 or below the smallest double */
    size_t n = text_of(m, e, nd, text);
    double d = strtod(text, NULL);
    if (!(d > 0 && d <= JOI_READING_MAX))
        return -1;
    if (!value_plain(m, e, nd)) {
        char again[JOI_NUM_MAX];
        if (joi_num_format(d, again) != n || memcmp(again, text, n) != 0)
            return -1;
    }
    *tlen = n;
    *kw = d;
    return 0;
}
