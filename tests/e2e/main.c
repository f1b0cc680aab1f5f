/*
 * main.c -- the end-to-end test program.
 *
 * Runs every suite against the live service that tests/e2e/run.sh started
 * (lighttpd, the FastCGI workers and Redis).  Exits 0 only when every
 * assertion of every test passed.
 */
#include <stdio.h>

#include <CUnit/Basic.h>

#include "e2e.h"

int main(void)
{
    if (http_init() != 0)
        return 2;
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "e2e: %s\n", CU_get_error_msg());
        http_cleanup();
        return 2;
    }
    int (*const suites[])(void) = {e2e_suite_health, e2e_suite_store,   e2e_suite_read,
                                   e2e_suite_price,  e2e_suite_plans,   e2e_suite_errors,
                                   e2e_suite_tokens, e2e_suite_tariffs, e2e_suite_bounds};
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (suites[i]() != 0) {
            fprintf(stderr, "e2e: cannot register a suite: %s\n", CU_get_error_msg());
            CU_cleanup_registry();
            http_cleanup();
            return 2;
        }
    }
    printf("e2e: service at %s\n", http_base_url());
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned failed_suites = CU_get_number_of_suites_failed();
    int rc = CU_get_error() != CUE_SUCCESS || failed > 0 || failed_suites > 0 ? 1 : 0;
    CU_cleanup_registry();
    http_cleanup();
    return rc;
}
