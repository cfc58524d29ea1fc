/* cli_bench.c — `cutune bench`: each shipped workload's default configuration against its
 * tuned one (the profile store's, tuned now when the store has none), the tuned one's latency
 * percentiles over many runs while NVML watches the GPU, achieved bandwidth against the
 * device's copy and its theoretical figure, and the service-level contracts of
 * bench/slo.json; a JSON file, a Markdown report and gnuplot plots (bench_report.c). */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_text[] =
    "usage: cutune bench [--workloads LIST] [--out DIR] [--db DB] [--runs N] [--budget B]\n"
    "                    [--slo FILE] [--kernels DIR] [--device N] [--json]\n"
    "       cutune bench --report REPORT.json [--out DIR] [--slo FILE]\n\n"
    "Benchmarks cutune's shipped workloads on this GPU: for each, the default configuration\n"
    "against the tuned one (the profile store's best for this GPU and size; when the store\n"
    "has none, `cutune tune --strategy bo` runs first), the speedup, the tuned "
    "configuration's\n"
    "occupancy and limiter, then N timed runs of the tuned one (CUDA events around each\n"
    "launch, launches queued back to back, at least 1.5 s) with NVML sampling utilisation,\n"
    "clocks and power and reading the energy counter; a run the GPU throttled is flagged.\n"
    "Memory-bound workloads report their bandwidth against a device-to-device copy measured\n"
    "first and against the theoretical figure. The contracts (stage, percentile, limit) come\n"
    "from --slo; each is shown as pass or fail.\n\n"
    "Writes DIR/<device>-<date>.json and .md, and PNG plots (speedup, latency CDFs, the\n"
    "tuning sessions' convergence) when gnuplot is installed; --report renders a report\n"
    "made earlier or elsewhere (Markdown and plots, contracts judged again).\n\n"
    "  --workloads LIST   comma-separated, from: sgemm, convolution, sum, triad, oscillators,\n"
    "                     active_inference, realtime (default: all); realtime runs the\n"
    "                     oscillators' and active inference's profiles, tuned first if\n"
    "                     the store has none\n"
    "  --out DIR          where the report goes (default: bench/results)\n"
    "  --db DB            the profile store (default: $CUTUNE_DB, else\n"
    "                     $XDG_DATA_HOME/cutune/profiles.db)\n"
    "  --runs N           timed runs of each tuned workload, 100 to 10^7 (default 10000)\n"
    "  --budget B         evaluations when a workload must be tuned first (default 40)\n"
    "  --slo FILE         service-level contracts (default: bench/slo.json)\n"
    "  --kernels DIR      the shipped kernels and specs (default: kernels)\n"
    "  --device N         the CUDA device (default 0)\n"
    "  --json             print the report's JSON instead of its tables\n\n"
    "Exit status: 0 done (contracts and goals are reported, not enforced), 1 failed,\n"
    "2 usage error, 3 no CUDA device.\n";

/* ------------------------------------------------------------------ workloads ---- */

static double sgemm_flops(const int64_t p[3]) { return 2.0 * p[0] * p[1] * p[2]; }
static double conv_flops(const int64_t p[3]) { return 2.0 * p[0] * p[1] * 15 * 15; }
static double sum_bytes(const int64_t p[3]) { return 4.0 * p[0]; }
static double triad_bytes(const int64_t p[3]) { return 12.0 * p[0]; } /* 2 reads, a write */

/* Sizes a tuned run of which takes well under a millisecond, so that 10,000 runs take
 * seconds. The oscillators and active inference are the real-time demo's fused launches. */
static const bench_workload workloads[] = {
    {"sgemm",
     "sgemm.cu",
     "sgemm.json",
     {2048, 2048, 2048},
     BENCH_COMPUTE,
     sgemm_flops,
     NULL,
     "FP32 matrix product, 2048^3"},
    {"convolution",
     "convolution.cu",
     "convolution.json",
     {4096, 4096, 1},
     BENCH_COMPUTE,
     conv_flops,
     NULL,
     "2-D convolution, 4096^2 image, 15x15 filter"},
    {"sum",
     "reduce.cu",
     "sum.json",
     {1 << 28, 1, 1},
     BENCH_MEMORY,
     NULL,
     sum_bytes,
     "sum of 2^28 floats (1 GiB)"},
    {"triad",
     "stream.cu",
     "triad.json",
     {1 << 26, 1, 1},
     BENCH_MEMORY,
     NULL,
     triad_bytes,
     "a = b + s c over 2^26 floats"},
    {"oscillators",
     "oscillators.cu",
     "oscillators.json",
     {1024, 100, 1},
     BENCH_LATENCY,
     NULL,
     NULL,
     "100 steps of 1024 oscillators, one launch"},
    {"active_inference",
     "active_inference.cu",
     "active_inference.json",
     {900, 5, 100},
     BENCH_LATENCY,
     NULL,
     NULL,
     "100 sub-steps of 5 policies' 900-state transition"},
    {"realtime",
     NULL,
     NULL,
     {1024, 1, 1},
     BENCH_PIPELINE,
     NULL,
     NULL,
     "the real-time frame: 100 oscillator steps and an active-inference step"}};
#define NWORKLOADS (sizeof workloads / sizeof *workloads)

const bench_workload *bench_workload_named(const char *name)
{
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}

/* --------------------------------------------------------------- the contracts ---- */

void bench_slo_free(bench_slo *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i].stage);
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* {"contracts": [{"stage": S, "percentile": P, "limit_ms": L}, ...]}: every field checked
 * before anything runs. */
int bench_slo_load(const char *path, bench_slo *out, char *why, size_t size)
{
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err), *list = json_object_get(root, "contracts");
    if (!root) {
        snprintf(why, size, "%s:%d: %s", path, err.line, err.text);
        return -1;
    }
    int bad = 0;
    size_t n = json_array_size(list);
    if (!json_is_array(list) || !n) {
        snprintf(why, size, "%s: no \"contracts\" list", path);
        bad = 1;
    } else if (!(out->items = calloc(n, sizeof *out->items))) {
        snprintf(why, size, "out of memory");
        bad = 1;
    }
    for (size_t i = 0; !bad && i < n; i++) {
        json_t *c = json_array_get(list, i);
        const char *stage = json_string_value(json_object_get(c, "stage"));
        json_t *p = json_object_get(c, "percentile"), *l = json_object_get(c, "limit_ms");
        double pv = json_number_value(p), lv = json_number_value(l);
        if (!stage || !json_is_number(p) || !json_is_number(l))
            snprintf(why, size,
                     "%s: contract %zu needs \"stage\" (a string), \"percentile\" "
                     "and \"limit_ms\" (numbers)",
                     path, i + 1),
                bad = 1;
        else if (!bench_percentile_key(pv) || !(lv > 0 && lv < 1e7))
            snprintf(why, size,
                     "%s: contract %zu (%s): the percentile must be 50, 90, 99, "
                     "99.9 or 100 and the limit a positive number of ms",
                     path, i + 1, stage),
                bad = 1;
        else if (!bench_stage_known(stage))
            snprintf(why, size,
                     "%s: contract %zu: no stage '%s' (stages: the workloads' "
                     "names, realtime.frame, realtime.oscillators, realtime.active_inference)",
                     path, i + 1, stage),
                bad = 1;
        else if (!(out->items[i].stage = strdup(stage)))
            snprintf(why, size, "out of memory"), bad = 1;
        else {
            out->items[i].percentile = pv;
            out->items[i].limit_ms = lv;
            out->n = i + 1;
        }
    }
    json_decref(root);
    if (bad)
        bench_slo_free(out);
    return bad ? -1 : 0;
}

int bench_stage_known(const char *stage)
{
    static const char *const realtime[] = {"realtime.frame", "realtime.oscillators",
                                           "realtime.active_inference"};
    for (size_t i = 0; i < sizeof realtime / sizeof *realtime; i++)
        if (strcmp(stage, realtime[i]) == 0)
            return 1;
    const bench_workload *w = bench_workload_named(stage);
    return w && w->kind != BENCH_PIPELINE;
}

/* ---------------------------------------------------------------- percentiles ---- */

void bench_latency_from(bench_latency *l, double *ms, size_t n)
{
    qsort(ms, n, sizeof *ms, cli_cmp_double);
    l->runs = n;
    l->p50 = cli_percentile(ms, n, 50);
    l->p90 = cli_percentile(ms, n, 90);
    l->p99 = cli_percentile(ms, n, 99);
    l->p999 = cli_percentile(ms, n, 99.9);
    l->max = n ? ms[n - 1] : NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ms[i];
    l->mean = n ? sum / (double)n : NAN;
    /* the CDF for the plot: BENCH_CDF_POINTS quantiles, log-spaced towards the tail */
    for (int i = 0; i < BENCH_CDF_POINTS; i++) {
        double q = 1 - pow(10, -4.0 * i / (BENCH_CDF_POINTS - 1)); /* 0 .. 0.9999 */
        l->cdf_ms[i] = cli_percentile(ms, n, 100 * fmax(q, 1.0 / (double)n));
        l->cdf_q[i] = q;
    }
}

/* ------------------------------------------------------------------ the CLI ---- */

static int parse_workloads(const char *list, int *chosen)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    int any = 0;
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const bench_workload *found = bench_workload_named(w);
        if (!found)
            return cli_usage_error("bench",
                                   "no workload '%s' (sgemm, convolution, sum, "
                                   "triad, oscillators, active_inference, realtime)",
                                   w);
        chosen[found - workloads] = any = 1;
    }
    return any ? 0 : cli_usage_error("bench", "--workloads names none");
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"workloads", required_argument, 0, 'w'},
                                         {"out", required_argument, 0, 'o'},
                                         {"db", required_argument, 0, 'D'},
                                         {"runs", required_argument, 0, 'r'},
                                         {"budget", required_argument, 0, 'b'},
                                         {"slo", required_argument, 0, 's'},
                                         {"kernels", required_argument, 0, 'k'},
                                         {"device", required_argument, 0, 'd'},
                                         {"report", required_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bench_args a = {.out = "bench/results",
                    .runs = 10000,
                    .budget = 40,
                    .slo = "bench/slo.json",
                    .kernels = "kernels"};
    for (size_t i = 0; i < NWORKLOADS; i++)
        a.chosen[i] = 1;
    const char *plot = NULL; /* --report */
    unsigned long long v;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            memset(a.chosen, 0, sizeof a.chosen);
            if (parse_workloads(optarg, a.chosen))
                return EXIT_USAGE;
            break;
        case 'o': a.out = optarg; break;
        case 'D': a.db = optarg; break;
        case 's': a.slo = optarg; break;
        case 'k': a.kernels = optarg; break;
        case 'p': plot = optarg; break;
        case 'j': a.json = 1; break;
        case 'r':
            if (cli_parse_u64_in("bench", "--runs", optarg, 100, 10000000, &v))
                return EXIT_USAGE;
            a.runs = (size_t)v;
            break;
        case 'b':
            if (cli_parse_u64_in("bench", "--budget", optarg, 1, 100000, &v))
                return EXIT_USAGE;
            a.budget = (unsigned)v;
            break;
        case 'd':
            if (cli_parse_u64("bench", "--device", optarg, &v))
                return EXIT_USAGE;
            if (v > 1024)
                return cli_usage_error("bench", "--device must be a device number");
            a.device = (int)v;
            break;
        case 'h': fputs(usage_text, stdout); return EXIT_OK;
        case ':': return cli_usage_error("bench", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("bench", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    char why[1024];
    if (bench_slo_load(a.slo, &a.contracts, why, sizeof why)) {
        fprintf(stderr, "cutune bench: %s\n", why);
        return EXIT_USAGE;
    }
    if (mkdir(a.out, 0777) && errno != EEXIST) {
        fprintf(stderr, "cutune bench: cannot create %s: %s\n", a.out, strerror(errno));
        bench_slo_free(&a.contracts);
        return EXIT_FAILED;
    }
    a.workloads = workloads;
    a.nworkloads = NWORKLOADS;
    int rc = plot ? bench_render(plot, &a) : bench_main(&a);
    bench_slo_free(&a.contracts);
    return rc;
}
