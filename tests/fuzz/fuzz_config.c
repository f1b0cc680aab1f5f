/*
 * fuzz_config.c -- libFuzzer target for the plans-file loader: any bytes in,
 * a config or an error out, and for an accepted file one pricing run.
 */
#include <stdint.h>
#include <stdlib.h>

#include "joi/config.h"
#include "joi/price.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct joi_config *c = NULL;
    struct joi_error err;
    joi_error_clear(&err);
    if (joi_config_parse((const char *)data, size, &c, &err) != 0) {
        if (err.status != 400 || err.detail[0] == '\0')
            abort(); /* a rejection always says why */
        return 0;
    }
    struct joi_reading r[3] = {{1774738800, 1}, {1774760400, 2}, {1774825200, 0.5}};
    struct joi_cost *costs = calloc(c->nplans, sizeof *costs);
    struct joi_usage u;
    joi_price_compare(c, r, 3, costs, &u);
    free(costs);
    joi_config_free(c);
    return 0;
}
