/* cli_pipeline.c — `cutune pipeline`: the copy/compute pipeline as a benchmark. A kernel that
 * transforms each chunk (out = 2 in + 1) and then holds the GPU for a set time per MB stands
 * for the computation. For each workload it measures, in one run: each stage alone (all the
 * copies in, all the computations, all the copies out, and copies both ways at once), the
 * pipeline with one slot (serial) and with `depth` slots, and derives the ideal bound and the
 * overlap efficiency; also GPU utilisation (NVML) under the compute-bound workload and the
 * pool's allocate/free latency against cudaHostAlloc/cudaFreeHost. */
#define _GNU_SOURCE
#include "cli.h"

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

/* What the options ask for; without CUDA they are checked and the command says what is
 * missing. */
typedef struct pipe_args {
    size_t bytes, chunk;
    int depth, workloads, tuning, pageable, json, device;
    double us_per_mb;
} pipe_args;

static int pipeline_main(const pipe_args *a);

#ifdef CUTUNE_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* --------------------------------------------------------------- the computation ---- */

static const char work_source[] =
    "extern \"C\" __global__ void work(const float4 *in, float4 *out, unsigned long long n4,\n"
    "                                 unsigned long long ns)\n"
    "{\n"
    "    unsigned long long start, now;\n"
    "    asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(start));\n"
    "    for (unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;\n"
    "         i < n4; i += (unsigned long long)gridDim.x * blockDim.x) {\n"
    "        float4 v = in[i];\n"
    "        out[i] = make_float4(2 * v.x + 1, 2 * v.y + 1, 2 * v.z + 1, 2 * v.w + 1);\n"
    "    }\n"
    "    do\n"
    "        asm volatile(\"mov.u64 %0, %%globaltimer;\" : \"=l\"(now));\n"
    "    while (now - start < ns);\n"
    "}\n";

typedef struct work {
    cudaKernel_t kernel;
    cudaLibrary_t lib;
    int blocks;
    double us_per_mb; /* held per MB of the chunk */
} work;

static int work_load(work *w, const cutune_device_info *dev)
{
    cutune_arch arch;
    cutune_binary *bin;
    int st = cutune_arch_from_device(dev, &arch);
    cutune_compile_request req = {.source = work_source, .source_name = "pipeline_work.cu",
                                  .kernel = "work", .arch = arch.name};
    if (!st)
        st = cutune_compile(&req, &bin);
    if (st)
        return st;
    size_t size;
    cutune_binary_info info;
    cutune_binary_get_info(bin, &info);
    cudaError_t e = cudaLibraryLoadData(&w->lib, cutune_binary_code(bin, &size), NULL, NULL, 0,
                                        NULL, NULL, 0);
    if (e == cudaSuccess)
        e = cudaLibraryGetKernel(&w->kernel, w->lib, info.lowered_name);
    cutune_binary_free(bin);
    w->blocks = dev->sm_count * 4; /* all resident at once: each holds the GPU as long */
    if (e != cudaSuccess) {
        fprintf(stderr, "cutune pipeline: loading the kernel: %s\n", cudaGetErrorString(e));
        return CUTUNE_ECUDA;
    }
    return CUTUNE_OK;
}

static int compute_chunk(void *user, void *stream, const void *in, void *out, size_t offset,
                         size_t bytes)
{
    (void)offset;
    work *w = user;
    unsigned long long n4 = bytes / 16, ns = (unsigned long long)(w->us_per_mb * 1e3 *
                                                                  (double)bytes / 1048576.0);
    void *args[] = {&in, &out, &n4, &ns};
    cudaError_t e = cudaLaunchKernel((const void *)w->kernel, (dim3){(unsigned)w->blocks, 1, 1},
                                     (dim3){256, 1, 1}, args, 0, (cudaStream_t)stream);
    return e == cudaSuccess ? CUTUNE_OK : CUTUNE_ECUDA;
}

/* ------------------------------------------------------------------ measurements ---- */

typedef struct bench {
    cutune_device_info dev;
    work w;
    size_t bytes, chunk;
    int depth, pageable;
    float *in, *out;
    void *dev_a, *dev_b; /* chunk-sized, for the stages alone */
    cudaStream_t s1, s2;
    cudaEvent_t t0, t1;
} bench;

static double elapsed_ms(bench *b, cudaStream_t s)
{
    float ms = 0;
    cudaEventRecord(b->t1, s);
    cudaEventSynchronize(b->t1);
    cudaEventElapsedTime(&ms, b->t0, b->t1);
    return ms;
}

/* All the copies one way, chunk by chunk, alone on the link. */
static double copies_ms(bench *b, int to_device)
{
    cudaEventRecord(b->t0, b->s1);
    for (size_t off = 0; off < b->bytes; off += b->chunk) {
        size_t n = b->bytes - off < b->chunk ? b->bytes - off : b->chunk;
        if (to_device)
            cudaMemcpyAsync(b->dev_a, (char *)b->in + off, n, cudaMemcpyHostToDevice, b->s1);
        else
            cudaMemcpyAsync((char *)b->out + off, b->dev_b, n, cudaMemcpyDeviceToHost, b->s1);
    }
    return elapsed_ms(b, b->s1);
}

/* Both ways at once, each on its own stream: what the link gives when the pipeline runs. */
static double both_ways_ms(bench *b)
{
    cudaEventRecord(b->t0, b->s1);
    cudaStreamWaitEvent(b->s2, b->t0, 0);
    for (size_t off = 0; off < b->bytes; off += b->chunk) {
        size_t n = b->bytes - off < b->chunk ? b->bytes - off : b->chunk;
        cudaMemcpyAsync(b->dev_a, (char *)b->in + off, n, cudaMemcpyHostToDevice, b->s1);
        cudaMemcpyAsync((char *)b->out + off, b->dev_b, n, cudaMemcpyDeviceToHost, b->s2);
    }
    cudaEvent_t done;
    cudaEventCreate(&done);
    cudaEventRecord(done, b->s2);
    cudaStreamWaitEvent(b->s1, done, 0);
    double ms = elapsed_ms(b, b->s1);
    cudaEventDestroy(done);
    return ms;
}

static double compute_ms(bench *b)
{
    cudaEventRecord(b->t0, b->s1);
    for (size_t off = 0; off < b->bytes; off += b->chunk) {
        size_t n = b->bytes - off < b->chunk ? b->bytes - off : b->chunk;
        compute_chunk(&b->w, b->s1, b->dev_a, b->dev_b, off, n);
    }
    return elapsed_ms(b, b->s1);
}

/* Everything in one stream, chunk after chunk: copy in, compute, copy out, nothing
 * overlapping, from and to the caller's buffers as they are (pageable ones through the
 * driver's own staging). */
static double serial_ms(bench *b)
{
    cudaEventRecord(b->t0, b->s1);
    for (size_t off = 0; off < b->bytes; off += b->chunk) {
        size_t n = b->bytes - off < b->chunk ? b->bytes - off : b->chunk;
        cudaMemcpyAsync(b->dev_a, (char *)b->in + off, n, cudaMemcpyHostToDevice, b->s1);
        compute_chunk(&b->w, b->s1, b->dev_a, b->dev_b, off, n);
        cudaMemcpyAsync((char *)b->out + off, b->dev_b, n, cudaMemcpyDeviceToHost, b->s1);
    }
    return elapsed_ms(b, b->s1);
}

/* The pipeline's time (best of `runs`), its output checked: out = 2 in + 1. */
static int pipeline_ms(bench *b, size_t chunk, int depth, int runs, double *ms)
{
    cutune_pipeline_options o = {.chunk_bytes = chunk, .depth = depth, .device = b->dev.ordinal};
    *ms = INFINITY;
    for (int r = 0; r < runs; r++) {
        memset(b->out, 0, 4096);
        cutune_pipeline_stats st;
        int rc = cutune_pipeline_run(b->in, b->out, b->bytes, compute_chunk, &b->w, &o, &st);
        if (rc)
            return rc;
        *ms = fmin(*ms, st.seconds * 1e3);
    }
    size_t n = b->bytes / sizeof(float);
    for (size_t i = 0; i < n; i += 4093)
        if (b->out[i] != 2 * b->in[i] + 1) {
            fprintf(stderr, "cutune pipeline: out[%zu] is %g, not %g\n", i, b->out[i],
                    2 * b->in[i] + 1);
            return CUTUNE_ECUDA;
        }
    return CUTUNE_OK;
}

typedef struct workload {
    const char *name;
    double factor; /* computation per MB, as a multiple of copying it in */
    double us_per_mb, h2d, compute, d2h, both, serial, piped, ideal, ideal_bidir;
} workload;

static int measure(bench *b, workload *w)
{
    b->w.us_per_mb = w->us_per_mb;
    w->h2d = copies_ms(b, 1);
    w->d2h = copies_ms(b, 0);
    w->both = both_ways_ms(b);
    w->compute = compute_ms(b);
    w->serial = fmin(serial_ms(b), serial_ms(b));
    double warm;
    int st = pipeline_ms(b, b->chunk, b->depth, 1, &warm);
    if (!st)
        st = pipeline_ms(b, b->chunk, b->depth, 5, &w->piped);
    w->ideal = fmax(w->h2d, fmax(w->d2h, w->compute));
    w->ideal_bidir = fmax(w->ideal, w->both);
    return st;
}

/* ---------------------------------------------------------- GPU utilisation (NVML) ---- */

/* Utilisation while the pipeline runs the compute-bound workload for about 3 s (the first
 * half second left out: NVML's window still holds the idle time before). */
static double gpu_util(bench *b)
{
    cutune_monitor *m;
    if (cutune_monitor_start(&m, b->dev.pci_bus_id, 20, 0.5))
        return NAN;
    double t0 = now_s(), ms;
    while (now_s() - t0 < 3 && pipeline_ms(b, b->chunk, b->depth, 1, &ms) == CUTUNE_OK)
        ;
    cutune_monitor_report r;
    cutune_monitor_stop(m, &r);
    cutune_monitor_free(m);
    return r.gpu_util_mean;
}

/* ------------------------------------------------------ the pool against CUDA's own ---- */

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
        double s0 = now_s();
        while (now_s() - s0 < 0.1)
            ;
        _mm_lfence();
        ns_per_tick = (now_s() - s0) * 1e9 / (double)(__rdtsc() - t);
        _mm_lfence();
        t = __rdtsc();
    }
    return (double)t * ns_per_tick;
}
#else
static double tick_ns(void) { return now_s() * 1e9; }
#endif

/* Latencies of 1 MiB pinned buffers, in ns, each operation timed alone (the clock's own
 * cost, *timer_ns, included): the pool's allocate and free (p50, p99 of each), and
 * cudaHostAlloc with cudaFreeHost (p50, p99 of the pair). */
static int alloc_latency(double alloc_ns[2], double free_ns[2], double cuda_ns[2],
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
        double t0 = now_s();
        if (cudaHostAlloc(&ptr, 1 << 20, cudaHostAllocPortable) != cudaSuccess)
            return CUTUNE_ECUDA;
        cudaFreeHost(ptr);
        t[k] = (now_s() - t0) * 1e9;
    }
    qsort(t, CUDA_PAIRS, sizeof *t, cli_cmp_double);
    cuda_ns[0] = t[CUDA_PAIRS / 2];
    cuda_ns[1] = t[CUDA_PAIRS * 99 / 100];
    return CUTUNE_OK;
}

/* ------------------------------------------------------------------- tuning ---- */

typedef struct tune_ctx {
    bench *b;
    const cutune_space *space;
    uint32_t best[2];
    double best_ms;
} tune_ctx;

static int tune_objective(const uint32_t *config, void *user, double *value,
                          const char **failure)
{
    tune_ctx *t = user;
    char chunk[32], depth[32];
    cutune_space_format_value(t->space, 0, config[0], chunk, sizeof chunk);
    cutune_space_format_value(t->space, 1, config[1], depth, sizeof depth);
    double ms;
    int st = pipeline_ms(t->b, (size_t)atoi(chunk) << 20, atoi(depth), 2, &ms);
    if (st) {
        *value = NAN;
        *failure = cutune_last_error();
        return CUTUNE_OK;
    }
    *value = ms;
    return CUTUNE_OK;
}

static int note_best(const cutune_evaluation *e, void *user)
{
    tune_ctx *t = user;
    if (e->time_ms < t->best_ms) {
        t->best_ms = e->time_ms;
        memcpy(t->best, e->config, sizeof t->best);
    }
    return 0;
}

static int tune(bench *b, size_t *chunk, int *depth, double *default_ms, double *best_ms)
{
    cutune_space *s;
    int st = cutune_space_new(&s);
    static const int64_t chunks[] = {1, 2, 4, 8, 16, 32, 64}, depths[] = {2, 3, 4, 6, 8};
    if (!st)
        st = cutune_space_add_int(s, "chunk_mb", chunks, 7);
    if (!st)
        st = cutune_space_add_int(s, "depth", depths, 5);
    uint32_t dflt[2] = {3, 1}; /* 8 MiB, 3 */
    if (!st)
        st = cutune_space_set_default(s, dflt);
    tune_ctx t = {b, s, {3, 1}, INFINITY};
    cutune_search_options o = {.strategy = "bo", .budget = 15, .seed = 1};
    cutune_search_result r;
    if (!st)
        st = cutune_optimize(s, &o, tune_objective, &t, note_best, &t, &r);
    if (!st) {
        if (!(t.best_ms <= r.best_ms)) { /* the default, measured first, stayed the best */
            memcpy(t.best, dflt, sizeof dflt);
            t.best_ms = r.best_ms;
        }
        char buf[32];
        cutune_space_format_value(s, 0, t.best[0], buf, sizeof buf);
        *chunk = (size_t)atoi(buf) << 20;
        cutune_space_format_value(s, 1, t.best[1], buf, sizeof buf);
        *depth = atoi(buf);
        *best_ms = t.best_ms;
        double v;
        const char *why;
        tune_objective(dflt, &t, &v, &why); /* the default again, beside the best */
        *default_ms = v;
    }
    cutune_space_free(s);
    return st;
}

/* ---------------------------------------------------------------------- the command ---- */

/* With pageable data the stages alone (the driver's copies) are not what the pipeline does
 * (staging through pinned buffers): no ideal bound then. */
static json_t *workload_json(const workload *w, int depth, int pageable)
{
    json_t *j = json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i}", "name",
                          w->name, "compute_us_per_mb", w->us_per_mb, "h2d_ms", w->h2d,
                          "compute_ms", w->compute, "d2h_ms", w->d2h, "both_ways_ms", w->both,
                          "serial_ms", w->serial, "pipelined_ms", w->piped,
                          "speedup_over_serial", w->serial / w->piped, "depth", depth);
    if (j && !pageable)
        json_object_update_new(j, json_pack("{s:f, s:f, s:f, s:f}", "ideal_ms", w->ideal,
                                            "efficiency", w->ideal / w->piped,
                                            "ideal_bidirectional_ms", w->ideal_bidir,
                                            "efficiency_bidirectional",
                                            w->ideal_bidir / w->piped));
    return j;
}

static void workload_text(const workload *w, int pageable)
{
    printf("%-15s compute %6.1f us/MB: in %7.2f ms, compute %7.2f, out %7.2f, both ways "
           "%7.2f; serial %7.2f ms, pipelined %7.2f ms (%.2fx)",
           w->name, w->us_per_mb, w->h2d, w->compute, w->d2h, w->both, w->serial, w->piped,
           w->serial / w->piped);
    if (pageable)
        printf("\n");
    else
        printf("; ideal %7.2f ms: %5.1f%% (%5.1f%% of the bound with both ways at once)\n",
               w->ideal, 100 * w->ideal / w->piped, 100 * w->ideal_bidir / w->piped);
}

static int run_bench(bench *b, int workloads, int tuning, double us_per_mb, int json)
{
    json_t *out = json ? json_object() : NULL;
    int st = CUTUNE_OK;
    double h2d_us_per_mb = 0;
    {
        workload probe = {.name = "probe"};
        probe.h2d = copies_ms(b, 1);
        h2d_us_per_mb = probe.h2d * 1e3 / ((double)b->bytes / 1048576.0);
    }
    char drv[32];
    snprintf(drv, sizeof drv, "%d.%d", b->dev.driver_version / 1000,
             b->dev.driver_version % 1000 / 10);
    if (out)
        json_object_set_new(out, "device", json_string(b->dev.name));
    else
        printf("%s, %zu bytes in chunks of %zu, depth %d, %s host buffers; copying in takes "
               "%.1f us/MB\n", b->dev.name, b->bytes, b->chunk, b->depth,
               b->pageable ? "pageable" : "pinned", h2d_us_per_mb);
    if (tuning) {
        size_t chunk;
        int depth;
        double dflt_ms, best_ms;
        b->w.us_per_mb = us_per_mb > 0 ? us_per_mb : h2d_us_per_mb;
        st = tune(b, &chunk, &depth, &dflt_ms, &best_ms);
        if (st)
            return cli_fail("pipeline", st);
        if (out)
            json_object_set_new(out, "tuned", json_pack("{s:I, s:i, s:f, s:f}", "chunk_bytes",
                                                         (json_int_t)chunk, "depth", depth,
                                                         "tuned_ms", best_ms, "default_ms",
                                                         dflt_ms));
        else
            printf("tuned (bo, 15 evaluations): chunk %zu MiB, depth %d: %.2f ms; the default "
                   "(8 MiB, 3): %.2f ms\n", chunk >> 20, depth, best_ms, dflt_ms);
        b->chunk = chunk;
        b->depth = depth;
    }
    workload ws[3] = {{.name = "transfer-bound", .factor = 0.25},
                      {.name = "balanced", .factor = 1},
                      {.name = "compute-bound", .factor = 4}};
    int nw = workloads ? 3 : 1;
    if (!workloads)
        ws[0] = (workload){.name = "workload",
                           .us_per_mb = us_per_mb >= 0 ? us_per_mb : h2d_us_per_mb};
    json_t *list = out ? json_array() : NULL;
    for (int k = 0; k < nw && !st; k++) {
        if (workloads)
            ws[k].us_per_mb = ws[k].factor * h2d_us_per_mb;
        st = measure(b, &ws[k]);
        if (!st && list)
            json_array_append_new(list, workload_json(&ws[k], b->depth, b->pageable));
        else if (!st)
            workload_text(&ws[k], b->pageable);
    }
    if (st) {
        json_decref(out);
        json_decref(list);
        return cli_fail("pipeline", st);
    }
    if (out) {
        json_object_set_new(out, "workloads", list);
        json_object_set_new(out, "driver", json_string(drv));
        json_object_set_new(out, "bytes", json_integer((json_int_t)b->bytes));
        json_object_set_new(out, "chunk_bytes", json_integer((json_int_t)b->chunk));
        json_object_set_new(out, "depth", json_integer(b->depth));
        json_object_set_new(out, "pageable", json_boolean(b->pageable));
        json_object_set_new(out, "h2d_gbs", json_real((double)b->bytes / ws[0].h2d / 1e6));
        json_object_set_new(out, "d2h_gbs", json_real((double)b->bytes / ws[0].d2h / 1e6));
        json_object_set_new(out, "both_ways_gbs",
                            json_real(2.0 * (double)b->bytes / ws[0].both / 1e6));
    }
    if (workloads) {
        b->w.us_per_mb = ws[2].us_per_mb;
        double util = gpu_util(b), alloc_ns[2], free_ns[2], cuda_ns[2], timer_ns;
        st = alloc_latency(alloc_ns, free_ns, cuda_ns, &timer_ns);
        if (st) {
            json_decref(out);
            return cli_fail("pipeline", st);
        }
        if (out) {
            static const char *const eff[3] = {"transfer_bound_efficiency",
                                               "balanced_efficiency",
                                               "compute_bound_efficiency"};
            for (int k = 0; k < 3; k++)
                json_object_set_new(out, eff[k], b->pageable ? json_null()
                                                             : json_real(ws[k].ideal /
                                                                         ws[k].piped));
            json_object_set_new(out, "balanced_speedup_over_serial",
                                json_real(ws[1].serial / ws[1].piped));
            json_object_set_new(out, "compute_bound_gpu_util",
                                isnan(util) ? json_null() : json_real(util / 100));
            /* pool_p99_ns: the slower of allocating and freeing */
            json_object_set_new(out, "pool_p99_ns", json_real(fmax(alloc_ns[1], free_ns[1])));
            json_object_set_new(out, "pool_alloc_p50_ns", json_real(alloc_ns[0]));
            json_object_set_new(out, "pool_alloc_p99_ns", json_real(alloc_ns[1]));
            json_object_set_new(out, "pool_free_p50_ns", json_real(free_ns[0]));
            json_object_set_new(out, "pool_free_p99_ns", json_real(free_ns[1]));
            json_object_set_new(out, "timer_ns", json_real(timer_ns));
            json_object_set_new(out, "cudahostalloc_p50_ns", json_real(cuda_ns[0]));
            json_object_set_new(out, "cudahostalloc_p99_ns", json_real(cuda_ns[1]));
        } else {
            printf("GPU utilisation (NVML) under the compute-bound workload: %s%.1f%%\n",
                   isnan(util) ? "unknown " : "", util);
            printf("1 MiB pinned, each operation timed alone (clock %.0f ns included): pool "
                   "allocate p50 %.0f ns, p99 %.0f ns; free p50 %.0f ns, p99 %.0f ns; "
                   "cudaHostAlloc+cudaFreeHost p50 %.0f ns, p99 %.0f ns\n",
                   timer_ns, alloc_ns[0], alloc_ns[1], free_ns[0], free_ns[1], cuda_ns[0],
                   cuda_ns[1]);
        }
    }
    return out ? cli_print_json(out) : EXIT_OK;
}

static int pipeline_main(const pipe_args *a)
{
    bench b = {.bytes = a->bytes, .chunk = a->chunk, .depth = a->depth,
               .pageable = a->pageable};
    int device = a->device;
    int st = cutune_device_query(device, &b.dev);
    if (st)
        return cli_fail("pipeline", st);
    if (cudaSetDevice(device) != cudaSuccess)
        return cli_fail("pipeline", CUTUNE_ECUDA);
    if ((st = work_load(&b.w, &b.dev)))
        return cli_fail("pipeline", st);
    int rc = EXIT_FAILED;
    cudaError_t e = b.pageable ? ((b.in = malloc(b.bytes)) && (b.out = malloc(b.bytes))
                                      ? cudaSuccess : cudaErrorMemoryAllocation)
                               : cudaHostAlloc((void **)&b.in, b.bytes, cudaHostAllocPortable);
    if (e == cudaSuccess && !b.pageable)
        e = cudaHostAlloc((void **)&b.out, b.bytes, cudaHostAllocPortable);
    size_t devchunk = b.chunk > ((size_t)64 << 20) ? b.chunk : (size_t)64 << 20; /* --tune */
    devchunk = devchunk > b.bytes ? b.bytes : devchunk;
    if (e == cudaSuccess && (e = cudaMalloc(&b.dev_a, devchunk)) == cudaSuccess &&
        (e = cudaMalloc(&b.dev_b, devchunk)) == cudaSuccess &&
        (e = cudaStreamCreateWithFlags(&b.s1, cudaStreamNonBlocking)) == cudaSuccess &&
        (e = cudaStreamCreateWithFlags(&b.s2, cudaStreamNonBlocking)) == cudaSuccess &&
        (e = cudaEventCreate(&b.t0)) == cudaSuccess)
        e = cudaEventCreate(&b.t1);
    if (e != cudaSuccess) {
        fprintf(stderr, "cutune pipeline: %zu bytes of buffers: %s\n", b.bytes,
                cudaGetErrorString(e));
    } else {
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < b.bytes / sizeof(float); i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b.in[i] = (float)(x >> 40) / (float)(1 << 24);
        }
        rc = run_bench(&b, a->workloads, a->tuning, a->us_per_mb, a->json);
    }
    if (b.pageable) {
        free(b.in);
        free(b.out);
    } else {
        cudaFreeHost(b.in);
        cudaFreeHost(b.out);
    }
    cudaFree(b.dev_a);
    cudaFree(b.dev_b);
    cudaLibraryUnload(b.w.lib);
    return rc;
}


#else

static int pipeline_main(const pipe_args *a)
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
