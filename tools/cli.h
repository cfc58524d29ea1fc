/* cli.h — what the subcommands of the cutune CLI share: exit codes, option-parsing helpers
 * and JSON output (cli.c), files written whole (cli_file.c) and plots (cli_plot.c). */
#ifndef CUTUNE_CLI_H
#define CUTUNE_CLI_H

#include "cutune.h"

#include <jansson.h>
#include <stdio.h>

enum cli_exit {
    EXIT_OK = 0,
    EXIT_FAILED = 1,   /* the command ran and failed (bad spec, I/O error, ...) */
    EXIT_USAGE = 2,    /* bad command line, or a subcommand not implemented yet */
    EXIT_NO_DEVICE = 3,    /* no CUDA device (or driver) on this machine */
    EXIT_INTERRUPTED = 130 /* stopped by Ctrl-C, after reporting what it had (128 + SIGINT) */
};

/* Reports a failed library call as "cutune CMD: <message>" on stderr; returns EXIT_NO_DEVICE
 * for CUTUNE_ENODEVICE, else EXIT_FAILED. */
int cli_fail(const char *cmd, int status);
/* Prints what the spec loader let pass (cutune_space_warning) on stderr, "warning: ..." a
 * line. */
void cli_print_warnings(const cutune_space *space);
/* Prints "cutune CMD: <what>" and a pointer to --help on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...);
/* Parses a non-negative integer option; 0 on success. */
int cli_parse_u64(const char *cmd, const char *opt, const char *text, unsigned long long *out);
/* The same, which must also lie in [lo, hi] ("OPT must be LO to HI"). */
int cli_parse_u64_in(const char *cmd, const char *opt, const char *text, unsigned long long lo,
                     unsigned long long hi, unsigned long long *out);
/* A problem size "X[,Y[,Z]]" (positive; unused dimensions 1); -1 when malformed. */
int cli_parse_problem(const char *text, int64_t problem[3]);
/* qsort's comparison of doubles, ascending. */
int cli_cmp_double(const void *a, const void *b);
/* The p-th percentile (nearest rank) of n sorted values; NaN when n is 0. */
double cli_percentile(const double *sorted, size_t n, double p);
/* An empty profile store in a temporary folder (the baseline: every kernel's defaults);
 * dir (32 bytes) receives the folder, which cli_temp_store_close removes with the store. */
int cli_temp_store_open(cutune_store **out, char dir[32]);
void cli_temp_store_close(cutune_store *store, const char dir[32]);
/* `text` (a name from a file or a store) as it may be shown on a terminal: control characters,
 * which a terminal would act on, become '?'. One of 8 buffers in turn, so that a printf may
 * take several; long texts are cut at 1 KiB. */
const char *cli_text(const char *text);
/* NVRTC's log on stderr, each line indented: with warnings_only, only what the compiler
 * said (its warnings and the lines they show; nothing when there are none), else also
 * the errors; never ptxas's report. */
void cli_print_compiler_log(const char *log, int warnings_only);
/* Writes `j` to stdout (indented) and releases it. */
int cli_print_json(json_t *j);

/* A file written whole or not at all (cli_file.c): cli_file_open makes a temporary file
 * beside `path` (which must outlive it), cli_file_commit renames it over `path` once all is
 * written and flushed, cli_file_abort removes it. Each returns 0, or -1 with the reason printed
 * as "cutune CMD: ...". */
typedef struct cli_file {
    FILE *f;
    const char *path;
    char *tmp;
} cli_file;
int cli_file_open(cli_file *out, const char *path, const char *cmd);
int cli_file_commit(cli_file *file, const char *cmd);
void cli_file_abort(cli_file *file);
int cli_file_write(const char *path, const void *data, size_t size, const char *cmd);
/* mkdir -p: 0, or -1 with the reason printed. */
int cli_make_dir(const char *path, const char *cmd);

/* Plots (cli_plot.c): a gnuplot script and its data in a folder of their own inside the
 * output folder; each data file and image is renamed to its destination when the plot ends.
 * Strings reach the script only through cli_plot_quote. */
typedef struct cli_plot_file {
    char *own, *dest;
} cli_plot_file;
typedef struct cli_plot {
    const char *cmd;
    char *dir;    /* the plot's own folder */
    FILE *script; /* write the gnuplot commands here */
    cli_plot_file *files;
    size_t nfiles;
    char **strings; /* what cli_plot_quote made */
    size_t nstrings;
    int failed;
} cli_plot;
int cli_plot_begin(cli_plot *p, const char *out_dir, const char *cmd);
/* A gnuplot string literal of `text` that nothing in it can end early (owned by p). */
char *cli_plot_quote(cli_plot *p, const char *text);
/* A data file to become `dest` (NULL: removed at the end): write it and give it to
 * cli_plot_close; *path is its name for the script (quote it). */
FILE *cli_plot_data(cli_plot *p, const char *dest, const char **path);
void cli_plot_close(cli_plot *p, FILE *data);
/* The file the next image goes to, for "set output" (quote it); it becomes `dest`. */
const char *cli_plot_image(cli_plot *p, const char *dest);
/* Draws, moves what was made into place and removes the rest; *drawn says whether gnuplot
 * drew the images. 0, or -1 when something failed (said on stderr); a missing gnuplot is
 * said and is not a failure. */
int cli_plot_end(cli_plot *p, int *drawn);

/* The subcommands (cutune.c dispatches): tools/cli_NAME.c, and the lab's `bench` and
 * `pipeline` (bench/harness/cli_bench.c, bench/pipeline/cli_pipeline.c). */
int cmd_space(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_occupancy(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
