/*
 * helpers.c -- what the unit-test suites share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void test_check(int ok, const char *file, int line, const char *fmt, ...)
{
    char msg[4096];
    if (!ok) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned)line, ok ? fmt : msg, file, "",
                            CU_FALSE);
}

const char *test_quote(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char piece[5];
        if (c == '"' || c == '\\')
            snprintf(piece, sizeof piece, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            snprintf(piece, sizeof piece, "%c", c);
        else
            snprintf(piece, sizeof piece, "\\x%02x", c);
        size_t k = strlen(piece);
        if (n + k + 5 > cap) { /* no room for the piece and then "...", '"' and NUL */
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        memcpy(out + n, piece, k);
        n += k;
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
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
