/*
 * fuzz_batch.c -- libFuzzer target holding joi_batch_scan (the store body read
 * without a JSON tree, src/batch_scan.c) to the full parse with json-c.
 *
 * Whatever joi_batch_scan accepts, joi_batch_parse_full must accept too, with the
 * same meter and the same readings, bit for bit, in the same order; and
 * joi_batch_parse must answer as joi_batch_parse_full does, error detail and
 * pointer included.  Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "joi/readings.h"

static void same_batch(const struct joi_batch *a, const struct joi_batch *b)
{
    if (strcmp(a->meter, b->meter) != 0 || a->readings.n != b->readings.n)
        abort();
    for (size_t i = 0; i < a->readings.n; i++)
        if (a->readings.items[i].time != b->readings.items[i].time ||
            memcmp(&a->readings.items[i].kw, &b->readings.items[i].kw, sizeof(double)) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct joi_batch scanned, full, combined;
    struct joi_error e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    int took = joi_batch_scan(s, size, &scanned);
    int rc = joi_batch_parse_full(s, size, &full, &e1);
    int rc2 = joi_batch_parse(s, size, &combined, &e2);
    if (took) {
        if (rc != 0)
            abort();
        same_batch(&scanned, &full);
    } else if (scanned.meter[0] != '\0' || scanned.readings.n != 0) {
        abort(); /* refused, yet something left in it */
    }
    if (rc2 != rc)
        abort();
    if (rc == 0)
        same_batch(&combined, &full);
    else if (e1.status != e2.status || strcmp(e1.detail, e2.detail) != 0 ||
             strcmp(e1.pointer, e2.pointer) != 0)
        abort();
    joi_batch_free(&scanned);
    joi_batch_free(&full);
    joi_batch_free(&combined);
    return 0;
}
