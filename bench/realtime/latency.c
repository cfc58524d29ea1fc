/* latency.c — latency percentiles (nearest rank), the mean and a CDF log-spaced towards the
 * tail, and their JSON. */
#include "latency.h"

#include "cli.h"

#include <math.h>
#include <stdlib.h>

json_t *bench_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

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

json_t *bench_latency_json(const bench_latency *l)
{
    json_t *cdf = json_array();
    for (int i = 0; i < BENCH_CDF_POINTS; i++)
        json_array_append_new(
            cdf, json_pack("[o, o]", bench_num(l->cdf_q[i]), bench_num(l->cdf_ms[i])));
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "runs", (json_int_t)l->runs,
                     "p50_ms", bench_num(l->p50), "p90_ms", bench_num(l->p90), "p99_ms",
                     bench_num(l->p99), "p999_ms", bench_num(l->p999), "max_ms",
                     bench_num(l->max), "mean_ms", bench_num(l->mean), "cdf", cdf);
}
