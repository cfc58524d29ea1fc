/* cli_sim.c — `cutune sim`: scores strategies on recorded spaces (repeats on several threads,
 * traces, a table, convergence plots) and scores other tuners' traces the same way. */
#include "cli.h"

#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ------------------------------------------------------------------------- the sweep ---- */

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

typedef struct sweep {
    cell *cells;
    size_t ncells, repeats;
    uint64_t seed;
    unsigned batch, in_flight;
    atomic_size_t next_job;
    FILE *trace;
    pthread_mutex_t trace_lock;
} sweep;

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

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "data/spaces/convolution/A100.json.gz" -> "convolution/A100" */
static char *space_label(const char *path)
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
static int write_plot(const char *dir, const space_run *sp, const cell *cells, size_t ncells,
                      size_t repeats)
{
    char *label = space_label(sp->path);
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

/* ------------------------------------------------------------------- trace scoring ---- */

/* Reads another tuner's trace (repeat,k,key,time) and scores it on the space. */
static int score_trace(space_run *sp, const char *path, const char *label, int json)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cutune sim: cannot open trace %s\n", path);
        return EXIT_FAILED;
    }
    size_t K = cutune_baseline_horizon(sp->base);
    size_t width = K > sp->budget ? K : sp->budget;
    double *sum = calloc(width, sizeof *sum), *best = malloc(width * sizeof *best);
    uint32_t *config = malloc(cutune_space_num_params(cutune_cache_space(sp->cache)) * 4 + 4);
    char line[4096];
    long repeat = -1, lineno = 0;
    size_t repeats = 0, k = 0, longest = 0;
    int rc = sum && best && config ? EXIT_OK : EXIT_FAILED;
    double median = cutune_baseline_median(sp->base), run_best = NAN;
    /* closes the current repeat: its best-so-far stays flat to the end */
#define CLOSE_REPEAT()                                                       \
    do {                                                                     \
        if (repeat >= 0) {                                                   \
            for (size_t j = k < width ? k : width; j < width; j++)           \
                best[j] = j ? best[j - 1] : median;                          \
            for (size_t j = 0; j < width; j++)                               \
                sum[j] += best[j];                                           \
            repeats++;                                                       \
            longest = k > longest ? k : longest;                             \
        }                                                                    \
    } while (0)
    while (rc == EXIT_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!*line)
            continue;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *last = strrchr(line, ',');
        if (!c1 || !c2 || last == c2) {
            fprintf(stderr, "cutune sim: %s:%ld: expected repeat,k,config_key,time\n", path,
                    lineno);
            rc = EXIT_FAILED;
            break;
        }
        long r = strtol(line, NULL, 10);
        size_t kk = strtoul(c1 + 1, NULL, 10);
        *last = '\0';
        if (r != repeat) {
            CLOSE_REPEAT();
            repeat = r;
            k = 0;
            run_best = NAN;
        }
        if (kk != k + 1) {
            fprintf(stderr, "cutune sim: %s:%ld: evaluation %zu follows %zu\n", path, lineno, kk,
                    k);
            rc = EXIT_FAILED;
            break;
        }
        size_t entry;
        if (cutune_space_parse_key(cutune_cache_space(sp->cache), c2 + 1, config) ||
            cutune_cache_find(sp->cache, config, &entry)) {
            fprintf(stderr, "cutune sim: %s:%ld: '%s' is not a configuration of %s\n", path,
                    lineno, c2 + 1, sp->path);
            rc = EXIT_FAILED;
            break;
        }
        double t = cutune_cache_time(sp->cache, entry, NULL); /* the recorded time */
        if (!isnan(t) && (isnan(run_best) || t < run_best))
            run_best = t;
        if (k < width)
            best[k] = isnan(run_best) ? median : run_best;
        k++;
    }
    if (rc == EXIT_OK)
        CLOSE_REPEAT();
#undef CLOSE_REPEAT
    fclose(f);
    double score = NAN;
    if (rc == EXIT_OK && repeats == 0) {
        fprintf(stderr, "cutune sim: %s holds no evaluation\n", path);
        rc = EXIT_FAILED;
    }
    if (rc == EXIT_OK) {
        for (size_t j = 0; j < width; j++)
            sum[j] /= (double)repeats;
        if (cutune_score(sp->base, sum, width, &score))
            rc = cli_fail("sim", CUTUNE_EINVAL);
    }
    if (rc == EXIT_OK && json)
        cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:I}", "strategy", label,
                                 "space", sp->path, "repeats", (json_int_t)repeats, "budget",
                                 (json_int_t)longest, "score", score, "optimum",
                                 cutune_baseline_optimum(sp->base), "best_mean_at_budget",
                                 sum[(longest ? longest : 1) - 1], "horizon", (json_int_t)K));
    else if (rc == EXIT_OK)
        printf("%-12s %-24s score %6.3f  (%zu repeats of up to %zu evaluations; horizon %zu)\n",
               cli_text(label), cli_text(sp->name), score, repeats, longest, K);
    free(sum);
    free(best);
    free(config);
    return rc;
}

/* ---------------------------------------------------------------------- cutune sim ---- */

static int load_space(space_run *sp, const char *path, const char *spec)
{
    memset(sp, 0, sizeof *sp);
    sp->path = path;
    int st = cutune_cache_load(&sp->cache, path, spec);
    if (!st)
        st = cutune_baseline_new(sp->cache, &sp->base);
    if (st)
        return cli_fail("sim", st);
    sp->name = space_label(path);
    return sp->name ? EXIT_OK : EXIT_FAILED;
}

static void free_space(space_run *sp)
{
    cutune_baseline_free(sp->base);
    cutune_cache_free(sp->cache);
    free((char *)sp->name);
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

int cmd_sim(int argc, char **argv)
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
    const char *paths[MAX_SPACES], *spec = NULL, *strategy = NULL, *trace_path = NULL;
    const char *plot_dir = NULL, *score_path = NULL, *label = "other";
    size_t nspaces = 0;
    int all = 0, json = 0, c, have_budget = 0;
    unsigned long long budget = 0, repeats = 20, seed = 1, threads = 0, batch = 1, v;
    unsigned long long in_flight = 1;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(sim_help, stdout);
            return EXIT_OK;
        case 'S':
            if (nspaces == MAX_SPACES)
                return cli_usage_error("sim", "at most %d spaces", MAX_SPACES);
            paths[nspaces++] = optarg;
            break;
        case 'p': spec = optarg; break;
        case 's': strategy = optarg; break;
        case 'a': all = 1; break;
        case 't': trace_path = optarg; break;
        case 'P': plot_dir = optarg; break;
        case 'x': score_path = optarg; break;
        case 'l': label = optarg; break;
        case 'j': json = 1; break;
        case 'b':
        case 'r':
        case 'e':
        case 'q':
        case 'w':
        case 'T':
            if (cli_parse_u64("sim", argv[optind - 1], optarg, &v))
                return EXIT_USAGE;
            if (c == 'b')
                budget = v, have_budget = 1;
            else if (c == 'r')
                repeats = v;
            else if (c == 'e')
                seed = v;
            else if (c == 'q')
                batch = v;
            else if (c == 'w')
                in_flight = v;
            else
                threads = v;
            break;
        case ':':
            return cli_usage_error("sim", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("sim", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
    if (nspaces == 0)
        return cli_usage_error("sim", "--space CACHE is required");
    if (have_budget && budget == 0)
        return cli_usage_error("sim", "--budget must be at least 1");
    if (repeats == 0)
        return cli_usage_error("sim", "--repeats must be at least 1");
    if (batch < 1 || batch > 16)
        return cli_usage_error("sim", "--batch must be 1 to 16");
    if (in_flight < 1 || in_flight > 1024)
        return cli_usage_error("sim", "--in-flight must be 1 to 1024");
    if (score_path && (nspaces != 1 || strategy || all))
        return cli_usage_error("sim", "--score-trace takes one --space and no strategy");
    if (!score_path && !strategy == !all)
        return cli_usage_error("sim", "give --strategy NAME or --all-strategies");
    if (strategy && cutune_strategy_lookup(strategy, &strategy)) /* or Kernel Tuner's name */
        return cli_usage_error("sim", "%s", cutune_last_error());
    if (trace_path && (all || nspaces > 1))
        return cli_usage_error("sim", "--trace needs one strategy and one space");
    if (plot_dir && cli_make_dir(plot_dir, "sim"))
        return EXIT_FAILED;
    if (repeats > 100000 || budget > 100000000)
        return cli_usage_error("sim", "--repeats or --budget is absurdly large");

    openblas_set_num_threads(1); /* parallelism comes from running sessions side by side */
    space_run spaces[MAX_SPACES];
    int rc = EXIT_OK;
    size_t loaded = 0;
    for (; loaded < nspaces && rc == EXIT_OK; loaded++) {
        rc = load_space(&spaces[loaded], paths[loaded], spec);
        if (rc) {
            cutune_baseline_free(spaces[loaded].base);
            cutune_cache_free(spaces[loaded].cache);
            break;
        }
        size_t K = cutune_baseline_horizon(spaces[loaded].base);
        spaces[loaded].budget = have_budget ? (size_t)budget : K;
    }
    if (rc == EXIT_OK && score_path)
        rc = score_trace(&spaces[0], score_path, label, json);
    if (rc != EXIT_OK || score_path) {
        for (size_t i = 0; i < loaded; i++)
            free_space(&spaces[i]);
        return rc;
    }

    const char *const *names = cutune_strategy_names();
    const char *chosen[MAX_STRATEGIES];
    size_t nstrat = 0;
    for (size_t i = 0; all && names[i] && nstrat < MAX_STRATEGIES; i++)
        if (strcmp(names[i], "brute") != 0) /* brute force scores below random by design */
            chosen[nstrat++] = names[i];
    if (!all)
        chosen[nstrat++] = strategy;

    sweep w = {.repeats = repeats, .seed = seed, .batch = (unsigned)batch,
              .in_flight = (unsigned)in_flight, .ncells = nstrat * nspaces};
    w.cells = calloc(w.ncells, sizeof *w.cells);
    pthread_mutex_init(&w.trace_lock, NULL);
    atomic_init(&w.next_job, 0);
    for (size_t i = 0; w.cells && i < w.ncells; i++) {
        cell *cl = &w.cells[i];
        cl->space = &spaces[i % nspaces];
        cl->strategy = chosen[i / nspaces];
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
    if (!w.cells || rc) {
        fprintf(stderr, "cutune sim: out of memory\n");
        rc = EXIT_FAILED;
    }
    cli_file trace;
    if (rc == EXIT_OK && trace_path) {
        if (cli_file_open(&trace, trace_path, "sim"))
            rc = EXIT_FAILED;
        else
            w.trace = trace.f;
    }
    double start = 0;
    if (rc == EXIT_OK) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t nthreads = threads ? threads : (size_t)(cpus > 0 ? cpus : 1);
        size_t jobs = w.ncells * w.repeats;
        nthreads = nthreads < jobs ? nthreads : jobs;
        nthreads = nthreads < 256 ? nthreads : 256;
        pthread_t tid[256];
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        start = ts.tv_sec + ts.tv_nsec * 1e-9;
        size_t started = 0;
        for (; started < nthreads; started++)
            if (pthread_create(&tid[started], NULL, sweep_worker, &w))
                break;
        if (started == 0)
            sweep_worker(&w);
        for (size_t t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        start = ts.tv_sec + ts.tv_nsec * 1e-9 - start;
    }
    if (w.trace && rc != EXIT_OK)
        cli_file_abort(&trace);
    else if (w.trace && cli_file_commit(&trace, "sim"))
        rc = EXIT_FAILED;
    for (size_t i = 0; rc == EXIT_OK && i < w.ncells; i++)
        if (w.cells[i].status)
            rc = EXIT_FAILED;

    double *scores = calloc(w.ncells ? w.ncells : 1, sizeof *scores);
    for (size_t i = 0; rc == EXIT_OK && scores && i < w.ncells; i++) {
        cell *cl = &w.cells[i];
        size_t K = cutune_baseline_horizon(cl->space->base), width = cl->space->budget;
        double *mean = malloc((K > width ? K : width) * sizeof *mean);
        for (size_t k = 0; mean && k < (K > width ? K : width); k++)
            mean[k] = k < width ? cl->best_sum[k] / (double)repeats : mean[k - 1];
        if (!mean || cutune_score(cl->space->base, mean, K > width ? K : width, &scores[i]))
            scores[i] = NAN;
        free(mean);
    }
    if (rc == EXIT_OK && json) {
        json_t *list = json_array();
        for (size_t i = 0; i < w.ncells; i++)
            json_array_append_new(list, cell_json(&w.cells[i], repeats, scores[i]));
        rc = w.ncells == 1 ? cli_print_json(json_incref(json_array_get(list, 0)))
                           : cli_print_json(json_pack("{s:o, s:f}", "results", json_incref(list),
                                                      "seconds", start));
        json_decref(list);
    } else if (rc == EXIT_OK) {
        /* a row per space (names are long), a column per strategy */
        int width = 5;
        for (size_t s = 0; s < nspaces; s++)
            width = (int)strlen(spaces[s].name) > width ? (int)strlen(spaces[s].name) : width;
        printf("%-*s %6s", width, "space", "K");
        for (size_t t = 0; t < nstrat; t++)
            printf(" %8s", chosen[t]);
        printf("\n");
        for (size_t s = 0; s < nspaces; s++) {
            printf("%-*s %6zu", width, cli_text(spaces[s].name),
                   cutune_baseline_horizon(spaces[s].base));
            for (size_t t = 0; t < nstrat; t++)
                printf(" %8.3f", scores[t * nspaces + s]);
            printf("\n");
        }
        printf("(%llu repeats each, budget %s; %.1f s)\n", repeats,
               have_budget ? "as given" : "K of each space", start);
        if (nstrat == 1 && nspaces == 1) {
            cell_summary m = summarise(&w.cells[0], repeats);
            printf("optimum %.6g ms; best at budget: mean %.6g ms, median %.6g ms, within 5%% "
                   "of the optimum in %.0f%% of repeats (median evaluations to get there: "
                   "%.0f)\n"
                   "suggestion time: median %.3g ms, last (after %zu observations) %.3g ms\n",
                   cutune_baseline_optimum(spaces[0].base),
                   w.cells[0].best_sum[spaces[0].budget - 1] / (double)repeats, m.best_median,
                   100 * m.within_5pct, m.reach_5pct, m.suggest_ms, spaces[0].budget - 1,
                   m.suggest_last_ms);
        }
    }
    for (size_t s = 0; rc == EXIT_OK && plot_dir && s < nspaces; s++)
        if (write_plot(plot_dir, &spaces[s], w.cells, w.ncells, repeats))
            rc = EXIT_FAILED;
    free(scores);
    for (size_t i = 0; w.cells && i < w.ncells; i++) {
        free(w.cells[i].best_sum);
        free(w.cells[i].final_best);
        free(w.cells[i].reach_5pct);
        free(w.cells[i].suggest_s);
        pthread_mutex_destroy(&w.cells[i].lock);
    }
    free(w.cells);
    pthread_mutex_destroy(&w.trace_lock);
    for (size_t i = 0; i < loaded; i++)
        free_space(&spaces[i]);
    return rc;
}
