/*
 * admin.c -- joi-admin: operations on the store (Redis address from JOI_REDIS).
 *
 *   joi-admin load-config FILE [--if-missing]   validate and load a plans file
 *   joi-admin seed-demo                          demo readings for smart-meter-0..4
 *   joi-admin token create METER                 issue a write token (printed once)
 *   joi-admin token revoke METER                 remove a meter's token
 *   joi-admin key create METER                   issue a read key (printed once)
 *   joi-admin key revoke METER                   remove a meter's read key
 *   joi-admin meter list [--shard ADDR]...       every meter, with whether it has a
 *                                                token and a key (never the secrets)
 *   joi-admin meter delete METER                 erase everything stored for a meter
 *   joi-admin migrate [--shard ADDR]...          convert a store of layout 1 to
 *                                                layout 2 (joi/migrate.h); a no-op
 *                                                on a store of layout 2
 *
 * meter list SCANs the store's keys, which a sharding proxy (twemproxy) does not
 * pass: behind one, name each shard with --shard (host:port or unix:/path) and
 * each is scanned directly.  meter delete is one script on the meter's keys, so it
 * works through a proxy too.  migrate SCANs too, so it takes --shard the same way.
 * JOI_MIGRATE_PAGE (members read a command, 100000) is for tests.
 *
 * Exit status: 0 on success, 1 when the input is rejected or the store fails,
 * 2 on a usage error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/buf.h"
#include "joi/config.h"
#include "joi/layout.h"
#include "joi/meter.h"
#include "joi/migrate.h"
#include "joi/store.h"
#include "joi/token.h"

/* The demo week: Monday 2020-11-23 00:00 UTC to Monday 2020-11-30 00:00 UTC. */
#define DEMO_START INT64_C(1606089600)
#define DEMO_STEP 900
#define DEMO_POINTS (7 * 96 + 1)
#define DEMO_METERS 5

static int fail(const struct joi_error *err)
{
    fprintf(stderr, "joi-admin: %s\n", err->detail);
    return 1;
}

static int read_file(const char *path, struct joi_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "joi-admin: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        joi_buf_append(out, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "joi-admin: cannot read %s\n", path);
        return -1;
    }
    return 0;
}

static int cmd_load_config(struct joi_store *s, const char *path, int if_missing)
{
    struct joi_error err;
    joi_error_clear(&err);
    if (if_missing) {
        long long version = 0;
        char *doc = NULL;
        size_t len;
        if (s->ops->config_get(s, &version, &doc, &len, &err) != 0)
            return fail(&err);
        free(doc);
        if (version != 0) {
            printf("plans already loaded (version %lld); left as they are\n", version);
            return 0;
        }
    }
    struct joi_buf doc;
    joi_buf_init(&doc);
    if (read_file(path, &doc) != 0)
        return 1;
    struct joi_config *cfg;
    if (joi_config_parse(doc.data ? doc.data : "", doc.len, &cfg, &err) != 0) {
        fprintf(stderr, "joi-admin: %s rejected, nothing loaded: %s\n", path, err.detail);
        joi_buf_free(&doc);
        return 1;
    }
    int rc = s->ops->config_put(s, doc.data, doc.len, &err);
    if (rc == 0)
        printf("loaded %zu plans and %zu accounts from %s\n", cfg->nplans, cfg->naccounts, path);
    joi_config_free(cfg);
    joi_buf_free(&doc);
    return rc == 0 ? 0 : fail(&err);
}

/* A household day: a low night, a morning peak, a larger evening peak, with
 * deterministic noise.  kW, rounded to 4 decimals. */
static double demo_kw(int meter, int64_t t, unsigned *seed)
{
    double h = (double)((t % 86400) / 60) / 60.0;
    int weekday = (int)(((t / 86400) + 3) % 7); /* 0 = Monday */
    double scale = 0.8 + 0.15 * meter;
    double kw = 0.18 + 0.04 * meter;
    kw += 0.9 * exp(-pow((h - 7.5) / 1.1, 2));
    kw += 1.6 * exp(-pow((h - 19.0) / 1.8, 2));
    if (weekday >= 5)
        kw += 0.5 * exp(-pow((h - 13.0) / 2.5, 2));
    *seed = *seed * 1103515245u + 12345u;
    kw = kw * scale + ((*seed >> 8) % 1000) / 10000.0;
    return round(kw * 10000) / 10000;
}

static int cmd_seed_demo(struct joi_store *s)
{
    struct joi_error err;
    joi_error_clear(&err);
    for (int m = 0; m < DEMO_METERS; m++) {
        char meter[32];
        snprintf(meter, sizeof meter, "smart-meter-%d", m);
        long long count;
        if (s->ops->readings_count(s, meter, &count, &err) != 0)
            return fail(&err);
        if (count > 0) {
            printf("%s already has %lld readings; left as they are\n", meter, count);
            continue;
        }
        struct joi_readings r;
        joi_readings_init(&r);
        unsigned seed = 2020u + (unsigned)m;
        for (int i = 0; i < DEMO_POINTS; i++) {
            int64_t t = DEMO_START + (int64_t)i * DEMO_STEP;
            joi_readings_push(&r, t, demo_kw(m, t, &seed));
        }
        char current[JOI_TOKEN_RECORD_MAX];
        int rc = s->ops->readings_put(s, meter, r.items, r.n, "", current, sizeof current, &err);
        joi_readings_free(&r);
        if (rc < 0)
            return fail(&err);
        if (rc > 0) {
            printf("%s has a write token; left as it is\n", meter);
            continue;
        }
        printf("%s: %d demo readings\n", meter, DEMO_POINTS);
    }
    return 0;
}

/* token/key create|revoke: set is the store's token_set or key_set. */
static int cmd_credential(struct joi_store *s, const char *kind, const char *what,
                          const char *meter)
{
    struct joi_error err;
    joi_error_clear(&err);
    int key = strcmp(kind, "key") == 0;
    if (strcmp(what, "create") != 0 && strcmp(what, "revoke") != 0)
        return 2;
    if (!joi_meter_id_valid(meter, strlen(meter))) {
        fprintf(stderr, "joi-admin: %s is not a valid meter id\n", meter);
        return 1;
    }
    if (strcmp(what, "create") == 0) {
        char secret[JOI_TOKEN_LEN + 1], record[JOI_TOKEN_RECORD_MAX];
        if (joi_token_create(secret, record) != 0) {
            fprintf(stderr, "joi-admin: no randomness available\n");
            return 1;
        }
        int rc = key ? s->ops->key_set(s, meter, record, &err)
                     : s->ops->token_set(s, meter, record, &err);
        if (rc != 0)
            return fail(&err);
        printf("%s\n", secret);
        return 0;
    }
    int rc = key ? s->ops->key_set(s, meter, NULL, &err) : s->ops->token_set(s, meter, NULL, &err);
    if (rc != 0)
        return fail(&err);
    printf("%s of %s revoked\n", key ? "read key" : "token", meter);
    return 0;
}

/* The meters seen by meter list: one row per (meter, key) the stores hold. */
struct meter_row {
    char meter[JOI_METER_MAX + 1];
    const char *suffix;
};

struct meter_rows {
    struct meter_row *items;
    size_t n, cap;
};

static void meter_seen(void *arg, const char *meter, const char *suffix)
{
    struct meter_rows *rows = arg;
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? 2 * rows->cap : 256;
        rows->items = joi_mem_realloc(rows->items, rows->cap * sizeof *rows->items);
    }
    snprintf(rows->items[rows->n].meter, sizeof rows->items[rows->n].meter, "%s", meter);
    rows->items[rows->n++].suffix = suffix;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct meter_row *)a)->meter, ((const struct meter_row *)b)->meter);
}

/* One line per meter, sorted: "METER token=yes|no key=yes|no data=yes|no". */
static int cmd_meter_list(struct joi_store *s, int nshards, char **shards)
{
    struct joi_error err;
    joi_error_clear(&err);
    struct meter_rows rows = {NULL, 0, 0};
    int rc = 0;
    if (nshards == 0) {
        if (s->ops->meters_each(s, meter_seen, &rows, &err) != 0) {
            fprintf(stderr,
                    "joi-admin: %s (behind a sharding proxy, name each shard with "
                    "--shard ADDR)\n",
                    err.detail);
            rc = 1;
        }
    }
    for (int i = 0; i < nshards && rc == 0; i++) {
        struct joi_store *shard = joi_store_redis_new(shards[i], 5000);
        if (shard == NULL) {
            fprintf(stderr, "joi-admin: --shard %s must be unix:/path or host:port\n", shards[i]);
            rc = 2;
            break;
        }
        if (shard->ops->meters_each(shard, meter_seen, &rows, &err) != 0) {
            fprintf(stderr, "joi-admin: shard %s: %s\n", shards[i], err.detail);
            rc = 1;
        }
        joi_store_free(shard);
    }
    if (rc == 0 && rows.n > 0) {
        qsort(rows.items, rows.n, sizeof *rows.items, cmp_row);
        for (size_t i = 0; i < rows.n;) {
            int token = 0, key = 0, data = 0;
            size_t j = i;
            for (; j < rows.n && strcmp(rows.items[j].meter, rows.items[i].meter) == 0; j++) {
                const char *x = rows.items[j].suffix;
                if (strcmp(x, JOI_LAYOUT_TOKEN) == 0)
                    token = 1;
                else if (strcmp(x, JOI_LAYOUT_KEY) == 0)
                    key = 1;
                else
                    data = 1;
            }
            printf("%s token=%s key=%s data=%s\n", rows.items[i].meter, token ? "yes" : "no",
                   key ? "yes" : "no", data ? "yes" : "no");
            i = j;
        }
    }
    free(rows.items);
    return rc;
}

static int cmd_meter_delete(struct joi_store *s, const char *meter)
{
    struct joi_error err;
    joi_error_clear(&err);
    if (!joi_meter_id_valid(meter, strlen(meter))) {
        fprintf(stderr, "joi-admin: %s is not a valid meter id\n", meter);
        return 1;
    }
    long long deleted = 0;
    if (s->ops->meter_delete(s, meter, &deleted, &err) != 0)
        return fail(&err);
    printf("%s erased (%lld keys)\n", meter, deleted);
    return 0;
}

static int cmd_migrate(const char *addr, int nshards, char **shards)
{
    struct joi_error err;
    joi_error_clear(&err);
    long long page = JOI_MIGRATE_PAGE;
    const char *p = getenv("JOI_MIGRATE_PAGE");
    if (p && *p) {
        char *end;
        page = strtoll(p, &end, 10);
        if (*end != '\0' || page < 1 || page > 10 * JOI_MIGRATE_PAGE) {
            fprintf(stderr, "joi-admin: JOI_MIGRATE_PAGE must be 1..%d\n", 10 * JOI_MIGRATE_PAGE);
            return 2;
        }
    }
    struct joi_migrate_totals totals;
    if (joi_migrate_run(addr, nshards, shards, page, stdout, &totals, &err) != 0) {
        fflush(stdout);
        fail(&err);
        return err.status == 2 ? 2 : 1;
    }
    return 0;
}

/* Collects --shard ADDR arguments from argv[from..argc) into shards; -1 on anything else. */
static int shard_args(int argc, char **argv, int from, char **shards)
{
    int n = 0;
    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], "--shard") == 0 && i + 1 < argc)
            shards[n++] = argv[++i];
        else
            return -1;
    }
    return n;
}

static int usage(void)
{
    fprintf(stderr, "usage: joi-admin load-config FILE [--if-missing]\n"
                    "       joi-admin seed-demo\n"
                    "       joi-admin token create|revoke METER\n"
                    "       joi-admin key create|revoke METER\n"
                    "       joi-admin meter list [--shard ADDR]...\n"
                    "       joi-admin meter delete METER\n"
                    "       joi-admin migrate [--shard ADDR]...\n"
                    "environment: JOI_REDIS (unix:/path or host:port)\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *addr = getenv("JOI_REDIS");
    struct joi_store *s = joi_store_redis_new(addr, 5000);
    if (s == NULL) {
        fprintf(stderr, "joi-admin: JOI_REDIS must be unix:/path or host:port\n");
        return 2;
    }
    int rc;
    if (strcmp(argv[1], "load-config") == 0 && (argc == 3 || argc == 4)) {
        int if_missing = argc == 4 && strcmp(argv[3], "--if-missing") == 0;
        rc = argc == 4 && !if_missing ? usage() : cmd_load_config(s, argv[2], if_missing);
    } else if (strcmp(argv[1], "seed-demo") == 0 && argc == 2) {
        rc = cmd_seed_demo(s);
    } else if ((strcmp(argv[1], "token") == 0 || strcmp(argv[1], "key") == 0) && argc == 4) {
        rc = cmd_credential(s, argv[1], argv[2], argv[3]);
        if (rc == 2)
            usage();
    } else if (strcmp(argv[1], "meter") == 0 && argc >= 3 && strcmp(argv[2], "list") == 0) {
        char **shards = joi_mem_alloc((size_t)argc * sizeof *shards);
        int nshards = shard_args(argc, argv, 3, shards);
        rc = nshards < 0 ? usage() : cmd_meter_list(s, nshards, shards);
        free(shards);
    } else if (strcmp(argv[1], "migrate") == 0) {
        char **shards = joi_mem_alloc((size_t)argc * sizeof *shards);
        int nshards = shard_args(argc, argv, 2, shards);
        rc = nshards < 0 ? usage() : cmd_migrate(addr, nshards, shards);
        free(shards);
    } else if (strcmp(argv[1], "meter") == 0 && argc == 4 && strcmp(argv[2], "delete") == 0) {
        rc = cmd_meter_delete(s, argv[3]);
    } else {
        rc = usage();
    }
    joi_store_free(s);
    return rc;
}
