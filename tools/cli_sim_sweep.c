/* cli_sim_sweep.c — the sessions of `cutune sim`: every strategy on every recorded space,
 * `repeats` sessions each, taken from one queue by as many threads as asked; each session's
 * best-so-far summed into its cell, and its trace lines written whole at its end. */
#include "cli_sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct session_ctx {
    const space_run *space;
    double *best;      /* best-so-far by k */
    double *suggest_s; /* this session's row of cell.suggest_s */
    size_t repeat;
    FILE *trace;
    char *lines; /* the trace of this session, written at its end */
    size_t len, cap;
} session_ctx;

static int on_eval(const cutune_evaluation *e, void *user)
{
    session_ctx *c = user;
    c->best[e->k - 1] = isnan(e->best_ms) ? cutune_baseline_median(c->space->base) : e->best_ms;
    c->suggest_s[e->k - 1] = e->suggest_s;
    if (!c->trace)
        return 0;
    char line[1024];
    int n;
    if (e->failure)
        n = snprintf(line, sizeof line, "%zu,%llu,%s,%s\n", c->repeat, (unsigned long long)e->k,
                     cutune_cache_key(c->space->cache, e->entry), e->failure);
    else
        n = snprintf(line, sizeof line, "%zu,%llu,%s,%.17g\n", c->repeat,
                     (unsigned long long)e->k, cutune_cache_key(c->space->cache, e->entry),
                     e->time_ms);
    if (c->len + (size_t)n + 1 > c->cap) {
        size_t cap = (c->cap + (size_t)n + 1) * 2;
        char *grown = realloc(c->lines, cap);
        if (!grown)
            return CUTUNE_ENOMEM;
        c->lines = grown;
        c->cap = cap;
    }
    memcpy(c->lines + c->len, line, (size_t)n);
    c->len += (size_t)n;
    return 0;
}

static void *sweep_worker(void *arg)
{
    sweep *w = arg;
    for (;;) {
        size_t job = atomic_fetch_add(&w->next_job, 1);
        if (job >= w->ncells * w->repeats)
            return NULL;
        cell *c = &w->cells[job / w->repeats];
        size_t repeat = job % w->repeats, budget = c->space->budget;
        session_ctx ctx = {.space = c->space, .repeat = repeat, .trace = w->trace,
                           .suggest_s = c->suggest_s + repeat * budget};
        ctx.best = malloc(budget * sizeof *ctx.best);
        cutune_search_options o = {.strategy = c->strategy, .budget = budget,
                                   .seed = w->seed + repeat, .batch = w->batch,
                                   .in_flight = w->in_flight};
        cutune_search_result r;
        int st = ctx.best ? cutune_simulate(c->space->cache, &o, on_eval, &ctx, &r)
                          : CUTUNE_ENOMEM;
        pthread_mutex_lock(&c->lock);
        if (st && !c->status) {
            c->status = st;
            fprintf(stderr, "cutune sim: %s on %s: %s\n", c->strategy, c->space->name,
                    cutune_last_error());
        }
        if (!st) {
            /* a session that ran out of configurations keeps its last best */
            for (size_t k = r.evaluations; k < budget; k++)
                ctx.best[k] = k ? ctx.best[k - 1] : cutune_baseline_median(c->space->base);
            for (size_t k = 0; k < budget; k++)
                c->best_sum[k] += ctx.best[k];
            c->final_best[repeat] = ctx.best[budget - 1];
            double near = 1.05 * cutune_baseline_optimum(c->space->base);
            c->reach_5pct[repeat] = NAN;
            for (size_t k = 0; k < budget; k++)
                if (ctx.best[k] <= near) {
                    c->reach_5pct[repeat] = (double)(k + 1);
                    break;
                }
            c->seconds += r.seconds;
        }
        pthread_mutex_unlock(&c->lock);
        if (w->trace && ctx.len) {
            pthread_mutex_lock(&w->trace_lock);
            fwrite(ctx.lines, 1, ctx.len, w->trace);
            pthread_mutex_unlock(&w->trace_lock);
        }
        free(ctx.lines);
        free(ctx.best);
    }
}

int sim_sweep_init(sweep *w, space_run *spaces, size_t nspaces, const char *const *strategies,
                   size_t nstrat)
{
    size_t repeats = w->repeats;
    int rc = EXIT_OK;
    w->ncells = nstrat * nspaces;
    w->cells = calloc(w->ncells, sizeof *w->cells);
    pthread_mutex_init(&w->trace_lock, NULL);
    atomic_init(&w->next_job, 0);
    for (size_t i = 0; w->cells && i < w->ncells; i++) {
        cell *cl = &w->cells[i];
        cl->space = &spaces[i % nspaces];
        cl->strategy = strategies[i / nspaces];
        cl->best_sum = calloc(cl->space->budget, sizeof *cl->best_sum);
        cl->final_best = malloc(repeats * sizeof *cl->final_best);
        cl->reach_5pct = malloc(repeats * sizeof *cl->reach_5pct);
        cl->suggest_s = malloc(repeats * cl->space->budget * sizeof *cl->suggest_s);
        for (size_t j = 0; cl->suggest_s && j < repeats * cl->space->budget; j++)
            cl->suggest_s[j] = NAN; /* sessions that exhaust the space leave gaps */
        pthread_mutex_init(&cl->lock, NULL);
        if (!cl->best_sum || !cl->final_best || !cl->reach_5pct || !cl->suggest_s)
            rc = EXIT_FAILED;
    }
    if (!w->cells || rc) {
        fprintf(stderr, "cutune sim: out of memory\n");
        rc = EXIT_FAILED;
    }
    return rc;
}

double sim_sweep_run(sweep *w, size_t threads)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = threads ? threads : (size_t)(cpus > 0 ? cpus : 1);
    size_t jobs = w->ncells * w->repeats;
    nthreads = nthreads < jobs ? nthreads : jobs;
    nthreads = nthreads < 256 ? nthreads : 256;
    pthread_t tid[256];
    double start = cutune_now();
    size_t started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&tid[started], NULL, sweep_worker, w))
            break;
    if (started == 0)
        sweep_worker(w);
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    return cutune_now() - start;
}

double *sim_sweep_scores(const sweep *w)
{
    double *scores = calloc(w->ncells ? w->ncells : 1, sizeof *scores);
    for (size_t i = 0; scores && i < w->ncells; i++) {
        const cell *cl = &w->cells[i];
        size_t K = cutune_baseline_horizon(cl->space->base), width = cl->space->budget;
        double *mean = malloc((K > width ? K : width) * sizeof *mean);
        for (size_t k = 0; mean && k < (K > width ? K : width); k++)
            mean[k] = k < width ? cl->best_sum[k] / (double)w->repeats : mean[k - 1];
        if (!mean || cutune_score(cl->space->base, mean, K > width ? K : width, &scores[i]))
            scores[i] = NAN;
        free(mean);
    }
    return scores;
}

void sim_sweep_free(sweep *w)
{
    for (size_t i = 0; w->cells && i < w->ncells; i++) {
        free(w->cells[i].best_sum);
        free(w->cells[i].final_best);
        free(w->cells[i].reach_5pct);
        free(w->cells[i].suggest_s);
        pthread_mutex_destroy(&w->cells[i].lock);
    }
    free(w->cells);
    pthread_mutex_destroy(&w->trace_lock);
}
