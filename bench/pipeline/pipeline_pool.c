/* pipeline_pool.c — `cutune pipeline --workloads`: the pinned pool's allocate and free
 * against cudaHostAlloc and cudaFreeHost, each operation timed alone on the finest clock. */
#include "pipeline_gpu.h"

#include <stdlib.h>

/* A fine clock: the TSC where there is one (fenced, so that what lies between two reads is
 * what is timed), in ns; else the monotonic clock. */
#if defined(__x86_64__)
#include <x86intrin.h>
static double ns_per_tick;
static double tick_ns(void)
{
    _mm_lfence();
    uint64_t t = __rdtsc();
    _mm_lfence();
    if (!ns_per_tick) { /* calibrated once, over 100 ms */
        double s0 = cutune_now();
        while (cutune_now() - s0 < 0.1)
            ;
        _mm_lfence();
        ns_per_tick = (cutune_now() - s0) * 1e9 / (double)(__rdtsc() - t);
        _mm_lfence();
        t = __rdtsc();
    }
    return (double)t * ns_per_tick;
}
#else
static double tick_ns(void) { return cutune_now() * 1e9; }
#endif

/* Latencies of 1 MiB pinned buffers, in ns, each operation timed alone (the clock's own
 * cost, *timer_ns, included): the pool's allocate and free (p50, p99 of each), and
 * cudaHostAlloc with cudaFreeHost (p50, p99 of the pair). */
int pipe_alloc_latency(double alloc_ns[2], double free_ns[2], double cuda_ns[2],
                       double *timer_ns)
{
    enum { POOL_PAIRS = 100000, CUDA_PAIRS = 200 };
    static double t[POOL_PAIRS], u[POOL_PAIRS];
    tick_ns();
    for (int k = 0; k < POOL_PAIRS; k++) {
        double t0 = tick_ns();
        t[k] = tick_ns() - t0;
    }
    qsort(t, POOL_PAIRS, sizeof *t, cli_cmp_double);
    *timer_ns = t[POOL_PAIRS / 2];
    cutune_pool *p;
    int st = cutune_pool_new(&p, NULL);
    cutune_buffer b;
    if (!st && !(st = cutune_pool_alloc(p, 1 << 20, &b))) /* warm: the slab is there */
        st = cutune_pool_release(p, &b, NULL);
    for (int k = 0; !st && k < POOL_PAIRS; k++) {
        double t0 = tick_ns();
        st = cutune_pool_alloc(p, 1 << 20, &b);
        double t1 = tick_ns();
        if (!st)
            st = cutune_pool_release(p, &b, NULL);
        t[k] = t1 - t0;
        u[k] = tick_ns() - t1;
    }
    cutune_pool_free(p);
    if (st)
        return st;
    qsort(t, POOL_PAIRS, sizeof *t, cli_cmp_double);
    qsort(u, POOL_PAIRS, sizeof *u, cli_cmp_double);
    alloc_ns[0] = t[POOL_PAIRS / 2];
    alloc_ns[1] = t[POOL_PAIRS * 99 / 100];
    free_ns[0] = u[POOL_PAIRS / 2];
    free_ns[1] = u[POOL_PAIRS * 99 / 100];
    for (int k = 0; k < CUDA_PAIRS; k++) {
        void *ptr;
        double t0 = cutune_now();
        if (cudaHostAlloc(&ptr, 1 << 20, cudaHostAllocPortable) != cudaSuccess)
            return CUTUNE_ECUDA;
        cudaFreeHost(ptr);
        t[k] = (cutune_now() - t0) * 1e9;
    }
    qsort(t, CUDA_PAIRS, sizeof *t, cli_cmp_double);
    cuda_ns[0] = t[CUDA_PAIRS / 2];
    cuda_ns[1] = t[CUDA_PAIRS * 99 / 100];
    return CUTUNE_OK;
}
