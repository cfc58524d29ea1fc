/* pipeline_run.c — `cutune pipeline` on the GPU: the buffers set up, chunk size and depth
 * tuned first when asked, then each workload measured (one, or transfer-bound, balanced and
 * compute-bound with --workloads, and then GPU utilisation and the pool's latency), printed
 * as lines or one JSON object. */
#include "pipeline_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* With pageable data the stages alone (the driver's copies) are not what the pipeline does
 * (staging through pinned buffers): no ideal bound then. */
static json_t *workload_json(const pipe_workload *w, int depth, int pageable)
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

static void workload_text(const pipe_workload *w, int pageable)
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

static int run_bench(pipe_bench *b, int workloads, int tuning, double us_per_mb, int json)
{
    json_t *out = json ? json_object() : NULL;
    int st = CUTUNE_OK;
    double h2d_us_per_mb = 0;
    {
        pipe_workload probe = {.name = "probe"};
        probe.h2d = pipe_copies_ms(b, 1);
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
        st = pipe_tune(b, &chunk, &depth, &dflt_ms, &best_ms);
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
    pipe_workload ws[3] = {{.name = "transfer-bound", .factor = 0.25},
                      {.name = "balanced", .factor = 1},
                      {.name = "compute-bound", .factor = 4}};
    int nw = workloads ? 3 : 1;
    if (!workloads)
        ws[0] = (pipe_workload){.name = "workload",
                           .us_per_mb = us_per_mb >= 0 ? us_per_mb : h2d_us_per_mb};
    json_t *list = out ? json_array() : NULL;
    for (int k = 0; k < nw && !st; k++) {
        if (workloads)
            ws[k].us_per_mb = ws[k].factor * h2d_us_per_mb;
        st = pipe_measure(b, &ws[k]);
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
        double util = pipe_gpu_util(b), alloc_ns[2], free_ns[2], cuda_ns[2], timer_ns;
        st = pipe_alloc_latency(alloc_ns, free_ns, cuda_ns, &timer_ns);
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

int pipeline_main(const pipe_args *a)
{
    pipe_bench b = {.bytes = a->bytes, .chunk = a->chunk, .depth = a->depth,
               .pageable = a->pageable};
    int device = a->device;
    int st = cutune_device_query(device, &b.dev);
    if (st)
        return cli_fail("pipeline", st);
    if (cudaSetDevice(device) != cudaSuccess)
        return cli_fail("pipeline", CUTUNE_ECUDA);
    if ((st = pipe_work_load(&b.w, &b.dev)))
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
