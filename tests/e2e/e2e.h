/*
 * e2e.h -- what the end-to-end suites share: assertions that print what was
 * expected and what came back, meter ids unique to a run, and shorthands for
 * storing and reading back readings and for running joi-admin.
 *
 * Every EXPECT_* is a CUnit assertion (non-fatal: a test goes on, so that its
 * clean-up still runs) reported at the line of the caller.
 */
#ifndef E2E_E2E_H
#define E2E_E2E_H

#include <stddef.h>

#include <CUnit/CUnit.h>
#include <json-c/json.h>

#include "http.h"

#define TYPE_JSON "application/json"
#define TYPE_PROBLEM "application/problem+json"

/* Room for a meter id (64 characters) and its NUL. */
#define E2E_ID_SIZE 65

/* Passed as the pointer of EXPECT_PROBLEM: the pointer member is not checked. */
extern const char E2E_ANY[];

/* Suites: each adds itself to the CUnit registry and returns 0, or -1. */
int e2e_suite_store(void);
int e2e_suite_read(void);
int e2e_suite_price(void);
int e2e_suite_plans(void);
int e2e_suite_errors(void);
int e2e_suite_health(void);
int e2e_suite_tokens(void);
int e2e_suite_tariffs(void);
int e2e_suite_bounds(void);

/* Adds a suite of tests (ended by CU_TEST_INFO_NULL).  Returns 0, or -1. */
int e2e_add_suite(const char *name, CU_TestInfo *tests);

/* Records one assertion: ok, with a printf-style description of the check. */
void e2e_check(int ok, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes "e2e-<name>-<run>" into out (E2E_ID_SIZE bytes): a meter no other test or
 * earlier run against the same store has used. */
void e2e_meter(char *out, const char *name);

/* A malloc'ed printf; aborts when out of memory. */
char *e2e_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes doc to the stack's folder as `name` and loads it with joi-admin load-config
 * (a failure is a failed check). */
void e2e_plans_load(const char *doc, const char *name);
/* Loads the default plans file (redis/plans.json) again. */
void e2e_plans_restore(void);

/* Parses a response body as JSON (strictly); NULL when it is not JSON. */
struct json_object *e2e_json(const struct http_response *r);

/* The compact text of the value at JSON Pointer path in doc, or NULL when absent.
 * Valid while doc lives. */
const char *e2e_json_at(struct json_object *doc, const char *path);

/* POSTs {"smartMeterId": meter, "electricityReadings": [readings]} and returns the
 * status (0 when no response came). */
long e2e_store(const char *meter, const char *readings);

/* Runs joi-admin with the given arguments (NULL-terminated), captures its stdout
 * and stderr into out, and returns its exit status (-1 when it could not run). */
int e2e_admin(char *out, size_t outlen, const char *arg, ...) __attribute__((sentinel));

/* A path under the service's working folder ($JOI_VAR), or the repository ($JOI_ROOT). */
void e2e_var_path(char *out, size_t outlen, const char *name);
void e2e_root_path(char *out, size_t outlen, const char *name);

/* Writes text to path.  Returns 0, or -1. */
int e2e_write_file(const char *path, const char *text);

/* Assertion helpers behind the macros below. */
void e2e_expect_status(const struct http_response *r, long status, const char *file, unsigned line);
void e2e_expect_json(const struct http_response *r, long status, const char *body, const char *file,
                     unsigned line);
void e2e_expect_problem(const struct http_response *r, long status, const char *pointer,
                        const char *parameter, const char *file, unsigned line);
void e2e_expect_at(struct json_object *doc, const char *path, const char *text, const char *file,
                   unsigned line);
void e2e_expect_str(const char *what, const char *actual, const char *expected, const char *file,
                    unsigned line);
void e2e_expect_read(const char *meter, const char *body, const char *file, unsigned line);

/* A check with a description. */
#define EXPECT(cond, ...) e2e_check((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
/* The response has exactly this status. */
#define EXPECT_STATUS(r, status) e2e_expect_status((r), (status), __FILE__, __LINE__)
/* Status, Content-Type application/json and exactly this body. */
#define EXPECT_JSON(r, status, body) e2e_expect_json((r), (status), (body), __FILE__, __LINE__)
/* A problem details response: status, application/problem+json, type about:blank, the
 * status's title, a non-empty detail, and pointer / parameter exactly as given
 * (NULL: the member must be absent). */
#define EXPECT_PROBLEM(r, status, pointer, parameter)                                              \
    e2e_expect_problem((r), (status), (pointer), (parameter), __FILE__, __LINE__)
/* The value at JSON Pointer path serialises exactly as text (NULL: absent). */
#define EXPECT_AT(doc, path, text) e2e_expect_at((doc), (path), (text), __FILE__, __LINE__)
/* Two strings are equal. */
#define EXPECT_STR(what, actual, expected)                                                         \
    e2e_expect_str((what), (actual), (expected), __FILE__, __LINE__)
/* GET /readings/read/meter answers 200 with exactly body, or (body NULL) 404 problem. */
#define EXPECT_READ(meter, body) e2e_expect_read((meter), (body), __FILE__, __LINE__)
/* Stores readings for meter and expects 200. */
#define STORE_OK(meter, readings)                                                                  \
    do {                                                                                           \
        long st_ = e2e_store((meter), (readings));                                                 \
        EXPECT(st_ == 200, "storing readings for %s: status %ld, expected 200", (meter), st_);     \
    } while (0)

#endif
