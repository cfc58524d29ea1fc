/* status.c — status codes, the per-thread error message behind cutune_last_error(), and a
 * few helpers every file uses. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *cutune_strerror(int status)
{
    switch (status) {
#define CUTUNE_STATUS_TEXT_(name, code, text) \
    case code:                                \
        return text;
        CUTUNE_STATUS_TABLE(CUTUNE_STATUS_TEXT_)
#undef CUTUNE_STATUS_TEXT_
    }
    return "unknown status";
}

const char *cutune_last_error(void) { return last_error; }

const char *cutune_version(void) { return CUTUNE_VERSION_STRING; }

int ct_vfail(int status, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return status;
}

int ct_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ct_vfail(status, fmt, ap);
    va_end(ap);
    return status;
}

int cutune_set_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ct_vfail(status, fmt ? fmt : "", ap);
    va_end(ap);
    return status;
}

int ct_wrap(int status, const char *fmt, ...)
{
    char old[sizeof last_error];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - (size_t)n, ": %s", old);
    return status;
}

char *ct_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        ct_fail(CUTUNE_ENOMEM, "out of memory copying a %zu-byte string", n);
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

int ct_format_double(double v, char *buf, size_t size)
{
    if (isnan(v))
        return snprintf(buf, size, "nan");
    if (isinf(v))
        return snprintf(buf, size, v < 0 ? "-inf" : "inf");
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* Python writes 1e+16 as 1e+16 but 100.0 as 100.0: add ".0" to plain integers. */
    if (!strpbrk(tmp, ".eEn"))
        strcat(tmp, ".0");
    return snprintf(buf, size, "%s", tmp);
}

#define EXCERPT_WIDTH 60 /* characters shown of a long text */
#define EXCERPT_BEFORE 20 /* of them before the column: what is wrong starts there */
#define EXCERPT_SLACK 10  /* a cut that would leave out fewer characters than this is not made */

const char *ct_excerpt(const char *src, int col, char *buf, size_t size)
{
    size_t len = strlen(src), start = 0, end = len;
    if (len > EXCERPT_WIDTH + 2 * EXCERPT_SLACK) {
        size_t at = col > 0 && (size_t)col <= len ? (size_t)col - 1 : len;
        start = at > EXCERPT_BEFORE ? at - EXCERPT_BEFORE : 0;
        end = start + EXCERPT_WIDTH < len ? start + EXCERPT_WIDTH : len;
        start = end - start < EXCERPT_WIDTH ? end - EXCERPT_WIDTH : start;
        start = start <= EXCERPT_SLACK ? 0 : start;
        end = len - end <= EXCERPT_SLACK ? len : end;
        /* never cut inside a UTF-8 sequence */
        while (start > 0 && ((unsigned char)src[start] & 0xC0) == 0x80)
            start--;
        while (end < len && ((unsigned char)src[end] & 0xC0) == 0x80)
            end++;
    }
    snprintf(buf, size, "%s%.*s%s", start ? "..." : "", (int)(end - start), src + start,
             end < len ? "..." : "");
    return buf;
}
