/*
 * meter.c -- meter id validation (see joi/meter.h).
 */
#include "joi/meter.h"

int joi_meter_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > JOI_METER_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}
