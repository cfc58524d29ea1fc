/* pipeline_measure.c — what `cutune pipeline` measures on the GPU: a kernel that transforms
 * each chunk (out = 2 in + 1) and then holds the GPU for a set time per MB stands for the
 * computation; each stage alone (all the copies in, all the computations, all the copies
 * out, and copies both ways at once), the pipeline with one slot (serial) and with `depth`
 * slots; GPU utilisation (NVML) while it runs. */
#include "pipeline_gpu.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

int pipe_work_load(work *w, const cutune_device_info *dev)
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

static double elapsed_ms(pipe_bench *b, cudaStream_t s)
{
    float ms = 0;
    cudaEventRecord(b->t1, s);
    cudaEventSynchronize(b->t1);
    cudaEventElapsedTime(&ms, b->t0, b->t1);
    return ms;
}

/* All the copies one way, chunk by chunk, alone on the link. */
double pipe_copies_ms(pipe_bench *b, int to_device)
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
static double both_ways_ms(pipe_bench *b)
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

static double compute_ms(pipe_bench *b)
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
static double serial_ms(pipe_bench *b)
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
int pipe_run_ms(pipe_bench *b, size_t chunk, int depth, int runs, double *ms)
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

int pipe_measure(pipe_bench *b, pipe_workload *w)
{
    b->w.us_per_mb = w->us_per_mb;
    w->h2d = pipe_copies_ms(b, 1);
    w->d2h = pipe_copies_ms(b, 0);
    w->both = both_ways_ms(b);
    w->compute = compute_ms(b);
    w->serial = fmin(serial_ms(b), serial_ms(b));
    double warm;
    int st = pipe_run_ms(b, b->chunk, b->depth, 1, &warm);
    if (!st)
        st = pipe_run_ms(b, b->chunk, b->depth, 5, &w->piped);
    w->ideal = fmax(w->h2d, fmax(w->d2h, w->compute));
    w->ideal_bidir = fmax(w->ideal, w->both);
    return st;
}

/* ---------------------------------------------------------- GPU utilisation (NVML) ---- */

/* Utilisation while the pipeline runs the compute-bound workload for about 3 s (the first
 * half second left out: NVML's window still holds the idle time before). */
double pipe_gpu_util(pipe_bench *b)
{
    cutune_monitor *m;
    if (cutune_monitor_start(&m, b->dev.pci_bus_id, 20, 0.5))
        return NAN;
    double t0 = cutune_now(), ms;
    while (cutune_now() - t0 < 3 && pipe_run_ms(b, b->chunk, b->depth, 1, &ms) == CUTUNE_OK)
        ;
    cutune_monitor_report r;
    cutune_monitor_stop(m, &r);
    cutune_monitor_free(m);
    return r.gpu_util_mean;
}
