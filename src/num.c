/*
 * num.c -- shortest round-trip number formatting (see joi/num.h).
 *
 * Integral values below 2^53 are written as plain integers ("100", not
 * "1e+02"); everything else with the fewest significant digits (1..17) whose
 * %g form reads back as the same double.
 *
 * When some k <= 15 digits read back as v, rounding v to 15 digits gives those
 * digits followed by zeros (a double carries more than 15 digits), and %g drops
 * the zeros: so %.15g is already the shortest form (for normal numbers).  Only when it does not
 * read back are 16 and then 17 digits needed.  At most three tries, usually one.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/num.h"

size_t joi_num_int(long long v, char *out)
{
    char tmp[24];
    size_t n = 0, len = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    return len;
}

int joi_num_parse(const char *s, size_t len, double *out)
{
    static const double p10[] = {1,   1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    /* Digits, an optional point and digits: M / 10^k, both exact in a double, and
     * the division rounds correctly, as strtod does. */
    unsigned long long m = 0;
    int digits = 0, decimals = -1;
    size_t i = 0;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            m = m * 10 + (unsigned long long)(s[i] - '0');
            digits++;
            if (decimals >= 0)
                decimals++;
        } else if (s[i] == '.' && decimals < 0) {
            decimals = 0;
        } else {
            break;
        }
    }
    if (i == len && digits > 0 && digits <= 15 && decimals != 0) {
        *out = (double)m / p10[decimals < 0 ? 0 : decimals];
        return 0;
    }
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return end == buf + len ? 0 : -1;
}

/* Numbers with at most 9 decimals and 15 significant digits (most readings and
 * many costs) without printf: the smallest k for which M = round(|v| * 10^k)
 * divided by 10^k is v again.  That division is correctly rounded, as strtod
 * is, so the text reads back as v; and for 15 digits or fewer only one text of
 * that length can.  Returns the length, or 0 when v is not such a number. */
static size_t format_fixed(double v, char *out)
{
    static const double p10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int k = 1; k <= 9; k++) {
        double m = nearbyint(a * p10[k]);
        if (m >= 1e15)
            return 0;
        if (m / p10[k] != a)
            continue;
        unsigned long long whole = (unsigned long long)m / (unsigned long long)p10[k];
        unsigned long long frac = (unsigned long long)m % (unsigned long long)p10[k];
        size_t n = 0;
        if (v < 0)
            out[n++] = '-';
        n += joi_num_int((long long)whole, out + n);
        out[n++] = '.';
        for (int d = k - 1; d >= 0; d--) {
            out[n + (size_t)d] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)k;
        out[n] = '\0';
        return n;
    }
    return 0;
}

size_t joi_num_format(double v, char *out)
{
    if (v == 0) {
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return (size_t)snprintf(out, JOI_NUM_MAX, "%.0f", v);
    size_t fixed = format_fixed(v, out);
    if (fixed > 0)
        return fixed;
    int n = 0;
    /* Subnormal numbers carry fewer digits: search from one digit up. */
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(out, JOI_NUM_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}
