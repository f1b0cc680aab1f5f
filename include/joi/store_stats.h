/*
 * store_stats.h -- what the Redis connection counts of its own failures, for the
 * metrics module to read (redis_conn.c increments, metrics.c renders).
 *
 * The counters know nothing of Prometheus: redis_conn.c adds one where a failure
 * happens, through joi_store_stats_counter (NULL: nothing is counted).  The worker
 * points it into its metrics file; each process has one writer, so the counters are
 * written with relaxed atomic stores and read with atomic loads (never torn).
 */
#ifndef JOI_STORE_STATS_H
#define JOI_STORE_STATS_H

#include <stdint.h>

struct joi_store_stats {
    uint64_t errors;     /* store calls that failed: connect, I/O, timeout, error reply */
    uint64_t timeouts;   /* of those, the ones that timed out (JOI_REDIS_TIMEOUT_MS) */
    uint64_t reconnects; /* connections opened after this process's first one */
};

/* Where redis_conn.c counts (borrowed; set by the worker at start). */
extern struct joi_store_stats *joi_store_stats_counter;

/* Adds one to *c: a relaxed atomic store by the one writer of *c.  c may be NULL. */
static inline void joi_stat_inc(uint64_t *c)
{
    if (c)
        __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* The cause of this process's last store error ("" when none), for the log line of
 * the request it failed (redis_conn.c). */
const char *joi_store_last_error(void);

#endif
