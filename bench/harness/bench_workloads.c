/* bench_workloads.c — what `cutune bench` measures and holds it to: the shipped workloads
 * (kernel, spec, size, kind, and the work of a run) and the service-level contracts read
 * from --slo (bench/slo.json), each checked before anything runs. */
#define _GNU_SOURCE
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const bench_workload *bench_workloads(size_t *n)
{
    *n = NWORKLOADS;
    return workloads;
}

const bench_workload *bench_workload_named(const char *name)
{
    for (size_t i = 0; i < NWORKLOADS; i++)
        if (strcmp(workloads[i].name, name) == 0)
            return &workloads[i];
    return NULL;
}

/* --------------------------------------------------------------- the contracts ---- */

/* The keys of the percentiles a contract may name. */
const char *bench_percentile_key(double p)
{
    static const struct {
        double p;
        const char *key;
    } keys[] = {
        {50, "p50_ms"}, {90, "p90_ms"}, {99, "p99_ms"}, {99.9, "p999_ms"}, {100, "max_ms"}};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (fabs(p - keys[i].p) < 1e-9)
            return keys[i].key;
    return NULL;
}

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

