/* bench_gpu.h — `cutune bench` on the GPU: what bench_run.c opens for the measurements of
 * bench_measure.c. */
#ifndef CUTUNE_BENCH_GPU_H
#define CUTUNE_BENCH_GPU_H

#include "bench.h"

#include <cuda_runtime_api.h>

typedef struct bench_gpu {
    const bench_args *a;
    cutune_device_info dev;
    cutune_arch arch;
    cudaStream_t stream;
    cutune_store *tuned, *empty;
    const char *db;
} bench_gpu;

/* Bytes read and written per second by a device-to-device copy of 1 GiB, the best of 10
 * (NaN when it could not be measured). */
double bench_copy_gbps(cudaStream_t s);
/* Default and tuned times of one kernel workload, then the tuned one's long run under NVML's
 * eye; `tuning` (taken) says how it was tuned first, if it was. */
json_t *bench_run_kernel(const bench_gpu *g, const bench_workload *w, json_t *tuning);
/* The real-time frame with the defaults and with the store's profiles; each stage's latency
 * goes into `stages` too. */
json_t *bench_run_realtime(const bench_gpu *g, json_t *stages);

#endif
