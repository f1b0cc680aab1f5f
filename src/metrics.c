/*
 * metrics.c -- per-worker counters in memory-mapped files, their sum in Prometheus's
 * text format, and the service's log lines (see joi/metrics.h).
 *
 * Rules:
 *  - A worker's file is written only by that worker, counter by counter, with
 *    relaxed atomic stores of aligned 64-bit values; readers load them atomically.
 *  - The slot is held with flock(LOCK_EX) on the open file for the worker's life.
 *  - joi_metrics_render is pure; joi_metrics_scrape maps the files read-only and
 *    never writes to them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "joi/metrics.h"

const double joi_metrics_bucket_le[JOI_METRICS_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 0};
/* The text of each bound, as rendered in le="..." (the last is +Inf). */
static const char *const bucket_text[JOI_METRICS_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "+Inf"};

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static void add(uint64_t *p, uint64_t n)
{
    store(p, load(p) + n);
}

/* ------------------------------------------------------------------------ */
/* The worker's own file                                                     */
/* ------------------------------------------------------------------------ */

static void in_memory(struct joi_metrics *m)
{
    m->file = calloc(1, sizeof *m->file);
    if (m->file == NULL) {
        fprintf(stderr, "joi-worker: out of memory\n");
        abort();
    }
    m->file->magic = JOI_METRICS_MAGIC;
    m->file->layout = JOI_METRICS_LAYOUT;
    m->file->pid = (uint64_t)getpid();
    m->file->start_time = (uint64_t)time(NULL);
    m->fd = -1;
    m->slot = -1;
}

/* Opens slot i's file and locks it; returns the fd, or -1 (taken, or an error). */
static int take_slot(const char *dir, int i)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/slot-%d.metrics", dir, i);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int joi_metrics_open(struct joi_metrics *m, const char *dir)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
    m->slot = -1;
    if (dir == NULL || *dir == '\0') {
        in_memory(m);
        return 0;
    }
    int fd = -1, slot = -1;
    for (int i = 0; i < JOI_METRICS_SLOTS && fd < 0; i++)
        if ((fd = take_slot(dir, i)) >= 0)
            slot = i;
    struct stat st;
    void *p = MAP_FAILED;
    if (fd >= 0 && fstat(fd, &st) == 0 &&
        ((size_t)st.st_size >= sizeof *m->file || ftruncate(fd, sizeof *m->file) == 0))
        p = mmap(NULL, sizeof *m->file, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "joi-worker[%d] level=error event=metrics cause=\"%s: %s\"\n",
                (int)getpid(), dir,
                fd < 0 ? "no free slot or folder not writable" : strerror(errno));
        if (fd >= 0)
            close(fd);
        in_memory(m);
        return -1;
    }
    struct joi_metrics_file *f = p;
    if (load(&f->magic) != JOI_METRICS_MAGIC || load(&f->layout) != JOI_METRICS_LAYOUT) {
        /* new, or of another layout: started afresh; readers skip it until magic */
        store(&f->magic, 0);
        memset(f, 0, sizeof *f);
        store(&f->layout, JOI_METRICS_LAYOUT);
        __atomic_store_n(&f->magic, JOI_METRICS_MAGIC, __ATOMIC_RELEASE);
    } else {
        add(&f->restarts, 1); /* a worker held this slot before */
    }
    store(&f->pid, (uint64_t)getpid());
    store(&f->start_time, (uint64_t)time(NULL));
    store(&f->in_flight, 0);
    m->file = f;
    m->fd = fd;
    m->slot = slot;
    m->dir = joi_mem_strndup(dir, strlen(dir));
    return 0;
}

void joi_metrics_close(struct joi_metrics *m)
{
    if (m->file == NULL)
        return;
    if (m->fd >= 0) {
        munmap(m->file, sizeof *m->file);
        close(m->fd);
    } else {
        free(m->file);
    }
    free(m->dir);
    m->file = NULL;
    m->dir = NULL;
    m->fd = -1;
}

void joi_metrics_begin(struct joi_metrics *m)
{
    store(&m->file->in_flight, 1);
}

void joi_metrics_end(struct joi_metrics *m, int route, int status, uint64_t duration_ns)
{
    struct joi_metrics_file *f = m->file;
    if (route < 0 || route >= JOI_METRICS_ROUTES)
        route = JOI_METRICS_ROUTES - 1;
    if (status < 100 || status > 599)
        status = 500;
    add(&f->requests[route][status - 100], 1);
    double s = (double)duration_ns / 1e9;
    int b = 0;
    while (b < JOI_METRICS_BUCKETS - 1 && s > joi_metrics_bucket_le[b])
        b++;
    add(&f->buckets[route][b], 1);
    add(&f->duration_ns[route], duration_ns);
    store(&f->in_flight, 0);
}

void joi_metrics_readings_add(struct joi_metrics *m, uint64_t n)
{
    add(&m->file->readings_stored, n);
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                 */
/* ------------------------------------------------------------------------ */

static void put_u64(struct joi_buf *out, uint64_t v)
{
    joi_buf_printf(out, "%llu", (unsigned long long)v);
}

static void header(struct joi_buf *out, const char *name, const char *type, const char *help)
{
    joi_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The sum of one counter (at byte offset off in the file) over every file. */
static uint64_t sum_at(const struct joi_metrics_file *const *files, size_t n, size_t off)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += load((const uint64_t *)((const char *)files[i] + off));
    return s;
}

static void scalar(struct joi_buf *out, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    header(out, name, type, help);
    joi_buf_printf(out, "%s ", name);
    put_u64(out, v);
    joi_buf_puts(out, "\n");
}

void joi_metrics_render(struct joi_buf *out, const struct joi_metrics_file *const *files,
                        const int *live, size_t n, const char *const *routes, size_t nroutes)
{
    if (nroutes > JOI_METRICS_ROUTES)
        nroutes = JOI_METRICS_ROUTES;
    header(out, "joi_http_requests_total", "counter",
           "Requests answered by the workers, by route and status code.");
    for (size_t r = 0; r < nroutes; r++)
        for (int c = 0; c < JOI_METRICS_CODES; c++) {
            uint64_t v = 0;
            for (size_t i = 0; i < n; i++)
                v += load(&files[i]->requests[r][c]);
            if (v == 0)
                continue;
            joi_buf_printf(out, "joi_http_requests_total{route=\"%s\",code=\"%d\"} ", routes[r],
                           c + 100);
            put_u64(out, v);
            joi_buf_puts(out, "\n");
        }
    header(out, "joi_http_request_duration_seconds", "histogram",
           "Time from a request's arrival at a worker to its answer written, by route.");
    for (size_t r = 0; r < nroutes; r++) {
        uint64_t cum = 0, ns = 0;
        for (size_t i = 0; i < n; i++)
            ns += load(&files[i]->duration_ns[r]);
        for (int b = 0; b < JOI_METRICS_BUCKETS; b++) {
            for (size_t i = 0; i < n; i++)
                cum += load(&files[i]->buckets[r][b]);
            joi_buf_printf(out, "joi_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} ",
                           routes[r], bucket_text[b]);
            put_u64(out, cum);
            joi_buf_puts(out, "\n");
        }
        joi_buf_printf(out, "joi_http_request_duration_seconds_sum{route=\"%s\"} %llu.%09llu\n",
                       routes[r], (unsigned long long)(ns / 1000000000u),
                       (unsigned long long)(ns % 1000000000u));
        joi_buf_printf(out, "joi_http_request_duration_seconds_count{route=\"%s\"} ", routes[r]);
        put_u64(out, cum);
        joi_buf_puts(out, "\n");
    }
    scalar(out, "joi_readings_stored_total", "counter", "Readings written to the store.",
           sum_at(files, n, offsetof(struct joi_metrics_file, readings_stored)));
    scalar(out, "joi_store_errors_total", "counter",
           "Store calls that failed (connect, I/O, timeout or an error reply).",
           sum_at(files, n, offsetof(struct joi_metrics_file, store.errors)));
    scalar(out, "joi_store_timeouts_total", "counter",
           "Store calls that timed out (JOI_REDIS_TIMEOUT_MS).",
           sum_at(files, n, offsetof(struct joi_metrics_file, store.timeouts)));
    scalar(out, "joi_store_reconnects_total", "counter",
           "Connections to the store opened again after a worker's first.",
           sum_at(files, n, offsetof(struct joi_metrics_file, store.reconnects)));
    scalar(out, "joi_worker_restarts_total", "counter",
           "Workers started in the slot of one that had exited (a crash, kill -9).",
           sum_at(files, n, offsetof(struct joi_metrics_file, restarts)));
    uint64_t up = 0, flight = 0;
    for (size_t i = 0; i < n; i++)
        if (live[i]) {
            up++;
            flight += load(&files[i]->in_flight);
        }
    scalar(out, "joi_workers", "gauge", "Workers running.", up);
    scalar(out, "joi_http_requests_in_flight", "gauge", "Requests being handled now.", flight);
    header(out, "joi_process_start_time_seconds", "gauge",
           "Start time of each running worker since the epoch, by slot.");
    for (size_t i = 0; i < n; i++)
        if (live[i]) {
            joi_buf_printf(out, "joi_process_start_time_seconds{slot=\"%zu\"} ", i);
            put_u64(out, load(&files[i]->start_time));
            joi_buf_puts(out, "\n");
        }
}

/* ------------------------------------------------------------------------ */
/* The scrape                                                                */
/* ------------------------------------------------------------------------ */

static int pid_alive(uint64_t pid)
{
    if (pid == 0 || pid > INT32_MAX)
        return 0;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

void joi_metrics_scrape(const struct joi_metrics *m, struct joi_buf *out, const char *const *routes,
                        size_t nroutes)
{
    const struct joi_metrics_file *files[JOI_METRICS_SLOTS];
    int live[JOI_METRICS_SLOTS];
    size_t n = 0;
    if (m->dir == NULL) {
        files[0] = m->file;
        live[0] = 1;
        joi_metrics_render(out, files, live, 1, routes, nroutes);
        return;
    }
    /* By slot number, so that slot="N" is the file's number. */
    for (int i = 0; i < JOI_METRICS_SLOTS; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/slot-%d.metrics", m->dir, i);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        void *p = MAP_FAILED;
        if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(struct joi_metrics_file))
            p = mmap(NULL, sizeof(struct joi_metrics_file), PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
            continue;
        const struct joi_metrics_file *f = p;
        if (__atomic_load_n(&f->magic, __ATOMIC_ACQUIRE) != JOI_METRICS_MAGIC ||
            load(&f->layout) != JOI_METRICS_LAYOUT) {
            munmap(p, sizeof *f);
            continue;
        }
        files[n] = f;
        live[n] = pid_alive(load(&f->pid));
        n++;
    }
    joi_metrics_render(out, files, live, n, routes, nroutes);
    for (size_t i = 0; i < n; i++)
        munmap((void *)files[i], sizeof *files[i]);
}

/* ------------------------------------------------------------------------ */
/* Log lines                                                                 */
/* ------------------------------------------------------------------------ */

void joi_log_field(struct joi_buf *b, const char *key, const char *value)
{
    joi_buf_printf(b, " %s=", key);
    int quote = *value == '\0';
    for (const char *p = value; *p && !quote; p++)
        quote = *p == ' ' || *p == '=' || *p == '"' || *p == '\\' || (unsigned char)*p < 0x20 ||
                *p == 0x7f;
    if (!quote) {
        joi_buf_puts(b, value);
        return;
    }
    joi_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            joi_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            joi_buf_puts(b, "\\n");
        else if (*p < 0x20 || *p == 0x7f)
            joi_buf_printf(b, "\\x%02x", *p);
        else
            joi_buf_append(b, (const char *)p, 1);
    }
    joi_buf_puts(b, "\"");
}

void joi_log_write(const char *level, const struct joi_buf *fields)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    struct joi_buf line;
    joi_buf_init(&line);
    joi_buf_printf(&line, "joi-worker[%d] ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s",
                   (int)getpid(), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level);
    if (fields->len)
        joi_buf_append(&line, fields->data, fields->len);
    joi_buf_puts(&line, "\n");
    /* one write: lines of several workers in one log never interleave */
    ssize_t w = write(STDERR_FILENO, line.data, line.len);
    (void)w;
    joi_buf_free(&line);
}
