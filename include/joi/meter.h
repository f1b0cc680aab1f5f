/*
 * meter.h -- meter ids.
 *
 * A meter id is 1 to JOI_METER_MAX characters from A-Z a-z 0-9 . _ -
 */
#ifndef JOI_METER_H
#define JOI_METER_H

#include <stddef.h>

#define JOI_METER_MAX 64
/* The rule, as error messages state it: "the meter id must be " JOI_METER_RULE. */
#define JOI_METER_RULE "1 to 64 characters from A-Z a-z 0-9 . _ -"

/* 1 when s[0..len) is a valid meter id, else 0. */
int joi_meter_id_valid(const char *s, size_t len);

#endif
