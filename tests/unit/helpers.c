/*
 * helpers.c -- what the unit-test suites share.
 */
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

void test_add_suite(const char *name, const struct test_case *tests)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (s == NULL) {
        fprintf(stderr, "cannot add suite %s: %s\n", name, CU_get_error_msg());
        exit(2);
    }
    for (const struct test_case *t = tests; t->name != NULL; t++) {
        if (CU_add_test(s, t->name, t->fn) == NULL) {
            fprintf(stderr, "cannot add test %s: %s\n", t->name, CU_get_error_msg());
            exit(2);
        }
    }
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    size_t got;
    while (data != NULL && (got = fread(data + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(data, cap * 2);
            if (bigger == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (data == NULL)
        return NULL;
    data[n] = '\0';
    *len = n;
    return data;
}

char *test_read_source_file(const char *path, size_t *len)
{
    /* The tests run from the repository root (make unit); also accept a run from
     * the build folder or from tests/unit. */
    static const char *const prefixes[] = {"", "../", "../../", "../../../"};
    char full[1024];
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        snprintf(full, sizeof full, "%s%s", prefixes[i], path);
        char *data = read_whole(full, len);
        if (data != NULL)
            return data;
    }
    return NULL;
}
