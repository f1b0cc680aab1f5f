/*
 * main.c -- runs every unit-test suite and exits non-zero when any test fails.
 */
#include <stdio.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "suites.h"

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "cannot initialise CUnit: %s\n", CU_get_error_msg());
        return 2;
    }
    add_num_suite();
    add_timeparse_suite();
    add_meter_suite();
    add_http_suite();
    add_readings_suite();
    add_config_suite();
    add_price_suite();
    add_token_suite();
    add_app_suite();
    add_summary_suite();
    add_unavailable_suite();
    add_layout_suite();
    add_layout2_suite();
    add_chunk_suite();
    add_bounds_suite();
    add_pathological_suite();
    add_auth_suite();
    add_metrics_suite();

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_ErrorCode rc = CU_basic_run_tests();
    unsigned failed_tests = CU_get_number_of_tests_failed();
    unsigned failed_asserts = CU_get_number_of_failures();
    unsigned failed_suites = CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    if (rc != CUE_SUCCESS) {
        fprintf(stderr, "CUnit could not run the tests (error %d)\n", (int)rc);
        return 2;
    }
    return failed_tests > 0 || failed_asserts > 0 || failed_suites > 0 ? 1 : 0;
}
