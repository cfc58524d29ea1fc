/* bench.h — `cutune bench`: cli_bench.c (its options), bench_workloads.c (the workloads and
 * the contracts), bench_run.c (tuning first what the store lacks, then each workload on the
 * GPU, with bench_measure.c) and bench_report.c (judged, as JSON, Markdown and plots). */
#ifndef CUTUNE_BENCH_H
#define CUTUNE_BENCH_H

#include "cli.h"
#include "realtime/latency.h"

#include <stddef.h>

typedef enum bench_kind {
    BENCH_COMPUTE, /* judged by speedup and GPU utilisation */
    BENCH_MEMORY,  /* judged by bandwidth against the device's copy */
    BENCH_LATENCY, /* a real-time stage: judged by its contracts */
    BENCH_PIPELINE /* the real-time frame (bench/realtime/realtime_gpu.c), not one kernel */
} bench_kind;

typedef struct bench_workload {
    const char *name, *source, *spec; /* source and spec in --kernels */
    int64_t problem[3];
    bench_kind kind;
    double (*flops)(const int64_t problem[3]); /* a run's work, or NULL */
    double (*bytes)(const int64_t problem[3]); /* a run's DRAM traffic, or NULL */
    const char *what;
} bench_workload;

#define BENCH_MAX_WORKLOADS 8

typedef struct bench_contract {
    char *stage;
    double percentile, limit_ms;
} bench_contract;

typedef struct bench_slo {
    bench_contract *items;
    size_t n;
} bench_slo;

typedef struct bench_args {
    const char *out, *db, *slo, *kernels;
    size_t runs;
    unsigned budget;
    int device, json;
    int chosen[BENCH_MAX_WORKLOADS];
    bench_slo contracts;
    const bench_workload *workloads;
    size_t nworkloads;
} bench_args;

/* bench_workloads.c: every workload (*n of them), or the one of that name (NULL: none);
 * whether a contract may name a stage; the contracts of a file, every field checked (-1 and
 * why in words when one is wrong); the report's key of a percentile a contract may name (50,
 * 90, 99, 99.9, 100), or NULL. */
const bench_workload *bench_workloads(size_t *n);
const bench_workload *bench_workload_named(const char *name);
int bench_stage_known(const char *stage);
int bench_slo_load(const char *path, bench_slo *out, char *why, size_t size);
void bench_slo_free(bench_slo *slo);
const char *bench_percentile_key(double p);

/* bench_run.c: measures, then hands the report to bench_report_write. */
int bench_main(const bench_args *a);
/* bench_report.c: the contracts and goals judged into the report, then DIR/<name>.json and
 * .md and the plots (name: <device>-<date>, or name_as's file name); prints the tables (or
 * the JSON with --json). Takes the report. */
int bench_report_write(json_t *report, const bench_args *a, const char *name_as);
/* The same for a report file made earlier, judged against a->contracts. */
int bench_render(const char *path, const bench_args *a);

#endif
