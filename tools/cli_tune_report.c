/* cli_tune_report.c — what `cutune tune` says when a session ends: the best configuration,
 * the default's time and the speedup, the objective and the metrics, what it cost (compiled,
 * from the cache, NVRTC's time), what failed and why, and the best's occupancy; over a
 * recorded space, how close it came to the recorded optimum. As lines, or as one JSON object
 * with the history. */
#include "cli_tune.h"

#include <math.h>
#include <stdio.h>

static const char *const stops[] = {"budget spent", "time limit", "space exhausted"};

/* A number, or null where there is none (no default configuration, or it failed). */
static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The result of a session on the GPU. */
int tune_report_gpu(cutune_session *s, const tune_args *a, const tune_ctx *t,
                    const cutune_session_result *r, int stopped, const cutune_store *store,
                    json_t *extra)
{
    const cutune_search_options *o = &a->search;
    const cutune_device_info *dev = cutune_session_device(s);
    /* what --flush-l2 wrote before each timed launch (the worker's rule: the L2, else 16 MiB) */
    long long flushed = !a->session.flush_l2 ? 0
                        : dev->l2_cache_bytes > 0 ? dev->l2_cache_bytes : 1 << 24;
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
        if (out) {
            json_object_set_new(out, "timed_launches", json_integer((json_int_t)x->timed_launches));
            json_object_set_new(out, "precision", a->session.precision > 0
                                    ? json_real(a->session.precision) : json_null());
            json_object_set_new(out, "raced", json_integer((json_int_t)x->raced));
            json_object_set_new(out, "flush_l2_bytes", json_integer(flushed));
            json_object_set_new(out, "raced_saved_launches",
                                json_integer((json_int_t)x->raced_saved));
            json_object_set_new(out, "best_median_ms", number_or_null(r->best_median_ms));
            json_object_set_new(out, "best_median_interval_ms",
                                json_pack("[o, o]", number_or_null(r->best_lo_ms),
                                          number_or_null(r->best_hi_ms)));
            char first[1024] = "";
            cutune_session_key(s, r->search_best_entry, first, sizeof first);
            json_object_set_new(out, "confirmed", json_integer(r->confirmed));
            json_object_set_new(out, "confirmed_ms", number_or_null(r->confirmed_ms));
            json_object_set_new(out, "confirmed_interval_ms",
                                json_pack("[o, o]", number_or_null(r->confirmed_lo_ms),
                                          number_or_null(r->confirmed_hi_ms)));
            json_object_set_new(out, "search_best_config", json_string(first));
            json_object_set_new(out, "throttled", json_integer((json_int_t)x->throttled));
            json_object_set_new(out, "throttle_retried",
                                json_integer((json_int_t)x->throttle_retried));
            json_object_set_new(out, "compile_waits", json_integer((json_int_t)x->compile_waits));
            json_object_set_new(out, "compile_wait_s", json_real(x->compile_wait_s));
            json_object_set_new(out, "compile_helpers_lost",
                                json_integer((json_int_t)x->compile_helpers_lost));
            tune_report_failures(s, t->first_failed, out);
        }
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
    printf("best %s: %.4f ms (median %.4f, 95%% in [%.4f, %.4f]; sd %.4f); ", best,
           r->search.best_ms, r->best_median_ms, r->best_lo_ms, r->best_hi_ms, r->best_std_ms);
    if (!isnan(r->default_ms)) /* (a default that failed, or none: no speedup) */
        printf("default %s: %.4f ms; speedup %.2fx\n", dflt, r->default_ms, r->speedup);
    else
        printf("%s%s%s: no speedup\n", r->default_entry == (size_t)-1 ? "no default "
               "configuration" : "the default ", dflt, r->default_entry == (size_t)-1 ? ""
               : " failed");
    tune_report_objective(s, r, NULL);
    if (r->confirmed) {
        char first[1024] = "";
        cutune_session_key(s, r->search_best_entry, first, sizeof first);
        printf("confirmed: the %u fastest timed again side by side; the winner's median "
               "%.4f ms, 95%% in [%.4f, %.4f]%s%s%s\n", r->confirmed, r->confirmed_ms,
               r->confirmed_lo_ms, r->confirmed_hi_ms,
               r->search_best_entry != r->search.best_entry ? " (the search's fastest was "
                                                            : "",
               r->search_best_entry != r->search.best_entry ? first : "",
               r->search_best_entry != r->search.best_entry ? ")" : "");
    }
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
    printf("the measuring side waited for %llu of its binaries (%.1f s): compiling ahead "
           "had the others ready\n", (unsigned long long)x->compile_waits, x->compile_wait_s);
    if (x->compile_helpers_lost)
        printf("%llu compile helper process(es) died (a compiler crash?): their threads "
               "compiled in this process after\n", (unsigned long long)x->compile_helpers_lost);
    if (x->throttled || x->throttle_retried)
        printf("power or heat held the clock down during %llu timings; timed again, %llu "
               "still were (their entries say why)\n",
               (unsigned long long)x->throttle_retried, (unsigned long long)x->throttled);
    if (flushed)
        printf("before each timed launch, %.0f MiB (the L2 of this %s) were written to clear "
               "it\n", (double)flushed / (1 << 20), dev->name);
    if (a->session.precision > 0 && x->measured)
        printf("timing to +-%g%% of each median: %llu timed launches, %.1f a configuration; "
               "racing stopped %llu short of that (at most %llu launches saved)\n",
               100 * a->session.precision,
               (unsigned long long)x->timed_launches,
               (double)x->timed_launches / (double)x->measured, (unsigned long long)x->raced,
               (unsigned long long)x->raced_saved);
    tune_report_failures(s, t->first_failed, NULL);
    char note[512];
    if (tune_verify_note(x, t->verify, note, sizeof note))
        printf("%s\n", note);
    return EXIT_OK;
}

/* The result of a session over a recorded space. */
int tune_report_sim(const cutune_cache *cache, const tune_args *a, const tune_ctx *t,
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
json_t *tune_per_rank_json(const tune_ranks *ranks)
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

