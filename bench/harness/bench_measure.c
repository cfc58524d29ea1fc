/* bench_measure.c — the measurements of `cutune bench` on the GPU: a device-to-device copy
 * for the bandwidth mark; a workload's default and tuned configurations timed through
 * cutune_launch (CUDA events around each launch, queued back to back), the tuned one at least
 * 1.5 s and --runs times with NVML watching; the real-time frame (bench/realtime) with the
 * specs' defaults and with the store's profiles. */
#define _GNU_SOURCE
#include "bench_gpu.h"
#include "realtime/realtime_gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define RING 256 /* launches in flight, each between its own pair of events */

/* Device time of each launch, queued back to back: at least `runs` of them and for at least
 * min_s seconds; *ms (malloc'd) and *n receive them. */
static int time_launches(cutune_launcher *l, const int64_t problem[3], void **params,
                         cudaStream_t stream, size_t runs, double min_s, double **ms, size_t *n)
{
    cudaEvent_t ev[2 * RING];
    size_t cap = runs, done = 0, issued = 0;
    double *t = malloc(cap * sizeof *t);
    int st = t ? CUTUNE_OK : CUTUNE_ENOMEM, made = 0;
    for (; !st && made < 2 * RING; made++)
        if (cudaEventCreate(&ev[made]) != cudaSuccess)
            st = CUTUNE_ECUDA;
    double t0 = cutune_now();
    while (!st && (issued < runs || cutune_now() - t0 < min_s)) {
        size_t slot = issued % RING;
        if (issued >= RING) { /* the launch that used this slot is read first */
            float f;
            if (cudaEventSynchronize(ev[2 * slot + 1]) != cudaSuccess ||
                cudaEventElapsedTime(&f, ev[2 * slot], ev[2 * slot + 1]) != cudaSuccess) {
                st = CUTUNE_ECUDA;
                break;
            }
            if (done == cap) {
                double *bigger = cap < 100 * runs ? realloc(t, 2 * cap * sizeof *t) : NULL;
                if (!bigger)
                    break; /* enough: the runs are what is kept */
                t = bigger;
                cap *= 2;
            }
            t[done++] = f;
        }
        if (cudaEventRecord(ev[2 * slot], stream) != cudaSuccess ||
            (st = cutune_launch(l, problem, params, stream, NULL)) ||
            cudaEventRecord(ev[2 * slot + 1], stream) != cudaSuccess)
            st = st ? st : CUTUNE_ECUDA;
        issued++;
    }
    for (size_t k = issued > RING ? issued - RING : 0; !st && k < issued && done < cap; k++) {
        size_t slot = k % RING;
        float f;
        if (cudaEventSynchronize(ev[2 * slot + 1]) != cudaSuccess ||
            cudaEventElapsedTime(&f, ev[2 * slot], ev[2 * slot + 1]) != cudaSuccess)
            st = CUTUNE_ECUDA;
        else
            t[done++] = f;
    }
    for (int i = 0; i < made; i++)
        cudaEventDestroy(ev[i]);
    if (st) {
        free(t);
        return st;
    }
    *ms = t;
    *n = done;
    return CUTUNE_OK;
}

/* Bytes read and written per second by a device-to-device copy of 1 GiB, the best of 10. */
double bench_copy_gbps(cudaStream_t s)
{
    const size_t bytes = (size_t)1 << 30;
    void *a = NULL, *b = NULL;
    cudaEvent_t e0, e1;
    double best = INFINITY;
    if (cudaMalloc(&a, bytes) == cudaSuccess && cudaMalloc(&b, bytes) == cudaSuccess &&
        cudaEventCreate(&e0) == cudaSuccess && cudaEventCreate(&e1) == cudaSuccess) {
        for (int i = 0; i < 13; i++) {
            float ms;
            cudaEventRecord(e0, s);
            cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s);
            cudaEventRecord(e1, s);
            if (cudaEventSynchronize(e1) == cudaSuccess &&
                cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess && i >= 3)
                best = fmin(best, ms);
        }
        cudaEventDestroy(e0);
        cudaEventDestroy(e1);
    }
    cudaFree(a);
    cudaFree(b);
    cudaGetLastError();
    return isfinite(best) ? 2.0 * (double)bytes / (best * 1e-3) / 1e9 : NAN;
}

/* ------------------------------------------------------------- one workload ---- */

static json_t *monitor_json(cutune_monitor *m, size_t runs)
{
    cutune_monitor_report r;
    if (!m || cutune_monitor_stop(m, &r))
        return json_null();
    char names[256];
    return json_pack(
        "{s:i, s:f, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:s}", "samples",
        r.samples, "seconds", r.seconds, "gpu_util_mean", bench_num(r.gpu_util_mean),
        "gpu_util_min", bench_num(r.gpu_util_min), "mem_util_mean", bench_num(r.mem_util_mean),
        "sm_clock_mhz_mean", bench_num(r.sm_clock_mhz_mean), "sm_clock_mhz_min",
        bench_num(r.sm_clock_mhz_min), "mem_clock_mhz_mean", bench_num(r.mem_clock_mhz_mean),
        "power_w_mean", bench_num(r.power_w_mean), "power_w_max", bench_num(r.power_w_max),
        "energy_j", bench_num(r.energy_j), "energy_mj_per_run",
        bench_num(1e3 * r.energy_j / (double)runs), "throttled", r.throttled,
        "throttle_reasons", cutune_throttle_names(r.throttle_reasons, names, sizeof names));
}

static cutune_monitor *watch(const bench_gpu *g, const char **note)
{
    cutune_monitor *m = NULL;
    if (cutune_monitor_start(&m, g->dev.pci_bus_id, 20, 0.3))
        *note = cutune_last_error();
    return m;
}

/* Default and tuned times of one kernel workload, then the tuned one's long run. */
json_t *bench_run_kernel(const bench_gpu *g, const bench_workload *w, json_t *tuning)
{
    const bench_args *a = g->a;
    char spec[1024], why[512] = "";
    snprintf(spec, sizeof spec, "%s/%s", a->kernels, w->spec);
    cutune_space *space = NULL;
    cutune_kernel *k = NULL;
    cutune_args *args = NULL;
    cutune_launcher *dl = NULL, *tl = NULL;
    double *ms = NULL;
    size_t n = 0;
    json_t *out = NULL;
    cutune_launch_info di, ti;
    int st = cutune_space_load_t1(&space, spec);
    st = st ? st : cutune_kernel_load_t1_sized(spec, space, w->problem, &k);
    st = st ? st : cutune_args_new(&args, k);
    st = st ? st : cutune_launcher_new(&dl, g->empty, spec, NULL, NULL);
    st = st ? st : cutune_launcher_new(&tl, g->tuned, spec, NULL, NULL);
    for (size_t i = 0; !st && i < cutune_kernel_num_args(k); i++) {
        const cutune_kernel_arg *arg = cutune_kernel_arg_at(k, i);
        size_t bytes;
        const void *host = cutune_args_host(args, i, &bytes);
        if (arg->constant && !(st = cutune_launcher_set_constant(dl, arg->name, host, bytes)))
            st = cutune_launcher_set_constant(tl, arg->name, host, bytes);
    }
    void **params = cutune_args_params(args);
    /* the default: a few runs are enough to know it */
    double default_ms = NAN;
    if (!st && !(st = cutune_launch(dl, w->problem, params, g->stream, &di)) &&
        !(st = time_launches(dl, w->problem, params, g->stream, 20, 0, &ms, &n))) {
        qsort(ms, n, sizeof *ms, cli_cmp_double);
        default_ms = cli_percentile(ms, n, 50);
        free(ms);
        ms = NULL;
    }
    /* the tuned one: warm up, then the long run under NVML's eye */
    const char *nvml_note = NULL;
    cutune_monitor *mon = NULL;
    if (!st && !(st = cutune_launch(tl, w->problem, params, g->stream, &ti)) &&
        !(st = time_launches(tl, w->problem, params, g->stream, 50, 0, &ms, &n))) {
        free(ms);
        ms = NULL;
        mon = watch(g, &nvml_note);
        st = time_launches(tl, w->problem, params, g->stream, a->runs, 1.5, &ms, &n);
    }
    json_t *nvml = monitor_json(mon, n);
    cutune_monitor_free(mon);
    if (st) {
        snprintf(why, sizeof why, "%s", cutune_last_error());
        out = json_pack("{s:s, s:s}", "name", w->name, "error", why);
        json_decref(nvml);
    } else {
        bench_latency lat;
        bench_latency_from(&lat, ms, n);
        cutune_block_resources res = {.threads = (int)(ti.block[0] * ti.block[1] * ti.block[2]),
                                      .regs = ti.regs,
                                      .static_smem = ti.static_smem,
                                      .dynamic_smem = ti.dynamic_smem,
                                      .carveout = -1};
        cutune_occupancy occ;
        json_t *limiters = json_array();
        static const char *const names[] = {"warps", "registers", "shared memory", "blocks"};
        int have_occ = cutune_occupancy_compute(&g->arch, &res, &occ) == CUTUNE_OK;
        for (int b = 0; have_occ && b < 4; b++)
            if (occ.limiters & (1u << b))
                json_array_append_new(limiters, json_string(names[b]));
        out = json_pack("{s:s, s:s, s:[I,I,I], s:s, s:o, s:s, s:s, s:f, s:o, s:i, s:o, "
                        "s:i, s:o, s:o, s:o}",
                        "name", w->name, "what", w->what, "problem", (json_int_t)w->problem[0],
                        (json_int_t)w->problem[1], (json_int_t)w->problem[2], "default_config",
                        di.config, "default_ms", bench_num(default_ms), "tuned_config",
                        ti.config, "tuned_rule", cutune_select_rule_name(ti.selection.rule),
                        "tuned_ms", lat.p50, "speedup", bench_num(default_ms / lat.p50), "regs",
                        ti.regs, "occupancy", bench_num(have_occ ? occ.occupancy : NAN),
                        "blocks_per_sm", have_occ ? occ.blocks_per_sm : 0, "limiters", limiters,
                        "latency", bench_latency_json(&lat), "nvml", nvml);
        if (out && w->flops)
            json_object_set_new(out, "tflops", json_real(w->flops(w->problem) / lat.p50 / 1e9));
        if (out && w->bytes)
            json_object_set_new(out, "gbps", json_real(w->bytes(w->problem) / lat.p50 / 1e6));
    }
    if (out && nvml_note)
        json_object_set_new(out, "nvml_note", json_string(nvml_note));
    if (out && tuning)
        json_object_set_new(out, "tuning", tuning);
    else
        json_decref(tuning);
    free(ms);
    cutune_launcher_free(dl);
    cutune_launcher_free(tl);
    cutune_args_free(args);
    cutune_kernel_free(k);
    cutune_space_free(space);
    return out;
}

/* The real-time frame (realtime_gpu.c) with the defaults and with the store's profiles:
 * frames and each stage timed from the host, launch to completion. */
json_t *bench_run_realtime(const bench_gpu *g, json_t *stages)
{
    const bench_args *a = g->a;
    rt_model m;
    rt_gpu *base = NULL, *tuned = NULL;
    char why[1024] = "";
    json_t *out = NULL;
    size_t runs = a->runs;
    double *ms = malloc(runs * sizeof *ms), o[RT_NO], ai[RT_AI_OUT], sums[4];
    int model = ms && rt_model_init(&m, 1024, 1) == CUTUNE_OK, bad = !model;
    if (bad)
        snprintf(why, sizeof why, "out of memory");
    bad = bad || rt_gpu_new(&base, &m, g->empty, a->kernels, NULL, why, sizeof why) ||
          rt_gpu_new(&tuned, &m, g->tuned, a->kernels, NULL, why, sizeof why);
    /* the baseline frame takes ~70 ms: 20 of them */
    double default_ms = NAN;
    for (int f = 0; !bad && f < 20; f++) {
        rt_observations(&m, (uint64_t)f, o);
        bad = rt_gpu_frame(base, o, ai, sums, &ms[f]);
    }
    if (!bad) {
        qsort(ms, 20, sizeof *ms, cli_cmp_double);
        default_ms = cli_percentile(ms, 20, 50);
    }
    const char *nvml_note = NULL;
    cutune_monitor *mon = NULL;
    bench_latency frame, osc, act;
    if (!bad) {
        mon = watch(g, &nvml_note);
        for (size_t f = 0; !bad && f < runs; f++) {
            rt_observations(&m, (uint64_t)f, o);
            bad = rt_gpu_frame(tuned, o, ai, sums, &ms[f]);
        }
    }
    json_t *nvml = monitor_json(mon, runs);
    cutune_monitor_free(mon);
    if (!bad)
        bench_latency_from(&frame, ms, runs);
    bad = bad || rt_gpu_time_osc(tuned, (int)runs, ms);
    if (!bad)
        bench_latency_from(&osc, ms, runs);
    bad = bad || rt_gpu_time_ai(tuned, (int)runs, ms);
    if (!bad) {
        bench_latency_from(&act, ms, runs);
        json_object_set_new(stages, "realtime.frame", bench_latency_json(&frame));
        json_object_set_new(stages, "realtime.oscillators", bench_latency_json(&osc));
        json_object_set_new(stages, "realtime.active_inference", bench_latency_json(&act));
        char cfg[1100];
        snprintf(cfg, sizeof cfg,
                 "osc_step %s (%d steps a launch), ai_predict %s (%d a launch)",
                 rt_gpu_osc_config(tuned), rt_gpu_osc_per_launch(tuned),
                 rt_gpu_predict_config(tuned), rt_gpu_predict_per_launch(tuned));
        out = json_pack("{s:s, s:s, s:s, s:o, s:s, s:f, s:o, s:o, s:o}", "name", "realtime",
                        "what", bench_workload_named("realtime")->what, "default_config",
                        "the specs' defaults, one launch a step", "default_ms",
                        bench_num(default_ms), "tuned_config", cfg, "tuned_ms", frame.p50,
                        "speedup", bench_num(default_ms / frame.p50), "latency",
                        bench_latency_json(&frame), "nvml", nvml);
        if (out && nvml_note)
            json_object_set_new(out, "nvml_note", json_string(nvml_note));
    } else {
        json_decref(nvml);
        out = json_pack("{s:s, s:s}", "name", "realtime", "error", why);
    }
    rt_gpu_free(base);
    rt_gpu_free(tuned);
    if (model)
        rt_model_free(&m);
    free(ms);
    return out;
}
