/* frames.c — `cutune pipeline --frames N`: the real-time demo end to end. Each frame
 * copies observations in from pinned memory, runs 100 oscillator steps and one
 * active-inference step, and copies the action out (one CUDA graph, realtime_gpu.c). It runs
 * with the baseline (the specs' default configurations) and with what the profile store
 * holds for this GPU (tuned), checks the GPU against the CPU references on the first frame,
 * and reports latency percentiles per stage and per frame against the contracts. */
#define _GNU_SOURCE
#include "frames.h"
#include "latency.h"
#include "realtime.h"

#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CUTUNE_HAVE_CUDA
#include "realtime_gpu.h"

#include <cuda_runtime_api.h>
#include <time.h>

/* The percentiles this command's JSON has always given. */
static json_t *dist_json(const bench_latency *d)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f}", "p50_ms", d->p50, "p99_ms", d->p99,
                     "p999_ms", d->p999, "max_ms", d->max, "mean_ms", d->mean);
}

/* One configuration set (baseline or tuned): the stages alone, then the frames. */
typedef struct run_result {
    char osc_config[512], predict_config[512];
    const char *osc_rule, *predict_rule;
    int osc_per_launch, predict_per_launch;
    bench_latency osc, ai, frame, paced;
    double throughput_fps;
    int paced_frames, missed_deadlines;
} run_result;

static int run_one(rt_gpu *g, const rt_model *m, int stage_runs, int frames, int paced,
                   run_result *r)
{
    int most = stage_runs > frames ? stage_runs : frames;
    double *ms = malloc(sizeof(double) * (size_t)(most > 0 ? most : 1));
    double o[RT_NO], ai[RT_AI_OUT], sums[4];
    if (!ms)
        return -1;
    snprintf(r->osc_config, sizeof r->osc_config, "%s", rt_gpu_osc_config(g));
    snprintf(r->predict_config, sizeof r->predict_config, "%s", rt_gpu_predict_config(g));
    r->osc_rule = rt_gpu_osc_rule(g);
    r->predict_rule = rt_gpu_predict_rule(g);
    r->osc_per_launch = rt_gpu_osc_per_launch(g);
    r->predict_per_launch = rt_gpu_predict_per_launch(g);
    int bad = rt_gpu_reset(g) || rt_gpu_time_osc(g, stage_runs, ms);
    if (!bad)
        bench_latency_from(&r->osc, ms, (size_t)stage_runs);
    bad = bad || rt_gpu_time_ai(g, stage_runs, ms);
    if (!bad)
        bench_latency_from(&r->ai, ms, (size_t)stage_runs);
    bad = bad || rt_gpu_reset(g);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int f = 0; !bad && f < frames; f++) {
        rt_observations(m, (uint64_t)f, o);
        bad = rt_gpu_frame(g, o, ai, sums, &ms[f]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!bad && frames) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        r->throughput_fps = frames / s;
        bench_latency_from(&r->frame, ms, (size_t)frames);
    }
    /* paced: a frame every 10 ms, as the application runs them */
    r->paced_frames = paced ? frames : 0;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (int f = 0; !bad && f < r->paced_frames; f++) {
        next.tv_nsec += 10000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        rt_observations(m, (uint64_t)f, o);
        bad = rt_gpu_frame(g, o, ai, sums, &ms[f]);
        r->missed_deadlines += !bad && ms[f] > 10.0;
    }
    if (!bad && r->paced_frames)
        bench_latency_from(&r->paced, ms, (size_t)r->paced_frames);
    free(ms);
    return bad ? -1 : 0;
}

typedef struct contract {
    const char *what;
    double limit_ms;
    const char *percentile;
} contract;

static void print_run(const char *name, const run_result *r)
{
    printf("%s: osc_step %s (%s, %d step%s a launch), ai_predict %s (%s, %d sub-step%s a "
           "launch)\n", name, r->osc_config, r->osc_rule, r->osc_per_launch,
           r->osc_per_launch > 1 ? "s" : "", r->predict_config, r->predict_rule,
           r->predict_per_launch, r->predict_per_launch > 1 ? "s" : "");
    printf("  %-28s %9s %9s %9s %9s\n", "", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
    const struct {
        const char *name;
        const bench_latency *d;
        int shown;
    } rows[] = {{"oscillators, 100 steps", &r->osc, 1},
                {"active inference, 1 step", &r->ai, 1},
                {"frame, unpaced", &r->frame, 1},
                {"frame, paced at 100/s", &r->paced, r->paced_frames > 0}};
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (rows[i].shown)
            printf("  %-28s %9.4f %9.4f %9.4f %9.4f\n", rows[i].name, rows[i].d->p50,
                   rows[i].d->p99, rows[i].d->p999, rows[i].d->max);
    printf("  throughput %.0f frames/s unpaced", r->throughput_fps);
    if (r->paced_frames)
        printf("; paced: %d of %d frames over 10 ms", r->missed_deadlines, r->paced_frames);
    printf("\n");
}

static json_t *run_json(const run_result *r)
{
    json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:i, s:o, s:o, s:o, s:f}", "osc_config",
                          r->osc_config, "osc_rule", r->osc_rule, "osc_steps_per_launch",
                          r->osc_per_launch, "predict_config", r->predict_config,
                          "predict_rule", r->predict_rule, "predict_substeps_per_launch",
                          r->predict_per_launch, "osc_100steps",
                          dist_json(&r->osc), "ai_step", dist_json(&r->ai), "frame",
                          dist_json(&r->frame), "throughput_fps", r->throughput_fps);
    if (j && r->paced_frames) {
        json_object_set_new(j, "frame_paced", dist_json(&r->paced));
        json_object_set_new(j, "paced_missed_10ms", json_integer(r->missed_deadlines));
    }
    return j;
}

/* A store without the fused launches' profiles makes the "tuned" run (nearly) the baseline:
 * say so before minutes go on it, and how to tune them. */
static void untuned_stage(const char *db, const char *dir, const char *kernel,
                          const char *file, const char *problem, const char *launches,
                          const char *rule)
{
    fprintf(stderr, "cutune pipeline: %s holds no profile of %s at %s for this GPU (it runs "
            "one launch %s, %s configuration); tune it first: cutune tune %s/%s.cu --spec "
            "%s/%s.json --problem %s --db %s\n", db, kernel, problem, launches, rule, dir,
            file, dir, file, problem, db);
}

static void untuned_note(const rt_gpu *g, const rt_model *m, const char *db, const char *dir)
{
    char problem[64];
    if (rt_gpu_osc_per_launch(g) == 1) {
        snprintf(problem, sizeof problem, "%d,%d", m->n, RT_OSC_STEPS);
        untuned_stage(db, dir, "osc_step", "oscillators", problem, "a step",
                      rt_gpu_osc_rule(g));
    }
    if (rt_gpu_predict_per_launch(g) == 1) {
        snprintf(problem, sizeof problem, "%d,%d,%d", RT_NS, RT_NP, RT_SUBSTEPS);
        untuned_stage(db, dir, "ai_predict", "active_inference", problem, "a sub-step",
                      rt_gpu_predict_rule(g));
    }
}

int frames_main(const frames_args *a)
{
    cutune_device_info dev;
    int st = cutune_device_query(a->device, &dev);
    if (st)
        return cli_fail("pipeline", st);
    if (cudaSetDevice(a->device) != cudaSuccess)
        return cli_fail("pipeline", CUTUNE_ECUDA);
    rt_model m;
    if ((st = rt_model_init(&m, a->oscillators, 1)))
        return st == CUTUNE_EINVAL ? cli_usage_error("pipeline", "--oscillators is 1 to 65536")
                                   : (fprintf(stderr, "cutune pipeline: out of memory for the "
                                              "model of %d oscillators\n", a->oscillators),
                                      EXIT_FAILED);
    char empty_dir[32], why[1024];
    cutune_store *tuned_store = NULL, *empty_store = NULL;
    if ((st = cli_temp_store_open(&empty_store, empty_dir))) {
        rt_model_free(&m);
        return cli_fail("pipeline", st);
    }
    rt_gpu *base = NULL, *tuned = NULL;
    run_result rb = {0}, rtu = {0};
    double check[5] = {0};
    int rc = EXIT_FAILED;
    if ((st = cutune_store_open(&tuned_store, a->db, 0))) {
        cli_fail("pipeline", st);
        goto done;
    }
    if (rt_gpu_new(&base, &m, empty_store, a->kernels_dir, NULL, why, sizeof why) ||
        rt_gpu_new(&tuned, &m, tuned_store, a->kernels_dir, NULL, why, sizeof why)) {
        fprintf(stderr, "cutune pipeline: %s\n", why);
        goto done;
    }
    untuned_note(tuned, &m, cutune_store_path(tuned_store), a->kernels_dir);
    fprintf(stderr, "cutune pipeline: baseline (the specs' defaults): %d runs of each stage, "
            "%d frames ...\n", a->stage_runs, a->baseline_frames);
    if (rt_gpu_check(tuned, check) ||
        run_one(base, &m, a->stage_runs, a->baseline_frames, 0, &rb) ||
        (fprintf(stderr, "cutune pipeline: tuned: %d runs of each stage, %d frames%s ...\n",
                 a->stage_runs, a->frames, a->paced ? ", then as many paced" : ""),
         run_one(tuned, &m, a->stage_runs, a->frames, a->paced, &rtu))) {
        fprintf(stderr, "cutune pipeline: %s\n", why);
        goto done;
    }
    const double osc_step_base = rb.osc.p50 * 1000 / RT_OSC_STEPS,
                 osc_step = rtu.osc.p50 * 1000 / RT_OSC_STEPS;
    const contract contracts[] = {{"oscillators, 100 steps (contract)", 1.0, "p99"},
                                  {"oscillators, 100 steps (target)", 0.5, "p99"},
                                  {"active inference (contract)", 5.0, "p99"},
                                  {"active inference (target)", 1.0, "p99"},
                                  {"frame (contract)", 10.0, "p99.9"},
                                  {"frame (target)", 3.0, "p99.9"}};
    const double frame_p999 = rtu.paced_frames ? fmax(rtu.frame.p999, rtu.paced.p999)
                                               : rtu.frame.p999;
    const double got[] = {rtu.osc.p99, rtu.osc.p99, rtu.ai.p99, rtu.ai.p99, frame_p999,
                          frame_p999};
    if (a->json) {
        json_t *cs = json_array();
        for (size_t i = 0; i < sizeof contracts / sizeof *contracts; i++)
            json_array_append_new(cs, json_pack("{s:s, s:s, s:f, s:f, s:b}", "stage",
                                                contracts[i].what, "percentile",
                                                contracts[i].percentile, "limit_ms",
                                                contracts[i].limit_ms, "measured_ms", got[i],
                                                "pass", got[i] <= contracts[i].limit_ms));
        json_t *out = json_pack(
            "{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:o, s:o, s:o}",
            "device", dev.name, "cuda_driver_version", dev.driver_version, "oscillators", m.n,
            "frames", a->frames, "osc1024_step_us_baseline", osc_step_base, "osc1024_step_us", osc_step,
            "osc1024_100steps_ms_p99", rtu.osc.p99, "ai_step_ms_baseline_p99", rb.ai.p99,
            "ai_step_ms_p99", rtu.ai.p99, "frame_ms_p50", rtu.frame.p50, "frame_ms_p99",
            rtu.frame.p99, "frame_ms_p999", rtu.frame.p999, "baseline", run_json(&rb),
            "tuned", run_json(&rtu), "contracts", cs, "cpu_agreement",
            json_pack("{s:f, s:f, s:f, s:f, s:b}", "osc_state_max_abs", check[0],
                      "osc_sums_max_abs", check[1], "belief_max_abs", check[2],
                      "policy_probability_max_abs", check[3], "same_policy", check[4] != 0));
        if (m.n != 1024) { /* the names say 1024: say what it was */
            json_object_set_new(out, "note", json_string("oscillator figures at this N"));
        }
        cli_print_json(out);
    } else {
        printf("%s, %d oscillators, %d frames (baseline %d)\n", dev.name, m.n, a->frames,
               a->baseline_frames);
        printf("first frame against the CPU: oscillator state within %.3g, sums within %.3g, "
               "belief within %.3g, policy probabilities within %.3g, %s policy\n",
               check[0], check[1], check[2], check[3], check[4] ? "the same" : "ANOTHER");
        print_run("baseline", &rb);
        print_run("tuned", &rtu);
        printf("one oscillator step (p50 of 100 in a graph / 100): baseline %.2f us, tuned "
               "%.2f us\n", osc_step_base, osc_step);
        printf("%-36s %10s %9s %11s %s\n", "", "percentile", "limit ms", "measured ms", "");
        for (size_t i = 0; i < sizeof contracts / sizeof *contracts; i++)
            printf("%-36s %10s %9.3f %11.4f %s\n", contracts[i].what, contracts[i].percentile,
                   contracts[i].limit_ms, got[i], got[i] <= contracts[i].limit_ms ? "pass"
                                                                                 : "FAIL");
    }
    rc = EXIT_OK;
done:
    rt_gpu_free(base);
    rt_gpu_free(tuned);
    cli_temp_store_close(empty_store, empty_dir);
    cutune_store_free(tuned_store);
    rt_model_free(&m);
    return rc;
}

#else

int frames_main(const frames_args *a)
{
    (void)a;
    fprintf(stderr, "cutune pipeline: built without CUDA\n");
    return EXIT_NO_DEVICE;
}

#endif
