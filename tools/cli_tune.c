/* cli_tune.c — `cutune tune`: one tuning session. With --sim the measurements come from a
 * recorded space; tuning on the GPU itself arrives with the CUDA backend (issue #6). */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char tune_help[] =
    "usage: cutune tune --sim CACHE [--spec T1.json] [--strategy NAME] [--budget N]\n"
    "                   [--seed S] [--time-limit SECONDS] [--arch SM] [--json]\n\n"
    "Tunes a kernel over its search space. With --sim the measurements come from a recorded\n"
    "space (a Kernel Tuner cache file) instead of a GPU. Prints each new best configuration\n"
    "as it is found, then the result.\n\n"
    "  --strategy NAME    bo (default), random, lhs, anneal, genetic, brute\n"
    "  --budget N         evaluations (default 100)\n"
    "  --time-limit S     stop after S seconds\n"
    "  --seed S           seed (default 1)\n"
    "  --arch SM          prune, before compiling, configurations whose block cannot launch\n"
    "                     on this architecture (block_size_x*y*z threads over its limit);\n"
    "                     they cost no evaluation, and the report counts them with the\n"
    "                     time the recording tuner spent on them\n\n"
    "Tuning on a GPU (KERNEL.cu --spec SPEC) is not implemented yet: planned in issue #6.\n";

typedef struct tune_ctx {
    const cutune_cache *cache;
    int json;
    json_t *history;
    double best;
    uint64_t failed; /* measured and failed (pruned ones apart) */
} tune_ctx;

static int report(const cutune_evaluation *e, void *user)
{
    tune_ctx *t = user;
    const char *key = cutune_cache_key(t->cache, e->entry);
    t->failed += e->failure != NULL && !e->pruned;
    if (t->json)
        return json_array_append_new(
                   t->history,
                   e->failure ? json_pack("{s:I, s:s, s:s, s:b}", "k", (json_int_t)e->k, "config",
                                          key, "failure", e->failure, "pruned", e->pruned)
                              : json_pack("{s:I, s:s, s:f}", "k", (json_int_t)e->k, "config",
                                          key, "time_ms", e->time_ms))
                   ? CUTUNE_ENOMEM
                   : 0;
    if (!isnan(e->best_ms) && !(e->best_ms >= t->best)) {
        printf("  %5llu  new best %10.4f ms  %s\n", (unsigned long long)e->k, e->best_ms, key);
        t->best = e->best_ms;
    }
    return 0;
}

int cmd_tune(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sim", required_argument, 0, 'S'},      {"spec", required_argument, 0, 'p'},
        {"strategy", required_argument, 0, 's'}, {"budget", required_argument, 0, 'b'},
        {"seed", required_argument, 0, 'e'},     {"time-limit", required_argument, 0, 'L'},
        {"json", no_argument, 0, 'j'},           {"help", no_argument, 0, 'h'},
        {"arch", required_argument, 0, 'a'},     {0, 0, 0, 0}};
    const char *sim = NULL, *spec = NULL, *strategy = "bo", *arch_name = NULL;
    unsigned long long budget = 100, seed = 1;
    double time_limit = 0;
    int json = 0, c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'h':
            fputs(tune_help, stdout);
            return EXIT_OK;
        case 'S': sim = optarg; break;
        case 'p': spec = optarg; break;
        case 's': strategy = optarg; break;
        case 'a': arch_name = optarg; break;
        case 'j': json = 1; break;
        case 'b':
            if (cli_parse_u64("tune", "--budget", optarg, &budget))
                return EXIT_USAGE;
            break;
        case 'e':
            if (cli_parse_u64("tune", "--seed", optarg, &seed))
                return EXIT_USAGE;
            break;
        case 'L':
            time_limit = strtod(optarg, &end);
            if (*end || !(time_limit > 0))
                return cli_usage_error("tune", "--time-limit needs a positive number of seconds");
            break;
        case ':':
            return cli_usage_error("tune", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("tune", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!sim) {
        fprintf(stderr, "cutune tune: tuning on a GPU is not implemented yet (planned in issue "
                        "#6); use --sim CACHE to tune on a recorded space\n");
        return EXIT_USAGE;
    }
    if (optind < argc)
        return cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    if (budget == 0)
        return cli_usage_error("tune", "--budget must be at least 1");
    if (!cutune_strategy_summary(strategy))
        return cli_usage_error("tune", "unknown strategy '%s'", strategy);

    cutune_arch arch;
    if (arch_name && cutune_arch_find(arch_name, &arch))
        return cli_fail("tune", CUTUNE_ENOTFOUND);
    cutune_cache *cache;
    int st = cutune_cache_load(&cache, sim, spec);
    if (st)
        return cli_fail("tune", st);
    tune_ctx t = {.cache = cache, .json = json, .best = INFINITY};
    if (json && !(t.history = json_array())) {
        cutune_cache_free(cache);
        return EXIT_FAILED;
    }
    if (!json)
        printf("tuning %s (%s, %zu configurations) with %s, budget %llu, seed %llu\n",
               cutune_cache_kernel(cache), cutune_cache_device(cache), cutune_cache_size(cache),
               strategy, budget, seed);
    cutune_search_options o = {.strategy = strategy, .budget = budget, .seed = seed,
                               .time_limit_s = time_limit, .arch = arch_name ? &arch : NULL};
    cutune_search_result r;
    st = cutune_simulate(cache, &o, report, &t, &r);
    static const char *const stops[] = {"budget spent", "time limit", "space exhausted"};
    double optimum = INFINITY; /* the fastest recorded time: how close the session came */
    for (size_t i = 0; i < cutune_cache_size(cache); i++) {
        double ti = cutune_cache_time(cache, i, NULL);
        optimum = ti < optimum ? ti : optimum;
    }
    int rc = EXIT_OK;
    if (st) {
        rc = cli_fail("tune", st);
    } else if (json) {
        rc = cli_print_json(json_pack(
            "{s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s*, s:o, s:o, s:s, s:f, s:o}", "space", sim,
            "strategy", strategy, "device", cutune_cache_device(cache), "evaluations",
            (json_int_t)r.evaluations, "failed", (json_int_t)t.failed, "pruned",
            (json_int_t)r.pruned, "pruned_cost_s",
            isnan(r.pruned_cost_s) ? json_null() : json_real(r.pruned_cost_s), "best_config",
            isnan(r.best_ms) ? NULL : cutune_cache_key(cache, r.best_entry), "best_ms",
            isnan(r.best_ms) ? json_null() : json_real(r.best_ms), "recorded_optimum_ms",
            isinf(optimum) ? json_null() : json_real(optimum), "stop", stops[r.stop],
            "seconds", r.seconds, "history", json_incref(t.history)));
    } else if (isnan(r.best_ms)) {
        printf("no configuration succeeded in %llu evaluations (%s)\n",
               (unsigned long long)r.evaluations, stops[r.stop]);
    } else {
        printf("best %s: %.4f ms after %llu evaluations (%llu failed; %s; %.3f s)\n",
               cutune_cache_key(cache, r.best_entry), r.best_ms,
               (unsigned long long)r.evaluations, (unsigned long long)t.failed, stops[r.stop],
               r.seconds);
        printf("the fastest recorded configuration takes %.4f ms: the best found is %.1f%% "
               "slower\n", optimum, 100 * (r.best_ms / optimum - 1));
    }
    if (!st && !json && arch_name) {
        printf("pruned before compiling (cannot launch on %s): %llu configuration%s", arch.name,
               (unsigned long long)r.pruned, r.pruned == 1 ? "" : "s");
        if (r.pruned && !isnan(r.pruned_cost_s))
            printf(", on which the recording tuner spent %.1f s", r.pruned_cost_s);
        printf("\n");
    }
    json_decref(t.history);
    cutune_cache_free(cache);
    return rc;
}
