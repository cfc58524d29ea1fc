/* objective.c — the kind of session whose measure is a C function's value for each
 * configuration (cutune_session_new_objective, cutune_optimize): measured in this process,
 * with no kernel, outputs or device. */
#include "session_impl.h"

#include <math.h>
#include <stdlib.h>

typedef struct objective_fn {
    cutune_objective_fn fn;
    void *user;
} objective_fn;

/* A custom objective's value for configuration i. Its nonzero status ends the session. */
static int objective_evaluate(cutune_session *s, void *ctx, size_t i, int reference)
{
    (void)reference;
    const objective_fn *f = ctx;
    record *r = &s->rec[i];
    r->done = 1;
    double value = NAN, t0 = ct_now();
    const char *why = NULL;
    int st = f->fn(ct_domain_config(&s->dom, i), f->user, &value, &why);
    r->run_ms = (ct_now() - t0) * 1e3;
    s->stats.run_s += r->run_ms / 1e3;
    if (st) {
        char key[CUTUNE_KEY_MAX];
        cutune_space_config_key(s->space, ct_domain_config(&s->dom, i), key, sizeof key);
        return ct_fail(st, "the objective failed at %s: %s", key, why ? why : cutune_strerror(st));
    }
    if (why || !(value >= 0) || isinf(value)) {
        s->stats.runtime_failed++;
        ct_session_fail_record(r, "RuntimeFailedConfig",
                               why ? why : "no value (NaN, infinite or negative)");
        return CUTUNE_OK;
    }
    s->stats.measured++;
    return ct_session_keep_times(s, r, &value, 1);
}

static const ct_session_ops objective_ops = {
    .evaluate = objective_evaluate,
    .free = free,
};

int cutune_session_new_objective(cutune_session **out, const cutune_space *space,
                                 const char *name, cutune_objective_fn objective, void *user)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new_objective: out is NULL");
    *out = NULL;
    if (!space || !objective)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_new_objective: no space or objective");
    objective_fn *f = calloc(1, sizeof *f);
    cutune_session *s = f ? ct_session_alloc(NULL, &objective_ops, f) : NULL;
    if (!s) {
        free(f);
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    }
    *f = (objective_fn){objective, user};
    s->space = space;
    s->device_name = "custom objective";
    s->local_only = 1;
    s->messages_as_failures = 1; /* its own words say why it has no value */
    s->no_outputs_why = "a custom objective has none";
    int st = CUTUNE_OK;
    if (!(s->name = ct_strdup(name ? name : "objective")))
        st = ct_fail(CUTUNE_ENOMEM, "out of memory");
    if (!st)
        st = ct_session_records(s);
    if (st) {
        cutune_session_free(s);
        return st;
    }
    *out = s;
    return CUTUNE_OK;
}

int cutune_optimize(const cutune_space *space, const cutune_search_options *options,
                    cutune_objective_fn objective, void *user, cutune_evaluation_fn on_evaluation,
                    void *on_evaluation_user, cutune_search_result *result)
{
    if (!space || !options || !objective || !result)
        return ct_fail(CUTUNE_EINVAL, "cutune_optimize: NULL argument");
    cutune_session *s;
    int st = cutune_session_new_objective(&s, space, NULL, objective, user);
    if (st)
        return st;
    cutune_session_result r;
    st = cutune_session_run(s, options, on_evaluation, on_evaluation_user, &r);
    *result = r.search;
    cutune_session_free(s);
    return st;
}
