/* pipeline_gpu.h — `cutune pipeline` on the GPU: the computation (a kernel that transforms
 * each chunk and then holds the GPU for a set time per MB) and the measurements of the
 * pipeline (pipeline_measure.c), the pinned pool's latency (pipeline_pool.c) and the tuning
 * of chunk size and depth (pipeline_tune.c), which pipeline_run.c puts together. */
#ifndef CUTUNE_PIPELINE_GPU_H
#define CUTUNE_PIPELINE_GPU_H

#include "pipeline.h"

#include <cuda_runtime_api.h>

typedef struct work {
    cudaKernel_t kernel;
    cudaLibrary_t lib;
    int blocks;
    double us_per_mb; /* held per MB of the chunk */
} work;

/* What one run measures with: the device, the computation, the data (pinned or pageable),
 * chunk-sized device buffers for the stages alone, two streams and two events. */
typedef struct pipe_bench {
    cutune_device_info dev;
    work w;
    size_t bytes, chunk;
    int depth, pageable;
    float *in, *out;
    void *dev_a, *dev_b; /* chunk-sized, for the stages alone */
    cudaStream_t s1, s2;
    cudaEvent_t t0, t1;
} pipe_bench;

/* A workload's computation and what was measured of it, in ms. */
typedef struct pipe_workload {
    const char *name;
    double factor; /* computation per MB, as a multiple of copying it in */
    double us_per_mb, h2d, compute, d2h, both, serial, piped, ideal, ideal_bidir;
} pipe_workload;

/* pipeline_measure.c: the computation compiled for the device and loaded; all the copies one
 * way, chunk by chunk, alone on the link (ms); the pipeline's time (best of `runs`), its
 * output checked; every stage of a workload alone, serial and pipelined; GPU utilisation
 * under the pipeline for about 3 s (NaN: unknown). */
int pipe_work_load(work *w, const cutune_device_info *dev);
double pipe_copies_ms(pipe_bench *b, int to_device);
int pipe_run_ms(pipe_bench *b, size_t chunk, int depth, int runs, double *ms);
int pipe_measure(pipe_bench *b, pipe_workload *w);
double pipe_gpu_util(pipe_bench *b);
/* pipeline_pool.c: latencies of 1 MiB pinned buffers in ns, each operation timed alone (the
 * clock's own cost, *timer_ns, included): the pool's allocate and free (p50, p99 of each),
 * and cudaHostAlloc with cudaFreeHost (p50, p99 of the pair). */
int pipe_alloc_latency(double alloc_ns[2], double free_ns[2], double cuda_ns[2],
                       double *timer_ns);
/* pipeline_tune.c: chunk size and depth tuned with bo (15 evaluations); the default's time
 * and the best's. */
int pipe_tune(pipe_bench *b, size_t *chunk, int *depth, double *default_ms, double *best_ms);

#endif
