/* bench_run.c — the measurements of `cutune bench` on the GPU: a device-to-device copy for
 * the bandwidth mark; each workload tuned first when the store has nothing for it (a `cutune
 * tune` child), its default and tuned configurations timed through cutune_launch, and the
 * tuned one run at least 1.5 s (and --runs times) with NVML watching. */
#define _GNU_SOURCE
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CUTUNE_HAVE_CUDA
#include "internal.h" /* ct_now */
#include "realtime_gpu.h"

#include <cuda_runtime_api.h>
#include <limits.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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
    double t0 = ct_now();
    while (!st && (issued < runs || ct_now() - t0 < min_s)) {
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
static double copy_gbps(cudaStream_t s)
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

/* -------------------------------------------------------------------- tuning ---- */

/* `cutune tune` for a workload the store has nothing for; its JSON report (with the
 * history) goes to DIR/tune-NAME.json and is returned. */
static json_t *tune_now(const bench_args *a, const bench_workload *w, const char *db)
{
    char src[PATH_MAX], spec[PATH_MAX], problem[96], budget[24], report[PATH_MAX];
    snprintf(problem, sizeof problem, "%lld,%lld,%lld", (long long)w->problem[0],
             (long long)w->problem[1], (long long)w->problem[2]);
    snprintf(budget, sizeof budget, "%u", a->budget);
    /* a path cut short would name another file: refused */
    if (snprintf(src, sizeof src, "%s/%s", a->kernels, w->source) >= (int)sizeof src ||
        snprintf(spec, sizeof spec, "%s/%s", a->kernels, w->spec) >= (int)sizeof spec ||
        snprintf(report, sizeof report, "%s/tune-%s.json", a->out, w->name) >=
            (int)sizeof report) {
        fprintf(stderr, "cutune bench: the path of %s's source, spec or report is too long\n",
                w->name);
        return NULL;
    }
    /* (the source after "--": a path that begins with '-' is not an option) */
    char *argv[] = {"cutune", "tune",   "--spec", spec,       "--problem", problem,
                    "--strategy", "bo", "--budget", budget,   "--db",      (char *)db,
                    "--json", "--",     src,      NULL};
    cli_file out; /* the session's JSON, whole once it ends */
    if (cli_file_open(&out, report, "bench"))
        return NULL;
    fflush(out.f);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fileno(out.f), STDOUT_FILENO);
    pid_t pid;
    int status = -1;
    if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) == 0)
        waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    if (cli_file_commit(&out, "bench"))
        return NULL;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "cutune bench: tuning %s failed (its report: %s)\n", w->name, report);
        return NULL;
    }
    return json_load_file(report, 0, NULL);
}

/* The best time after each evaluation of a tuning report's history. */
static json_t *convergence(const json_t *tuned)
{
    json_t *out = json_array(), *h = json_object_get(tuned, "history"), *e;
    double best = INFINITY;
    size_t i;
    json_array_foreach(h, i, e)
    {
        json_t *t = json_object_get(e, "time_ms");
        if (json_is_number(t))
            best = fmin(best, json_number_value(t));
        json_array_append_new(out, isfinite(best) ? json_real(best) : json_null());
    }
    return out;
}

/* ------------------------------------------------------------- one workload ---- */

typedef struct gpu {
    const bench_args *a;
    cutune_device_info dev;
    cutune_arch arch;
    cudaStream_t stream;
    cutune_store *tuned, *empty;
    const char *db;
} gpu;

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

static cutune_monitor *watch(const gpu *g, const char **note)
{
    cutune_monitor *m = NULL;
    if (cutune_monitor_start(&m, g->dev.pci_bus_id, 20, 0.3))
        *note = cutune_last_error();
    return m;
}

/* Default and tuned times of one kernel workload, then the tuned one's long run. */
static json_t *run_kernel(const gpu *g, const bench_workload *w, json_t *tuning)
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
static json_t *run_realtime(const gpu *g, json_t *stages)
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

/* --------------------------------------------------------------------- main ---- */

static const char *kind_names[] = {"compute", "memory", "latency", "pipeline"};

/* Whether workload i needs a profile: the kernels chosen, and the real-time frame's stages
 * (the oscillators' and active inference's fused launches) when the frame is chosen. */
static int to_tune(const bench_args *a, size_t i)
{
    const bench_workload *w = &a->workloads[i];
    if (w->kind == BENCH_PIPELINE)
        return 0;
    if (a->chosen[i])
        return 1;
    int stage = !strcmp(w->name, "oscillators") || !strcmp(w->name, "active_inference");
    for (size_t k = 0; stage && k < a->nworkloads; k++)
        if (a->chosen[k] && a->workloads[k].kind == BENCH_PIPELINE)
            return 1;
    return 0;
}

int bench_main(const bench_args *a)
{
    gpu g = {.a = a};
    int st = cutune_device_query(a->device, &g.dev);
    if (st)
        return cli_fail("bench", st);
    char db_path[PATH_MAX];
    if (!a->db && (st = cutune_store_default_path(db_path, sizeof db_path)))
        return cli_fail("bench", st);
    g.db = a->db ? a->db : db_path;
    if (cudaSetDevice(a->device) != cudaSuccess ||
        cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking) != cudaSuccess)
        return cli_fail("bench", CUTUNE_ECUDA);
    cutune_arch_from_device(&g.dev, &g.arch);
    /* tune first what the store knows nothing about (the store is opened afterwards, so
     * that it sees what the children wrote) */
    json_t *tunings[BENCH_MAX_WORKLOADS] = {0};
    cutune_store *probe = NULL;
    if ((st = cutune_store_open(&probe, g.db, 0)))
        return cli_fail("bench", st);
    size_t total = 0, done = 0;
    for (size_t i = 0; i < a->nworkloads; i++)
        total += to_tune(a, i);
    for (size_t i = 0; i < a->nworkloads; i++) {
        const bench_workload *w = &a->workloads[i];
        if (!to_tune(a, i))
            continue;
        char spec[PATH_MAX]; /* (one too long to fit: tune_now says so) */
        cutune_launcher *l = NULL;
        cutune_selection sel;
        int known = snprintf(spec, sizeof spec, "%s/%s", a->kernels, w->spec) <
                        (int)sizeof spec &&
                    cutune_launcher_new(&l, probe, spec, NULL, NULL) == CUTUNE_OK &&
                    cutune_launcher_select(l, w->problem, &sel) == CUTUNE_OK &&
                    sel.rule == CUTUNE_SELECT_EXACT;
        cutune_launcher_free(l);
        if (known)
            continue;
        fprintf(stderr, "cutune bench: [%zu/%zu] tuning %s (%s): bo, budget %u ...\n", ++done,
                total, w->name, w->what, a->budget);
        double t0 = ct_now();
        json_t *r = tune_now(a, w, g.db);
        if (r) {
            json_t *t =
                json_pack("{s:b, s:f, s:O, s:O, s:o}", "tuned_now", 1, "seconds", ct_now() - t0,
                          "evaluations", json_object_get(r, "evaluations"), "best_ms",
                          json_object_get(r, "best_ms"), "convergence", convergence(r));
            fprintf(stderr,
                    "cutune bench: %s tuned in %.0f s: best %.4f ms, %.2fx the "
                    "default\n",
                    w->name, ct_now() - t0, json_number_value(json_object_get(r, "best_ms")),
                    json_number_value(json_object_get(r, "speedup")));
            tunings[i] = t;
            json_decref(r);
        }
    }
    cutune_store_free(probe);
    char empty_dir[32];
    if ((st = cli_temp_store_open(&g.empty, empty_dir)))
        return cli_fail("bench", st);
    json_t *report = NULL, *list = json_array(), *stages = json_object();
    if ((st = cutune_store_open(&g.tuned, g.db, 0))) {
        cli_fail("bench", st);
    } else {
        fprintf(stderr, "cutune bench: a device-to-device copy for the bandwidth mark ...\n");
        double copy = copy_gbps(g.stream);
        for (size_t i = 0; i < a->nworkloads; i++) {
            const bench_workload *w = &a->workloads[i];
            if (!a->chosen[i]) {
                json_decref(tunings[i]);
                continue;
            }
            fprintf(stderr, "cutune bench: %s: default and tuned, then %zu timed runs ...\n",
                    w->name, a->runs);
            json_t *r = w->kind == BENCH_PIPELINE ? run_realtime(&g, stages)
                                                  : run_kernel(&g, w, tunings[i]);
            if (r && !json_object_get(r, "error") && w->kind != BENCH_PIPELINE)
                json_object_set(stages, w->name, json_object_get(r, "latency"));
            if (r) {
                json_object_set_new(r, "kind", json_string(kind_names[w->kind]));
                if (w->bytes && json_is_number(json_object_get(r, "gbps"))) {
                    double gbps = json_number_value(json_object_get(r, "gbps"));
                    json_object_set_new(r, "pct_of_copy", json_real(100 * gbps / copy));
                    json_object_set_new(
                        r, "pct_of_theoretical",
                        json_real(100 * gbps / g.dev.theoretical_bandwidth_gbs));
                }
            }
            json_array_append_new(
                list,
                r ? r : json_pack("{s:s, s:s}", "name", w->name, "error", "out of memory"));
        }
        report = json_pack("{s:s, s:i, s:i, s:s, s:o, s:f, s:I, s:o, s:o}", "device",
                           g.dev.name, "cuda_driver_version", g.dev.driver_version, "sm_count",
                           g.dev.sm_count, "pci_bus_id", g.dev.pci_bus_id, "copy_gbps",
                           bench_num(copy), "theoretical_gbps", g.dev.theoretical_bandwidth_gbs,
                           "runs", (json_int_t)a->runs, "workloads", list, "stages", stages);
        list = stages = NULL;
    }
    json_decref(list);
    json_decref(stages);
    cutune_store_free(g.tuned);
    cli_temp_store_close(g.empty, empty_dir);
    cudaStreamDestroy(g.stream);
    return report ? bench_report_write(report, a, NULL) : EXIT_FAILED;
}

#else

int bench_main(const bench_args *a)
{
    (void)a;
    fprintf(stderr, "cutune bench: built without CUDA: no GPU to measure (cutune sim scores "
                    "strategies on recorded spaces without one)\n");
    return EXIT_NO_DEVICE;
}

#endif
