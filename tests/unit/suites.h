/*
 * suites.h -- the unit-test suites and the helpers they share.
 *
 * Every test file registers one CUnit suite; main.c runs them all.
 */
#ifndef JOI_TEST_SUITES_H
#define JOI_TEST_SUITES_H

#include <stddef.h>

#include <CUnit/CUnit.h>

void add_num_suite(void);
void add_timeparse_suite(void);
void add_meter_suite(void);
void add_http_suite(void);
void add_readings_suite(void);
void add_config_suite(void);
void add_price_suite(void);
void add_token_suite(void);
void add_app_suite(void);
void add_summary_suite(void);
void add_unavailable_suite(void);
void add_layout_suite(void);
void add_layout2_suite(void);
void add_chunk_suite(void);
void add_bounds_suite(void);
void add_pathological_suite(void);
void add_auth_suite(void);
void add_metrics_suite(void);

/* Adds a suite with the given tests (a NULL-terminated array); aborts the run
 * when CUnit cannot register it. */
struct test_case {
    const char *name;
    CU_TestFunc fn;
};
void test_add_suite(const char *name, const struct test_case *tests);

/* Records one CUnit assertion at file:line, passed when ok; a failure's message
 * is fmt formatted like printf, so that a check made for a row of a table can say
 * which row it was and what came back against what was expected. */
void test_check(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the len bytes at s into out (cap bytes, cap >= 8) as a quoted C string,
 * bytes outside printable ASCII as \xNN, cut with ... when it does not fit;
 * returns out. */
const char *test_quote(const char *s, size_t len, char *out, size_t cap);

/* Reads a file of the source tree (a path relative to the repository root) into a
 * malloc'ed NUL-terminated buffer, or returns NULL.  *len gets its length. */
char *test_read_source_file(const char *path, size_t *len);

#endif
