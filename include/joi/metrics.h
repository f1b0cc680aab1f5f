/*
 * metrics.h -- what an operator sees of the service: Prometheus metrics summed over
 * every worker, and the log lines of failed requests and store errors (metrics.c).
 *
 * Every worker is its own process and a scrape reaches one of them, so each worker
 * counts in a small memory-mapped file of its own, slot-N.metrics in JOI_METRICS_DIR,
 * and GET /metrics sums every file of the folder (as Prometheus's client libraries
 * do in their multi-process mode):
 *  - A worker takes the first slot no live worker holds (an exclusive flock held for
 *    its life, released by the kernel however it dies); a worker lighttpd respawns
 *    after a crash takes the dead one's slot and goes on counting in its file, so a
 *    total never drops.  A file nobody holds keeps counting in the sum.
 *  - A file has one writer.  Its layout is fixed (64-bit counters at fixed offsets);
 *    the writer stores each counter with a relaxed atomic store, the reader loads it
 *    atomically: a value is never torn (two counters may be one request apart).
 *  - joi-service empties the folder when it starts lighttpd: totals count from the
 *    service's start, as any Prometheus counter does from its process's.
 * Without a folder a worker counts in memory and /metrics shows that worker only.
 */
#ifndef JOI_METRICS_H
#define JOI_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "joi/buf.h"
#include "joi/store_stats.h"

#define JOI_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define JOI_METRICS_ROUTES 16  /* route labels a file has room for ("unknown" included) */
#define JOI_METRICS_CODES 500  /* statuses 100..599 (any other is counted as 500) */
#define JOI_METRICS_BUCKETS 14 /* duration buckets, +Inf included */
#define JOI_METRICS_SLOTS 64   /* files in the folder at most */

/* The upper bounds of the duration buckets, in seconds (the last is +Inf). */
extern const double joi_metrics_bucket_le[JOI_METRICS_BUCKETS];

/* One worker's counters: the file's layout, fixed. */
struct joi_metrics_file {
    uint64_t magic;  /* JOI_METRICS_MAGIC once the file is ready */
    uint64_t layout; /* JOI_METRICS_LAYOUT: a file of another layout is started afresh */
    uint64_t pid;    /* the worker that holds the slot now */
    uint64_t start_time;
    uint64_t restarts;  /* workers that took this slot after a first one */
    uint64_t in_flight; /* requests being handled now (0 or 1) */
    uint64_t readings_stored;
    struct joi_store_stats store;
    uint64_t requests[JOI_METRICS_ROUTES][JOI_METRICS_CODES];
    uint64_t buckets[JOI_METRICS_ROUTES][JOI_METRICS_BUCKETS]; /* not cumulative */
    uint64_t duration_ns[JOI_METRICS_ROUTES];
};

#define JOI_METRICS_MAGIC UINT64_C(0x315254454d494f4a) /* "JOIMETR1" */
#define JOI_METRICS_LAYOUT ((uint64_t)sizeof(struct joi_metrics_file) << 8 | 1)

struct joi_metrics {
    struct joi_metrics_file *file; /* mapped, or allocated when there is no folder */
    int fd;                        /* the slot's file (holds the lock), or -1 */
    int slot;                      /* -1 without a folder */
    char *dir;                     /* the folder, or NULL */
};

/* Takes a slot in dir (NULL or "": count in memory) and maps its file.  Returns 0, or
 * -1 after a line on stderr when the folder cannot be used (then m counts in memory
 * and /metrics shows this worker only). */
int joi_metrics_open(struct joi_metrics *m, const char *dir);
/* Unmaps the file and gives the slot back (the file stays). */
void joi_metrics_close(struct joi_metrics *m);

/* One request: begin sets the in-flight gauge; end counts the request under route
 * (0..JOI_METRICS_ROUTES-1), status and duration, and clears the gauge. */
void joi_metrics_begin(struct joi_metrics *m);
void joi_metrics_end(struct joi_metrics *m, int route, int status, uint64_t duration_ns);
void joi_metrics_readings_add(struct joi_metrics *m, uint64_t n);

/* Renders the sum of files[0..n) in Prometheus's text format into out.  live[i] is 1
 * when file i's worker runs (its gauges count), else 0.  routes names the route
 * labels, nroutes of them.  Pure: a function of its arguments. */
void joi_metrics_render(struct joi_buf *out, const struct joi_metrics_file *const *files,
                        const int *live, size_t n, const char *const *routes, size_t nroutes);

/* GET /metrics: the files of m's folder (or m's own counters), rendered into out. */
void joi_metrics_scrape(const struct joi_metrics *m, struct joi_buf *out, const char *const *routes,
                        size_t nroutes);

/* Log lines (stderr, lighttpd's server.breakagelog): one write each, in logfmt:
 *   joi-worker[PID] ts=2024-05-01T12:00:00.123Z level=LEVEL FIELDS
 * joi_log_field appends ` key=value` to b, quoted and escaped when the value is
 * empty or holds a space, '=', '"', '\' or a control byte. */
void joi_log_field(struct joi_buf *b, const char *key, const char *value);
void joi_log_write(const char *level, const struct joi_buf *fields);

#endif
