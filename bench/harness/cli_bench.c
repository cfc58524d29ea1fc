/* cli_bench.c — `cutune bench`: each shipped workload's default configuration against its
 * tuned one (the profile store's, tuned now when the store has none), the tuned one's latency
 * percentiles over many runs while NVML watches the GPU, achieved bandwidth against the
 * device's copy and its theoretical figure, and the service-level contracts of
 * bench/slo.json; a JSON file, a Markdown report and gnuplot plots (bench_report.c). */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
        size_t n;
        chosen[found - bench_workloads(&n)] = any = 1;
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
    a.workloads = bench_workloads(&a.nworkloads);
    for (size_t i = 0; i < a.nworkloads; i++)
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
    int rc = plot ? bench_render(plot, &a) : bench_main(&a);
    bench_slo_free(&a.contracts);
    return rc;
}
