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

#include "joi/num.h"

size_t joi_num_format(double v, char *out)
{
    if (v == 0) {
        out[0] = '0';
        out[1] = '\0';
        return 1;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return (size_t)snprintf(out, JOI_NUM_MAX, "%.0f", v);
    int n = 0;
    /* Subnormal numbers carry fewer digits: search from one digit up. */
    for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(out, JOI_NUM_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}
