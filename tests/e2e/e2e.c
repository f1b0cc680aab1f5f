/*
 * e2e.c -- shared helpers of the end-to-end suites (see e2e.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json_pointer.h>

#include "e2e.h"

void e2e_check(int ok, const char *file, unsigned line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "", CU_FALSE);
}

const char E2E_ANY[] = "(any)";

int e2e_add_suite(const char *name, CU_TestInfo *tests)
{
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (s == NULL)
        return -1;
    for (CU_TestInfo *t = tests; t->pName != NULL; t++)
        if (CU_add_test(s, t->pName, t->pTestFunc) == NULL)
            return -1;
    return 0;
}

void e2e_meter(char *out, const char *name)
{
    snprintf(out, E2E_ID_SIZE, "e2e-%s-%ld", name, (long)getpid());
}

char *e2e_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s == NULL) {
        fprintf(stderr, "e2e: out of memory\n");
        abort();
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

struct json_object *e2e_json(const struct http_response *r)
{
    if (r->body == NULL)
        return NULL;
    struct json_tokener *tok = json_tokener_new();
    if (tok == NULL)
        return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, r->body, (int)r->body_len + 1);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) < r->body_len) {
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    return o;
}

const char *e2e_json_at(struct json_object *doc, const char *path)
{
    struct json_object *v = NULL;
    if (doc == NULL || json_pointer_get(doc, path, &v) != 0)
        return NULL;
    if (v == NULL)
        return "null";
    return json_object_to_json_string_ext(v,
                                          JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

long e2e_store(const char *meter, const char *readings)
{
    char *body =
        e2e_strf("{\"smartMeterId\":\"%s\",\"electricityReadings\":[%s]}", meter, readings);
    struct http_response r;
    http_post_json("/readings/store", body, &r);
    long status = r.status;
    if (status != 200)
        fprintf(stderr, "\ne2e: storing for %s: %ld %s\n", meter, status, r.body);
    http_response_free(&r);
    free(body);
    return status;
}

/* Appends s to the command in single quotes. */
static void shell_quote(char *cmd, size_t cap, const char *s)
{
    size_t n = strlen(cmd);
    if (n + 1 < cap)
        cmd[n++] = '\'';
    for (; *s && n + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(cmd + n, "'\\''", 4);
            n += 4;
        } else {
            cmd[n++] = *s;
        }
    }
    if (n + 1 < cap)
        cmd[n++] = '\'';
    cmd[n] = '\0';
}

int e2e_admin(char *out, size_t outlen, const char *arg, ...)
{
    const char *admin = getenv("JOI_ADMIN");
    if (admin == NULL || *admin == '\0') {
        snprintf(out, outlen, "JOI_ADMIN is not set");
        return -1;
    }
    char cmd[4096] = "";
    shell_quote(cmd, sizeof cmd, admin);
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
        strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
        shell_quote(cmd, sizeof cmd, a);
    }
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        snprintf(out, outlen, "cannot run %s", cmd);
        return -1;
    }
    size_t len = 0;
    char chunk[512];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, p)) > 0) {
        size_t take = got < outlen - 1 - len ? got : outlen - 1 - len;
        memcpy(out + len, chunk, take);
        len += take;
    }
    out[len] = '\0';
    int status = pclose(p);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void e2e_var_path(char *out, size_t outlen, const char *name)
{
    const char *var = getenv("JOI_VAR");
    snprintf(out, outlen, "%s/%s", var ? var : "/tmp", name);
}

void e2e_root_path(char *out, size_t outlen, const char *name)
{
    const char *root = getenv("JOI_ROOT");
    snprintf(out, outlen, "%s/%s", root ? root : ".", name);
}

int e2e_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Assertions                                                                */
/* ------------------------------------------------------------------------ */

/* The first bytes of a body, for messages. */
static const char *shown(const struct http_response *r)
{
    return r->body ? r->body : "(none)";
}

void e2e_expect_status(const struct http_response *r, long status, const char *file, unsigned line)
{
    e2e_check(r->status == status, file, line, "status %ld, expected %ld%s%s; body: %.400s",
              r->status, status, r->error[0] ? "; " : "", r->error, shown(r));
}

void e2e_expect_json(const struct http_response *r, long status, const char *body, const char *file,
                     unsigned line)
{
    e2e_expect_status(r, status, file, line);
    e2e_expect_str("Content-Type", r->content_type, TYPE_JSON, file, line);
    e2e_expect_str("body", r->body, body, file, line);
}

void e2e_expect_str(const char *what, const char *actual, const char *expected, const char *file,
                    unsigned line)
{
    int ok = (actual == NULL && expected == NULL) ||
             (actual != NULL && expected != NULL && strcmp(actual, expected) == 0);
    e2e_check(ok, file, line, "%s: got %.450s, expected %.450s", what, actual ? actual : "(absent)",
              expected ? expected : "(absent)");
}

void e2e_expect_at(struct json_object *doc, const char *path, const char *text, const char *file,
                   unsigned line)
{
    char what[160];
    snprintf(what, sizeof what, "JSON at %s", path);
    e2e_expect_str(what, doc ? e2e_json_at(doc, path) : "(no JSON document)", text, file, line);
}

static const char *title_of(long status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 503:
        return "Service Unavailable";
    default:
        return "?";
    }
}

void e2e_expect_problem(const struct http_response *r, long status, const char *pointer,
                        const char *parameter, const char *file, unsigned line)
{
    e2e_expect_status(r, status, file, line);
    e2e_expect_str("Content-Type", r->content_type, TYPE_PROBLEM, file, line);
    struct json_object *doc = e2e_json(r);
    e2e_check(doc != NULL && json_object_is_type(doc, json_type_object), file, line,
              "problem body is a JSON object: %.400s", shown(r));
    if (doc == NULL)
        return;
    char text[160];
    e2e_expect_at(doc, "/type", "\"about:blank\"", file, line);
    snprintf(text, sizeof text, "\"%s\"", title_of(status));
    e2e_expect_at(doc, "/title", text, file, line);
    snprintf(text, sizeof text, "%ld", status);
    e2e_expect_at(doc, "/status", text, file, line);
    struct json_object *detail = NULL;
    e2e_check(json_object_object_get_ex(doc, "detail", &detail) &&
                  json_object_is_type(detail, json_type_string) &&
                  json_object_get_string_len(detail) > 0,
              file, line, "problem detail is a non-empty string: %.400s", shown(r));
    char *want = NULL;
    if (pointer != E2E_ANY) {
        if (pointer)
            want = e2e_strf("\"%s\"", pointer);
        e2e_expect_at(doc, "/pointer", want, file, line);
        free(want);
        want = NULL;
    }
    if (parameter)
        want = e2e_strf("\"%s\"", parameter);
    e2e_expect_at(doc, "/parameter", want, file, line);
    free(want);
    json_object_put(doc);
}

void e2e_expect_read(const char *meter, const char *body, const char *file, unsigned line)
{
    char path[128];
    snprintf(path, sizeof path, "/readings/read/%s", meter);
    struct http_response r;
    http_get(path, &r);
    if (body != NULL)
        e2e_expect_json(&r, 200, body, file, line);
    else
        e2e_expect_problem(&r, 404, NULL, NULL, file, line);
    http_response_free(&r);
}

void e2e_plans_load(const char *doc, const char *name)
{
    char path[512], out[1024];
    e2e_var_path(path, sizeof path, name);
    EXPECT(e2e_write_file(path, doc) == 0, "writing %s", path);
    int rc = e2e_admin(out, sizeof out, "load-config", path, NULL);
    EXPECT(rc == 0, "joi-admin load-config: exit %d: %s", rc, out);
}

void e2e_plans_restore(void)
{
    char path[512], out[1024];
    e2e_root_path(path, sizeof path, "redis/plans.json");
    int rc = e2e_admin(out, sizeof out, "load-config", path, NULL);
    EXPECT(rc == 0, "restoring the default plans: exit %d: %s", rc, out);
}
