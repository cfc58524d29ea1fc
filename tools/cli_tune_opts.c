/* cli_tune_opts.c — the options of `cutune tune` that say what is compared (--verify,
 * --atol, --rtol) and what is tuned for (--metric, --objective): parsing them, checking
 * answer files before a session starts, giving a session what they ask, and the words of
 * the report they add (most configurations failed verification; metrics; the objective;
 * what failed first, and NVRTC's warnings). */
#include "cli_tune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tune_parse_opt(tune_args *a, const char *name, const char *value)
{
    if (strcmp(name, "verify") == 0) {
        int mode = strcmp(value, "default") == 0 ? CUTUNE_VERIFY_DEFAULT
                   : strcmp(value, "none") == 0  ? CUTUNE_VERIFY_NONE
                                                 : CUTUNE_VERIFY_ANSWERS;
        if (a->verify && (mode != CUTUNE_VERIFY_ANSWERS || a->verify != mode))
            return cli_usage_error("tune", "--verify %s goes with no other --verify (give "
                                   "--verify default, --verify none, or one --verify FILE "
                                   "per output)", mode == CUTUNE_VERIFY_ANSWERS ? "FILE"
                                   : value);
        if (mode == CUTUNE_VERIFY_ANSWERS && !*value)
            return cli_usage_error("tune", "--verify needs default, none or an answer file");
        if (mode == CUTUNE_VERIFY_ANSWERS) {
            if (a->nanswers == (int)(sizeof a->answers / sizeof *a->answers))
                return cli_usage_error("tune", "more than %d answer files",
                                       (int)(sizeof a->answers / sizeof *a->answers));
            a->answers[a->nanswers++] = value;
        }
        a->verify = mode;
        return 0;
    }
    if (strcmp(name, "atol") == 0 || strcmp(name, "rtol") == 0) {
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end || !(v >= 0 && isfinite(v)))
            return cli_usage_error("tune", "--%s needs a number >= 0, not '%s'", name, value);
        *(name[0] == 'a' ? &a->atol : &a->rtol) = v;
        return 0;
    }
    if (strcmp(name, "metric") == 0) {
        const char *eq = strchr(value, '=');
        if (!eq || eq == value || !eq[1])
            return cli_usage_error("tune", "--metric takes NAME=EXPRESSION, not '%s'", value);
        if (a->nmetrics == (int)(sizeof a->metrics / sizeof *a->metrics))
            return cli_usage_error("tune", "more than %d --metric",
                                   (int)(sizeof a->metrics / sizeof *a->metrics));
        a->metrics[a->nmetrics++] = value;
        return 0;
    }
    if (strcmp(name, "objective") == 0) {
        a->objective = value;
        return 0;
    }
    if (strcmp(name, "higher-is-better") == 0 || strcmp(name, "lower-is-better") == 0) {
        int higher = name[0] == 'h';
        if (a->higher >= 0 && a->higher != higher)
            return cli_usage_error("tune", "--higher-is-better or --lower-is-better, not both");
        a->higher = higher;
        return 0;
    }
    return cli_usage_error("tune", "unknown option '--%s'", name);
}

/* Whether higher is better for the objective: as said, else as Kernel Tuner knows it for
 * its names (objective_default_map); -1 for a name it does not know. */
static int higher_is_better(const tune_args *a)
{
    static const char *const lower[] = {"time", "energy", "cost", "loss"};
    static const char *const higher[] = {"fitness", "GFLOP/s", "TFLOP/s", "GB/s", "TB/s",
                                         "GFLOPS/W", "TFLOPS/W", "GFLOP/J", "TFLOP/J"};
    const char *o = a->objective ? a->objective : "time";
    if (a->higher >= 0)
        return a->higher;
    for (size_t k = 0; k < sizeof lower / sizeof *lower; k++)
        if (strcmp(o, lower[k]) == 0)
            return 0;
    for (size_t k = 0; k < sizeof higher / sizeof *higher; k++)
        if (strcmp(o, higher[k]) == 0)
            return 1;
    return -1;
}

int tune_check_opts(const tune_args *a)
{
    int tol = !isnan(a->atol) || !isnan(a->rtol);
    if (a->sim && (a->verify || tol))
        return cli_usage_error("tune", "--%s goes with the GPU: a recorded space's failures "
                               "are those it recorded", a->verify ? "verify" : tol &&
                               !isnan(a->atol) ? "atol" : "rtol");
    if (a->verify == CUTUNE_VERIFY_NONE && tol)
        return cli_usage_error("tune", "--atol and --rtol say how outputs are compared: "
                               "--verify none compares none");
    if (a->higher >= 0 && !a->objective)
        return cli_usage_error("tune", "--%s-is-better goes with --objective NAME",
                               a->higher ? "higher" : "lower");
    if (higher_is_better(a) < 0)
        return cli_usage_error("tune", "is higher better for --objective %s? Say "
                               "--higher-is-better or --lower-is-better (Kernel Tuner knows "
                               "it only for its own names: time, energy, cost, loss; "
                               "GFLOP/s, TFLOP/s, GB/s, TB/s, GFLOPS/W, TFLOPS/W, GFLOP/J, "
                               "TFLOP/J, fitness)", a->objective);
    return EXIT_OK;
}

/* --verify's files, each with the output it answers for: NAME=FILE where NAME is an output,
 * else the next output in argument order. A cutune status, the message set. */
static int map_answers(const cutune_kernel *k, const tune_args *a, const char **names,
                       const char **files)
{
    const char *outputs[64];
    size_t nout = 0, next = 0;
    char list[512] = "";
    for (size_t i = 0; i < cutune_kernel_num_args(k); i++) {
        const cutune_kernel_arg *arg = cutune_kernel_arg_at(k, i);
        if (arg->output && !arg->scalar && nout < 64) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", nout ? ", " : "", arg->name);
            outputs[nout++] = arg->name;
        }
    }
    if (!nout)
        return cutune_set_error(CUTUNE_EINVAL, "--verify FILE: the kernel has no output "
                                "(\"Output\": 1) to give an answer for");
    for (int j = 0; j < a->nanswers; j++) {
        const char *text = a->answers[j], *eq = strchr(text, '=');
        names[j] = NULL;
        files[j] = text;
        for (size_t o = 0; eq && o < nout && !names[j]; o++)
            if (strlen(outputs[o]) == (size_t)(eq - text) &&
                strncmp(outputs[o], text, (size_t)(eq - text)) == 0) {
                names[j] = outputs[o];
                files[j] = eq + 1;
            }
        if (!names[j] && next == nout)
            return cutune_set_error(CUTUNE_EINVAL, "%d answer files for %zu output%s (%s): "
                                    "give one per output, in argument order, or NAME=FILE",
                                    a->nanswers, nout, nout == 1 ? "" : "s", list);
        if (!names[j])
            names[j] = outputs[next++];
        for (int i = 0; i < j; i++)
            if (names[i] == names[j])
                return cutune_set_error(CUTUNE_EINVAL, "two answer files for %s: %s and %s",
                                        names[j], files[i], files[j]);
    }
    return CUTUNE_OK;
}

int tune_check_answers(const tune_args *a)
{
    if (!a->nanswers || a->sim || !a->spec)
        return EXIT_OK;
    cutune_space *space = NULL;
    cutune_kernel *k = NULL;
    const int64_t *p = a->session.problem;
    int st = cutune_space_load_t1(&space, a->spec), rc = EXIT_OK;
    if (!st)
        st = cutune_kernel_load_t1_sized(a->spec, space, p[0] || p[1] || p[2] ? p : NULL, &k);
    const char *names[64], *files[64];
    if (!st && map_answers(k, a, names, files))
        rc = cli_usage_error("tune", "%s", cutune_last_error());
    for (int j = 0; !st && !rc && j < a->nanswers; j++)
        if ((st = cutune_kernel_read_answer(k, names[j], files[j], NULL, NULL)))
            rc = cli_fail("tune", st);
    /* (a spec that does not load: the session says what is wrong with it) */
    cutune_kernel_free(k);
    cutune_space_free(space);
    return rc;
}

/* The metrics and the objective, for any kind of session. */
static int apply_metrics(cutune_session *s, const tune_args *a)
{
    int st = CUTUNE_OK;
    if (!cutune_session_kernel(s) && a->spec) /* (a GPU session reads its spec's itself) */
        st = cutune_session_add_spec_metrics(s, a->spec);
    for (int m = 0; !st && m < a->nmetrics; m++) {
        const char *eq = strchr(a->metrics[m], '=');
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - a->metrics[m]), a->metrics[m]);
        st = cutune_session_add_metric(s, name, eq + 1);
    }
    if (!st && (a->objective || a->higher >= 0))
        st = cutune_session_set_objective(s, a->objective, higher_is_better(a) > 0);
    return st;
}

int tune_apply_opts(cutune_session *s, const tune_args *a)
{
    const cutune_kernel *k = cutune_session_kernel(s);
    int st = apply_metrics(s, a);
    if (st || !k)
        return st; /* a recorded space: nothing to compare */
    const char *names[64], *files[64];
    st = a->nanswers ? map_answers(k, a, names, files) : CUTUNE_OK;
    for (int j = 0; !st && j < a->nanswers; j++)
        st = cutune_session_load_answer(s, names[j], files[j]);
    if (!st && a->verify)
        st = cutune_session_set_verify(s, (cutune_verify)a->verify);
    if (!st && (!isnan(a->atol) || !isnan(a->rtol)))
        st = cutune_session_set_tolerance(s, NULL, a->atol, a->rtol);
    return st;
}

const char *tune_verify_note(const cutune_session_stats *x, int mode, char *buf, size_t size)
{
    unsigned long long failed = x->verification_failed,
                       ran = x->measured + x->runtime_failed + x->verification_failed +
                             x->timeouts;
    if (!failed || 2 * failed <= ran)
        return NULL;
    if (mode == CUTUNE_VERIFY_DEFAULT)
        snprintf(buf, size, "%llu of %llu configurations that ran failed verification against "
                 "the default configuration's output: if the parameters legitimately change "
                 "the result (hotspot's temporal tiling computes more steps), tune with "
                 "--verify none, or give answer files with --verify FILE", failed, ran);
    else if (mode == CUTUNE_VERIFY_ANSWERS)
        snprintf(buf, size, "%llu of %llu configurations that ran failed verification against "
                 "the answers: check the answer files and the tolerance (--atol, --rtol; each "
                 "failure's message names the first element that differs), or tune with "
                 "--verify none", failed, ran);
    else
        snprintf(buf, size, "%llu of %llu configurations of the recorded space failed "
                 "verification when they were recorded (held to the recording tuner's "
                 "reference)", failed, ran);
    return buf;
}

/* ------------------------------------------------------------ metrics in the report ---- */

void tune_print_metrics(const cutune_session *s, size_t i)
{
    for (size_t k = 0; k < cutune_session_num_metrics(s); k++)
        printf("  %s %.6g", cli_text(cutune_session_metric_name(s, k)),
               cutune_session_metric(s, i, k));
}

json_t *tune_metrics_json(const cutune_session *s, size_t i)
{
    size_t n = cutune_session_num_metrics(s);
    json_t *out = n && i != (size_t)-1 ? json_object() : NULL;
    for (size_t k = 0; out && k < n; k++) {
        double v = cutune_session_metric(s, i, k);
        json_object_set_new(out, cutune_session_metric_name(s, k),
                            isfinite(v) ? json_real(v) : json_null());
    }
    return out;
}

static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

void tune_report_objective(const cutune_session *s, const cutune_session_result *r,
                           json_t *out)
{
    int higher;
    const char *name = cutune_session_objective_name(s, &higher);
    size_t best = r->search.best_entry, dflt = r->default_entry;
    double vb = best != (size_t)-1 ? cutune_session_objective(s, best) : NAN,
           vd = dflt != (size_t)-1 ? cutune_session_objective(s, dflt) : NAN;
    int other = strcmp(name, "time") != 0 || higher;
    if (out) {
        json_object_set_new(out, "objective", json_string(name));
        json_object_set_new(out, "higher_is_better", json_boolean(higher));
        json_object_set_new(out, "best_objective", number(vb));
        json_object_set_new(out, "default_objective", number(vd));
        json_t *m = tune_metrics_json(s, best), *d = tune_metrics_json(s, dflt);
        json_object_set_new(out, "best_metrics", m ? m : json_null());
        json_object_set_new(out, "default_metrics", d ? d : json_null());
        return;
    }
    if (other && dflt != (size_t)-1)
        printf("objective %s (%s is better): the best %.6g, the default %.6g (the speedup is "
               "the ratio of their times)\n", cli_text(name), higher ? "higher" : "lower", vb,
               vd);
    else if (other)
        printf("objective %s (%s is better): the best %.6g\n", cli_text(name),
               higher ? "higher" : "lower", vb);
    if (cutune_session_num_metrics(s) && best != (size_t)-1) {
        printf("metrics of the best:");
        tune_print_metrics(s, best);
        if (dflt != (size_t)-1) {
            printf("; of the default:");
            tune_print_metrics(s, dflt);
        }
        printf("\n");
    }
}

void tune_report_failures(const cutune_session *s, size_t first_failed, json_t *out)
{
    cutune_session_notes n;
    char key[CUTUNE_KEY_MAX];
    if (cutune_session_get_notes(s, &n) != CUTUNE_OK)
        return;
    if (first_failed != (size_t)-1)
        cutune_session_key(s, first_failed, key, sizeof key);
    const char *why = first_failed != (size_t)-1 ? cutune_session_failure(s, first_failed) : NULL;
    if (out) {
        if (n.warnings)
            json_object_set_new(out, "compile_warnings",
                                json_pack("{s:I, s:s, s:s}", "configurations",
                                          (json_int_t)n.configs_warned, "first_config",
                                          n.warnings_config, "text", n.warnings));
        if (n.compile_error)
            json_object_set_new(out, "first_compile_error",
                                json_pack("{s:s, s:s}", "config", n.compile_error_config,
                                          "message", n.compile_error));
        if (why)
            json_object_set_new(out, "first_run_failure",
                                json_pack("{s:s, s:s}", "config", key, "message", why));
        return;
    }
    if (n.compile_error)
        printf("the first configuration that failed to compile, %s: %s\n",
               cli_text(n.compile_error_config), cli_text(n.compile_error));
    if (why)
        printf("the first configuration that failed to run, %s: %s\n", cli_text(key),
               cli_text(why));
    if (!n.warnings)
        return;
    /* (compiling every configuration to a warning is worth a look) */
    printf("NVRTC warned for %llu configuration%s; for %s:\n",
           (unsigned long long)n.configs_warned, n.configs_warned == 1 ? "" : "s",
           cli_text(n.warnings_config));
    const char *line = n.warnings;
    for (int shown = 0; *line && shown < 20; shown++) {
        const char *eol = strchr(line, '\n');
        int len = eol ? (int)(eol - line) : (int)strlen(line);
        char buf[1024];
        snprintf(buf, sizeof buf, "%.*s", len, line);
        printf("  %s\n", cli_text(buf));
        line += len + (eol != NULL);
    }
}
