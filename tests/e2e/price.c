/*
 * price.c -- GET /price-plans/compare-all/{id} and /price-plans/recommend/{id}
 * with the default plans (flat rates 10, 2 and 1).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json_pointer.h>

#include "e2e.h"

/* The contract's worked example on Tuesday 2024-01-02: 35.0 kW at 10:30 UTC and
 * 5.0 kW at 11:00 UTC, 10 kWh. */
#define WORKED_EXAMPLE                                                                             \
    "{\"time\":\"2024-01-02T10:30:00Z\",\"reading\":35.0},"                                        \
    "{\"time\":\"2024-01-02T11:00:00Z\",\"reading\":5.0}"
#define WORKED_COMPARISONS "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]"

static void get(const char *route, const char *meter, const char *query, struct http_response *r)
{
    char path[512];
    snprintf(path, sizeof path, "/price-plans/%s/%s%s", route, meter, query);
    http_get(path, r);
}

#define EXPECT_GET_JSON(route, meter, query, body)                                                 \
    do {                                                                                           \
        struct http_response r_;                                                                   \
        get((route), (meter), (query), &r_);                                                       \
        EXPECT_JSON(&r_, 200, (body));                                                             \
        http_response_free(&r_);                                                                   \
    } while (0)

#define EXPECT_GET_PROBLEM(route, meter, query, status, parameter)                                 \
    do {                                                                                           \
        struct http_response r_;                                                                   \
        get((route), (meter), (query), &r_);                                                       \
        EXPECT_PROBLEM(&r_, (status), NULL, (parameter));                                          \
        http_response_free(&r_);                                                                   \
    } while (0)

static void test_compare_worked_example(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "price-worked");
    STORE_OK(m, WORKED_EXAMPLE);
    struct http_response r;
    get("compare-all", m, "", &r);
    EXPECT_STATUS(&r, 200);
    EXPECT_STR("Content-Type", r.content_type, TYPE_JSON);
    /* the two fields of the contract come first, in this order */
    static const char head[] =
        "{\"pricePlanId\":null,\"pricePlanComparisons\":" WORKED_COMPARISONS ",";
    EXPECT(r.body && strncmp(r.body, head, strlen(head)) == 0, "body starts with %s: %.300s", head,
           r.body);
    struct json_object *doc = e2e_json(&r);
    EXPECT_AT(doc, "/pricePlanId", "null");
    EXPECT_AT(doc, "/pricePlanComparisons", WORKED_COMPARISONS);
    EXPECT_AT(doc, "/usage/kWh", "10");
    EXPECT_AT(doc, "/usage/from", "1704191400");
    EXPECT_AT(doc, "/usage/to", "1704193200");
    EXPECT_AT(doc, "/usage/coveredSeconds", "1800");
    EXPECT_AT(doc, "/usage/gaps", "0");
    json_object_put(doc);
    http_response_free(&r);
}

/* Costs follow the trapezoidal rule over unevenly spaced readings sent out of order
 * (Tuesday 2024-01-02): 2 kW at 00:00, 4 kW at 01:00, 0 kW at 03:00 -> 3 + 4 = 7 kWh. */
static void test_compare_trapezoid(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "price-trapezoid");
    STORE_OK(m, "{\"time\":1704164400,\"reading\":0},{\"time\":1704153600,\"reading\":2},"
                "{\"time\":1704157200,\"reading\":4}");
    struct http_response r;
    get("compare-all", m, "", &r);
    EXPECT_STATUS(&r, 200);
    struct json_object *doc = e2e_json(&r);
    EXPECT_AT(doc, "/pricePlanComparisons",
              "[{\"price-plan-2\":7},{\"price-plan-1\":14},{\"price-plan-0\":70}]");
    EXPECT_AT(doc, "/usage/kWh", "7");
    EXPECT_AT(doc, "/usage/coveredSeconds", "10800");
    json_object_put(doc);
    http_response_free(&r);
}

/* The totals of the seeded week of smart-meter-N on its account's plan. */
static void check_seeded(const char *meter, const char *plan)
{
    struct http_response r;
    get("compare-all", meter, "", &r);
    EXPECT_STATUS(&r, 200);
    EXPECT_STR("Content-Type", r.content_type, TYPE_JSON);
    struct json_object *doc = e2e_json(&r);
    char want[64];
    snprintf(want, sizeof want, "\"%s\"", plan);
    EXPECT_AT(doc, "/pricePlanId", want);
    struct json_object *list = NULL;
    double cost[3] = {-1, -1, -1};
    static const char *const order[3] = {"price-plan-2", "price-plan-1", "price-plan-0"};
    if (doc && json_object_object_get_ex(doc, "pricePlanComparisons", &list) &&
        json_object_is_type(list, json_type_array) && json_object_array_length(list) == 3) {
        for (size_t i = 0; i < 3; i++) {
            struct json_object *v, *item = json_object_array_get_idx(list, i);
            EXPECT(json_object_object_length(item) == 1, "%s: one key per comparison", meter);
            if (json_object_object_get_ex(item, order[i], &v))
                cost[i] = json_object_get_double(v);
        }
    }
    EXPECT(cost[0] > 0 && cost[1] > 0 && cost[2] > 0, "%s: costs of plans 2, 1, 0 in that order",
           meter);
    EXPECT(fabs(cost[1] - 2 * cost[0]) < 1e-9 * cost[1] &&
               fabs(cost[2] - 10 * cost[0]) < 1e-9 * cost[2],
           "%s: costs in the ratio of the rates 1 : 2 : 10 (%.17g %.17g %.17g)", meter, cost[0],
           cost[1], cost[2]);
    struct json_object *kwh = NULL;
    EXPECT(json_pointer_get(doc, "/usage/kWh", &kwh) == 0 &&
               fabs(json_object_get_double(kwh) - cost[0]) < 1e-9 * cost[0],
           "%s: kWh equals the cost at unit rate 1", meter);
    EXPECT_AT(doc, "/usage/from", "1606089600");
    EXPECT_AT(doc, "/usage/to", "1606694400");
    EXPECT_AT(doc, "/usage/coveredSeconds", "604800");
    EXPECT_AT(doc, "/usage/gaps", "0");
    json_object_put(doc);
    http_response_free(&r);
}

static void test_compare_seeded_accounts(void)
{
    check_seeded("smart-meter-0", "price-plan-0");
    check_seeded("smart-meter-1", "price-plan-1");
    check_seeded("smart-meter-2", "price-plan-0");
    check_seeded("smart-meter-3", "price-plan-2");
    check_seeded("smart-meter-4", "price-plan-1");
}

static void test_compare_range(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "price-range");
    /* 10 kW from 10:00 to 10:30, then rising to 30 kW at 11:00 */
    STORE_OK(m, "{\"time\":1704189600,\"reading\":10},{\"time\":1704191400,\"reading\":10},"
                "{\"time\":1704193200,\"reading\":30}");
    struct http_response r;
    get("compare-all", m, "?to=1704191400", &r);
    EXPECT_STATUS(&r, 200);
    struct json_object *doc = e2e_json(&r);
    EXPECT_AT(doc, "/pricePlanComparisons",
              "[{\"price-plan-2\":5},{\"price-plan-1\":10},{\"price-plan-0\":50}]");
    EXPECT_AT(doc, "/usage/from", "1704189600");
    EXPECT_AT(doc, "/usage/to", "1704191400");
    json_object_put(doc);
    http_response_free(&r);
    EXPECT_GET_JSON("recommend", m, "?from=2024-01-02T10:30:00Z",
                    "[{\"price-plan-2\":10},{\"price-plan-1\":20},{\"price-plan-0\":100}]");
    EXPECT_GET_PROBLEM("compare-all", m, "?from=1704193201", 404, NULL);
    EXPECT_GET_PROBLEM("compare-all", m, "?from=1704193200", 422, NULL);
    EXPECT_GET_PROBLEM("compare-all", m, "?from=1704193200&to=1704193100", 400, "from");
    EXPECT_GET_PROBLEM("compare-all", m, "?to=soon", 400, "to");
}

static void test_compare_no_readings(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "price-none");
    EXPECT_GET_PROBLEM("compare-all", m, "", 404, NULL);
    EXPECT_GET_PROBLEM("recommend", m, "", 404, NULL);
    EXPECT_GET_PROBLEM("recommend", m, "?limit=1", 404, NULL);
}

static void test_compare_one_time(void)
{
    char one[E2E_ID_SIZE], same[E2E_ID_SIZE];
    e2e_meter(one, "price-one");
    e2e_meter(same, "price-same");
    STORE_OK(one, "{\"time\":1704191400,\"reading\":35}");
    EXPECT_GET_PROBLEM("compare-all", one, "", 422, NULL);
    EXPECT_GET_PROBLEM("recommend", one, "", 422, NULL);
    /* two readings at one time: the second replaces the first */
    STORE_OK(same, "{\"time\":1704191400,\"reading\":35},"
                   "{\"time\":\"2024-01-02T11:30:00+01:00\",\"reading\":5}");
    EXPECT_READ(same, "[{\"time\":1704191400,\"reading\":5}]");
    EXPECT_GET_PROBLEM("compare-all", same, "", 422, NULL);
    EXPECT_GET_PROBLEM("recommend", same, "?include=savings", 422, NULL);
}

static void test_invalid_ids(void)
{
    static const char *const ids[] = {"bad%2Fid", "%ZZ", "bad*id",
                                      ("a123456789b123456789c123456789d123456789e123456789f12345678"
                                       "9g1234")};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        EXPECT_GET_PROBLEM("compare-all", ids[i], "", 400, NULL);
        EXPECT_GET_PROBLEM("recommend", ids[i], "", 400, NULL);
    }
}

static void test_recommend_order_and_limit(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "price-recommend");
    STORE_OK(m, WORKED_EXAMPLE);
    EXPECT_GET_JSON("recommend", m, "", WORKED_COMPARISONS);
    EXPECT_GET_JSON("recommend", m, "?limit=1", "[{\"price-plan-2\":10}]");
    EXPECT_GET_JSON("recommend", m, "?limit=2", "[{\"price-plan-2\":10},{\"price-plan-1\":20}]");
    EXPECT_GET_JSON("recommend", m, "?limit=3", WORKED_COMPARISONS);
    EXPECT_GET_JSON("recommend", m, "?limit=100", WORKED_COMPARISONS);
    EXPECT_GET_JSON("recommend", m, "?limit=0", "[]");
    static const char *const bad[] = {"?limit=-1",  "?limit=abc",  "?limit=1.5",      "?limit=",
                                      "?limit=1e2", "?limit=%2B1", "?limit=1&limit=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_GET_PROBLEM("recommend", m, bad[i], 400, "limit");
}

static void test_recommend_savings_without_account(void)
{
    char m[E2E_ID_SIZE];
    e2e_meter(m, "price-savings");
    STORE_OK(m, WORKED_EXAMPLE);
    EXPECT_GET_JSON("recommend", m, "?include=savings",
                    "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10},"
                    "{\"pricePlanId\":\"price-plan-1\",\"cost\":20},"
                    "{\"pricePlanId\":\"price-plan-0\",\"cost\":100}]");
    EXPECT_GET_JSON("recommend", m, "?include=savings&limit=1",
                    "[{\"pricePlanId\":\"price-plan-2\",\"cost\":10}]");
    EXPECT_GET_PROBLEM("recommend", m, "?include=everything", 400, "include");
}

static void test_recommend_savings_with_account(void)
{
    struct http_response r;
    get("recommend", "smart-meter-0", "?include=savings", &r);
    EXPECT_STATUS(&r, 200);
    EXPECT_STR("Content-Type", r.content_type, TYPE_JSON);
    struct json_object *doc = e2e_json(&r);
    EXPECT(doc && json_object_array_length(doc) == 3, "three plans: %.300s", r.body);
    static const char *const order[3] = {"price-plan-2", "price-plan-1", "price-plan-0"};
    double cost[3] = {0}, saving[3] = {0};
    for (size_t i = 0; doc && i < 3 && i < json_object_array_length(doc); i++) {
        struct json_object *item = json_object_array_get_idx(doc, i), *id, *c, *s;
        EXPECT(json_object_object_length(item) == 3, "pricePlanId, cost, savingVsCurrent");
        EXPECT(json_object_object_get_ex(item, "pricePlanId", &id) &&
                   strcmp(json_object_get_string(id), order[i]) == 0,
               "plan %zu is %s", i, order[i]);
        if (json_object_object_get_ex(item, "cost", &c))
            cost[i] = json_object_get_double(c);
        if (json_object_object_get_ex(item, "savingVsCurrent", &s))
            saving[i] = json_object_get_double(s);
    }
    /* smart-meter-0 is on price-plan-0, the dearest */
    EXPECT(saving[2] == 0, "no saving against the current plan: %.17g", saving[2]);
    for (int i = 0; i < 3; i++)
        EXPECT(fabs(saving[i] - (cost[2] - cost[i])) <= 1e-9 * cost[2],
               "saving %d = current cost - cost (%.17g, %.17g)", i, saving[i], cost[2] - cost[i]);
    EXPECT(cost[0] > 0 && cost[0] < cost[1] && cost[1] < cost[2], "cheapest first");
    json_object_put(doc);
    http_response_free(&r);
}

static CU_TestInfo tests[] = {
    {"compare-all: the contract's worked example", test_compare_worked_example},
    {"compare-all: trapezoidal energy over uneven, unordered readings", test_compare_trapezoid},
    {"compare-all: the seeded meters and their accounts", test_compare_seeded_accounts},
    {"compare-all and recommend honour from/to", test_compare_range},
    {"a meter with no readings is 404", test_compare_no_readings},
    {"readings at fewer than two distinct times are 422", test_compare_one_time},
    {"invalid meter ids are 400", test_invalid_ids},
    {"recommend: cheapest first, limit", test_recommend_order_and_limit},
    {"recommend?include=savings without an account", test_recommend_savings_without_account},
    {"recommend?include=savings with an account", test_recommend_savings_with_account},
    CU_TEST_INFO_NULL,
};

int e2e_suite_price(void)
{
    return e2e_add_suite("price plans: compare-all and recommend", tests);
}
