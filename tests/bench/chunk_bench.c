/*
 * chunk_bench.c -- bytes per reading and speed of the chunk codec (joi/chunk.h).
 *
 *   make chunk-bench                       every data set: bytes per reading, speed
 *   build/chunk-bench --only STEP          one pass of one step (encode, decode, each,
 *                                          format) over data set (a), for callgrind:
 *     valgrind --tool=callgrind --toggle-collect=joi_chunk_decode build/chunk-bench --only decode
 *   build/chunk-bench --write-seeds DIR    writes a few valid chunks (the fuzzer's seeds)
 *
 * The data is generated deterministically (integer arithmetic, its own generator):
 * a household's power in units of 0.1 W, turned into kW with 4 decimals (or 3), and
 * cut into UTC-day chunks as the store would.  The model's parameters are printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "joi/chunk.h"
#include "joi/num.h"

/* ------------------------------------------------------------------------ */
/* A deterministic household                                                */
/* ------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static long uniform(long lo, long hi) /* lo..hi inclusive */
{
    return lo + (long)(rng() % (uint64_t)(hi - lo + 1));
}

/* The model, all powers in 0.1 W. */
#define START 1704067200 /* 2024-01-01T00:00:00Z */
#define BASE_LO 2000     /* standby and always-on load of the day: 0.20 .. 0.35 kW */
#define BASE_HI 3500
#define MORNING 1200 /* occupied 06:30-08:30: +0.12 kW */
#define DAYTIME 300  /* 08:30-17:00: +0.03 kW */
#define EVENING 1500 /* 17:00-23:00: +0.15 kW (lights, TV, computer) */
#define NOISE 25     /* each minute: sum of 4 uniform -25..25 (sd 2.9 W) */
#define FRIDGE 900   /* compressor 0.09 kW, on 15-20 min in every 45-55 */

struct appliance {
    const char *name;
    long lo, hi;          /* power */
    int min_len, max_len; /* minutes */
    int per_week;         /* uses a week */
    int from_h, to_h;     /* the hours it starts in */
};

static const struct appliance appliances[] = {
    {"kettle", 20000, 30000, 2, 4, 21, 6, 22},
    {"microwave", 8000, 12000, 1, 6, 10, 7, 22},
    {"toaster", 8000, 10000, 2, 4, 4, 6, 10},
    {"hob/oven", 10000, 25000, 15, 60, 7, 11, 20},
    {"washing machine (heating)", 18000, 22000, 10, 20, 3, 8, 20},
    {"dishwasher", 12000, 20000, 20, 40, 4, 18, 23},
    {"vacuum cleaner", 6000, 9000, 10, 30, 2, 9, 18},
};
#define NAPPLIANCES (sizeof appliances / sizeof appliances[0])

/* A year of minute powers, in 0.1 W. */
static long *household_minutes(size_t days)
{
    size_t n = days * 1440;
    long *p = calloc(n, sizeof *p);
    long fridge_left = 0, fridge_on = 0;
    for (size_t d = 0; d < days; d++) {
        long base = uniform(BASE_LO, BASE_HI);
        for (int m = 0; m < 1440; m++) {
            long v = base;
            if (m >= 390 && m < 510)
                v += MORNING;
            else if (m >= 510 && m < 1020)
                v += DAYTIME;
            else if (m >= 1020 && m < 1380)
                v += EVENING;
            if (fridge_left == 0) {
                fridge_on = !fridge_on;
                fridge_left = fridge_on ? uniform(15, 20) : uniform(30, 35);
            }
            fridge_left--;
            if (fridge_on)
                v += FRIDGE;
            p[d * 1440 + (size_t)m] = v;
        }
        for (size_t a = 0; a < NAPPLIANCES; a++) {
            const struct appliance *ap = &appliances[a];
            /* per_week uses spread over the days: a use today with that chance */
            int uses = 0;
            for (int k = 0; k < ap->per_week; k++)
                uses += uniform(0, 6) == 0;
            for (int u = 0; u < uses; u++) {
                long at = uniform(ap->from_h * 60, ap->to_h * 60 - 1);
                long len = uniform(ap->min_len, ap->max_len);
                long w = uniform(ap->lo, ap->hi);
                for (long m = at; m < at + len && m < 1440; m++)
                    p[d * 1440 + (size_t)m] += w;
            }
        }
        for (int m = 0; m < 1440; m++) {
            long noise = 0;
            for (int k = 0; k < 4; k++)
                noise += uniform(-NOISE, NOISE);
            long v = p[d * 1440 + (size_t)m] + noise;
            p[d * 1440 + (size_t)m] = v < 0 ? 0 : v;
        }
    }
    return p;
}

static void print_model(void)
{
    printf(
        "household model (deterministic, splitmix64 seed 0x9E3779B97F4A7C15, powers in 0.1 W):\n");
    printf("  base of the day uniform %.2f-%.2f kW; +%.2f kW 06:30-08:30, +%.2f kW 08:30-17:00,"
           " +%.2f kW 17:00-23:00\n",
           BASE_LO / 1e4, BASE_HI / 1e4, MORNING / 1e4, DAYTIME / 1e4, EVENING / 1e4);
    printf("  fridge %.2f kW on 15-20 min, off 30-35 min; noise per minute: sum of 4 uniform "
           "+-%.1f W (sd %.1f W)\n",
           FRIDGE / 1e4, NOISE / 10.0, NOISE / 10.0 * sqrt(4.0 / 3.0));
    printf("  appliances (kW, minutes, uses a week, start hours):");
    for (size_t a = 0; a < NAPPLIANCES; a++) {
        const struct appliance *ap = &appliances[a];
        printf("%s %s %.1f-%.1f, %d-%d min, %d/wk, %02d-%02dh", a ? ";" : "", ap->name,
               ap->lo / 1e4, ap->hi / 1e4, ap->min_len, ap->max_len, ap->per_week, ap->from_h,
               ap->to_h);
    }
    printf("\n");
}

/* ------------------------------------------------------------------------ */
/* Data sets: readings cut into day chunks                                  */
/* ------------------------------------------------------------------------ */

struct dataset {
    const char *name;
    struct joi_readings all;
    size_t nchunks;
    size_t *start; /* chunk c is all.items[start[c] .. start[c+1]) */
};

static void cut_days(struct dataset *ds)
{
    ds->start = malloc((ds->all.n + 2) * sizeof *ds->start);
    ds->nchunks = 0;
    for (size_t i = 0; i < ds->all.n; i++)
        if (i == 0 || ds->all.items[i].time / 86400 != ds->all.items[i - 1].time / 86400)
            ds->start[ds->nchunks++] = i;
    ds->start[ds->nchunks] = ds->all.n;
}

/* kW from 0.1 W with `decimals` decimals (4: as generated, 3: rounded to watts). */
static double kw_of(long dw, int decimals)
{
    if (decimals == 4)
        return (double)dw / 1e4;
    return (double)((dw + 5) / 10) / 1e3;
}

static void make_minutes(struct dataset *ds, const char *name, const long *p, size_t days,
                         int decimals)
{
    ds->name = name;
    joi_readings_init(&ds->all);
    for (size_t i = 0; i < days * 1440; i++)
        joi_readings_push(&ds->all, START + (int64_t)i * 60, kw_of(p[i], decimals));
    cut_days(ds);
}

static void make_quarters(struct dataset *ds, const char *name, const long *p, size_t days)
{
    ds->name = name;
    joi_readings_init(&ds->all);
    for (size_t q = 0; q < days * 96; q++) {
        long sum = 0;
        for (int m = 0; m < 15; m++)
            sum += p[q * 15 + (size_t)m];
        joi_readings_push(&ds->all, START + (int64_t)q * 900, kw_of((sum + 7) / 15, 4));
    }
    cut_days(ds);
}

/* Minute readings with the clock off by -3..+3 s, 1 % of them lost, and a 1-3 hour
 * outage on one day in ten. */
static void make_jitter(struct dataset *ds, const char *name, const long *p, size_t days)
{
    ds->name = name;
    joi_readings_init(&ds->all);
    for (size_t d = 0; d < days; d++) {
        long out_at = uniform(0, 9) == 0 ? uniform(0, 1200) : -1, out_len = uniform(60, 180);
        for (long m = 0; m < 1440; m++) {
            if (uniform(0, 99) == 0 || (out_at >= 0 && m >= out_at && m < out_at + out_len))
                continue;
            int64_t t = START + (int64_t)(d * 1440 + (size_t)m) * 60 + uniform(-3, 3);
            if (t < START)
                t = START;
            joi_readings_push(&ds->all, t, kw_of(p[d * 1440 + (size_t)m], 4));
        }
    }
    cut_days(ds);
}

/* Readings at random steps of 1..300 s. */
static void make_random_steps(struct dataset *ds, const char *name, const long *p, size_t days)
{
    ds->name = name;
    joi_readings_init(&ds->all);
    for (int64_t t = START; t < START + (int64_t)days * 86400; t += uniform(1, 300))
        joi_readings_push(&ds->all, t, kw_of(p[(t - START) / 60], 4));
    cut_days(ds);
}

/* make bench's series (tests/bench/readings.awk): a year of minutes from
 * 2023-01-01, 0.3 + 0.25 sin(day) + (n * 7919 % 101) / 1000 kW with 4 decimals. */
static void make_bench_awk(struct dataset *ds, const char *name)
{
    ds->name = name;
    joi_readings_init(&ds->all);
    for (long n = 0; n < 525600; n++) {
        long t = 1672531200 + n * 60;
        double kw = 0.3 + 0.25 * sin(6.283185307 * (double)(t % 86400) / 86400) +
                    (double)(n * 7919 % 101) / 1000;
        char text[64];
        snprintf(text, sizeof text, "%.4f", kw);
        joi_readings_push(&ds->all, t, strtod(text, NULL));
    }
    cut_days(ds);
}

/* Random doubles in 0..1000000 of every length up to 17 digits, minute steps. */
static void make_random_doubles(struct dataset *ds, const char *name, size_t days)
{
    ds->name = name;
    joi_readings_init(&ds->all);
    for (size_t i = 0; i < days * 1440; i++) {
        double v = (double)(rng() >> 11) / 9007199254740992.0 * pow(10, (double)uniform(-3, 6));
        char text[JOI_NUM_MAX];
        int digits = (int)uniform(1, 17);
        snprintf(text, sizeof text, "%.*g", digits, v > 1e6 ? 1e6 : v);
        joi_readings_push(&ds->all, START + (int64_t)i * 60, strtod(text, NULL));
    }
    cut_days(ds);
}

/* ------------------------------------------------------------------------ */
/* Measuring                                                                */
/* ------------------------------------------------------------------------ */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct encoded {
    struct joi_buf buf;
    size_t *off; /* chunk c is buf.data[off[c] .. off[c+1]) */
};

static void encode_all(const struct dataset *ds, struct encoded *enc)
{
    struct joi_error err;
    joi_buf_reset(&enc->buf);
    for (size_t c = 0; c < ds->nchunks; c++) {
        enc->off[c] = enc->buf.len;
        const struct joi_reading *r = ds->all.items + ds->start[c];
        if (joi_chunk_encode(r, ds->start[c + 1] - ds->start[c], &enc->buf, &err) != 0) {
            fprintf(stderr, "encode: %s\n", err.detail);
            exit(1);
        }
    }
    enc->off[ds->nchunks] = enc->buf.len;
}

static void decode_all(const struct dataset *ds, const struct encoded *enc,
                       struct joi_readings *out)
{
    struct joi_error err;
    out->n = 0;
    for (size_t c = 0; c < ds->nchunks; c++) {
        const unsigned char *b = (const unsigned char *)enc->buf.data + enc->off[c];
        if (joi_chunk_decode(b, enc->off[c + 1] - enc->off[c], out, &err) != 0) {
            fprintf(stderr, "decode: %s\n", err.detail);
            exit(1);
        }
    }
}

/* Sums the text lengths, as a read endpoint would copy them. */
static int count_text(void *arg, int64_t time, const char *text, size_t len)
{
    (void)time;
    (void)text;
    *(size_t *)arg += len;
    return 0;
}

static size_t each_all(const struct dataset *ds, const struct encoded *enc)
{
    struct joi_error err;
    size_t chars = 0;
    for (size_t c = 0; c < ds->nchunks; c++) {
        const unsigned char *b = (const unsigned char *)enc->buf.data + enc->off[c];
        if (joi_chunk_each(b, enc->off[c + 1] - enc->off[c], count_text, &chars, &err) != 0) {
            fprintf(stderr, "each: %s\n", err.detail);
            exit(1);
        }
    }
    return chars;
}

/* The same texts the slow way: joi_num_format of every decoded double. */
static size_t format_all(const struct joi_readings *r)
{
    size_t chars = 0;
    char text[JOI_NUM_MAX];
    for (size_t i = 0; i < r->n; i++)
        chars += joi_num_format(r->items[i].kw, text);
    return chars;
}

static void measure(const struct dataset *ds)
{
    struct encoded enc;
    joi_buf_init(&enc.buf);
    enc.off = malloc((ds->nchunks + 1) * sizeof *enc.off);
    struct joi_readings out;
    joi_readings_init(&out);

    encode_all(ds, &enc);
    decode_all(ds, &enc, &out);
    size_t wrong = out.n != ds->all.n;
    for (size_t i = 0; !wrong && i < out.n; i++)
        wrong += out.items[i].time != ds->all.items[i].time ||
                 memcmp(&out.items[i].kw, &ds->all.items[i].kw, sizeof(double)) != 0;
    if (wrong) {
        fprintf(stderr, "%s: readings do not round-trip\n", ds->name);
        exit(1);
    }
    if (each_all(ds, &enc) != format_all(&out)) {
        fprintf(stderr, "%s: texts differ from joi_num_format\n", ds->name);
        exit(1);
    }

    double n = (double)ds->all.n;
    int reps = (int)(2000000 / ds->all.n) + 1;
    double t0 = now();
    for (int k = 0; k < reps; k++)
        encode_all(ds, &enc);
    double t_enc = (now() - t0) / reps;
    t0 = now();
    for (int k = 0; k < reps; k++)
        decode_all(ds, &enc, &out);
    double t_dec = (now() - t0) / reps;
    t0 = now();
    for (int k = 0; k < reps; k++)
        each_all(ds, &enc);
    double t_each = (now() - t0) / reps;
    t0 = now();
    for (int k = 0; k < reps; k++)
        format_all(&out);
    double t_fmt = (now() - t0) / reps;

    printf("| %s | %zu | %zu | %zu | **%.3f** | %.2f | %.2f | %.2f | %.2f |\n", ds->name, ds->all.n,
           ds->nchunks, enc.buf.len, (double)enc.buf.len / n, n / t_enc / 1e6, n / t_dec / 1e6,
           n / t_each / 1e6, n / t_fmt / 1e6);
    joi_buf_free(&enc.buf);
    free(enc.off);
    joi_readings_free(&out);
}

static void write_seeds(const char *dir, struct dataset *sets, size_t nsets)
{
    struct joi_error err;
    int k = 0;
    for (size_t s = 0; s < nsets; s++) {
        struct dataset *ds = &sets[s];
        for (size_t c = 0; c < ds->nchunks && c < 2; c++) {
            struct joi_buf b;
            joi_buf_init(&b);
            size_t n = ds->start[c + 1] - ds->start[c];
            if (n > 200)
                n = 200 + (size_t)c * 64; /* short seeds: the fuzzer mutates them faster */
            if (joi_chunk_encode(ds->all.items + ds->start[c], n, &b, &err) != 0)
                exit(1);
            char path[4096];
            snprintf(path, sizeof path, "%s/chunk-%02d", dir, k++);
            FILE *f = fopen(path, "wb");
            if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
                perror(path);
                exit(1);
            }
            joi_buf_free(&b);
        }
    }
    struct joi_reading edge[] = {{0, 0},
                                 {1, 1000000},
                                 {2, 5e-324},
                                 {3, 0.30000000000000004},
                                 {4, 2.2250738585072014e-308},
                                 {86400, 0.0503},
                                 {253402300799, 123456.78901234567}};
    struct joi_buf b;
    joi_buf_init(&b);
    if (joi_chunk_encode(edge, sizeof edge / sizeof edge[0], &b, &err) != 0)
        exit(1);
    char path[4096];
    snprintf(path, sizeof path, "%s/chunk-%02d", dir, k++);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    joi_buf_free(&b);
    printf("%d seeds in %s\n", k, dir);
}

int main(int argc, char **argv)
{
    const char *only = NULL, *seeds = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
        else if (strcmp(argv[i], "--write-seeds") == 0)
            seeds = argv[i + 1];
    }
    long *year = household_minutes(365);
    struct dataset sets[8];
    make_minutes(&sets[0], "(a) a year of 1-minute readings, 4 decimals, day chunks", year, 365, 4);
    make_minutes(&sets[1], "(a') the same rounded to 3 decimals (watts)", year, 365, 3);
    make_quarters(&sets[2], "(b) 90 days of 15-minute readings (means of the minutes)", year, 90);
    make_jitter(&sets[3], "(c) 90 days of minute readings, clock +-3 s, 1 % lost, outages", year,
                90);
    make_random_steps(&sets[4], "(c') 90 days at random steps of 1-300 s", year, 90);
    make_random_doubles(&sets[5], "(d) 30 days of random doubles of 1-17 digits, minute steps", 30);
    make_bench_awk(&sets[6], "(e) make bench's series (readings.awk), a year of minutes");
    size_t nsets = 7;

    if (seeds) {
        write_seeds(seeds, sets, nsets);
        return 0;
    }
    if (only) {
        /* One pass of one step over (a), for callgrind. */
        struct encoded enc;
        joi_buf_init(&enc.buf);
        enc.off = malloc((sets[0].nchunks + 1) * sizeof *enc.off);
        struct joi_readings out;
        joi_readings_init(&out);
        encode_all(&sets[0], &enc);
        if (strcmp(only, "decode") == 0)
            decode_all(&sets[0], &enc, &out);
        else if (strcmp(only, "each") == 0)
            each_all(&sets[0], &enc);
        else if (strcmp(only, "format") == 0) { /* the texts the slow way, to compare */
            decode_all(&sets[0], &enc, &out);
            format_all(&out);
        }
        printf("%s: %zu readings, %zu chunks, %zu bytes\n", only, sets[0].all.n, sets[0].nchunks,
               enc.buf.len);
        return 0;
    }
    print_model();
    printf(
        "\n| data | readings | chunks | bytes | B/reading | encode M/s | decode M/s | "
        "each (text) M/s | joi_num_format M/s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t s = 0; s < nsets; s++)
        measure(&sets[s]);
    for (size_t s = 0; s < nsets; s++) {
        joi_readings_free(&sets[s].all);
        free(sets[s].start);
    }
    free(year);
    return 0;
}
