/* cli_sim.c — `cutune sim`: scores strategies on recorded spaces (repeats on several threads,
 * traces, a table, convergence plots) and scores other tuners' traces the same way. Its
 * steps: the options, the spaces loaded, the sweep run (cli_sim_sweep.c), the scores shown
 * and plotted (cli_sim_report.c); or another tuner's trace scored (cli_sim_trace.c). */
#include "cli_sim.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SPACES 16
#define MAX_STRATEGIES 16

static const char sim_help[] =
    "usage: cutune sim --space CACHE [--space CACHE...] [--spec T1.json]\n"
    "                  (--strategy NAME | --all-strategies) [--budget N] [--repeats R]\n"
    "                  [--seed S] [--batch Q] [--in-flight W] [--trace FILE]\n"
    "                  [--plot-dir DIR] [--threads T] [--json]\n"
    "       cutune sim --space CACHE --score-trace TRACE [--label NAME] [--json]\n\n"
    "Scores search strategies on recorded search spaces (Kernel Tuner cache files, .json or\n"
    ".json.gz), without a GPU: each measurement is the recorded one. The score compares the\n"
    "mean best-so-far over the repeats with random search, exactly: 0 is as good as random,\n"
    "1 optimal from the first evaluation (see the README).\n\n"
    "  --space CACHE     a recorded space (repeat the option for several)\n"
    "  --spec T1.json    take the space from this spec and check the cache against it\n"
    "  --strategy NAME   one of: bo, random, lhs, anneal, genetic, brute (or Kernel\n"
    "                   Tuner's names for them: bayes_opt, random_sample, ...)\n"
    "  --all-strategies  every strategy: a table of scores, strategy x space\n"
    "  --budget N        evaluations per session (default: the horizon K of each space)\n"
    "  --repeats R       sessions per strategy and space (default 20)\n"
    "  --seed S          seed of the first session (session r uses S + r; default 1)\n"
    "  --batch Q         bo: configurations planned per model update (1-16, default 1)\n"
    "  --in-flight W     evaluations in flight at once, as distributed tuning keeps them\n"
    "                    (ranks x queued per rank): each suggestion is made before the W-1\n"
    "                    before it have returned; they return in order (default 1)\n"
    "  --trace FILE      one line per evaluation: repeat,k,config_key,time_or_failure\n"
    "  --plot-dir DIR    a convergence plot per space, DIR/<space>.png (gnuplot)\n"
    "  --threads T       sessions run in parallel (default: the number of CPUs)\n"
    "  --score-trace F   score the evaluations of another tuner, in the trace format\n"
    "  --json            machine-readable output\n";

/* ---------------------------------------------------------------------- the options ---- */

typedef struct sim_args {
    const char *paths[MAX_SPACES], *spec, *strategy, *trace_path, *plot_dir, *score_path;
    const char *label;
    size_t nspaces;
    int all, json, have_budget;
    unsigned long long budget, repeats, seed, threads, batch, in_flight;
} sim_args;

#define GO_ON (-1) /* parse_args: the command goes on */

/* The command line into *a: GO_ON, or the exit status (--help, a usage error). */
static int parse_args(int argc, char **argv, sim_args *a)
{
    static const struct option opts[] = {
        {"space", required_argument, 0, 'S'},    {"spec", required_argument, 0, 'p'},
        {"strategy", required_argument, 0, 's'}, {"all-strategies", no_argument, 0, 'a'},
        {"budget", required_argument, 0, 'b'},   {"repeats", required_argument, 0, 'r'},
        {"seed", required_argument, 0, 'e'},     {"batch", required_argument, 0, 'q'},
        {"trace", required_argument, 0, 't'},    {"in-flight", required_argument, 0, 'w'},
        {"plot-dir", required_argument, 0, 'P'}, {"threads", required_argument, 0, 'T'},
        {"score-trace", required_argument, 0, 'x'}, {"label", required_argument, 0, 'l'},
        {"json", no_argument, 0, 'j'},           {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    *a = (sim_args){.label = "other", .repeats = 20, .seed = 1, .batch = 1, .in_flight = 1};
    unsigned long long v;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(sim_help, stdout);
            return EXIT_OK;
        case 'S':
            if (a->nspaces == MAX_SPACES)
                return cli_usage_error("sim", "at most %d spaces", MAX_SPACES);
            a->paths[a->nspaces++] = optarg;
            break;
        case 'p': a->spec = optarg; break;
        case 's': a->strategy = optarg; break;
        case 'a': a->all = 1; break;
        case 't': a->trace_path = optarg; break;
        case 'P': a->plot_dir = optarg; break;
        case 'x': a->score_path = optarg; break;
        case 'l': a->label = optarg; break;
        case 'j': a->json = 1; break;
        case 'b':
        case 'r':
        case 'e':
        case 'q':
        case 'w':
        case 'T':
            if (cli_parse_u64("sim", argv[optind - 1], optarg, &v))
                return EXIT_USAGE;
            if (c == 'b')
                a->budget = v, a->have_budget = 1;
            else if (c == 'r')
                a->repeats = v;
            else if (c == 'e')
                a->seed = v;
            else if (c == 'q')
                a->batch = v;
            else if (c == 'w')
                a->in_flight = v;
            else
                a->threads = v;
            break;
        case ':':
            return cli_usage_error("sim", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("sim", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
    return GO_ON;
}

/* What only the whole command line decides (and --plot-dir made): GO_ON or the status. */
static int check_args(sim_args *a)
{
    if (a->nspaces == 0)
        return cli_usage_error("sim", "--space CACHE is required");
    if (a->have_budget && a->budget == 0)
        return cli_usage_error("sim", "--budget must be at least 1");
    if (a->repeats == 0)
        return cli_usage_error("sim", "--repeats must be at least 1");
    if (a->batch < 1 || a->batch > 16)
        return cli_usage_error("sim", "--batch must be 1 to 16");
    if (a->in_flight < 1 || a->in_flight > 1024)
        return cli_usage_error("sim", "--in-flight must be 1 to 1024");
    if (a->score_path && (a->nspaces != 1 || a->strategy || a->all))
        return cli_usage_error("sim", "--score-trace takes one --space and no strategy");
    if (!a->score_path && !a->strategy == !a->all)
        return cli_usage_error("sim", "give --strategy NAME or --all-strategies");
    /* (or Kernel Tuner's name) */
    if (a->strategy && cutune_strategy_lookup(a->strategy, &a->strategy))
        return cli_usage_error("sim", "%s", cutune_last_error());
    if (a->trace_path && (a->all || a->nspaces > 1))
        return cli_usage_error("sim", "--trace needs one strategy and one space");
    if (a->plot_dir && cli_make_dir(a->plot_dir, "sim"))
        return EXIT_FAILED;
    if (a->repeats > 100000 || a->budget > 100000000)
        return cli_usage_error("sim", "--repeats or --budget is absurdly large");
    return GO_ON;
}

/* ---------------------------------------------------------------------- the spaces ---- */

static int load_space(space_run *sp, const char *path, const char *spec)
{
    memset(sp, 0, sizeof *sp);
    sp->path = path;
    int st = cutune_cache_load(&sp->cache, path, spec);
    if (!st)
        st = cutune_baseline_new(sp->cache, &sp->base);
    if (st)
        return cli_fail("sim", st);
    sp->name = sim_space_label(path);
    return sp->name ? EXIT_OK : EXIT_FAILED;
}

static void free_space(space_run *sp)
{
    cutune_baseline_free(sp->base);
    cutune_cache_free(sp->cache);
    free((char *)sp->name);
}

/* Every --space, its budget the one given or its horizon K; *loaded: how many to free. */
static int load_spaces(const sim_args *a, space_run *spaces, size_t *loaded)
{
    int rc = EXIT_OK;
    for (*loaded = 0; *loaded < a->nspaces && rc == EXIT_OK; ++*loaded) {
        space_run *sp = &spaces[*loaded];
        rc = load_space(sp, a->paths[*loaded], a->spec);
        if (rc) {
            cutune_baseline_free(sp->base);
            cutune_cache_free(sp->cache);
            break;
        }
        size_t K = cutune_baseline_horizon(sp->base);
        sp->budget = a->have_budget ? (size_t)a->budget : K;
    }
    return rc;
}

/* ----------------------------------------------------------------------- the sweep ---- */

/* The strategies swept: the one asked for, or every one but brute force. */
static size_t chosen_strategies(const sim_args *a, const char *chosen[MAX_STRATEGIES])
{
    const char *const *names = cutune_strategy_names();
    size_t nstrat = 0;
    for (size_t i = 0; a->all && names[i] && nstrat < MAX_STRATEGIES; i++)
        if (strcmp(names[i], "brute") != 0) /* brute force scores below random by design */
            chosen[nstrat++] = names[i];
    if (!a->all)
        chosen[nstrat++] = a->strategy;
    return nstrat;
}

/* The sessions, with --trace written whole; *seconds: how long they took. */
static int run_sweep(const sim_args *a, sweep *w, double *seconds)
{
    cli_file trace;
    int rc = EXIT_OK;
    if (a->trace_path) {
        if (cli_file_open(&trace, a->trace_path, "sim"))
            rc = EXIT_FAILED;
        else
            w->trace = trace.f;
    }
    if (rc == EXIT_OK)
        *seconds = sim_sweep_run(w, (size_t)a->threads);
    if (w->trace && rc != EXIT_OK)
        cli_file_abort(&trace);
    else if (w->trace && cli_file_commit(&trace, "sim"))
        rc = EXIT_FAILED;
    for (size_t i = 0; rc == EXIT_OK && i < w->ncells; i++)
        if (w->cells[i].status)
            rc = EXIT_FAILED;
    return rc;
}

/* ---------------------------------------------------------------------- cutune sim ---- */

int cmd_sim(int argc, char **argv)
{
    sim_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == GO_ON)
        rc = check_args(&a);
    if (rc != GO_ON)
        return rc;
    cutune_set_math_threads(1); /* parallelism comes from running sessions side by side */
    space_run spaces[MAX_SPACES];
    size_t loaded;
    rc = load_spaces(&a, spaces, &loaded);
    if (rc == EXIT_OK && a.score_path)
        rc = sim_score_trace(&spaces[0], a.score_path, a.label, a.json);
    if (rc != EXIT_OK || a.score_path) {
        for (size_t i = 0; i < loaded; i++)
            free_space(&spaces[i]);
        return rc;
    }
    const char *chosen[MAX_STRATEGIES];
    size_t nstrat = chosen_strategies(&a, chosen);
    sweep w = {.repeats = a.repeats, .seed = a.seed, .batch = (unsigned)a.batch,
               .in_flight = (unsigned)a.in_flight};
    double seconds = 0, *scores = NULL;
    rc = sim_sweep_init(&w, spaces, a.nspaces, chosen, nstrat);
    if (rc == EXIT_OK)
        rc = run_sweep(&a, &w, &seconds);
    if (rc == EXIT_OK && !(scores = sim_sweep_scores(&w))) {
        fprintf(stderr, "cutune sim: out of memory\n");
        rc = EXIT_FAILED;
    }
    if (rc == EXIT_OK)
        rc = a.json ? sim_report_json(&w, scores, seconds)
                    : sim_report_table(&w, scores, seconds, spaces, a.nspaces, chosen, nstrat,
                                       a.have_budget);
    for (size_t s = 0; rc == EXIT_OK && a.plot_dir && s < a.nspaces; s++)
        if (sim_write_plot(a.plot_dir, &spaces[s], w.cells, w.ncells, w.repeats))
            rc = EXIT_FAILED;
    free(scores);
    sim_sweep_free(&w);
    for (size_t i = 0; i < loaded; i++)
        free_space(&spaces[i]);
    return rc;
}
