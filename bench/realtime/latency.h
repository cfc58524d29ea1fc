/* latency.h — latency over many runs, as the real-time demo (`cutune pipeline --frames`)
 * and `cutune bench` report it: percentiles, the mean, and a CDF to plot. */
#ifndef CUTUNE_LAB_LATENCY_H
#define CUTUNE_LAB_LATENCY_H

#include <jansson.h>
#include <stddef.h>

#define BENCH_CDF_POINTS 100

typedef struct bench_latency {
    size_t runs;
    double p50, p90, p99, p999, max, mean;
    double cdf_q[BENCH_CDF_POINTS], cdf_ms[BENCH_CDF_POINTS];
} bench_latency;

/* Sorts ms (n times, in ms) and summarises it. */
void bench_latency_from(bench_latency *l, double *ms, size_t n);
/* {"runs", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms", "cdf": [[q, ms]]} */
json_t *bench_latency_json(const bench_latency *l);
/* A number, or null when it is not finite (what could not be measured). */
json_t *bench_num(double v);

#endif
