/* bench_report.c — what `cutune bench` makes of its measurements: the contracts and the
 * goals judged, the report as JSON and Markdown in --out, plots drawn by gnuplot (speedup,
 * latency CDFs, tuning convergence), and the tables on the terminal. */
#define _GNU_SOURCE
#include "bench.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ---------------------------------------------------------------- judgement ---- */

static void judge(json_t *report, const bench_slo *slo)
{
    json_t *stages = json_object_get(report, "stages"), *contracts = json_array(),
           *goals = json_array(), *workloads = json_object_get(report, "workloads"), *w;
    int all_met = 1, any = 0;
    for (size_t i = 0; i < slo->n; i++) {
        const bench_contract *c = &slo->items[i];
        double got =
            num(json_object_get(stages, c->stage), bench_percentile_key(c->percentile));
        json_array_append_new(contracts,
                              json_pack("{s:s, s:f, s:f, s:o, s:s}", "stage", c->stage,
                                        "percentile", c->percentile, "limit_ms", c->limit_ms,
                                        "measured_ms", bench_num(got), "result",
                                        isnan(got)           ? "not run"
                                        : got <= c->limit_ms ? "pass"
                                                             : "fail"));
        all_met &= !(got > c->limit_ms);
        any |= !isnan(got);
    }
    json_object_set_new(report, "contracts", contracts);
    size_t i;
    json_array_foreach(workloads, i, w)
    {
        const char *kind = json_string_value(json_object_get(w, "kind")),
                   *name = json_string_value(json_object_get(w, "name"));
        char goal[160];
        double speedup = num(w, "speedup"),
               util = num(json_object_get(w, "nvml"), "gpu_util_mean");
        if (kind && strcmp(kind, "compute") == 0) {
            snprintf(goal, sizeof goal, "%s: tuned at least 2x the default", name);
            json_array_append_new(goals, json_pack("{s:s, s:o, s:b}", "goal", goal, "measured",
                                                   bench_num(speedup), "met", speedup >= 2));
            snprintf(goal, sizeof goal, "%s: GPU utilisation over 95%% while tuned runs run",
                     name);
            json_array_append_new(goals, json_pack("{s:s, s:o, s:b}", "goal", goal, "measured",
                                                   bench_num(util), "met", util > 95));
        } else if (kind && strcmp(kind, "memory") == 0) {
            double pct = num(w, "pct_of_copy");
            snprintf(goal, sizeof goal, "%s: at least 90%% of the device's copy bandwidth",
                     name);
            json_array_append_new(goals, json_pack("{s:s, s:o, s:b}", "goal", goal, "measured",
                                                   bench_num(pct), "met", pct >= 90));
        }
    }
    if (slo->n)
        json_array_append_new(goals, json_pack("{s:s, s:b}", "goal",
                                               "every contract of the SLO file met", "met",
                                               all_met && any));
    json_object_set_new(report, "goals", goals);
}

/* ---------------------------------------------------------------- the files ---- */

/* "NVIDIA H200" -> "nvidia-h200" */
static void slug(const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < size; p++)
        if (isalnum((unsigned char)*p))
            out[n++] = (char)tolower((unsigned char)*p);
        else if (n && out[n - 1] != '-')
            out[n++] = '-';
    while (n && out[n - 1] == '-')
        n--;
    out[n] = 0;
}

/* An image BASE-WHAT.png: its "set output" line. */
static void output(cli_plot *p, const char *base, const char *what)
{
    char dest[PATH_MAX + 32]; /* (base is shorter than PATH_MAX) */
    snprintf(dest, sizeof dest, "%s-%s.png", base, what);
    fprintf(p->script, "set output %s\n", cli_plot_quote(p, cli_plot_image(p, dest)));
}

/* Draws BASE-speedup.png, BASE-latency.png and BASE-convergence.png (BASE in folder dir):
 * 1 when drawn, 0 when not (gnuplot missing), -1 when it failed. */
static int plot(const json_t *report, const char *dir, const char *base)
{
    cli_plot p;
    if (cli_plot_begin(&p, dir, "bench"))
        return -1;
    FILE *gp = p.script, *f;
    char title[1024];
    const char *data;
    fprintf(gp, "set terminal pngcairo noenhanced size 1000,600 font ',11'\nset grid\nset key "
                "outside\n");
    const json_t *workloads = json_object_get(report, "workloads"), *w;
    const char *device = json_string_value(json_object_get(report, "device"));
    /* speedup bars (the data files are the plot's own, removed afterwards) */
    size_t i;
    if ((f = cli_plot_data(&p, NULL, &data))) {
        json_array_foreach(workloads, i, w) if (isfinite(num(w, "speedup")))
            fprintf(f, "%s %g\n", json_string_value(json_object_get(w, "name")),
                    num(w, "speedup"));
        cli_plot_close(&p, f);
    }
    output(&p, base, "speedup");
    snprintf(title, sizeof title, "cutune on %s: tuned against the default configuration",
             device ? device : "?");
    fprintf(gp,
            "set title %s\nset ylabel 'speedup (x)'\nset logscale y\nset offsets 0, 0, "
            "graph 0.12, 0\nset style fill solid 0.6\nset boxwidth 0.6\nunset key\nplot %s "
            "using 0:2:xtic(1) with boxes, '' using 0:2:(sprintf('%%.1fx', $2)) with labels "
            "offset 0,1\n",
            cli_plot_quote(&p, title), cli_plot_quote(&p, data));
    /* latency: the tail of each tuned run's distribution */
    output(&p, base, "latency");
    snprintf(title, sizeof title, "latency of the tuned runs on %s", device ? device : "?");
    fprintf(gp,
            "set title %s\nset xlabel 'latency (ms)'\nset ylabel 'fraction of runs slower'\n"
            "set logscale xy\nset key outside\nset offsets 0, 0, 0, 0\nset format y '1e%%T'\n"
            "plot ",
            cli_plot_quote(&p, title));
    const json_t *stages = json_object_get(report, "stages");
    const char *stage;
    const json_t *l;
    int first = 1;
    json_object_foreach((json_t *)stages, stage, l)
    {
        if (!(f = cli_plot_data(&p, NULL, &data)))
            continue;
        const json_t *pt;
        size_t k;
        json_array_foreach(json_object_get(l, "cdf"), k, pt) if (json_array_size(pt) == 2)
            fprintf(f, "%g %g\n", json_number_value(json_array_get(pt, 1)),
                    fmax(1 - json_number_value(json_array_get(pt, 0)), 1e-5));
        cli_plot_close(&p, f);
        fprintf(gp, "%s%s using 1:2 with steps lw 2 title %s", first ? "" : ", ",
                cli_plot_quote(&p, data), cli_plot_quote(&p, stage));
        first = 0;
    }
    fprintf(gp, "%s\nunset logscale\nset format y '%%g'\n", first ? "0 notitle" : "");
    /* convergence of the sessions tuned in this run, against their final best */
    output(&p, base, "convergence");
    fprintf(gp, "set title 'tuning sessions (BO) in this run'\nset xlabel 'evaluations'\n"
                "set ylabel 'best so far / final best'\nset yrange [0.95:*]\nplot ");
    first = 1;
    json_array_foreach(workloads, i, w)
    {
        const json_t *c = json_object_get(json_object_get(w, "tuning"), "convergence"), *v;
        size_t n = json_array_size(c), k;
        double final = n ? json_number_value(json_array_get(c, n - 1)) : NAN;
        if (!n || !(final > 0) || !(f = cli_plot_data(&p, NULL, &data)))
            continue;
        json_array_foreach(c, k, v) if (json_is_number(v))
            fprintf(f, "%zu %g\n", k + 1, json_number_value(v) / final);
        cli_plot_close(&p, f);
        fprintf(gp, "%s%s using 1:2 with lines lw 2 title %s", first ? "" : ", ",
                cli_plot_quote(&p, data),
                cli_plot_quote(&p, json_string_value(json_object_get(w, "name"))));
        first = 0;
    }
    fprintf(gp, "%s\n",
            first ? "1 title 'no session ran: every profile was in the store'" : "");
    int drawn;
    return cli_plot_end(&p, &drawn) ? -1 : drawn;
}

/* --------------------------------------------------------------- the tables ---- */

static void markdown(FILE *f, const json_t *r, const char *base_name, int plotted)
{
    const json_t *ws = json_object_get(r, "workloads"), *w, *c;
    size_t i;
    fprintf(f,
            "# cutune bench: %s\n\nCUDA driver %lld, %lld SMs; device-to-device copy "
            "%.0f GB/s (theoretical %.0f GB/s); %lld timed runs per tuned workload.\n\n",
            json_string_value(json_object_get(r, "device")),
            (long long)json_integer_value(json_object_get(r, "cuda_driver_version")),
            (long long)json_integer_value(json_object_get(r, "sm_count")), num(r, "copy_gbps"),
            num(r, "theoretical_gbps"),
            (long long)json_integer_value(json_object_get(r, "runs")));
    fprintf(f, "| workload | default ms | tuned ms | speedup | tuned configuration | occupancy "
               "(limiter) | throughput |\n|---|---|---|---|---|---|---|\n");
    json_array_foreach(ws, i, w)
    {
        const char *err = json_string_value(json_object_get(w, "error"));
        if (err) {
            fprintf(f, "| %s | failed: %s |||||| \n",
                    json_string_value(json_object_get(w, "name")), err);
            continue;
        }
        char lim[128] = "", thr[96] = "";
        const json_t *l;
        size_t k;
        json_array_foreach(json_object_get(w, "limiters"), k, l)
            snprintf(lim + strlen(lim), sizeof lim - strlen(lim), "%s%s", k ? ", " : "",
                     json_string_value(l));
        if (isfinite(num(w, "tflops")))
            snprintf(thr, sizeof thr, "%.1f TFLOP/s", num(w, "tflops"));
        else if (isfinite(num(w, "gbps")))
            snprintf(thr, sizeof thr, "%.0f GB/s (%.0f%% of copy)", num(w, "gbps"),
                     num(w, "pct_of_copy"));
        fprintf(f, "| %s | %.4f | %.4f | %.2fx | %s | ",
                json_string_value(json_object_get(w, "name")), num(w, "default_ms"),
                num(w, "tuned_ms"), num(w, "speedup"),
                json_string_value(json_object_get(w, "tuned_config")));
        if (isfinite(num(w, "occupancy")))
            fprintf(f, "%.0f%% (%s) | %s |\n", 100 * num(w, "occupancy"), lim, thr);
        else
            fprintf(f, " | %s |\n", thr);
    }
    fprintf(f,
            "\n## Latency of the tuned runs (ms)\n\n| stage | runs | p50 | p90 | p99 | p99.9 "
            "| max |\n|---|---|---|---|---|---|---|\n");
    const char *stage;
    json_object_foreach((json_t *)json_object_get(r, "stages"), stage, c)
        fprintf(f, "| %s | %lld | %.4f | %.4f | %.4f | %.4f | %.4f |\n", stage,
                (long long)json_integer_value(json_object_get(c, "runs")), num(c, "p50_ms"),
                num(c, "p90_ms"), num(c, "p99_ms"), num(c, "p999_ms"), num(c, "max_ms"));
    fprintf(f,
            "\n## The GPU during the tuned runs (NVML)\n\n| workload | utilisation mean (min) "
            "| memory busy | SM clock MHz mean (min) | power W mean (max) | energy mJ/run | "
            "throttled |\n|---|---|---|---|---|---|---|\n");
    json_array_foreach(ws, i, w)
    {
        const json_t *n = json_object_get(w, "nvml");
        const char *note = json_string_value(json_object_get(w, "nvml_note"));
        if (!json_is_object(n)) {
            fprintf(f, "| %s | not measured%s%s ||||||\n",
                    json_string_value(json_object_get(w, "name")), note ? ": " : "",
                    note ? note : "");
            continue;
        }
        const char *why = json_string_value(json_object_get(n, "throttle_reasons"));
        fprintf(f,
                "| %s | %.1f%% (%.0f%%) | %.1f%% | %.0f (%.0f) | %.0f (%.0f) | %.3g | %s |\n",
                json_string_value(json_object_get(w, "name")), num(n, "gpu_util_mean"),
                num(n, "gpu_util_min"), num(n, "mem_util_mean"), num(n, "sm_clock_mhz_mean"),
                num(n, "sm_clock_mhz_min"), num(n, "power_w_mean"), num(n, "power_w_max"),
                num(n, "energy_mj_per_run"),
                json_is_true(json_object_get(n, "throttled")) ? why : "no");
    }
    fprintf(f, "\n## Contracts\n\n| stage | percentile | limit ms | measured ms | |\n"
               "|---|---|---|---|---|\n");
    json_array_foreach(json_object_get(r, "contracts"), i, c) fprintf(
        f, "| %s | p%g | %g | %.4f | %s |\n", json_string_value(json_object_get(c, "stage")),
        num(c, "percentile"), num(c, "limit_ms"), num(c, "measured_ms"),
        json_string_value(json_object_get(c, "result")));
    fprintf(f, "\n## Goals\n\n");
    json_array_foreach(json_object_get(r, "goals"), i, c)
    {
        double m = num(c, "measured");
        fprintf(f, "- %s: **%s**", json_string_value(json_object_get(c, "goal")),
                json_is_true(json_object_get(c, "met")) ? "met" : "missed");
        if (isfinite(m))
            fprintf(f, " (%.3g)", m);
        fprintf(f, "\n");
    }
    if (plotted)
        fprintf(f,
                "\n![speedup](%s-speedup.png)\n![latency](%s-latency.png)\n"
                "![convergence](%s-convergence.png)\n",
                base_name, base_name, base_name);
}

int bench_report_write(json_t *report, const bench_args *a, const char *name_as)
{
    judge(report, &a->contracts);
    char name[128], date[32], base[PATH_MAX], path[PATH_MAX + 8], base_name[NAME_MAX + 1];
    int cut = 0; /* a name cut short would be another file's: refused */
    if (name_as) { /* a report rendered again: its own name */
        const char *slash = strrchr(name_as, '/');
        cut = snprintf(base_name, sizeof base_name, "%s", slash ? slash + 1 : name_as) >=
              (int)sizeof base_name;
        char *dot = strstr(base_name, ".json");
        if (dot)
            *dot = 0;
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
        slug(json_string_value(json_object_get(report, "device")), name, sizeof name);
        snprintf(base_name, sizeof base_name, "%s-%s", name, date);
        json_object_set_new(report, "date", json_string(date));
    }
    if (cut || snprintf(base, sizeof base, "%s/%s", a->out, base_name) >= (int)sizeof base) {
        fprintf(stderr, "cutune bench: the report's path in %s is too long\n", a->out);
        json_decref(report);
        return EXIT_FAILED;
    }
    snprintf(path, sizeof path, "%s.json", base);
    int rc = EXIT_OK;
    char *text = json_dumps(report, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
    if (!text || cli_file_write(path, text, strlen(text), "bench"))
        rc = EXIT_FAILED;
    free(text);
    int plotted = plot(report, a->out, base) == 1;
    snprintf(path, sizeof path, "%s.md", base);
    cli_file md;
    if (cli_file_open(&md, path, "bench") == 0) {
        markdown(md.f, report, base_name, plotted);
        if (cli_file_commit(&md, "bench"))
            rc = EXIT_FAILED;
    } else {
        rc = EXIT_FAILED;
    }
    if (a->json) {
        cli_print_json(report);
        return rc;
    }
    markdown(stdout, report, base_name, 0); /* the report's tables, without its plots */
    printf("\nreport: %s.json, %s.md%s\n", base, base,
           plotted ? "; plots: the .png files beside them"
                   : "; no plots (gnuplot is not installed here: cutune bench --report "
                     "FILE.json draws them on a machine that has it)");
    json_decref(report);
    return rc;
}

int bench_render(const char *path, const bench_args *a)
{
    json_error_t err;
    json_t *r = json_load_file(path, 0, &err);
    if (!r || !json_is_array(json_object_get(r, "workloads")) ||
        !json_is_object(json_object_get(r, "stages"))) {
        fprintf(stderr, "cutune bench: %s: %s\n", path,
                r ? "not a cutune bench report" : err.text);
        json_decref(r);
        return EXIT_FAILED;
    }
    return bench_report_write(r, a, path);
}
