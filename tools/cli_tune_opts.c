/* cli_tune_opts.c — the options of `cutune tune` that say what is compared (--verify,
 * --atol, --rtol): parsing them, checking answer files before a session starts, giving a
 * session what they ask, and the words when most configurations fail verification. */
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
    return cli_usage_error("tune", "unknown option '--%s'", name);
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

int tune_apply_opts(cutune_session *s, const tune_args *a)
{
    const cutune_kernel *k = cutune_session_kernel(s);
    if (!k)
        return CUTUNE_OK; /* a recorded space: nothing to compare */
    const char *names[64], *files[64];
    int st = a->nanswers ? map_answers(k, a, names, files) : CUTUNE_OK;
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
