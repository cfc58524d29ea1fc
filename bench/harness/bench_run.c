/* bench_run.c — `cutune bench` on the GPU: each workload tuned first when the store has
 * nothing for it (a `cutune tune` child), then measured (bench_measure.c) and the report
 * made (bench_report.c). */
#define _GNU_SOURCE
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifdef CUTUNE_HAVE_CUDA
#include "bench_gpu.h"

#include <limits.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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
    bench_gpu g = {.a = a};
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
        double t0 = cutune_now();
        json_t *r = tune_now(a, w, g.db);
        if (r) {
            json_t *t =
                json_pack("{s:b, s:f, s:O, s:O, s:o}", "tuned_now", 1, "seconds", cutune_now() - t0,
                          "evaluations", json_object_get(r, "evaluations"), "best_ms",
                          json_object_get(r, "best_ms"), "convergence", convergence(r));
            fprintf(stderr,
                    "cutune bench: %s tuned in %.0f s: best %.4f ms, %.2fx the "
                    "default\n",
                    w->name, cutune_now() - t0, json_number_value(json_object_get(r, "best_ms")),
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
        double copy = bench_copy_gbps(g.stream);
        for (size_t i = 0; i < a->nworkloads; i++) {
            const bench_workload *w = &a->workloads[i];
            if (!a->chosen[i]) {
                json_decref(tunings[i]);
                continue;
            }
            fprintf(stderr, "cutune bench: %s: default and tuned, then %zu timed runs ...\n",
                    w->name, a->runs);
            json_t *r = w->kind == BENCH_PIPELINE ? bench_run_realtime(&g, stages)
                                                  : bench_run_kernel(&g, w, tunings[i]);
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
