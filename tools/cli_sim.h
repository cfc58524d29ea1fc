/* cli_sim.h — `cutune sim` in four files: cli_sim.c (its options and its steps),
 * cli_sim_sweep.c (sessions of each strategy on each space, on threads), cli_sim_report.c
 * (the scores as a table or JSON, and convergence plots) and cli_sim_trace.c (another
 * tuner's trace scored the same way). */
#ifndef CUTUNE_CLI_SIM_H
#define CUTUNE_CLI_SIM_H

#include "cli.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

typedef struct space_run {
    const char *path, *name;
    cutune_cache *cache;
    cutune_baseline *base;
    size_t budget;
} space_run;

typedef struct cell {          /* one strategy on one space */
    const char *strategy;
    space_run *space;
    double *best_sum;          /* sum over repeats of best-so-far at k = 1..budget */
    double *final_best;        /* best at the budget, by repeat */
    double *reach_5pct;        /* evaluations until within 5% of the optimum, by repeat (NaN:
                                  never, within the budget) */
    double *suggest_s;         /* seconds each suggestion took, repeat * budget + k - 1 */
    double seconds;
    int status;
    pthread_mutex_t lock;
} cell;

/* Every strategy on every space, `repeats` sessions each: cell i is strategy i / nspaces on
 * space i % nspaces. */
typedef struct sweep {
    cell *cells;
    size_t ncells, repeats;
    uint64_t seed;
    unsigned batch, in_flight;
    atomic_size_t next_job;
    FILE *trace;
    pthread_mutex_t trace_lock;
} sweep;

/* cli_sim_sweep.c: the cells, allocated (EXIT_OK, or EXIT_FAILED after saying "out of
 * memory"; sim_sweep_free either way); the sessions run on `threads` threads (0: one a CPU),
 * writing w->trace when set, and the seconds they took; each cell's score (malloc'd, NaN
 * where there is none; NULL when out of memory). */
int sim_sweep_init(sweep *w, space_run *spaces, size_t nspaces, const char *const *strategies,
                   size_t nstrat);
double sim_sweep_run(sweep *w, size_t threads);
double *sim_sweep_scores(const sweep *w);
void sim_sweep_free(sweep *w);

/* cli_sim_report.c: "data/spaces/convolution/A100.json.gz" -> "convolution/A100"
 * (malloc'd); the scores as JSON (one cell alone, else all of them with the seconds) or as
 * a table, a row per space and a column per strategy (each an exit status); a space's
 * convergence plot, DIR/<space>.png (0, or -1 when it failed). */
char *sim_space_label(const char *path);
int sim_report_json(const sweep *w, const double *scores, double seconds);
int sim_report_table(const sweep *w, const double *scores, double seconds,
                     const space_run *spaces, size_t nspaces, const char *const *strategies,
                     size_t nstrat, int budget_given);
int sim_write_plot(const char *dir, const space_run *sp, const cell *cells, size_t ncells,
                   size_t repeats);

/* cli_sim_trace.c: reads another tuner's trace (repeat,k,key,time) and scores it on the
 * space; the exit status. */
int sim_score_trace(space_run *sp, const char *path, const char *label, int json);

#endif
