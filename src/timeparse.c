/*
 * timeparse.c -- epoch integers and RFC 3339 date-times on input (see joi/timeparse.h).
 */
#include "joi/timeparse.h"

/* Howard Hinnant's days_from_civil, valid for the whole proleptic Gregorian calendar. */
int64_t joi_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

int joi_time_parse_rfc3339(const char *s, size_t len, int64_t *out)
{
    /* YYYY-MM-DDTHH:MM:SS is 19 characters; then [.frac] and Z or +hh:mm */
    int y, mo, d, h, mi, se;
    if (len < 20)
        return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
        return -1;
    size_t i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return -1;
    }
    if (i >= len)
        return -1;
    int offset = 0;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        offset = 0;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len) {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -1;
        offset = (oh * 60 + om) * 60;
        if (s[i] == '-')
            offset = -offset;
    } else {
        return -1;
    }
    int64_t t = joi_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
                se - offset;
    if (t < 0 || t > JOI_TIME_MAX)
        return -1;
    *out = t;
    return 0;
}

int joi_time_parse_epoch(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 12)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > JOI_TIME_MAX)
        return -1;
    *out = v;
    return 0;
}
