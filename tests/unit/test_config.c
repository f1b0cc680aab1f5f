/*
 * test_config.c -- the plans-and-accounts file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joi/config.h"
#include "suites.h"

static struct joi_config *parse_ok(const char *s)
{
    struct joi_config *c = (struct joi_config *)1;
    struct joi_error err;
    joi_error_clear(&err);
    int rc = joi_config_parse(s, strlen(s), &c, &err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(err.status, 0);
    if (rc != 0)
        return NULL;
    CU_ASSERT_PTR_NOT_NULL(c);
    return c;
}

/* Parses s, expects a 400 whose detail contains fragment (and fragment2 when not
 * NULL), and that nothing is returned. */
static void check_rejected(const char *s, const char *fragment, const char *fragment2)
{
    struct joi_config *c = (struct joi_config *)1;
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL(joi_config_parse(s, strlen(s), &c, &err), -1);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(err.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.detail, fragment));
    if (fragment2)
        CU_ASSERT_PTR_NOT_NULL(strstr(err.detail, fragment2));
    if (strstr(err.detail, fragment) == NULL ||
        (fragment2 && strstr(err.detail, fragment2) == NULL))
        fprintf(stderr, "\n    detail was: %s\n", err.detail);
}

#define PLAN(id, rate) "{\"id\":\"" id "\",\"unitRate\":" #rate "}"
#define PLANS(...) "{\"pricePlans\":[" __VA_ARGS__ "]}"
#define RULES(...)                                                                                 \
    "{\"timezone\":\"UTC\",\"pricePlans\":[{\"id\":\"p\",\"unitRate\":1,"                          \
    "\"peakTimeMultipliers\":[" __VA_ARGS__ "]}]}"

static void test_default_file(void)
{
    size_t len = 0;
    char *doc = test_read_source_file("redis/plans.json", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    struct joi_config *c = NULL;
    struct joi_error err;
    joi_error_clear(&err);
    CU_ASSERT_EQUAL_FATAL(joi_config_parse(doc, len, &c, &err), 0);
    free(doc);
    CU_ASSERT_STRING_EQUAL(c->timezone, "UTC");
    CU_ASSERT_EQUAL(c->max_gap, 0);
    CU_ASSERT_EQUAL_FATAL(c->nplans, 3);
    CU_ASSERT_STRING_EQUAL(c->plans[0].id, "price-plan-0");
    CU_ASSERT_STRING_EQUAL(c->plans[0].supplier, "Dr Evil's Dark Energy");
    CU_ASSERT(c->plans[0].unit_rate == 10.0);
    CU_ASSERT_STRING_EQUAL(c->plans[1].id, "price-plan-1");
    CU_ASSERT_STRING_EQUAL(c->plans[1].supplier, "The Green Eco");
    CU_ASSERT(c->plans[1].unit_rate == 2.0);
    CU_ASSERT_STRING_EQUAL(c->plans[2].id, "price-plan-2");
    CU_ASSERT_STRING_EQUAL(c->plans[2].supplier, "Power for Everyone");
    CU_ASSERT(c->plans[2].unit_rate == 1.0);
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(c->plans[i].nrules, 0);
        CU_ASSERT(c->plans[i].standing_charge == 0.0);
        CU_ASSERT_PTR_NULL(c->plans[i].timezone);
        CU_ASSERT_STRING_EQUAL(joi_config_plan_tz(c, &c->plans[i]), "UTC");
    }
    CU_ASSERT_EQUAL_FATAL(c->naccounts, 5);
    for (size_t i = 0; i < 5; i++) {
        char meter[32];
        snprintf(meter, sizeof meter, "smart-meter-%zu", i);
        CU_ASSERT_STRING_EQUAL(c->accounts[i].meter, meter);
    }
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "smart-meter-0"), &c->plans[0]);
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "smart-meter-1"), &c->plans[1]);
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "smart-meter-2"), &c->plans[0]);
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "smart-meter-3"), &c->plans[2]);
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "smart-meter-4"), &c->plans[1]);
    CU_ASSERT_PTR_NULL(joi_config_account(c, "smart-meter-5"));
    CU_ASSERT_PTR_NULL(joi_config_account(c, "smart-meter"));
    CU_ASSERT_PTR_NULL(joi_config_account(c, ""));
    joi_config_free(c);
    joi_config_free(NULL);
}

static void test_plans_sorted_by_id(void)
{
    struct joi_config *c = parse_ok("{\"pricePlans\":[" PLAN("zeta", 3) "," PLAN(
        "alpha", 1) "," PLAN("Mid", 2) "],\"accounts\":{\"m2\":\"zeta\",\"m1\":\"alpha\"}}");
    if (c == NULL)
        return;
    CU_ASSERT_EQUAL_FATAL(c->nplans, 3);
    CU_ASSERT_STRING_EQUAL(c->plans[0].id, "Mid");
    CU_ASSERT_STRING_EQUAL(c->plans[1].id, "alpha");
    CU_ASSERT_STRING_EQUAL(c->plans[2].id, "zeta");
    CU_ASSERT(c->plans[2].unit_rate == 3.0);
    CU_ASSERT_STRING_EQUAL(c->plans[0].supplier, "");
    CU_ASSERT_STRING_EQUAL(c->timezone, "UTC");
    CU_ASSERT_EQUAL_FATAL(c->naccounts, 2);
    CU_ASSERT_STRING_EQUAL(c->accounts[0].meter, "m1");
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "m1"), &c->plans[1]);
    CU_ASSERT_PTR_EQUAL(joi_config_account(c, "m2"), &c->plans[2]);
    joi_config_free(c);
}

static void test_no_accounts(void)
{
    struct joi_config *c = parse_ok(PLANS(PLAN("p", 0.5)));
    if (c == NULL)
        return;
    CU_ASSERT_EQUAL(c->naccounts, 0);
    CU_ASSERT(c->plans[0].unit_rate == 0.5);
    CU_ASSERT_PTR_NULL(joi_config_account(c, "smart-meter-0"));
    joi_config_free(c);
}

static void test_rejections(void)
{
    check_rejected("{\"pricePlans\":[" PLAN("a", 1) "],\"accounts\":{\"smart-meter-0\":\"b\"}}",
                   "unknown plan", "smart-meter-0");
    check_rejected("{\"pricePlans\":[" PLAN("a", 1) "],\"accounts\":{\"smart-meter-0\":7}}",
                   "unknown plan", NULL);
    check_rejected("{\"pricePlans\":[" PLAN("a", 1) "],\"accounts\":{\"bad/meter\":\"a\"}}",
                   "bad/meter", "not a valid meter id");
    check_rejected(PLANS(PLAN("a", 1) "," PLAN("b", 2) "," PLAN("a", 3)), "duplicate plan id a",
                   NULL);
    check_rejected(PLANS(PLAN("a", -1)), "unitRate", "(a)");
    /* A misspelt key would make the rule cover every day. */
    check_rejected(RULES("{\"dayofweek\":\"WEDNESDAY\",\"multiplier\":10}"),
                   "unknown key dayofweek", "peakTimeMultipliers[0]");
    check_rejected(PLANS(PLAN("a", "1")), "unitRate", NULL);
    check_rejected(PLANS("{\"id\":\"a\"}"), "unitRate", NULL);
    check_rejected(PLANS("{\"id\":\"a\",\"unitRate\":1,\"standingCharge\":-0.5}"), "standingCharge",
                   NULL);
    check_rejected(RULES("{\"multiplier\":-2}"), "multiplier", "peakTimeMultipliers[0]");
    check_rejected(RULES("{\"dayOfWeek\":\"MONDAY\"}"), "multiplier", NULL);
    check_rejected(RULES("{\"dayOfWeek\":\"MONDAY\",\"multiplier\":2},"
                         "{\"dayOfWeek\":\"FUNDAY\",\"multiplier\":2}"),
                   "dayOfWeek", "peakTimeMultipliers[1]");
    check_rejected(RULES("{\"dayOfWeek\":\"monday\",\"multiplier\":2}"), "dayOfWeek", NULL);
    check_rejected(RULES("{\"days\":[\"MONDAY\",\"FUNDAY\"],\"multiplier\":2}"), "days[1]", NULL);
    check_rejected(RULES("{\"days\":[],\"multiplier\":2}"), "days", NULL);
    check_rejected(RULES("{\"dayOfWeek\":\"MONDAY\",\"days\":[\"MONDAY\"],\"multiplier\":2}"),
                   "dayOfWeek", "days");
    check_rejected(RULES("{\"from\":\"25:00\",\"to\":\"07:00\",\"multiplier\":2}"), "from", NULL);
    check_rejected(RULES("{\"from\":\"7:00\",\"to\":\"09:00\",\"multiplier\":2}"), "from", NULL);
    check_rejected(RULES("{\"from\":\"07:00\",\"to\":\"24:00\",\"multiplier\":2}"), "to", NULL);
    check_rejected(RULES("{\"from\":\"07:60\",\"to\":\"09:00\",\"multiplier\":2}"), "from", NULL);
    check_rejected(RULES("{\"from\":\"07:00\",\"to\":\"9:00\",\"multiplier\":2}"), "to", NULL);
    check_rejected(RULES("{\"from\":\"07-00\",\"to\":\"09:00\",\"multiplier\":2}"), "from", NULL);
    check_rejected(RULES("{\"from\":\"07:00\",\"multiplier\":2}"), "from and to", NULL);
    check_rejected(RULES("{\"to\":\"07:00\",\"multiplier\":2}"), "from and to", NULL);
    check_rejected("{\"timezone\":\"Mars/Base\",\"pricePlans\":[" PLAN("a", 1) "]}", "timezone",
                   NULL);
    check_rejected("{\"timezone\":\"../../etc/passwd\",\"pricePlans\":[" PLAN("a", 1) "]}",
                   "timezone", NULL);
    check_rejected("{\"timezone\":\"/etc/localtime\",\"pricePlans\":[" PLAN("a", 1) "]}",
                   "timezone", NULL);
    check_rejected(PLANS("{\"id\":\"a\",\"unitRate\":1,\"timezone\":\"Mars/Base\"}"), "timezone",
                   "(a)");
    check_rejected("{\"pricePlans\":[]}", "pricePlans", NULL);
    check_rejected("{\"accounts\":{}}", "pricePlans", NULL);
    check_rejected("[]", "object", NULL);
    check_rejected(PLANS("{\"id\":\"a b\",\"unitRate\":1}"), "id", NULL);
    check_rejected("{\"maxGapSeconds\":0,\"pricePlans\":[" PLAN("a", 1) "]}", "maxGapSeconds",
                   NULL);
    check_rejected("{\"maxGapSeconds\":1.5,\"pricePlans\":[" PLAN("a", 1) "]}", "maxGapSeconds",
                   NULL);
    check_rejected("{\"pricePlans\":[" PLAN("a", 1) "]", "malformed JSON", NULL);
}

static void test_window_rules(void)
{
    struct joi_config *c =
        parse_ok(RULES("{\"multiplier\":2},"
                       "{\"dayOfWeek\":\"WEDNESDAY\",\"multiplier\":10},"
                       "{\"days\":[\"MONDAY\",\"FRIDAY\",\"SUNDAY\"],\"from\":\"16:00\","
                       "\"to\":\"19:00\",\"multiplier\":1.5},"
                       "{\"from\":\"23:30\",\"to\":\"07:30\",\"multiplier\":0.5},"
                       "{\"from\":\"00:00\",\"to\":\"00:00\",\"multiplier\":3},"
                       "{\"from\":\"07:15\",\"to\":\"07:15\",\"multiplier\":4},"
                       "{\"from\":\"23:59\",\"to\":\"00:00\",\"multiplier\":0}"));
    if (c == NULL)
        return;
    CU_ASSERT_EQUAL_FATAL(c->nplans, 1);
    const struct joi_plan *p = &c->plans[0];
    CU_ASSERT_EQUAL_FATAL(p->nrules, 7);
    const struct joi_rule *r = p->rules;
    /* days optional: every day, whole day */
    CU_ASSERT_EQUAL(r[0].days, 0x7fu);
    CU_ASSERT_EQUAL(r[0].from_min, 0);
    CU_ASSERT_EQUAL(r[0].length_min, 1440);
    CU_ASSERT(r[0].multiplier == 2.0);
    /* dayOfWeek form: Monday = bit 0 */
    CU_ASSERT_EQUAL(r[1].days, 1u << 2);
    CU_ASSERT_EQUAL(r[1].from_min, 0);
    CU_ASSERT_EQUAL(r[1].length_min, 1440);
    CU_ASSERT(r[1].multiplier == 10.0);
    CU_ASSERT_EQUAL(r[2].days, (1u << 0) | (1u << 4) | (1u << 6));
    CU_ASSERT_EQUAL(r[2].from_min, 960);
    CU_ASSERT_EQUAL(r[2].length_min, 180);
    CU_ASSERT(r[2].multiplier == 1.5);
    /* past midnight: 23:30 to 07:30 the next morning is 8 hours */
    CU_ASSERT_EQUAL(r[3].days, 0x7fu);
    CU_ASSERT_EQUAL(r[3].from_min, 1410);
    CU_ASSERT_EQUAL(r[3].length_min, 480);
    /* from == to: the whole day from that time */
    CU_ASSERT_EQUAL(r[4].from_min, 0);
    CU_ASSERT_EQUAL(r[4].length_min, 1440);
    CU_ASSERT_EQUAL(r[5].from_min, 435);
    CU_ASSERT_EQUAL(r[5].length_min, 1440);
    CU_ASSERT_EQUAL(r[6].from_min, 1439);
    CU_ASSERT_EQUAL(r[6].length_min, 1);
    CU_ASSERT(r[6].multiplier == 0.0);
    joi_config_free(c);
}

static void test_timezones(void)
{
    struct joi_config *c = parse_ok(
        "{\"timezone\":\"Europe/London\",\"maxGapSeconds\":3600,\"pricePlans\":["
        "{\"id\":\"ny\",\"unitRate\":1,\"timezone\":\"America/New_York\",\"standingCharge\":0.25},"
        "{\"id\":\"uk\",\"unitRate\":1,\"peakTimeMultipliers\":null}]}");
    if (c == NULL)
        return;
    CU_ASSERT_STRING_EQUAL(c->timezone, "Europe/London");
    CU_ASSERT_EQUAL(c->max_gap, 3600);
    CU_ASSERT_EQUAL_FATAL(c->nplans, 2);
    CU_ASSERT_STRING_EQUAL(c->plans[0].id, "ny");
    CU_ASSERT_STRING_EQUAL(c->plans[0].timezone, "America/New_York");
    CU_ASSERT_STRING_EQUAL(joi_config_plan_tz(c, &c->plans[0]), "America/New_York");
    CU_ASSERT(c->plans[0].standing_charge == 0.25);
    CU_ASSERT_PTR_NULL(c->plans[1].timezone);
    CU_ASSERT_STRING_EQUAL(joi_config_plan_tz(c, &c->plans[1]), "Europe/London");
    CU_ASSERT_EQUAL(c->plans[1].nrules, 0);
    joi_config_free(c);
}

static void test_tz_valid(void)
{
    CU_ASSERT_EQUAL(joi_config_tz_valid("UTC"), 1);
    CU_ASSERT_EQUAL(joi_config_tz_valid("Europe/London"), 1);
    CU_ASSERT_EQUAL(joi_config_tz_valid("America/New_York"), 1);
    CU_ASSERT_EQUAL(joi_config_tz_valid("Mars/Base"), 0);
    CU_ASSERT_EQUAL(joi_config_tz_valid(""), 0);
    CU_ASSERT_EQUAL(joi_config_tz_valid("/etc/passwd"), 0);
    CU_ASSERT_EQUAL(joi_config_tz_valid("Europe/../../../etc/passwd"), 0);
    CU_ASSERT_EQUAL(joi_config_tz_valid("Europe/London "), 0);
    CU_ASSERT_EQUAL(joi_config_tz_valid("Europe"), 0);
}

void add_config_suite(void)
{
    static const struct test_case tests[] = {
        {"default plans file", test_default_file}, {"plans sorted by id", test_plans_sorted_by_id},
        {"no accounts", test_no_accounts},         {"rejections name the fault", test_rejections},
        {"window rules", test_window_rules},       {"time zones and maxGapSeconds", test_timezones},
        {"time zone names", test_tz_valid},        {NULL, NULL},
    };
    test_add_suite("config", tests);
}
