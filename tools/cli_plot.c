/* cli_plot.c — plots drawn by gnuplot, which parses what it is given as a program: every
 * string from a file, a file name or the command line reaches it only as a single-quoted
 * literal it cannot leave, and the images and data appear whole, renamed into place. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* In gnuplot's single-quoted strings nothing is special but the quote itself, written twice
 * (no backslash escapes, no `command` substitution, no @macros). A line break would end the
 * command, so control characters become '?'. */
char *cli_plot_quote(cli_plot *p, const char *text)
{
    if (!text)
        text = "";
    size_t n = 3;
    for (const char *c = text; *c; c++)
        n += *c == '\'' ? 2 : 1;
    char *q = malloc(n), *w = q;
    char **grown = q ? realloc(p->strings, (p->nstrings + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(q);
        p->failed = 1;
        return "''";
    }
    p->strings = grown;
    p->strings[p->nstrings++] = q;
    *w++ = '\'';
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '\'')
            *w++ = '\'';
        *w++ = *c < 0x20 || *c == 0x7f ? '?' : (char)*c;
    }
    *w++ = '\'';
    *w = '\0';
    return q;
}

/* The path of the plot's own file NAME (a name cutune chose), for the script. */
static char *own_path(cli_plot *p, const char *name)
{
    size_t n = strlen(p->dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path)
        snprintf(path, n, "%s/%s", p->dir, name);
    else
        p->failed = 1;
    return path;
}

int cli_plot_begin(cli_plot *p, const char *out_dir, const char *cmd)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    struct stat sb;
    if (stat(out_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "cutune %s: %s is not a folder: no plots\n", cmd, out_dir);
        return -1;
    }
    size_t n = strlen(out_dir) + 32;
    if (!(p->dir = malloc(n)))
        return -1;
    snprintf(p->dir, n, "%s/.cutune-plot-XXXXXX", out_dir);
    if (!mkdtemp(p->dir)) {
        fprintf(stderr, "cutune %s: cannot write into %s: %s\n", cmd, out_dir, strerror(errno));
        free(p->dir);
        p->dir = NULL;
        return -1;
    }
    char *script = own_path(p, "plot.gp");
    p->script = script ? fopen(script, "w") : NULL;
    free(script);
    if (!p->script) {
        fprintf(stderr, "cutune %s: cannot write into %s: %s\n", cmd, out_dir, strerror(errno));
        rmdir(p->dir);
        free(p->dir);
        p->dir = NULL;
        return -1;
    }
    return 0;
}

/* A file of the plot's folder, to be renamed to `dest` at the end (NULL: removed); returns
 * its path there (owned by p) or NULL. */
static const char *keep(cli_plot *p, const char *ext, const char *dest)
{
    char name[32];
    snprintf(name, sizeof name, "%zu.%s", p->nfiles, ext);
    char *own = own_path(p, name), *to = dest ? strdup(dest) : NULL;
    cli_plot_file *grown = own && (to || !dest) ? realloc(p->files, (p->nfiles + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(own);
        free(to);
        p->failed = 1;
        return NULL;
    }
    p->files = grown;
    p->files[p->nfiles++] = (cli_plot_file){own, to};
    return own;
}

FILE *cli_plot_data(cli_plot *p, const char *dest, const char **path)
{
    const char *own = keep(p, "dat", dest);
    FILE *f = own ? fopen(own, "w") : NULL;
    if (!f)
        p->failed = 1;
    *path = own ? own : "";
    return f;
}

const char *cli_plot_image(cli_plot *p, const char *dest)
{
    const char *own = keep(p, "png", dest);
    return own ? own : "";
}

/* gnuplot on the script, without a shell; 0, or -1 with the reason printed, or 1 when
 * gnuplot is not installed. */
static int run_gnuplot(cli_plot *p)
{
    char *script = own_path(p, "plot.gp");
    if (!script)
        return -1;
    char *argv[] = {"gnuplot", script, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int status = -1, err = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(script);
    if (err)
        return err == ENOENT ? 1 : -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return 1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "cutune %s: gnuplot failed (%s %d)\n", p->cmd,
                WIFEXITED(status) ? "exit" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

void cli_plot_close(cli_plot *p, FILE *data)
{
    if (!data || (ferror(data) | fclose(data)) != 0)
        p->failed = 1;
}

int cli_plot_end(cli_plot *p, int *drawn)
{
    *drawn = 0;
    int rc = 0;
    if (!p->script || fclose(p->script) != 0)
        p->failed = 1;
    p->script = NULL;
    if (p->failed) {
        fprintf(stderr, "cutune %s: writing the plots' data failed: no plots\n", p->cmd);
        rc = -1;
    } else {
        int g = run_gnuplot(p);
        if (g == 1)
            fprintf(stderr, "cutune %s: gnuplot is not installed: no plots, only their data\n",
                    p->cmd);
        *drawn = g == 0;
        rc = g < 0 ? -1 : 0;
    }
    /* the data go into place, and the images once gnuplot drew them; the rest, and the
     * folder, go */
    for (size_t i = 0; i < p->nfiles; i++) {
        const char *own = p->files[i].own;
        int image = strcmp(own + strlen(own) - 4, ".png") == 0;
        if (p->files[i].dest && !p->failed && (*drawn || !image) &&
            rename(own, p->files[i].dest) != 0) {
            fprintf(stderr, "cutune %s: cannot write %s: %s\n", p->cmd, p->files[i].dest,
                    strerror(errno));
            rc = -1;
        }
        unlink(own);
        free(p->files[i].own);
        free(p->files[i].dest);
    }
    if (p->dir) {
        char *script = own_path(p, "plot.gp");
        if (script)
            unlink(script);
        free(script);
        rmdir(p->dir);
    }
    for (size_t i = 0; i < p->nstrings; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->files);
    free(p->dir);
    memset(p, 0, sizeof *p);
    return rc;
}
