/* cli_tune.c — `cutune tune`: one tuning session, on the GPU (a kernel and its T1 spec) or,
 * with --sim, on a recorded space whose measurements stand in for the GPU's; under mpirun
 * the same session is spread over the ranks (cli_mpi.c) and reported here. */
#include "cli_tune.h"

#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char tune_help[] =
    "usage: cutune tune [KERNEL.cu] --spec T1.json [--strategy NAME] [--budget N] [--seed S]\n"
    "                   [--time-limit SECONDS] [--device N] [--iterations N] [--flush-l2]\n"
    "                   [--batch Q] [--cache-out FILE.json] [--t4-out FILE.json] [--json]\n"
    "                   [--problem X[,Y[,Z]]] [--db DB | --no-store] [--resume]\n"
    "                   [--user-key K] [--precompile T] [--compile-threads T]\n"
    "                   [--verify default|none|[NAME=]FILE]... [--atol X] [--rtol Y]\n"
    "                   [--metric NAME=EXPR]... [--objective NAME [--higher-is-better]]\n"
    "       cutune tune --sim CACHE [--spec T1.json] [--strategy NAME] [--budget N]\n"
    "                   [--seed S] [--batch Q] [--time-limit SECONDS] [--arch SM] [--json]\n"
    "                   [--sim-delay-ms MS] [--db DB [--resume]] [--metric NAME=EXPR]...\n"
    "                   [--objective NAME [--higher-is-better]]\n"
    "       mpirun -np N cutune tune ... [--per-rank K]     (distributed: README)\n\n"
    "Tunes a kernel over its search space on the GPU: the spec's KernelSpecification says how\n"
    "to launch it (README: 'Tuning on the GPU'); the kernel's source is KERNEL.cu or the\n"
    "spec's KernelFile. The default configuration is measured first and its outputs are the\n"
    "reference the others must match (--verify says otherwise); the run says at its start\n"
    "which outputs it compares, against what. With --sim the measurements come from a recorded\n"
    "space (a Kernel Tuner cache file) instead of a GPU. Prints each new best configuration\n"
    "as it is found, then the result. Under mpirun, rank 0 runs the strategy and keeps the\n"
    "profile store, and every rank (rank 0 too) measures on its own GPU (device --device\n"
    "plus its rank on the host) or replays the recorded space; results come back as they\n"
    "finish.\n\n"
    "  --strategy NAME    bo (default), random, lhs, anneal, genetic, brute, or Kernel\n"
    "                     Tuner's names for them (bayes_opt, random_sample,\n"
    "                     genetic_algorithm, simulated_annealing, brute_force)\n"
    "  --budget N         evaluations (default 100)\n"
    "  --time-limit S     stop after S seconds\n"
    "                     (without these three, the spec's Search.Name and Budget, if it\n"
    "                     has them: ConfigurationCount, ConfigurationFraction of the valid\n"
    "                     configurations, TuningDuration in seconds)\n"
    "  --batch Q          bo: configurations planned per model update, 1 to 16 (on the GPU\n"
    "                     they compile in parallel; default there: 4, at most a tenth of the\n"
    "                     budget; with --sim: 1; under mpirun: the number of ranks)\n"
    "  --per-rank K       under mpirun: configurations each rank has in hand, one measuring\n"
    "                     and the rest queued (compiling ahead), 1 to 16 (default 2)\n"
    "  --seed S           seed (default 1)\n"
    "  --device N         CUDA device (default 0; under mpirun: N plus the local rank)\n"
    "  --iterations N     timed launches per configuration (default 7)\n"
    "  --flush-l2         clear the L2 cache before each timed launch\n"
    "  --problem X[,Y,Z]  the problem size, instead of the spec's ProblemSize (buffers\n"
    "                     follow it)\n"
    "  --verify default   compare each output (\"Output\": 1) with the default\n"
    "                     configuration's (what happens without --verify, unless the spec\n"
    "                     has ReferenceArguments); the default must work\n"
    "  --verify none      compare nothing (Kernel Tuner without answer); the default still\n"
    "                     runs first, for the speedup\n"
    "  --verify FILE      compare with answer files: one --verify per output, in argument\n"
    "                     order, or NAME=FILE; raw little-endian of the argument's type and\n"
    "                     size, or NumPy .npy ('<f4' for float); outputs without one are\n"
    "                     not compared\n"
    "  --atol X, --rtol Y every output passes when |x - ref| <= X + Y * |ref| (Kernel\n"
    "                     Tuner's test; what is not given: the spec's Atol/Rtol, else 1e-6\n"
    "                     and 1e-5). Without them each output's spec decides: Atol/Rtol so,\n"
    "                     else |x - ref| <= Tolerance * max(1, |ref|), Tolerance 1e-4\n"
    "  --metric NAME=EXPR a metric besides the spec's Metrics (Kernel Tuner's metrics): an\n"
    "                     expression over the parameters, ProblemSize, time (ms) and the\n"
    "                     metrics before it, e.g. 'GFLOP/s=2*ProblemSize[0]**3/1e9/(time/1e3)';\n"
    "                     computed for every configuration that ran, printed with each new\n"
    "                     best and the result, written into --cache-out, --t4-out and --json\n"
    "  --objective NAME   tune for this metric (or time, the default) instead of time: the\n"
    "                     best is the objective's; the speedup stays a ratio of times, and\n"
    "                     the profile store's profile the fastest configuration\n"
    "  --higher-is-better, --lower-is-better\n"
    "                     the objective's direction (default: Kernel Tuner's for its names,\n"
    "                     GFLOP/s, GB/s, ... higher, time, energy, ... lower; other names\n"
    "                     must say)\n"
    "  --cache-out FILE   write every evaluated configuration as a Kernel Tuner cache file\n"
    "  --t4-out FILE      and in the T4 results format\n"
    "  --json             the result as JSON, with the history: every evaluation's\n"
    "                     configuration, time or failure, and at_s (seconds from the start)\n"
    "  --db DB            the profile store (default: $CUTUNE_DB, else\n"
    "                     $XDG_DATA_HOME/cutune/profiles.db): every evaluation is written\n"
    "                     there as it completes, and the best becomes the profile\n"
    "  --no-store         keep nothing in the profile store\n"
    "  --resume           take what earlier sessions of this kernel, GPU, size and space\n"
    "                     measured (a killed session goes on where it stopped, and what\n"
    "                     finished counts against the budget). One run at a time goes on\n"
    "                     with a session: while another run has it, this one says which\n"
    "                     (pid, host, since when) and exits 1; a session whose run's\n"
    "                     process is gone (killed, or its host restarted) is taken over\n"
    "  --user-key K       what else sets this profile apart (e.g. the data type)\n"
    "  --precompile T     first compile every configuration into the binary cache on T\n"
    "                     threads (for brute force over a whole space)\n"
    "  --compile-threads T\n"
    "                     threads compiling ahead, while one configuration is measured, those\n"
    "                     the strategy will ask for next, 0 to 16 (0: none; default: one\n"
    "                     fewer than the CPUs the process may run on; under mpirun, per\n"
    "                     rank). Where NVRTC serialises a process's compilations, threads\n"
    "                     beyond one only reorder them (README: distributed tuning)\n"
    "  --arch SM          (--sim) prune, before compiling, configurations whose block cannot launch\n"
    "                     on this architecture (block_size_x*y*z threads over its limit);\n"
    "                     they cost no evaluation, and the report counts them with the\n"
    "                     time the recording tuner spent on them\n"
    "  --sim-delay-ms MS  (--sim) sleep MS per measurement, standing in for the GPU's time\n"
    "  --db DB            (--sim) checkpoint into this profile store (none without it), so\n"
    "                     that --resume works as on the GPU; the profile is the recorded\n"
    "                     space's (its file's device name and problem size, compute\n"
    "                     capability and SMs unknown: the key `profiles import` gives it)\n\n"
    "Ctrl-C stops the session after the configuration in hand: it reports what it has,\n"
    "writes --cache-out and --t4-out, and exits with status 130; a second Ctrl-C ends it at\n"
    "once (also 130). With a profile store, --resume goes on from there.\n";

/* Ctrl-C: the session stops after the configuration in hand and reports what it has. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct tune_ctx {
    const cutune_cache *cache;     /* --sim */
    const cutune_session *session; /* on the GPU */
    cutune_verify verify;          /* what it compares (on the GPU), and in words: */
    char verification[1024];
    int json;
    json_t *history;
    double best;       /* the best's time */
    size_t best_entry; /* the best configuration so far ((size_t)-1: none) */
    int objective;     /* 1: the objective is not time: history entries give its value */
    uint64_t failed; /* measured and failed (pruned ones apart) */
    size_t first_failed; /* the first that ran and failed, ((size_t)-1: none) */
    uint64_t budget;
    FILE *progress;  /* where a progress line goes (a terminal), or NULL */
    double start, drawn;
} tune_ctx;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The progress line: evaluations, the best so far, time spent and left. Redrawn a few times
 * a second at most: under mpirun the "terminal" is Open MPI's, and may end in a file. */
static void draw_progress(tune_ctx *t, const cutune_evaluation *e)
{
    double now = wall();
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
        double at_s = wall() - t->start;
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

static const char *const stops[] = {"budget spent", "time limit", "space exhausted"};

/* A number, or null where there is none (no default configuration, or it failed). */
static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The result of a session on the GPU. */
static int report_gpu(cutune_session *s, const tune_args *a, const tune_ctx *t,
                      const cutune_session_result *r, int stopped, const cutune_store *store,
                      json_t *extra)
{
    const cutune_search_options *o = &a->search;
    const cutune_device_info *dev = cutune_session_device(s);
    char best[1024] = "", dflt[1024] = "";
    cutune_session_key(s, r->search.best_entry, best, sizeof best);
    cutune_session_key(s, r->default_entry, dflt, sizeof dflt);
    /* a spec without Default has no default configuration: nothing to speed up from */
    int no_default = !cutune_space_get_default(cutune_session_space(s), NULL);
    /* what the session cost beyond the kernels' own time, per configuration */
    uint64_t evaluated = r->search.evaluations + 1;
    double overhead_ms = 1e3 * r->seconds / (double)evaluated;
    const cutune_session_stats *x = &r->stats;
    if (a->json) {
        json_t *out = json_pack(
            "{s:s, s:s, s:s, s:I, s:s, s:o, s:s, s:o, s:o, s:i, s:I, s:I, s:I, s:I, s:I, s:I, "
            "s:I, s:I, s:f, s:f, s:f, s:f, s:s, s:o}",
            "spec", a->spec, "device", dev->name, "strategy", o->strategy, "evaluations",
            (json_int_t)r->search.evaluations, "default_config", dflt, "default_ms",
            number_or_null(r->default_ms), "best_config", best, "best_ms",
            number_or_null(r->search.best_ms), "speedup", number_or_null(r->speedup),
            "best_regs", r->best_regs, "compiled", (json_int_t)x->compiled,
            "from_cache", (json_int_t)x->from_cache, "compile_failed",
            (json_int_t)x->compile_failed, "pruned_before_compile", (json_int_t)r->search.pruned,
            "pruned_after_compile", (json_int_t)x->pruned_after_compile, "runtime_failed",
            (json_int_t)x->runtime_failed, "verification_failed",
            (json_int_t)x->verification_failed, "timeouts", (json_int_t)x->timeouts,
            "compile_s", x->compile_s, "pruned_saved_s", x->pruned_saved_s, "seconds",
            r->seconds, "seconds_per_config", overhead_ms / 1e3, "stop",
            stopped ? "interrupted" : stops[r->search.stop], "history", json_incref(t->history));
        if (out && no_default) /* null, not a number that was never measured */
            for (const char *const *k = (const char *const[]){"default_config", "default_ms",
                                                               "speedup", NULL}; *k; k++)
                json_object_set_new(out, *k, json_null());
        cutune_occupancy occ;
        cutune_occupancy_advice adv;
        if (out && cutune_session_explain(s, r->search.best_entry, &occ, &adv) == CUTUNE_OK) {
            static const char *const names[] = {"warps", "registers", "shared memory",
                                                 "blocks"};
            json_t *limiters = json_array();
            for (int b = 0; b < 4; b++)
                if (occ.limiters & (1u << b))
                    json_array_append_new(limiters, json_string(names[b]));
            json_object_set_new(out, "best_occupancy", json_real(occ.occupancy));
            json_object_set_new(out, "best_blocks_per_sm", json_integer(occ.blocks_per_sm));
            json_object_set_new(out, "best_limiters", limiters);
            json_object_set_new(out, "best_explanation", json_string(adv.text));
        }
        if (out && store) {
            json_object_set_new(out, "restored", json_integer((json_int_t)x->restored));
            json_object_set_new(out, "warm_start", json_integer((json_int_t)x->warm_start));
            json_object_set_new(out, "warm_start_problem",
                                json_pack("[I, I, I]", (json_int_t)x->warm_start_problem[0],
                                          (json_int_t)x->warm_start_problem[1],
                                          (json_int_t)x->warm_start_problem[2]));
        }
        if (out)
            tune_report_failures(s, t->first_failed, out);
        static const char *const modes[] = {"auto", "default", "none", "answers"};
        char note[512];
        if (out) {
            tune_report_objective(s, r, out);
            json_object_set_new(out, "verify", json_string(modes[t->verify & 3]));
            json_object_set_new(out, "verification", json_string(t->verification));
            const char *n = tune_verify_note(x, t->verify, note, sizeof note);
            json_object_set_new(out, "verification_note", n ? json_string(n) : json_null());
            json_object_update(out, extra);
        }
        return out ? cli_print_json(out) : EXIT_FAILED;
    }
    if (stopped)
        printf("stopped by Ctrl-C after %llu evaluations\n",
               (unsigned long long)r->search.evaluations);
    printf("best %s: %.4f ms (median %.4f, sd %.4f); ", best, r->search.best_ms,
           r->best_median_ms, r->best_std_ms);
    if (!isnan(r->default_ms)) /* (a default that failed, or none: no speedup) */
        printf("default %s: %.4f ms; speedup %.2fx\n", dflt, r->default_ms, r->speedup);
    else
        printf("%s%s%s: no speedup\n", r->default_entry == (size_t)-1 ? "no default "
               "configuration" : "the default ", dflt, r->default_entry == (size_t)-1 ? ""
               : " failed");
    tune_report_objective(s, r, NULL);
    cutune_occupancy occ;
    cutune_occupancy_advice adv;
    if (cutune_session_explain(s, r->search.best_entry, &occ, &adv) == CUTUNE_OK)
        printf("the best: %d registers per thread; %s\n", r->best_regs, adv.text);
    printf("%llu evaluations (%s) in %.1f s, %.1f ms per configuration; compiled %llu, from "
           "the cache %llu (NVRTC %.1f s)\n",
           (unsigned long long)r->search.evaluations,
           stopped ? "interrupted" : stops[r->search.stop], r->seconds, overhead_ms,
           (unsigned long long)x->compiled, (unsigned long long)x->from_cache, x->compile_s);
    printf("failed: %llu compilation, %llu runtime, %llu verification, %llu timeout; "
           "pruned %llu before and %llu after compiling (%.1f s of runs saved)\n",
           (unsigned long long)x->compile_failed, (unsigned long long)x->runtime_failed,
           (unsigned long long)x->verification_failed, (unsigned long long)x->timeouts,
           (unsigned long long)r->search.pruned, (unsigned long long)x->pruned_after_compile,
           x->pruned_saved_s);
    tune_report_failures(s, t->first_failed, NULL);
    char note[512];
    if (tune_verify_note(x, t->verify, note, sizeof note))
        printf("%s\n", note);
    return EXIT_OK;
}

/* The result of a session over a recorded space. */
static int report_sim(const cutune_cache *cache, const tune_args *a, const tune_ctx *t,
                      const cutune_session_result *sr, int stopped, const cutune_store *store,
                      json_t *extra)
{
    const cutune_search_result *r = &sr->search;
    double optimum = INFINITY; /* the fastest recorded time: how close the session came */
    for (size_t i = 0; i < cutune_cache_size(cache); i++) {
        double ti = cutune_cache_time(cache, i, NULL);
        optimum = ti < optimum ? ti : optimum;
    }
    const char *stop = stopped ? "interrupted" : stops[r->stop];
    if (a->json) {
        json_t *out = json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s*, s:o, s:o, s:s, s:f, s:o}", "space",
            a->sim, "strategy", a->search.strategy, "device", cutune_cache_device(cache),
            "evaluations", (json_int_t)r->evaluations, "failed", (json_int_t)t->failed,
            "pruned", (json_int_t)r->pruned, "pruned_cost_s",
            isnan(r->pruned_cost_s) ? json_null() : json_real(r->pruned_cost_s), "best_config",
            isnan(r->best_ms) ? NULL : cutune_cache_key(cache, r->best_entry), "best_ms",
            isnan(r->best_ms) ? json_null() : json_real(r->best_ms), "recorded_optimum_ms",
            isinf(optimum) ? json_null() : json_real(optimum), "stop", stop, "seconds",
            r->seconds, "history", json_incref(t->history));
        if (out && store) {
            json_object_set_new(out, "restored", json_integer((json_int_t)sr->stats.restored));
            const cutune_session_stats *x = &sr->stats; /* by this run, not restored */
            json_object_set_new(out, "measured",
                                json_integer((json_int_t)(x->measured + x->compile_failed +
                                                          x->runtime_failed + x->timeouts +
                                                          x->verification_failed +
                                                          x->pruned_after_compile)));
        }
        char note[512];
        const char *n = tune_verify_note(&sr->stats, -1, note, sizeof note);
        if (out)
            tune_report_objective(t->session, sr, out);
        if (out) {
            json_object_set_new(out, "verification_note", n ? json_string(n) : json_null());
            json_object_update(out, extra);
        }
        return out ? cli_print_json(out) : EXIT_FAILED;
    }
    if (stopped)
        printf("stopped by Ctrl-C after %llu evaluations\n",
               (unsigned long long)r->evaluations);
    if (isnan(r->best_ms)) {
        printf("no configuration succeeded in %llu evaluations (%s)\n",
               (unsigned long long)r->evaluations, stop);
    } else {
        printf("best %s: %.4f ms after %llu evaluations (%llu failed; %s; %.3f s)\n",
               cutune_cache_key(cache, r->best_entry), r->best_ms,
               (unsigned long long)r->evaluations, (unsigned long long)t->failed, stop,
               r->seconds);
        tune_report_objective(t->session, sr, NULL);
        if (!t->objective) /* (with another objective, the fastest is not what was sought) */
            printf("the fastest recorded configuration takes %.4f ms: the best found is "
                   "%.1f%% slower\n", optimum, 100 * (r->best_ms / optimum - 1));
    }
    if (a->arch_name) {
        printf("pruned before compiling (cannot launch on %s): %llu configuration%s",
               a->search.arch->name, (unsigned long long)r->pruned, r->pruned == 1 ? "" : "s");
        if (r->pruned && !isnan(r->pruned_cost_s))
            printf(", on which the recording tuner spent %.1f s", r->pruned_cost_s);
        printf("\n");
    }
    char note[512];
    if (tune_verify_note(&sr->stats, -1, note, sizeof note))
        printf("%s\n", note);
    return EXIT_OK;
}

/* Each rank's share of a distributed run. */
static json_t *per_rank_json(const tune_ranks *ranks)
{
    json_t *out = json_array();
    for (int k = 0; out && ranks->per_rank && k < ranks->ranks; k++) {
        const tune_rank_tally *x = &ranks->per_rank[k];
        json_array_append_new(
            out, json_pack("{s:i, s:s, s:i, s:I, s:I, s:I, s:f, s:f}", "rank", k, "host",
                           x->host, "device", x->device, "evaluations",
                           (json_int_t)x->evaluations, "compiled", (json_int_t)x->compiled,
                           "from_cache", (json_int_t)x->from_cache, "compile_s", x->compile_s,
                           "run_s", x->run_s));
    }
    return out;
}

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
                  .best_entry = (size_t)-1, .first_failed = (size_t)-1, .budget = o->budget, .progress = progress,
                  .start = wall(), .objective = higher || strcmp(objective, "time") != 0};
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
                                      (int)o->batch, "per_rank", per_rank_json(ranks))
                          : json_object();
    if (!rc)
        rc = cache ? report_sim(cache, a, &t, &r, stopped, store, extra)
                   : report_gpu(s, a, &t, &r, stopped, store, extra);
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
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"};
    const char *off = getenv("CUTUNE_MPI");
    if (off && strcmp(off, "0") == 0)
        return 0;
    for (size_t k = 0; k < sizeof vars / sizeof *vars; k++)
        if (getenv(vars[k]))
            return 1;
    return 0;
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
static int tune_here(const tune_args *a)
{
    cutune_session *s = NULL;
    cutune_cache *cache = NULL;
    int st = a->sim ? cutune_cache_load(&cache, a->sim, a->spec) : CUTUNE_OK;
    if (!st)
        st = tune_session_new(a, cache, &a->session, a->sim_delay_ms, &s);
    if (st == CUTUNE_ENODEVICE) {
        fprintf(stderr, "no CUDA device found: %s\n", cutune_last_error());
        return EXIT_NO_DEVICE;
    }
    int rc = st ? cli_fail("tune", st) : tune_run(s, cache, a, NULL);
    cutune_session_free(s);
    cutune_cache_free(cache);
    return rc;
}

/* The spec's Search and Budget, where the command line gives no strategy, budget or time
 * limit (given: bits 1, 2, 4 for those); what was taken goes to a->from_spec. */
static int spec_search_defaults(tune_args *a, int given)
{
    cutune_spec_search ss;
    int st = cutune_spec_read_search(a->spec, &ss);
    if (st)
        return cli_fail("tune", st);
    size_t at = 0;
    char *note = a->from_spec;
    const size_t size = sizeof a->from_spec;
    if (!(given & 1) && ss.name[0]) {
        if (!ss.strategy) {
            cutune_strategy_lookup(ss.name, &ss.strategy); /* (says what is nearest) */
            fprintf(stderr, "cutune tune: %s: Search.Name: %s (--strategy NAME chooses "
                    "another)\n", a->spec, cutune_last_error());
            return EXIT_FAILED;
        }
        a->search.strategy = ss.strategy;
        at += (size_t)snprintf(note + at, size - at, "strategy %s (Search.Name %s)",
                               ss.strategy, cli_text(ss.name));
    }
    uint64_t budget = ss.budget;
    if (!(given & 2) && ss.budget_fraction > 0) {
        cutune_space *space;
        uint64_t valid = 0;
        if ((st = cutune_space_load_t1(&space, a->spec)) ||
            (st = cutune_space_count(space, &valid))) {
            cutune_space_free(space);
            return cli_fail("tune", st);
        }
        cutune_space_free(space);
        uint64_t share = (uint64_t)ceil(ss.budget_fraction * (double)valid);
        share = share ? share : 1;
        budget = budget && budget < share ? budget : share;
        if (at < size)
            at += (size_t)snprintf(note + at, size - at, "%sConfigurationFraction %g of %llu "
                                   "valid configurations", at ? ", " : "", ss.budget_fraction,
                                   (unsigned long long)valid);
    }
    if (!(given & 2) && budget) {
        a->search.budget = budget;
        if (at < size)
            at += (size_t)snprintf(note + at, size - at, "%sbudget %llu", at ? ", " : "",
                                   (unsigned long long)budget);
    }
    if (!(given & 4) && ss.time_limit_s > 0) {
        a->search.time_limit_s = ss.time_limit_s;
        if (at < size)
            snprintf(note + at, size - at, "%stime limit %g s (TuningDuration)", at ? ", " : "",
                     ss.time_limit_s);
    }
    return EXIT_OK;
}

int cmd_tune(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sim", required_argument, 0, 'S'},      {"spec", required_argument, 0, 'p'},
        {"strategy", required_argument, 0, 's'}, {"budget", required_argument, 0, 'b'},
        {"seed", required_argument, 0, 'e'},     {"time-limit", required_argument, 0, 'L'},
        {"json", no_argument, 0, 'j'},           {"help", no_argument, 0, 'h'},
        {"arch", required_argument, 0, 'a'},     {"device", required_argument, 0, 'd'},
        {"iterations", required_argument, 0, 'I'}, {"flush-l2", no_argument, 0, 'F'},
        {"cache-out", required_argument, 0, 'C'}, {"precompile", required_argument, 0, 'P'},
        {"t4-out", required_argument, 0, 'T'},   {"batch", required_argument, 0, 'q'},
        {"db", required_argument, 0, 'D'},       {"no-store", no_argument, 0, 'N'},
        {"resume", no_argument, 0, 'R'},         {"user-key", required_argument, 0, 'U'},
        {"problem", required_argument, 0, 'z'},  {"sim-delay-ms", required_argument, 0, 'y'},
        {"per-rank", required_argument, 0, 'k'}, {"compile-threads", required_argument, 0, 'c'},
        {"verify", required_argument, 0, 'V'},   {"atol", required_argument, 0, 'A'},
        {"rtol", required_argument, 0, 'r'},     {"metric", required_argument, 0, 'M'},
        {"objective", required_argument, 0, 'O'}, {"higher-is-better", no_argument, 0, 'H'},
        {"lower-is-better", no_argument, 0, 'W'}, {0, 0, 0, 0}};
    tune_args a = {.search = {.strategy = "bo", .budget = 100, .seed = 1}, .atol = NAN,
                   .rtol = NAN, .higher = -1};
    int index = 0;
    cutune_arch arch;
    int c, given = 0; /* --strategy, --budget, --time-limit: 1, 2, 4 (else the spec's) */
    opterr = 0;
    optind = 0;
    /* (no '+': the kernel file may come before the options) */
    while ((c = getopt_long(argc, argv, ":h", opts, &index)) != -1) {
        char *end;
        unsigned long long v;
        switch (c) {
        case 'h':
            fputs(tune_help, stdout);
            return EXIT_OK;
        case 'S': a.sim = optarg; break;
        case 'p': a.spec = optarg; break;
        case 's': a.search.strategy = optarg; given |= 1; break;
        case 'a': a.arch_name = optarg; break;
        case 'F': a.session.flush_l2 = 1; break;
        case 'C': a.cache_out = optarg; break;
        case 'T': a.t4_out = optarg; break;
        case 'D': a.db = optarg; break;
        case 'N': a.no_store = 1; break;
        case 'R': a.resume = 1; break;
        case 'U': a.user_key = optarg; break;
        case 'j': a.json = 1; break;
        case 'V':
        case 'A':
        case 'r':
        case 'M':
        case 'O':
        case 'H':
        case 'W':
            if (tune_parse_opt(&a, opts[index].name, optarg))
                return EXIT_USAGE;
            break;
        case 'z':
            if (cli_parse_problem(optarg, a.session.problem))
                return cli_usage_error("tune", "--problem takes up to three positive sizes, "
                                               "X[,Y[,Z]], not '%s'", optarg);
            break;
        case 'P':
            if (cli_parse_u64("tune", "--precompile", optarg, &v))
                return EXIT_USAGE;
            a.precompile = v > 256 ? 256 : (int)v;
            break;
        case 'c': /* the library's 0 is its default, -1 none */
            if (cli_parse_u64_in("tune", "--compile-threads", optarg, 0, 16, &v))
                return EXIT_USAGE;
            a.session.compile_threads = v ? (int)v : -1;
            break;
        case 'd':
        case 'I':
            if (c == 'd' ? cli_parse_u64("tune", "--device", optarg, &v)
                         : cli_parse_u64_in("tune", "--iterations", optarg, 1, 64, &v))
                return EXIT_USAGE;
            *(c == 'd' ? &a.session.device : &a.session.iterations) = v > 1000 ? 1000 : (int)v;
            break;
        case 'b':
        case 'e':
            if (cli_parse_u64("tune", c == 'b' ? "--budget" : "--seed", optarg, &v))
                return EXIT_USAGE;
            *(c == 'b' ? &a.search.budget : &a.search.seed) = v;
            given |= c == 'b' ? 2 : 0;
            break;
        case 'q':
        case 'k':
            if (cli_parse_u64_in("tune", c == 'q' ? "--batch" : "--per-rank", optarg, 1, 16, &v))
                return EXIT_USAGE;
            *(c == 'q' ? &a.search.batch : &a.per_rank) = (unsigned)v;
            break;
        case 'L':
            a.search.time_limit_s = strtod(optarg, &end);
            if (*end || !(a.search.time_limit_s > 0))
                return cli_usage_error("tune", "--time-limit needs a positive number of seconds");
            given |= 4;
            break;
        case 'y':
            a.sim_delay_ms = strtod(optarg, &end);
            if (*end || !(a.sim_delay_ms >= 0 && a.sim_delay_ms <= 3.6e6))
                return cli_usage_error("tune", "--sim-delay-ms needs 0 to 3600000 milliseconds");
            break;
        case ':':
            return cli_usage_error("tune", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("tune", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc - (a.sim ? 0 : 1))
        return cli_usage_error("tune", "unexpected argument '%s'", argv[argc - 1]);
    a.kernel_file = optind < argc ? argv[optind] : NULL;
    int rc = a.spec ? spec_search_defaults(&a, given) : EXIT_OK; /* Search, Budget */
    if (rc)
        return rc;
    if (a.search.budget == 0)
        return cli_usage_error("tune", "--budget must be at least 1");
    if (cutune_strategy_lookup(a.search.strategy, &a.search.strategy)) /* or Kernel Tuner's */
        return cli_usage_error("tune", "%s", cutune_last_error());
    if (a.sim && a.session.problem[0])
        return cli_usage_error("tune", "--problem is for the GPU: a recorded space has its own");
    if (!a.sim && !a.spec)
        return cli_usage_error("tune", "give --spec SPEC (and KERNEL.cu unless the spec "
                                       "names its KernelFile), or --sim CACHE");
    if (a.no_store && (a.db || a.resume))
        return cli_usage_error("tune", "--no-store goes with neither --db nor --resume");
    if (a.sim && a.resume && !a.db)
        return cli_usage_error("tune", "--sim keeps nothing in the profile store unless "
                                       "--db DB names one: --resume needs it");
    if (!a.sim && (a.arch_name || a.sim_delay_ms > 0))
        return cli_usage_error("tune", "--%s goes with --sim (on the GPU the device decides)",
                               a.arch_name ? "arch" : "sim-delay-ms");
    if (a.arch_name && cutune_arch_find(a.arch_name, &arch))
        return cli_fail("tune", CUTUNE_ENOTFOUND);
    a.search.arch = a.arch_name ? &arch : NULL;
    rc = tune_check_opts(&a);
    if (rc || (rc = tune_check_answers(&a)))
        return rc;
    return launched_by_mpi() ? cli_mpi_tune(argc, argv, &a) : tune_here(&a);
}
