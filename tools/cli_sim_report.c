/* cli_sim_report.c — what `cutune sim` shows of a sweep: each cell's score with its median
 * repeat and the strategy's cost, as JSON or as a table (a row per space, a column per
 * strategy), and a convergence plot per space (best-so-far against random search's exact
 * curve), drawn by gnuplot. */
#include "cli_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *sim_space_label(const char *path)
{
    char *label = malloc(strlen(path) + 1);
    if (!label)
        return NULL;
    const char *file = base_name(path), *dir = path;
    for (const char *p = path; p < file - 1; p++)
        if (*p == '/')
            dir = p + 1;
    if (file == path)
        dir = file;
    strcpy(label, dir);
    char *dot = strstr(label + (file - dir), ".json");
    if (dot)
        *dot = '\0';
    return label;
}

/* DIR/<space>.dat (the curves) and DIR/<space>.png, drawn by gnuplot. */
int sim_write_plot(const char *dir, const space_run *sp, const cell *cells, size_t ncells,
                   size_t repeats)
{
    char *label = sim_space_label(sp->path);
    for (char *c = label; c && *c; c++)
        if (*c == '/')
            *c = '-';
    size_t n = strlen(dir) + (label ? strlen(label) : 5) + 8;
    char *dest_data = malloc(n), *dest_png = malloc(n);
    cli_plot p;
    if (!label || !dest_data || !dest_png || cli_plot_begin(&p, dir, "sim")) {
        free(label);
        free(dest_data);
        free(dest_png);
        return -1;
    }
    snprintf(dest_data, n, "%s/%s.dat", dir, label);
    snprintf(dest_png, n, "%s/%s.png", dir, label);
    const char *data;
    FILE *f = cli_plot_data(&p, dest_data, &data);
    if (f) {
        fprintf(f, "# k random");
        for (size_t i = 0; i < ncells; i++)
            if (cells[i].space == sp)
                fprintf(f, " %s", cells[i].strategy);
        fprintf(f, "\n");
        for (size_t k = 1; k <= sp->budget; k++) {
            fprintf(f, "%zu %.9g", k, cutune_baseline_random(sp->base, k));
            for (size_t i = 0; i < ncells; i++)
                if (cells[i].space == sp)
                    fprintf(f, " %.9g", cells[i].best_sum[k - 1] / (double)repeats);
            fprintf(f, "\n");
        }
        cli_plot_close(&p, f);
    }
    char title[1024];
    snprintf(title, sizeof title, "best-so-far on %s (%s), mean of %zu sessions; optimum %.4g ms",
             label, cutune_cache_device(sp->cache), repeats, cutune_baseline_optimum(sp->base));
    FILE *g = p.script;
    fprintf(g, "set terminal pngcairo size 900,600 noenhanced\nset output %s\nset title %s\n",
            cli_plot_quote(&p, cli_plot_image(&p, dest_png)), cli_plot_quote(&p, title));
    /* from just under the optimum to the median: the part of the range a search moves in */
    fprintf(g, "set xlabel 'evaluations'\nset ylabel 'best time so far (ms)'\n"
               "set yrange [%.9g:%.9g]\nset key top right\nset grid\n",
            0.97 * cutune_baseline_optimum(sp->base), 1.05 * cutune_baseline_median(sp->base));
    fprintf(g, "plot %s using 1:2 with lines dashtype 2 lw 2 lc rgb 'black' title 'random "
               "(exact)'", cli_plot_quote(&p, data));
    size_t col = 3;
    for (size_t i = 0; i < ncells; i++)
        if (cells[i].space == sp)
            fprintf(g, ", '' using 1:%zu with lines lw 2 title %s", col++,
                    cli_plot_quote(&p, cells[i].strategy));
    fprintf(g, ", %.9g with lines lc rgb 'gray' title 'optimum'\n",
            cutune_baseline_optimum(sp->base));
    int drawn, rc = cli_plot_end(&p, &drawn);
    if (!rc)
        printf(drawn ? "plot: %s\n" : "plot data: %s\n", drawn ? dest_png : dest_data);
    free(label);
    free(dest_data);
    free(dest_png);
    return rc;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of the non-NaN values among n at stride apart (sorted in place); NaN if none. */
static double median_of(double *v, size_t n, size_t stride, double *scratch)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i * stride]))
            scratch[m++] = v[i * stride];
    if (m == 0)
        return NAN;
    qsort(scratch, m, sizeof *scratch, compare_double);
    return m % 2 ? scratch[m / 2] : 0.5 * (scratch[m / 2 - 1] + scratch[m / 2]);
}

/* What a sweep cell reports beyond its score: the median repeat and the strategy's cost. */
typedef struct cell_summary {
    double best_median;     /* median over repeats of the best at the budget */
    double within_5pct;     /* fraction of repeats ending within 5% of the optimum */
    double reach_5pct;      /* median evaluations to get there, over the repeats that did */
    double suggest_ms;      /* median time of one suggestion */
    double suggest_last_ms; /* median time of the last suggestion (budget - 1 observations) */
} cell_summary;

static cell_summary summarise(const cell *c, size_t repeats)
{
    const space_run *sp = c->space;
    size_t budget = sp->budget, within = 0;
    cell_summary m = {NAN, NAN, NAN, NAN, NAN};
    double *scratch = malloc(repeats * (budget + 1) * sizeof *scratch);
    if (!scratch)
        return m;
    for (size_t r = 0; r < repeats; r++)
        within += c->final_best[r] <= 1.05 * cutune_baseline_optimum(sp->base);
    m.within_5pct = within / (double)repeats;
    m.best_median = median_of((double *)c->final_best, repeats, 1, scratch);
    size_t reached = 0;
    double *got = scratch + repeats; /* past what median_of sorts in */
    for (size_t r = 0; r < repeats; r++)
        if (!isnan(c->reach_5pct[r]))
            got[reached++] = c->reach_5pct[r];
    if (reached)
        m.reach_5pct = median_of(got, reached, 1, scratch);
    m.suggest_ms = 1e3 * median_of(c->suggest_s, repeats * budget, 1, scratch);
    m.suggest_last_ms = 1e3 * median_of(c->suggest_s + budget - 1, repeats, budget, scratch);
    free(scratch);
    return m;
}

static json_t *cell_json(const cell *c, size_t repeats, double score)
{
    const space_run *sp = c->space;
    cell_summary m = summarise(c, repeats);
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, "
                          "s:f, s:f}",
                     "strategy", c->strategy, "space", sp->path, "device",
                     cutune_cache_device(sp->cache), "budget", (json_int_t)sp->budget,
                     "repeats", (json_int_t)repeats, "score", score, "optimum",
                     cutune_baseline_optimum(sp->base), "median",
                     cutune_baseline_median(sp->base), "best_mean_at_budget",
                     c->best_sum[sp->budget - 1] / (double)repeats, "best_median_at_budget",
                     m.best_median, "within_5pct", m.within_5pct, "horizon",
                     (json_int_t)cutune_baseline_horizon(sp->base), "seconds_per_session",
                     c->seconds / (double)repeats, "suggest_ms_median", m.suggest_ms,
                     "suggest_ms_last", m.suggest_last_ms);
    if (j)
        json_object_set_new(j, "evaluations_to_5pct_median",
                            isnan(m.reach_5pct) ? json_null() : json_real(m.reach_5pct));
    return j;
}

int sim_report_json(const sweep *w, const double *scores, double seconds)
{
    json_t *list = json_array();
    for (size_t i = 0; i < w->ncells; i++)
        json_array_append_new(list, cell_json(&w->cells[i], w->repeats, scores[i]));
    int rc = w->ncells == 1 ? cli_print_json(json_incref(json_array_get(list, 0)))
                            : cli_print_json(json_pack("{s:o, s:f}", "results",
                                                       json_incref(list), "seconds", seconds));
    json_decref(list);
    return rc;
}

int sim_report_table(const sweep *w, const double *scores, double seconds,
                     const space_run *spaces, size_t nspaces, const char *const *strategies,
                     size_t nstrat, int budget_given)
{
    size_t repeats = w->repeats;
    /* a row per space (names are long), a column per strategy */
    int width = 5;
    for (size_t s = 0; s < nspaces; s++)
        width = (int)strlen(spaces[s].name) > width ? (int)strlen(spaces[s].name) : width;
    printf("%-*s %6s", width, "space", "K");
    for (size_t t = 0; t < nstrat; t++)
        printf(" %8s", strategies[t]);
    printf("\n");
    for (size_t s = 0; s < nspaces; s++) {
        printf("%-*s %6zu", width, cli_text(spaces[s].name),
               cutune_baseline_horizon(spaces[s].base));
        for (size_t t = 0; t < nstrat; t++)
            printf(" %8.3f", scores[t * nspaces + s]);
        printf("\n");
    }
    printf("(%llu repeats each, budget %s; %.1f s)\n", (unsigned long long)repeats,
           budget_given ? "as given" : "K of each space", seconds);
    if (nstrat == 1 && nspaces == 1) {
        cell_summary m = summarise(&w->cells[0], repeats);
        printf("optimum %.6g ms; best at budget: mean %.6g ms, median %.6g ms, within 5%% "
               "of the optimum in %.0f%% of repeats (median evaluations to get there: "
               "%.0f)\n"
               "suggestion time: median %.3g ms, last (after %zu observations) %.3g ms\n",
               cutune_baseline_optimum(spaces[0].base),
               w->cells[0].best_sum[spaces[0].budget - 1] / (double)repeats, m.best_median,
               100 * m.within_5pct, m.reach_5pct, m.suggest_ms, spaces[0].budget - 1,
               m.suggest_last_ms);
    }
    return EXIT_OK;
}
