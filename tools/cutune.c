/* cutune.c — the command-line tool: dispatches to one function per subcommand. The library
 * does the work and never prints; this is where results and errors are written. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* NULL: not implemented yet */
    const char *planned;               /* for those: the issue that brings it */
} command;

static const command commands[] = {
    {"device", "describe the CUDA devices (limits, clocks, bandwidth, versions)", cmd_device, NULL},
    {"space", "load a search space: count, list or sample its valid configurations", cmd_space,
     NULL},
    {"occupancy", "occupancy of a launch configuration, what limits it and what would lift it",
     cmd_occupancy, NULL},
    {"check", "look a spec and its kernel over: space, launch, compile, occupancy (no GPU)",
     cmd_check, NULL},
    {"compile", "compile one configuration of a kernel with NVRTC (no GPU needed)", cmd_compile,
     NULL},
    {"tune", "tune a kernel over its search space (on a recorded space with --sim)", cmd_tune,
     NULL},
    {"sim", "score search strategies on recorded search spaces, without a GPU", cmd_sim, NULL},
    {"profiles", "list, query, import and export stored tuning profiles", cmd_profiles, NULL},
    {"bench", "benchmark tuned against untuned kernels and the hardware's limits", cmd_bench,
     NULL},
    {"pipeline", "run and measure the pinned, triple-buffered copy/compute pipeline",
     cmd_pipeline, NULL},
};
#define NUM_COMMANDS (sizeof commands / sizeof *commands)

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

static void print_usage(FILE *f)
{
    fprintf(f, "usage: cutune [--version] [--help] COMMAND [ARGS]\n\n"
               "cutune tunes CUDA kernels: it searches their launch and code parameters,\n"
               "explains the result and keeps the best configurations for run-time use.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        fprintf(f, "  %-10s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].run ? "" : " (not implemented yet)");
    fprintf(f, "\n'cutune COMMAND --help' describes a command. Exit status: 0 success, 1 the\n"
               "command failed, 2 usage error or command not implemented, 3 no CUDA device,\n"
               "130 stopped by Ctrl-C.\n");
}

static int not_implemented(const command *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: cutune %s ...\n\n%s.\n\nNot implemented yet: planned in %s.\n",
                   c->name, c->summary, c->planned);
            return EXIT_OK;
        }
    fprintf(stderr, "cutune %s: not implemented yet (planned in %s)\n", c->name, c->planned);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("cutune %s\n", cutune_version());
        return EXIT_OK;
    }
    for (size_t i = 0; i < NUM_COMMANDS; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run ? commands[i].run(argc - 1, argv + 1)
                                   : not_implemented(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "cutune: unknown command or option '%s'\n\n", name);
    print_usage(stderr);
    return EXIT_USAGE;
}
