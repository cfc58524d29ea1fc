/* cli_pipeline.c — `cutune pipeline`: the copy/compute pipeline as a benchmark, or with
 * --frames the real-time demo (bench/realtime/frames.c); here its options, the run in
 * pipeline_run.c. A kernel that transforms each chunk (out = 2 in + 1) and then holds the GPU
 * for a set time per MB stands for the computation. For each workload it measures, in one
 * run: each stage alone (all the copies in, all the computations, all the copies out, and
 * copies both ways at once), the pipeline with one slot (serial) and with `depth` slots, and
 * derives the ideal bound and the overlap efficiency; also GPU utilisation (NVML) under the
 * compute-bound workload and the pool's allocate/free latency against
 * cudaHostAlloc/cudaFreeHost. */
#include "pipeline.h"
#include "realtime/frames.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char pipeline_help[] =
    "usage: cutune pipeline [--bytes SIZE] [--chunk SIZE] [--depth N] [--compute-us-per-mb X]\n"
    "                       [--workloads] [--tune] [--pageable] [--device N] [--json]\n\n"
    "Runs SIZE bytes (default 1G) through the copy/compute pipeline: copies in, a computation\n"
    "that takes X microseconds per MB of data (default: as long as copying it in), copies out.\n"
    "Prints each stage alone, the pipeline with one slot (serial) and with N (default 3),\n"
    "the ideal bound and the overlap efficiency (ideal / pipelined).\n\n"
    "  --chunk SIZE       bytes per chunk (default 8M); SIZE takes K, M, G\n"
    "  --workloads        transfer-bound, balanced and compute-bound workloads (compute a\n"
    "                     quarter, once and four times the copy-in time), GPU utilisation\n"
    "                     under the compute-bound one (NVML), and the pinned pool's latency\n"
    "  --tune             tune chunk size and depth with cutune's engine (bo) first\n"
    "  --pageable         host buffers from malloc (staged through pinned buffers)\n"
    "  --device N         CUDA device (default 0)\n"
    "  --json             one JSON object\n\n"
    "usage: cutune pipeline --frames N [--paced] [--baseline-frames M] [--stage-runs R]\n"
    "                       [--oscillators N] [--db DB] [--kernels DIR] [--device N] [--json]\n\n"
    "The real-time demo: each frame copies 100 observations in from pinned memory, runs 100\n"
    "steps of the oscillator network and one active-inference step, and copies the action\n"
    "out, as one CUDA graph. Runs N frames with the configurations the profile store holds\n"
    "for this GPU (tuned) and M (default min(N, 1000)) with the specs' defaults (baseline);\n"
    "checks the first frame against the CPU references; prints latency percentiles per stage\n"
    "(R runs each, default 1000) and per frame, and the contracts (pass/fail).\n\n"
    "  --paced            also N frames paced at 100 frames/s\n"
    "  --oscillators N    network size (default 1024)\n"
    "  --db DB            the profile store (default: $CUTUNE_DB or the user's)\n"
    "  --kernels DIR      where oscillators.cu and active_inference.cu are (default:\n"
    "                     $CUTUNE_KERNELS, else ./kernels)\n";

static int parse_size(const char *text, size_t *out)
{
    char *end;
    double v = strtod(text, &end);
    double unit = *end == 'K' || *end == 'k' ? 1024.0
                  : *end == 'M' || *end == 'm' ? 1048576.0
                  : *end == 'G' || *end == 'g' ? 1073741824.0 : 1.0;
    if (end == text || !(v > 0) || (unit > 1 && end[1] && strcmp(end + 1, "iB") &&
                                    strcmp(end + 1, "B")) || (unit == 1 && *end))
        return -1;
    *out = (size_t)(v * unit);
    return *out ? 0 : -1;
}

#ifndef CUTUNE_HAVE_CUDA
int pipeline_main(const pipe_args *a)
{
    (void)a;
    fprintf(stderr, "cutune pipeline: cutune was built without CUDA\n");
    return EXIT_NO_DEVICE;
}
#endif

int cmd_pipeline(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bytes", required_argument, 0, 'b'},   {"chunk", required_argument, 0, 'c'},
        {"depth", required_argument, 0, 'd'},   {"compute-us-per-mb", required_argument, 0, 'x'},
        {"workloads", no_argument, 0, 'w'},     {"tune", no_argument, 0, 't'},
        {"pageable", no_argument, 0, 'p'},      {"device", required_argument, 0, 'D'},
        {"json", no_argument, 0, 'j'},          {"help", no_argument, 0, 'h'},
        {"frames", required_argument, 0, 'F'},  {"baseline-frames", required_argument, 0, 'B'},
        {"stage-runs", required_argument, 0, 'R'}, {"paced", no_argument, 0, 'P'},
        {"oscillators", required_argument, 0, 'N'}, {"db", required_argument, 0, 'S'},
        {"kernels", required_argument, 0, 'K'}, {0, 0, 0, 0}};
    const char *kernels = getenv("CUTUNE_KERNELS");
    frames_args fa = {.baseline_frames = -1, .stage_runs = 1000, .oscillators = 1024,
                      .kernels_dir = kernels && *kernels ? kernels : "kernels"};
    pipe_args a = {.bytes = (size_t)1 << 30, .chunk = (size_t)8 << 20, .depth = 3,
                   .us_per_mb = -1};
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        unsigned long long v;
        char *end;
        switch (c) {
        case 'h':
            fputs(pipeline_help, stdout);
            return EXIT_OK;
        case 'b':
        case 'c':
            if (parse_size(optarg, c == 'b' ? &a.bytes : &a.chunk))
                return cli_usage_error("pipeline", "%s needs a size such as 1G, 8M or 4096, not "
                                       "'%s'", c == 'b' ? "--bytes" : "--chunk", optarg);
            break;
        case 'd':
            if (cli_parse_u64_in("pipeline", "--depth", optarg, 1, 16, &v))
                return EXIT_USAGE;
            a.depth = (int)v;
            break;
        case 'x':
            a.us_per_mb = strtod(optarg, &end);
            if (*end || !(a.us_per_mb >= 0) || a.us_per_mb > 1e6)
                return cli_usage_error("pipeline", "--compute-us-per-mb needs a number of "
                                       "microseconds, 0 or more, not '%s'", optarg);
            break;
        case 'D':
            if (cli_parse_u64("pipeline", "--device", optarg, &v))
                return EXIT_USAGE;
            a.device = v > 1000 ? 1000 : (int)v;
            break;
        case 'F':
        case 'B':
        case 'R':
        case 'N':
        {
            const char *name = c == 'F' ? "--frames" : c == 'B' ? "--baseline-frames"
                               : c == 'R' ? "--stage-runs" : "--oscillators";
            if (cli_parse_u64_in("pipeline", name, optarg, 1, 10000000, &v))
                return EXIT_USAGE;
        }
            *(c == 'F' ? &fa.frames : c == 'B' ? &fa.baseline_frames
              : c == 'R' ? &fa.stage_runs : &fa.oscillators) = (int)v;
            break;
        case 'P': fa.paced = 1; break;
        case 'S': fa.db = optarg; break;
        case 'K': fa.kernels_dir = optarg; break;
        case 'w': a.workloads = 1; break;
        case 't': a.tuning = 1; break;
        case 'p': a.pageable = 1; break;
        case 'j': a.json = 1; break;
        case ':':
            return cli_usage_error("pipeline", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("pipeline", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("pipeline", "unexpected argument '%s'", argv[optind]);
    if (fa.frames) {
        if (fa.oscillators > 65536)
            return cli_usage_error("pipeline", "--oscillators is 1 to 65536");
        fa.device = a.device;
        fa.json = a.json;
        if (fa.baseline_frames < 0)
            fa.baseline_frames = fa.frames < 1000 ? fa.frames : 1000;
        return frames_main(&fa);
    }
    if (fa.paced || fa.db || fa.baseline_frames >= 0)
        return cli_usage_error("pipeline", "--paced, --baseline-frames and --db go with "
                               "--frames");
    if (a.bytes % 16 || a.chunk % 16)
        return cli_usage_error("pipeline", "--bytes and --chunk must be multiples of 16 (the "
                               "computation works on float4)");
    if (a.bytes > ((size_t)64 << 30))
        return cli_usage_error("pipeline", "--bytes is at most 64G");
    return pipeline_main(&a);
}

