/* cli.c — what the subcommands share (cli.h): messages and exit statuses, option parsing,
 * percentiles, a throw-away profile store, text safe for a terminal, NVRTC's log and JSON
 * output. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cli_percentile(const double *sorted, size_t n, double p)
{
    if (!n)
        return NAN;
    long k = (long)ceil(p / 100.0 * (double)n) - 1;
    return sorted[k < 0 ? 0 : (size_t)k >= n ? n - 1 : (size_t)k];
}

int cli_temp_store_open(cutune_store **out, char dir[32])
{
    snprintf(dir, 32, "/tmp/cutune-empty-XXXXXX");
    if (!mkdtemp(dir))
        return cutune_set_error(CUTUNE_EIO, "cannot make a temporary folder for the baseline "
                                "store in /tmp: %s", strerror(errno));
    char path[64];
    snprintf(path, sizeof path, "%s/profiles.db", dir);
    int st = cutune_store_open(out, path, 0);
    if (st) /* what the failed open left, and the folder */
        cli_temp_store_close(NULL, dir);
    return st;
}

void cli_temp_store_close(cutune_store *store, const char dir[32])
{
    cutune_store_free(store);
    static const char *const files[] = {"profiles.db", "profiles.db-wal", "profiles.db-shm"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char f[64];
        snprintf(f, sizeof f, "%s/%s", dir, files[i]);
        unlink(f);
    }
    rmdir(dir);
}

const char *cli_text(const char *text)
{
    static char ring[8][1024];
    static unsigned next;
    char *out = ring[next++ % 8];
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)(text ? text : ""); *c && n < 1023; c++)
        out[n++] = *c < 0x20 || *c == 0x7f ? '?' : (char)*c;
    out[n] = '\0';
    return out;
}

int cli_fail(const char *cmd, int status)
{
    const char *msg = cutune_last_error();
    fprintf(stderr, "cutune %s: %s\n", cmd, *msg ? msg : cutune_strerror(status));
    return status == CUTUNE_ENODEVICE ? EXIT_NO_DEVICE : EXIT_FAILED;
}

void cli_print_warnings(const cutune_space *space)
{
    for (size_t i = 0; i < cutune_space_num_warnings(space); i++)
        fprintf(stderr, "warning: %s\n", cli_text(cutune_space_warning(space, i)));
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cutune %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'cutune %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!text || *text == '-' || *text == '\0' || (*out = strtoull(text, &end, 10), errno) ||
        *end) {
        cli_usage_error(cmd, "%s needs a non-negative integer, not '%s'", opt, text ? text : "");
        return -1;
    }
    return 0;
}

int cli_parse_u64_in(const char *cmd, const char *opt, const char *text, unsigned long long lo,
                     unsigned long long hi, unsigned long long *out)
{
    if (cli_parse_u64(cmd, opt, text, out))
        return -1;
    if (*out < lo || *out > hi) {
        cli_usage_error(cmd, "%s must be %llu to %llu, not '%s'", opt, lo, hi, text);
        return -1;
    }
    return 0;
}

/* Problem sizes "X[,Y[,Z]]". */
int cli_parse_problem(const char *text, int64_t problem[3])
{
    problem[0] = problem[1] = problem[2] = 1;
    const char *p = text;
    for (int d = 0; d < 3; d++) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v <= 0)
            return -1;
        problem[d] = v;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -1;
        p = end + 1;
    }
    return -1;
}

int cli_print_json(json_t *j)
{
    if (!j) {
        fprintf(stderr, "cutune: out of memory building JSON output\n");
        return EXIT_FAILED;
    }
    int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) == 0 ? EXIT_OK
                                                                                 : EXIT_FAILED;
    putchar('\n');
    json_decref(j);
    return rc;
}

void cli_print_compiler_log(const char *log, int warnings_only)
{
    char *lines = NULL;
    if (cutune_compiler_messages(log, warnings_only, &lines) || !lines)
        return;
    fprintf(stderr, "%s", warnings_only ? "NVRTC's warnings:\n" : "NVRTC's log:\n");
    for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "  %s\n", cli_text(line));
    free(lines);
}
