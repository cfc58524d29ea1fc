/* cli_tune_run.c — one `cutune tune` session run, in one process or as rank 0 of a
 * distributed one: the profile store opened, configurations compiled ahead when asked, what
 * is compared said before anything runs, each new best printed as it comes (or the history
 * kept for --json) under a progress line on a terminal, Ctrl-C honoured, the result written
 * out and reported (cli_tune_report.c). */
#include "cli_tune.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Ctrl-C: the session stops after the configuration in hand and reports what it has. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* The progress line: evaluations, the best so far, time spent and left. Redrawn a few times
 * a second at most: under mpirun the "terminal" is Open MPI's, and may end in a file. */
static void draw_progress(tune_ctx *t, const cutune_evaluation *e)
{
    double now = cutune_now();
    if (!t->progress || (now - t->drawn < 0.2 && e->k < t->budget))
        return;
    t->drawn = now;
    double elapsed = now - t->start,
           left = e->k ? elapsed / (double)e->k * (double)(t->budget - e->k) : 0;
    fprintf(t->progress, "\r\033[K  [%llu/%llu] best %.4f ms, %.0f s, about %.0f s left",
            (unsigned long long)e->k, (unsigned long long)t->budget, t->best, elapsed, left);
    fflush(t->progress);
}

static int report(const cutune_evaluation *e, void *user)
{
    tune_ctx *t = user;
    char buf[1024];
    const char *key = t->cache ? cutune_cache_key(t->cache, e->entry)
                               : cutune_session_key(t->session, e->entry, buf, sizeof buf);
    t->failed += e->failure != NULL && !e->pruned;
    if (e->failure && !e->pruned && t->first_failed == (size_t)-1 && t->session &&
        strcmp(e->failure, "CompilationFailedConfig") != 0) /* (those: print_notes) */
        t->first_failed = e->entry;
    int new_best = e->best_entry != (size_t)-1 && e->best_entry != t->best_entry;
    if (new_best) { /* (by the objective: with one other than time, maybe not the fastest) */
        t->best_entry = e->best_entry;
        t->best = e->best_ms;
    }
    if (t->json) {
        /* at_s: when the result came back, so time-to-quality can be read from the history */
        double at_s = cutune_now() - t->start;
        draw_progress(t, e);
        json_t *entry =
            e->failure ? json_pack("{s:I, s:s, s:s, s:b, s:f}", "k", (json_int_t)e->k, "config",
                                   key, "failure", e->failure, "pruned", e->pruned, "at_s",
                                   at_s)
                       : json_pack("{s:I, s:s, s:f, s:f}", "k", (json_int_t)e->k, "config", key,
                                   "time_ms", e->time_ms, "at_s", at_s);
        const char *why = e->failure && t->session ? cutune_session_failure(t->session, e->entry)
                                                   : NULL;
        if (entry && why)
            json_object_set_new(entry, "message", json_string(why));
        json_t *metrics = entry && !e->failure ? tune_metrics_json(t->session, e->entry) : NULL;
        if (metrics)
            json_object_set_new(entry, "metrics", metrics);
        if (entry && !e->failure && t->objective)
            json_object_set_new(entry, "objective", isfinite(e->objective)
                                                        ? json_real(e->objective) : json_null());
        return json_array_append_new(t->history, entry) ? CUTUNE_ENOMEM : 0;
    }
    if (new_best) {
        printf("%s  %5llu  new best %10.4f ms  %s", t->progress ? "\r\033[K" : "",
               (unsigned long long)e->k, e->best_ms, key);
        tune_print_metrics(t->session, e->best_entry);
        printf("\n");
    }
    draw_progress(t, e);
    return interrupted ? CUTUNE_ECANCELED : 0;
}

int tune_session_new(const tune_args *a, const cutune_cache *cache,
                     const cutune_session_options *so, double delay_ms, cutune_session **out)
{
    int st = cache ? cutune_session_new_cache(out, cache, delay_ms)
                   : cutune_session_new(out, a->spec, a->kernel_file, so);
    if (!st && (st = tune_apply_opts(*out, a))) {
        cutune_session_free(*out);
        *out = NULL;
    }
    return st;
}

/* One process: the session, on the GPU or over the recorded space, then its run. */
int tune_run(cutune_session *s, const cutune_cache *cache, const tune_args *a,
             const tune_ranks *ranks)
{
    const cutune_search_options *o = &a->search;
    cutune_store *store = NULL;
    int st = CUTUNE_OK;
    cli_print_warnings(cutune_session_space(s)); /* what the spec loader let pass */
    if (!a->json && a->from_spec[0])
        printf("from the spec: %s\n", a->from_spec);
    /* on the GPU the store is kept unless --no-store; a simulation only with --db */
    if (cache ? a->db != NULL : !a->no_store)
        if ((st = cutune_store_open(&store, a->db, 0)) ||
            (st = cutune_session_set_store(s, store, a->user_key, a->resume))) {
            cutune_store_free(store);
            return cli_fail("tune", st);
        }
    if (!cache && a->precompile > 0) {
        uint64_t done = 0, failed = 0;
        double t0 = (double)time(NULL);
        if ((st = cutune_session_precompile(s, a->precompile, &done, &failed))) {
            cutune_store_free(store);
            return cli_fail("tune", st);
        }
        if (!a->json)
            printf("compiled ahead: %llu configurations (%llu failed) on %d threads in %.0f s\n",
                   (unsigned long long)done, (unsigned long long)failed, a->precompile,
                   (double)time(NULL) - t0);
    }
    /* a progress line on a terminal: stdout's, or stderr's with --json (stdout holds it) */
    FILE *progress = NULL;
    if (!cache && !a->json && isatty(STDOUT_FILENO))
        progress = stdout;
    else if (!cache && a->json && isatty(STDERR_FILENO))
        progress = stderr;
    int higher;
    const char *objective = cutune_session_objective_name(s, &higher);
    tune_ctx t = {.cache = cache, .session = s, .json = a->json, .best = INFINITY,
                  .best_entry = (size_t)-1, .first_failed = (size_t)-1, .budget = o->budget,
                  .progress = progress, .start = cutune_now(),
                  .objective = higher || strcmp(objective, "time") != 0};
    if (a->json && !(t.history = json_array())) {
        cutune_store_free(store);
        return EXIT_FAILED;
    }
    if (!a->json && cache)
        printf("tuning %s (%s, %zu configurations) with %s, budget %llu, seed %llu",
               cli_text(cutune_cache_kernel(cache)), cli_text(cutune_cache_device(cache)),
               cutune_cache_size(cache),
               o->strategy, (unsigned long long)o->budget, (unsigned long long)o->seed);
    else if (!a->json)
        printf("tuning %s on %s with %s, budget %llu, seed %llu", a->spec,
               cutune_session_device(s)->name, o->strategy, (unsigned long long)o->budget,
               (unsigned long long)o->seed);
    if (!a->json && ranks)
        printf(", on %d rank%s (%u in flight, batches of %u)", ranks->ranks,
               ranks->ranks == 1 ? "" : "s", ranks->in_flight, o->batch);
    if (!a->json)
        printf("\n");
    /* what is compared, against what: said before anything runs */
    if (!cache && (st = cutune_session_verification(s, &t.verify, t.verification,
                                                    sizeof t.verification))) {
        json_decref(t.history);
        cutune_store_free(store);
        return cli_fail("tune", st);
    }
    if (!cache && !a->json)
        printf("%s\n", t.verification);
    signal(SIGINT, on_sigint);
    cutune_session_result r;
    st = cutune_session_run(s, o, report, &t, &r);
    signal(SIGINT, SIG_DFL);
    if (t.progress)
        fprintf(t.progress, "\r\033[K");
    int stopped = st == CUTUNE_ECANCELED; /* Ctrl-C: a result all the same */
    int rc = stopped || !st ? EXIT_OK : cli_fail("tune", st);
    if (!rc && ((a->cache_out && (st = cutune_session_write_kt_cache(s, a->cache_out))) ||
                (a->t4_out && (st = cutune_session_write_t4(s, a->t4_out)))))
        rc = cli_fail("tune", st);
    json_t *extra = ranks ? json_pack("{s:i, s:i, s:i, s:o}", "ranks", ranks->ranks,
                                      "in_flight", (int)ranks->in_flight, "batch",
                                      (int)o->batch, "per_rank", tune_per_rank_json(ranks))
                          : json_object();
    if (!rc)
        rc = cache ? tune_report_sim(cache, a, &t, &r, stopped, store, extra)
                   : tune_report_gpu(s, a, &t, &r, stopped, store, extra);
    json_decref(extra);
    if (!rc && !a->json) {
        if (store)
            printf("profile store: %s (%llu evaluations taken from earlier sessions)%s\n",
                   cutune_store_path(store), (unsigned long long)r.stats.restored,
                   t.objective ? "; the store ranks by time: its profile is the fastest "
                                 "configuration measured, not the objective's best" : "");
        if (store && r.stats.warm_start)
            printf("warm start: the %llu fastest configurations at %lldx%lldx%lld measured "
                   "first\n",
                   (unsigned long long)r.stats.warm_start, (long long)r.stats.warm_start_problem[0],
                   (long long)r.stats.warm_start_problem[1],
                   (long long)r.stats.warm_start_problem[2]);
        if (a->cache_out)
            printf("every evaluated configuration: %s\n", a->cache_out);
        if (a->t4_out)
            printf("T4 results: %s\n", a->t4_out);
        for (int k = 0; ranks && ranks->per_rank && k < ranks->ranks; k++) {
            const tune_rank_tally *x = &ranks->per_rank[k];
            if (x->device < 0)
                printf("rank %d (%s, a recorded space): %llu evaluations\n", k, x->host,
                       (unsigned long long)x->evaluations);
            else
                printf("rank %d (%s, GPU %d): %llu evaluations; %.1f s measuring, %.1f s "
                       "waiting for NVRTC (%llu compiled while it waited, %llu ready in the "
                       "binary cache)\n",
                       k, x->host, x->device, (unsigned long long)x->evaluations, x->run_s,
                       x->compile_s, (unsigned long long)x->compiled,
                       (unsigned long long)x->from_cache);
        }
    }
    json_decref(t.history);
    cutune_store_free(store);
    return !rc && stopped ? EXIT_INTERRUPTED : rc;
}

/* Whether mpirun (Open MPI's, or a PMI/PMIx launcher such as MPICH's or srun) started this
 * process: then `cutune tune` is distributed over the job's ranks. CUTUNE_MPI=0 says no. */
