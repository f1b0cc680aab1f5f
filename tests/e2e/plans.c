/*
 * plans.c -- GET /price-plans, and plans files loaded with joi-admin while the
 * workers keep running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define PLANS_HEAD                                                                                 \
    "{\"timezone\":\"UTC\",\"pricePlans\":["                                                       \
    "{\"id\":\"price-plan-0\",\"supplier\":\"Dr Evil's Dark Energy\",\"unitRate\":10,"             \
    "\"peakTimeMultipliers\":[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10}]},"

#define SEEDED_ACCOUNTS                                                                            \
    "\"smart-meter-0\":\"price-plan-0\",\"smart-meter-1\":\"price-plan-1\","                       \
    "\"smart-meter-2\":\"price-plan-0\",\"smart-meter-3\":\"price-plan-2\","                       \
    "\"smart-meter-4\":\"price-plan-1\""

static void test_list_plans(void)
{
    struct http_response r;
    http_get("/price-plans", &r);
    EXPECT_STATUS(&r, 200);
    EXPECT_STR("Content-Type", r.content_type, TYPE_JSON);
    struct json_object *doc = e2e_json(&r);
    EXPECT(doc && json_object_is_type(doc, json_type_array) && json_object_array_length(doc) == 3,
           "three plans: %.300s", r.body);
    EXPECT_AT(doc, "/0/id", "\"price-plan-0\"");
    EXPECT_AT(doc, "/0/supplier", "\"Dr Evil's Dark Energy\"");
    EXPECT_AT(doc, "/0/unitRate", "10");
    EXPECT_AT(doc, "/0/peakTimeMultipliers", "[]");
    EXPECT_AT(doc, "/1/id", "\"price-plan-1\"");
    EXPECT_AT(doc, "/1/supplier", "\"The Green Eco\"");
    EXPECT_AT(doc, "/1/unitRate", "2");
    EXPECT_AT(doc, "/1/peakTimeMultipliers", "[]");
    EXPECT_AT(doc, "/2/id", "\"price-plan-2\"");
    EXPECT_AT(doc, "/2/supplier", "\"Power for Everyone\"");
    EXPECT_AT(doc, "/2/unitRate", "1");
    EXPECT_AT(doc, "/2/peakTimeMultipliers", "[]");
    json_object_put(doc);
    http_response_free(&r);
}

static void test_plans_methods(void)
{
    struct http_response r;
    http_post_json("/price-plans", "{}", &r);
    EXPECT_PROBLEM(&r, 405, NULL, NULL);
    char allow[128];
    http_header(&r, "Allow", allow, sizeof allow);
    EXPECT_STR("Allow", allow, "GET, HEAD");
    http_response_free(&r);
}

/* Expects compare-all of meter to name plan (a JSON value) and these comparisons
 * (NULL: not checked) on eight requests at once, so on several workers. */
static void expect_compare(const char *meter, const char *plan, const char *comparisons,
                           const char *file, unsigned line)
{
    char path[256];
    snprintf(path, sizeof path, "/price-plans/compare-all/%s", meter);
    struct http_response r[8];
    http_get_many(path, 8, r);
    for (int i = 0; i < 8; i++) {
        e2e_expect_status(&r[i], 200, file, line);
        struct json_object *doc = e2e_json(&r[i]);
        e2e_expect_at(doc, "/pricePlanId", plan, file, line);
        if (comparisons != NULL)
            e2e_expect_at(doc, "/pricePlanComparisons", comparisons, file, line);
        json_object_put(doc);
        http_response_free(&r[i]);
    }
}
#define EXPECT_COMPARE(meter, plan, comparisons)                                                   \
    expect_compare((meter), (plan), (comparisons), __FILE__, __LINE__)

/* Loads a plans file with joi-admin; returns its exit status, output in out. */
static int load_config(const char *path, char *out, size_t outlen)
{
    return e2e_admin(out, outlen, "load-config", path, (const char *)NULL);
}

/* Loads the plans file the service ships with. */
static void restore_default_plans(void)
{
    char path[1024], out[1024];
    e2e_root_path(path, sizeof path, "redis/plans.json");
    int rc = load_config(path, out, sizeof out);
    EXPECT(rc == 0, "restoring %s: exit %d: %s", path, rc, out);
}

static void test_load_config_live(void)
{
    char wed[E2E_ID_SIZE], tue[E2E_ID_SIZE], cross[E2E_ID_SIZE];
    e2e_meter(wed, "plans-wed");
    e2e_meter(tue, "plans-tue");
    e2e_meter(cross, "plans-cross");
    /* 10 kWh on Wednesday 2024-01-03, 10 kWh on Tuesday 2024-01-02, and 10 kW from
     * Tuesday 23:30 to Wednesday 00:30 (5 kWh on each day). */
    STORE_OK(wed, "{\"time\":\"2024-01-03T10:30:00Z\",\"reading\":35},"
                  "{\"time\":\"2024-01-03T11:00:00Z\",\"reading\":5}");
    STORE_OK(tue, "{\"time\":\"2024-01-02T10:30:00Z\",\"reading\":35},"
                  "{\"time\":\"2024-01-02T11:00:00Z\",\"reading\":5}");
    STORE_OK(cross, "{\"time\":\"2024-01-02T23:30:00Z\",\"reading\":10},"
                    "{\"time\":\"2024-01-03T00:30:00Z\",\"reading\":10}");
    static const char flat[] =
        "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]";
    EXPECT_COMPARE(wed, "null", flat);
    EXPECT_COMPARE(cross, "null", flat);

    char *doc = e2e_strf(PLANS_HEAD "{\"id\":\"price-plan-1\",\"supplier\":\"The Green Eco\","
                                    "\"unitRate\":2,\"peakTimeMultipliers\":[]},"
                                    "{\"id\":\"price-plan-2\",\"supplier\":\"Power for Everyone\","
                                    "\"unitRate\":1,\"peakTimeMultipliers\":[]}],"
                                    "\"accounts\":{" SEEDED_ACCOUNTS ",\"%s\":\"price-plan-1\"}}",
                         wed);
    char path[1024], out[1024];
    e2e_var_path(path, sizeof path, "e2e-plans-wednesday.json");
    EXPECT(e2e_write_file(path, doc) == 0, "writing %s", path);
    free(doc);
    int rc = load_config(path, out, sizeof out);
    EXPECT(rc == 0, "load-config %s: exit %d: %s", path, rc, out);

    static const char wednesday[] =
        "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":1000}]";
    EXPECT_COMPARE(wed, "\"price-plan-1\"", wednesday);
    EXPECT_COMPARE(tue, "null", flat);
    EXPECT_COMPARE(cross, "null",
                   "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":550}]");
    EXPECT_COMPARE("smart-meter-0", "\"price-plan-0\"", NULL);
    char rpath[256];
    snprintf(rpath, sizeof rpath, "/price-plans/recommend/%s?include=savings", wed);
    struct http_response r;
    http_get(rpath, &r);
    EXPECT_JSON(&r, 200,
                "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10,\"savingVsCurrent\":10},"
                "{\"pricePlanId\":\"price-plan-1\",\"cost\":20,\"savingVsCurrent\":0},"
                "{\"pricePlanId\":\"price-plan-0\",\"cost\":1000,\"savingVsCurrent\":-980}]");
    http_response_free(&r);
    http_get("/price-plans", &r);
    struct json_object *plans = e2e_json(&r);
    EXPECT_AT(plans, "/0/peakTimeMultipliers/0/days", "[\"WEDNESDAY\"]");
    EXPECT_AT(plans, "/0/peakTimeMultipliers/0/multiplier", "10");
    EXPECT_AT(plans, "/1/peakTimeMultipliers", "[]");
    json_object_put(plans);
    http_response_free(&r);

    /* A file with an unknown plan in accounts is refused whole: its other changes
     * (a new rate for price-plan-2) are not loaded either. */
    e2e_var_path(path, sizeof path, "e2e-plans-bad.json");
    EXPECT(e2e_write_file(path, "{\"timezone\":\"UTC\",\"pricePlans\":["
                                "{\"id\":\"price-plan-0\",\"unitRate\":10},"
                                "{\"id\":\"price-plan-1\",\"unitRate\":2},"
                                "{\"id\":\"price-plan-2\",\"unitRate\":100}],"
                                "\"accounts\":{\"smart-meter-0\":\"price-plan-9\"}}") == 0,
           "writing %s", path);
    rc = load_config(path, out, sizeof out);
    EXPECT(rc != 0, "a plans file naming an unknown plan is refused: exit %d: %s", rc, out);
    EXPECT(strstr(out, "price-plan-9") != NULL, "the message names the fault: %s", out);
    EXPECT_COMPARE(wed, "\"price-plan-1\"", wednesday);

    restore_default_plans();
    EXPECT_COMPARE(wed, "null", flat);
    EXPECT_COMPARE(cross, "null", flat);
    EXPECT_COMPARE("smart-meter-0", "\"price-plan-0\"", NULL);
}

static void test_load_config_rejects(void)
{
    static const struct {
        const char *doc;
        const char *named; /* what the message must mention */
    } bad[] = {
        {"{\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1},{\"id\":\"p\",\"unitRate\":2}]}", "p"},
        {"{\"pricePlans\":[{\"id\":\"p\",\"unitRate\":-1}]}", "unitRate"},
        {"{\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1,\"peakTimeMultipliers\":"
         "[{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":-2}]}]}",
         "multiplier"},
        {"{\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1,\"peakTimeMultipliers\":"
         "[{\"dayOfWeek\":\"FUNDAY\",\"multiplier\":2}]}]}",
         "dayOfWeek"},
        {"{\"timezone\":\"Mars/Olympus\",\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1}]}",
         "timezone"},
        {"{\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1}],\"accounts\":{\"m\":\"q\"}}", "q"},
        {"{\"pricePlans\":[", ""},
    };
    char path[1024], out[1024];
    e2e_var_path(path, sizeof path, "e2e-plans-rejected.json");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(e2e_write_file(path, bad[i].doc) == 0, "writing %s", path);
        int rc = load_config(path, out, sizeof out);
        EXPECT(rc == 1, "plans file %zu is refused with exit 1: exit %d: %s", i, rc, out);
        EXPECT(strstr(out, bad[i].named) != NULL, "plans file %zu: the message names %s: %s", i,
               bad[i].named, out);
    }
    e2e_var_path(path, sizeof path, "e2e-no-such-file.json");
    int rc = load_config(path, out, sizeof out);
    EXPECT(rc == 1, "a missing file is refused with exit 1: exit %d: %s", rc, out);
    /* nothing of them was loaded */
    test_list_plans();
    char m[E2E_ID_SIZE];
    e2e_meter(m, "plans-rejected");
    STORE_OK(m, "{\"time\":\"2024-01-03T10:30:00Z\",\"reading\":35},"
                "{\"time\":\"2024-01-03T11:00:00Z\",\"reading\":5}");
    EXPECT_COMPARE(m, "null",
                   "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]");
}

static CU_TestInfo tests[] = {
    {"GET /price-plans lists the three plans in id order", test_list_plans},
    {"POST /price-plans is 405 with Allow: GET, HEAD", test_plans_methods},
    {"a plans file loaded while running changes costs on every worker", test_load_config_live},
    {"faulty plans files are refused and change nothing", test_load_config_rejects},
    CU_TEST_INFO_NULL,
};

int e2e_suite_plans(void)
{
    return e2e_add_suite("price plans: list and load", tests);
}
