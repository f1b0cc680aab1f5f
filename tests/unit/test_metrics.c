/*
 * test_metrics.c -- the metrics' text rendering (pure), the slots of the
 * memory-mapped files, and the log lines' quoting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "joi/metrics.h"
#include "suites.h"

static const char *const names[] = {"read", "store", "unknown"};

/* 1 when out has the line exactly (a whole line). */
static int has_line(const struct joi_buf *out, const char *line)
{
    size_t n = strlen(line);
    const char *p = out->data;
    while (p && (p = strstr(p, line)) != NULL) {
        if ((p == out->data || p[-1] == '\n') && p[n] == '\n')
            return 1;
        p += n;
    }
    return 0;
}

#define LINE(out, l) test_check(has_line(out, l), __FILE__, __LINE__, "no line %s", l)

static void test_render_sums_files(void)
{
    struct joi_metrics_file *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    a->requests[0][200 - 100] = 3;
    b->requests[0][200 - 100] = 4;
    b->requests[2][404 - 100] = 2;
    a->buckets[0][0] = 2; /* <= 0.5 ms */
    b->buckets[0][2] = 5; /* <= 2.5 ms */
    a->duration_ns[0] = 1500000000u;
    b->duration_ns[0] = 250u;
    a->readings_stored = 10;
    b->readings_stored = 5;
    a->store.errors = 2;
    a->store.timeouts = 1;
    b->store.reconnects = 3;
    b->restarts = 1;
    a->in_flight = 1;
    b->in_flight = 1; /* b's worker is gone: its gauges do not count */
    a->start_time = 1700000000;
    const struct joi_metrics_file *files[] = {a, b};
    int live[] = {1, 0};
    struct joi_buf out;
    joi_buf_init(&out);
    joi_metrics_render(&out, files, live, 2, names, 3);
    LINE(&out, "# TYPE joi_http_requests_total counter");
    LINE(&out, "joi_http_requests_total{route=\"read\",code=\"200\"} 7");
    LINE(&out, "joi_http_requests_total{route=\"unknown\",code=\"404\"} 2");
    CU_ASSERT_PTR_NULL(strstr(out.data, "route=\"store\",code=")); /* zero: not shown */
    LINE(&out, "# TYPE joi_http_request_duration_seconds histogram");
    LINE(&out, "joi_http_request_duration_seconds_bucket{route=\"read\",le=\"0.0005\"} 2");
    LINE(&out, "joi_http_request_duration_seconds_bucket{route=\"read\",le=\"0.001\"} 2");
    LINE(&out, "joi_http_request_duration_seconds_bucket{route=\"read\",le=\"0.0025\"} 7");
    LINE(&out, "joi_http_request_duration_seconds_bucket{route=\"read\",le=\"+Inf\"} 7");
    LINE(&out, "joi_http_request_duration_seconds_sum{route=\"read\"} 1.500000250");
    LINE(&out, "joi_http_request_duration_seconds_count{route=\"read\"} 7");
    LINE(&out, "joi_http_request_duration_seconds_count{route=\"store\"} 0");
    LINE(&out, "joi_readings_stored_total 15");
    LINE(&out, "joi_store_errors_total 2");
    LINE(&out, "joi_store_timeouts_total 1");
    LINE(&out, "joi_store_reconnects_total 3");
    LINE(&out, "joi_worker_restarts_total 1");
    LINE(&out, "joi_workers 1");
    LINE(&out, "joi_http_requests_in_flight 1");
    LINE(&out, "joi_process_start_time_seconds{slot=\"0\"} 1700000000");
    CU_ASSERT_PTR_NULL(strstr(out.data, "slot=\"1\""));
    /* every line is a comment or "name{labels} value" */
    CU_ASSERT_EQUAL(out.data[out.len - 1], '\n');
    joi_buf_free(&out);
    free(a);
    free(b);
}

static void test_end_counts_buckets_and_codes(void)
{
    struct joi_metrics m;
    CU_ASSERT_EQUAL_FATAL(joi_metrics_open(&m, NULL), 0);
    joi_metrics_begin(&m);
    CU_ASSERT_EQUAL(m.file->in_flight, 1);
    joi_metrics_end(&m, 1, 201, 400000);      /* 0.4 ms: first bucket */
    joi_metrics_end(&m, 1, 201, 1000000);     /* exactly 1 ms: le="0.001" */
    joi_metrics_end(&m, 1, 200, 9000000000u); /* 9 s: +Inf */
    joi_metrics_end(&m, 99, 700, 1);          /* out of range: last route, status 500 */
    CU_ASSERT_EQUAL(m.file->in_flight, 0);
    CU_ASSERT_EQUAL(m.file->requests[1][101], 2);
    CU_ASSERT_EQUAL(m.file->requests[1][100], 1);
    CU_ASSERT_EQUAL(m.file->requests[JOI_METRICS_ROUTES - 1][400], 1);
    CU_ASSERT_EQUAL(m.file->buckets[1][0], 1);
    CU_ASSERT_EQUAL(m.file->buckets[1][1], 1);
    CU_ASSERT_EQUAL(m.file->buckets[1][JOI_METRICS_BUCKETS - 1], 1);
    CU_ASSERT_EQUAL(m.file->duration_ns[1], 9001400000u);
    joi_metrics_readings_add(&m, 7);
    CU_ASSERT_EQUAL(m.file->readings_stored, 7);
    joi_metrics_close(&m);
}

/* Two workers take two slots; the slot of one that exits is taken by the next,
 * which goes on counting in the same file. */
static void test_slots_are_reused(void)
{
    char dir[] = "/tmp/joi-metrics-unit.XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    struct joi_metrics a, b, c;
    CU_ASSERT_EQUAL_FATAL(joi_metrics_open(&a, dir), 0);
    CU_ASSERT_EQUAL_FATAL(joi_metrics_open(&b, dir), 0);
    CU_ASSERT_EQUAL(a.slot, 0);
    CU_ASSERT_EQUAL(b.slot, 1);
    joi_metrics_end(&a, 0, 200, 1000);
    joi_metrics_end(&a, 0, 200, 1000);
    joi_metrics_end(&b, 0, 200, 1000);
    joi_metrics_close(&a); /* as a dead worker's: the file stays */
    CU_ASSERT_EQUAL_FATAL(joi_metrics_open(&c, dir), 0);
    CU_ASSERT_EQUAL(c.slot, 0);
    CU_ASSERT_EQUAL(c.file->requests[0][100], 2);
    CU_ASSERT_EQUAL(c.file->restarts, 1);
    joi_metrics_end(&c, 0, 200, 1000);
    struct joi_buf out;
    joi_buf_init(&out);
    joi_metrics_scrape(&b, &out, names, 3);
    LINE(&out, "joi_http_requests_total{route=\"read\",code=\"200\"} 4");
    LINE(&out, "joi_worker_restarts_total 1");
    LINE(&out, "joi_workers 2");
    joi_buf_free(&out);
    joi_metrics_close(&b);
    joi_metrics_close(&c);
    char path[64];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/slot-%d.metrics", dir, i);
        CU_ASSERT_EQUAL(unlink(path), 0);
    }
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void test_log_field_quoting(void)
{
    struct joi_buf b;
    joi_buf_init(&b);
    joi_log_field(&b, "route", "read");
    joi_log_field(&b, "meter", "");
    joi_log_field(&b, "cause", "a \"b\" c\\d\ne\x01");
    joi_log_field(&b, "k", "x=y");
    joi_buf_puts(&b, "");
    CU_ASSERT_EQUAL(b.len, strlen(" route=read meter=\"\" cause=\"a \\\"b\\\" c\\\\d\\ne\\x01\" "
                                  "k=\"x=y\""));
    CU_ASSERT_NSTRING_EQUAL(
        b.data, " route=read meter=\"\" cause=\"a \\\"b\\\" c\\\\d\\ne\\x01\" k=\"x=y\"", b.len);
    joi_buf_free(&b);
}

void add_metrics_suite(void)
{
    static const struct test_case tests[] = {
        {"render sums the files", test_render_sums_files},
        {"a request's route, code and bucket", test_end_counts_buckets_and_codes},
        {"slots are reused and keep their counts", test_slots_are_reused},
        {"log fields are quoted and escaped", test_log_field_quoting},
        {NULL, NULL},
    };
    test_add_suite("metrics", tests);
}
