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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/num.h"

/* "00" "01" .. "99": two digits per division, as most fast integer printers do. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

size_t joi_num_int(long long v, char *out)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    while (u >= 100) {
        unsigned long long q = u / 100;
        unsigned d = (unsigned)(u - q * 100) * 2;
        u = q;
        p -= 2;
        p[0] = digit_pairs[d];
        p[1] = digit_pairs[d + 1];
    }
    if (u >= 10) {
        p -= 2;
        p[0] = digit_pairs[u * 2];
        p[1] = digit_pairs[u * 2 + 1];
    } else {
        *--p = (char)('0' + u);
    }
    size_t len = 0;
    if (v < 0)
        out[len++] = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(out + len, p, n);
    return len + n;
}

size_t joi_num_json_span(const char *s, size_t len, int *exponent)
{
#define DIGIT(k) ((k) < len && s[k] >= '0' && s[k] <= '9')
    size_t i = 0;
    if (exponent)
        *exponent = 0;
    if (i < len && s[i] == '-')
        i++;
    if (!DIGIT(i))
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (DIGIT(i))
            i++;
    if (i < len && s[i] == '.' && DIGIT(i + 1))
        for (i++; DIGIT(i); i++)
            ;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = i + 1;
        if (e < len && (s[e] == '+' || s[e] == '-'))
            e++;
        if (DIGIT(e)) {
            for (i = e; DIGIT(i); i++)
                ;
            if (exponent)
                *exponent = 1;
        }
    }
    return i;
#undef DIGIT
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

/* Writes the p significant digits d (no trailing zeros: k of them) with decimal
 * exponent x as printf's %.{p}g does: fixed notation when -4 <= x < p, else d.ddde±XX. */
static size_t format_g(int negative, const char *d, int k, int x, int p, char *out)
{
    size_t n = 0;
    if (negative)
        out[n++] = '-';
    if (x < -4 || x >= p) {
        out[n++] = d[0];
        if (k > 1) {
            out[n++] = '.';
            memcpy(out + n, d + 1, (size_t)k - 1);
            n += (size_t)k - 1;
        }
        out[n++] = 'e';
        out[n++] = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax < 10)
            out[n++] = '0';
        n += joi_num_int(ax, out + n);
    } else if (x < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int z = -x - 1; z > 0; z--)
            out[n++] = '0';
        memcpy(out + n, d, (size_t)k);
        n += (size_t)k;
    } else {
        for (int i = 0; i <= x; i++)
            out[n++] = i < k ? d[i] : '0';
        if (k > x + 1) {
            out[n++] = '.';
            memcpy(out + n, d + x + 1, (size_t)(k - x - 1));
            n += (size_t)(k - x - 1);
        }
    }
    out[n] = '\0';
    return n;
}

/* The shortest of %.15g, %.16g and %.17g that reads back as v, from one
 * conversion to 17 digits instead of one per precision.  Rounding those 17
 * digits to p gives %.{p}g's digits unless the digits dropped are exactly 5 then
 * zeros (the 17-digit value may then sit on either side of the half-way point):
 * that case returns 0 for the caller to ask printf.  v is finite, normal, not 0. */
static size_t format_round_trip(double v, char *out)
{
    char e[40];
    /* sign, one digit, point, 16 digits, e, exponent: "-1.2345678901234567e-05" */
    int len = snprintf(e, sizeof e, "%.16e", v);
    if (len <= 0 || (size_t)len >= sizeof e)
        return 0;
    int negative = e[0] == '-';
    const char *m = e + negative;
    char d17[17];
    d17[0] = m[0];
    memcpy(d17 + 1, m + 2, 16);
    int x = atoi(m + 19); /* after "d.dddddddddddddddd" and 'e' */
    for (int p = 15; p <= 17; p++) {
        char d[18];
        int xp = x;
        memcpy(d, d17, (size_t)p);
        if (p < 17) {
            int tie = d17[p] == '5';
            for (int i = p + 1; i < 17 && tie; i++)
                tie = d17[i] == '0';
            if (tie)
                return 0;
            if (d17[p] >= '5') { /* more than half: up */
                int i = p - 1;
                while (i >= 0 && d[i] == '9')
                    d[i--] = '0';
                if (i >= 0) {
                    d[i]++;
                } else { /* 99..9 rounded up to 100..0 */
                    d[0] = '1';
                    xp++;
                }
            }
        }
        int k = p;
        while (k > 1 && d[k - 1] == '0')
            k--;
        size_t n = format_g(negative, d, k, xp, p, out);
        if (p == 17 || strtod(out, NULL) == v)
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
    if (fabs(v) >= DBL_MIN) {
        size_t n = format_round_trip(v, out);
        if (n > 0)
            return n;
    }
    int n = 0;
    /* Subnormal numbers carry fewer digits: search from one digit up. */
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(out, JOI_NUM_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}
