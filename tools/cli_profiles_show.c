/* cli_profiles_show.c — what `cutune profiles` reads from the store: every profile a line
 * (list), one in full (show), as lines or JSON; and what cutune_select() answers for a
 * kernel, problem size and device (this GPU's, or one described), with the rule it chose by
 * (select). */
#include "cli_profiles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void format_problem(const int64_t problem[3], char *buf, size_t size)
{
    if (problem[2] > 1)
        snprintf(buf, size, "%lldx%lldx%lld", (long long)problem[0], (long long)problem[1],
                 (long long)problem[2]);
    else if (problem[1] > 1)
        snprintf(buf, size, "%lldx%lld", (long long)problem[0], (long long)problem[1]);
    else
        snprintf(buf, size, "%lld", (long long)problem[0]);
}

static json_t *profile_json(const cutune_profile *p)
{
    json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:[I,I,I], s:s, s:s, s:f, s:s, "
                          "s:I, s:I, s:I, s:f}",
                          "id", (json_int_t)p->id, "kernel", p->kernel, "device", p->device,
                          "sm_count", p->sm_count, "source_hash",
                          p->source_hash, "user_key", p->user_key, "problem",
                          (json_int_t)p->problem[0], (json_int_t)p->problem[1],
                          (json_int_t)p->problem[2], "params", p->params, "config", p->config,
                          "time_ms", p->time_ms, "strategy", p->strategy, "budget",
                          (json_int_t)p->budget, "evaluations", (json_int_t)p->evaluations,
                          "session", (json_int_t)p->session, "updated", p->updated);
    if (j) {
        char cc[16];
        snprintf(cc, sizeof cc, "%d.%d", p->cc_major, p->cc_minor);
        json_object_set_new(j, "compute_capability", json_string(cc));
        json_object_set_new(j, "driver_version", json_integer(p->driver_version));
        json_object_set_new(j, "runtime_version", json_integer(p->runtime_version));
        if (!isnan(p->median_ms))
            json_object_set_new(j, "median_ms", json_real(p->median_ms));
        if (!isnan(p->std_ms))
            json_object_set_new(j, "std_ms", json_real(p->std_ms));
        if (!isnan(p->median_lo_ms) && !isnan(p->median_hi_ms))
            json_object_set_new(j, "median_interval_ms",
                                json_pack("[f, f]", p->median_lo_ms, p->median_hi_ms));
    }
    return j;
}

typedef struct listing {
    json_t *array; /* --json */
    int count, full;
} listing;

static int print_profile(const cutune_profile *p, void *user)
{
    listing *l = user;
    l->count++;
    if (l->array)
        return json_array_append_new(l->array, profile_json(p)) ? 1 : 0;
    char size[64];
    format_problem(p->problem, size, sizeof size);
    if (!l->full) {
        printf("%5lld  %-24s %-24s %-12s %-8s %10.4f ms  %s\n", (long long)p->id,
               cli_text(p->kernel), cli_text(p->device), size,
               *p->user_key ? cli_text(p->user_key) : "-", p->time_ms, cli_text(p->config));
        return 0;
    }
    char when[64];
    time_t t = (time_t)p->updated;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("profile %lld\n", (long long)p->id);
    printf("  kernel        %s (source %s)%s%s\n", cli_text(p->kernel),
           *p->source_hash ? cli_text(p->source_hash) : "unknown",
           *p->user_key ? ", user key " : "", cli_text(p->user_key));
    if (p->cc_major == 0 && p->sm_count == 0) /* a recorded space's, or an imported file's */
        printf("  device        %s (as its file names it: compute capability, SMs, driver "
               "and runtime not recorded)\n", cli_text(p->device));
    else
        printf("  device        %s, sm_%d%d, %d SMs, driver %d, runtime %d\n",
               cli_text(p->device), p->cc_major, p->cc_minor, p->sm_count, p->driver_version,
               p->runtime_version);
    printf("  problem size  %s\n", size);
    printf("  best          %s = %s\n", cli_text(p->params), cli_text(p->config));
    printf("  time          %.4f ms", p->time_ms);
    if (!isnan(p->median_ms) && !isnan(p->median_lo_ms) && !isnan(p->median_hi_ms))
        printf(" (median %.4f, 95%% in [%.4f, %.4f]; sd %.4f)", p->median_ms, p->median_lo_ms,
               p->median_hi_ms, isnan(p->std_ms) ? 0 : p->std_ms);
    else if (!isnan(p->median_ms))
        printf(" (median %.4f, sd %.4f)", p->median_ms, isnan(p->std_ms) ? 0 : p->std_ms);
    printf("\n  found by      %s, budget %llu (session %lld); %llu evaluations behind it\n",
           cli_text(p->strategy), (unsigned long long)p->budget, (long long)p->session,
           (unsigned long long)p->evaluations);
    printf("  updated       %s\n", when);
    return 0;
}

int profiles_list(cutune_store *s, const profiles_opts *o, int64_t id)
{
    listing l = {.array = o->json ? json_array() : NULL, .full = id != 0};
    if (!l.array && !id)
        printf("%5s  %-24s %-24s %-12s %-8s %13s  %s\n", "id", "kernel", "device", "problem",
               "user key", "time", "configuration");
    int st = id ? cutune_store_get(s, id, print_profile, &l)
                : cutune_store_list(s, print_profile, &l);
    if (st) {
        json_decref(l.array);
        return cli_fail("profiles", st);
    }
    if (l.array) {
        json_t *out = json_incref(id ? json_array_get(l.array, 0) : l.array);
        json_decref(l.array);
        return cli_print_json(out);
    }
    if (!id)
        printf("%d profile%s in %s\n", l.count, l.count == 1 ? "" : "s", cutune_store_path(s));
    return EXIT_OK;
}

int profiles_select(cutune_store *s, const profiles_opts *o)
{
    if (!o->kernel || !o->problem)
        return cli_usage_error("profiles", "select needs --kernel and --problem");
    int64_t problem[3];
    if (cli_parse_problem(o->problem, problem))
        return cli_usage_error("profiles", "--problem takes up to three positive sizes, "
                                           "X[,Y[,Z]], not '%s'", o->problem);
    cutune_device_info dev = {0};
    if (o->device >= 0) {
        int st = cutune_device_query(o->device, &dev);
        if (st)
            return cli_fail("profiles", st);
    } else {
        if (!o->device_name || !o->cc)
            return cli_usage_error("profiles", "select needs --device N, or --device-name and "
                                               "--cc (and --sms)");
        if (sscanf(o->cc, "%d.%d", &dev.cc_major, &dev.cc_minor) != 2)
            return cli_usage_error("profiles", "--cc takes MAJOR.MINOR, e.g. 9.0");
        snprintf(dev.name, sizeof dev.name, "%s", o->device_name);
        dev.sm_count = (int)o->sms;
        dev.driver_version = (int)o->driver;
        dev.runtime_version = (int)o->runtime;
    }
    char hash[33];
    if (o->source) { /* the kernel as tuned: its source's hash */
        FILE *f = fopen(o->source, "rb");
        char *text = NULL;
        size_t len = 0;
        if (f) {
            text = malloc((size_t)16 << 20);
            len = text ? fread(text, 1, (size_t)16 << 20, f) : 0;
            fclose(f);
        }
        if (!text) {
            fprintf(stderr, "cutune profiles: cannot read %s\n", o->source);
            return EXIT_FAILED;
        }
        int st = CUTUNE_OK;
        if (o->spec) { /* the source with the spec's -D defines, as tuning keys it */
            cutune_space *space = NULL;
            cutune_kernel *k = NULL;
            st = cutune_space_load_t1(&space, o->spec);
            if (!st)
                st = cutune_kernel_load_t1(o->spec, space, &k);
            if (!st)
                st = cutune_kernel_source_hash(k, text, len, hash);
            cutune_kernel_free(k);
            cutune_space_free(space);
        } else {
            cutune_source_hash(text, len, hash);
        }
        free(text);
        if (st)
            return cli_fail("profiles", st);
    }
    cutune_kernel_id k = {o->kernel, o->source ? hash : o->source_hash, o->user_key};
    cutune_selection sel;
    int st = cutune_select(s, &dev, &k, problem, &sel);
    if (st)
        return cli_fail("profiles", st);
    char size[64];
    format_problem(sel.problem, size, sizeof size);
    if (o->json)
        return cli_print_json(json_pack("{s:s, s:I, s:s, s:s, s:s, s:f}", "rule",
                                        cutune_select_rule_name(sel.rule), "profile",
                                        (json_int_t)sel.profile, "problem", size, "params",
                                        sel.params, "config", sel.config, "time_ms",
                                        isnan(sel.time_ms) ? -1.0 : sel.time_ms));
    if (sel.rule == CUTUNE_SELECT_DEFAULT)
        printf("default: nothing is known of %s; use its default configuration\n",
               cli_text(o->kernel));
    else
        printf("%s: profile %lld (problem %s, %.4f ms): %s = %s\n",
               cutune_select_rule_name(sel.rule), (long long)sel.profile, size, sel.time_ms,
               cli_text(sel.params), cli_text(sel.config));
    return EXIT_OK;
}
