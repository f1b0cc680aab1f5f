/*
 * error.c -- errors as values (see joi/error.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "joi/error.h"

void joi_error_clear(struct joi_error *err)
{
    if (err == NULL)
        return;
    err->status = 0;
    err->detail[0] = '\0';
    err->pointer[0] = '\0';
    err->has_pointer = 0;
}

static void error_vset(struct joi_error *err, int status, const char *fmt, va_list ap)
{
    err->status = status;
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    err->pointer[0] = '\0';
    err->has_pointer = 0;
}

int joi_error_set(struct joi_error *err, int status, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, status, fmt, ap);
    va_end(ap);
    return -1;
}

int joi_error_set_at(struct joi_error *err, int status, const char *pointer, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, status, fmt, ap);
    va_end(ap);
    snprintf(err->pointer, sizeof err->pointer, "%s", pointer);
    err->has_pointer = 1;
    return -1;
}

const char *joi_error_title(int status)
{
    /* Every 4xx and 5xx of RFC 9110, with 429 and 431 (RFC 6585): lighttpd hands
     * the error handler whatever status it decided, and a client reads the
     * reason from the title. */
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 421:
        return "Misdirected Request";
    case 422:
        return "Unprocessable Content";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}
