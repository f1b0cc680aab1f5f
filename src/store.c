/*
 * store.c -- what every store shares (see joi/store.h).
 */
#include <stddef.h>

#include "joi/store.h"

void joi_store_free(struct joi_store *s)
{
    if (s != NULL)
        s->ops->free(s);
}
