/* core.c — what every tuning session does, whatever measures it: the records of the
 * configurations, the default measured first (its outputs the reference, its time the
 * baseline), the run (a search over the kind's measurements, each checkpointed to the
 * profile store), one configuration measured on request (the measuring side of distributed
 * tuning), and what the caller reads back. The kind is reached only through s->ops. */
#include "session_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- life of a session ---- */

cutune_session *ct_session_alloc(const cutune_session_options *options,
                                 const ct_session_ops *ops, void *ctx)
{
    cutune_session *s = calloc(1, sizeof *s);
    if (!s) {
        ct_fail(CUTUNE_ENOMEM, "out of memory");
        return NULL;
    }
    s->ops = ops;
    s->ctx = ctx;
    s->opt = options ? *options : (cutune_session_options){0};
    if (s->opt.iterations <= 0) /* timed launches, or with a precision their cap */
        s->opt.iterations = s->opt.precision > 0 ? CUTUNE_MAX_TIMED_LAUNCHES : 7;
    if (s->opt.iterations > CUTUNE_MAX_TIMED_LAUNCHES)
        s->opt.iterations = CUTUNE_MAX_TIMED_LAUNCHES;
    if (s->opt.warmups <= 0)
        s->opt.warmups = 1;
    s->best_ms = NAN;
    s->default_index = CT_NONE;
    s->problem[0] = s->problem[1] = s->problem[2] = 1;
    return s;
}

int ct_session_records(cutune_session *s)
{
    if (!s->have_dom) {
        int st = ct_domain_from_space(&s->dom, s->space, CT_MAX_SESSION_CONFIGS);
        if (st)
            return st;
        s->have_dom = 1;
    }
    if (!(s->rec = calloc(s->dom.n ? s->dom.n : 1, sizeof *s->rec)))
        return ct_fail(CUTUNE_ENOMEM, "out of memory for %zu configurations", s->dom.n);
    return CUTUNE_OK;
}

void cutune_session_free(cutune_session *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->free)
        s->ops->free(s->ctx); /* first: a kind's threads may still read the records */
    for (size_t i = 0; s->rec && i < s->dom.n; i++) {
        free(s->rec[i].times_ms);
        free(s->rec[i].message);
    }
    if (s->have_dom)
        ct_domain_release(&s->dom);
    free(s->rec);
    free(s->warnings);
    free(s->source);
    free(s->source_name);
    free(s->name);
    free(s->origin);
    free(s->user_key);
    free(s->restored);
    ct_session_verify_free(s);
    ct_session_metrics_free(s);
    cutune_kernel_free(s->kernel);
    cutune_space_free(s->own_space);
    free(s);
}

const cutune_device_info *cutune_session_device(const cutune_session *s)
{
    return s ? &s->device : NULL;
}

const cutune_space *cutune_session_space(const cutune_session *s) { return s ? s->space : NULL; }

/* Measures configuration i into its record, through the kind. */
int ct_session_evaluate(cutune_session *s, size_t i, int reference)
{
    return s->ops->evaluate(s, s->ctx, i, reference);
}

/* ----------------------------------------------------------------------- the run ---- */

static int measure_one(void *self, size_t i, double *time_ms, const char **failure)
{
    cutune_session *s = self;
    int fresh = !s->rec[i].done;
    int st = fresh ? ct_session_evaluate(s, i, 0) : CUTUNE_OK;
    if (!st && fresh)
        st = ct_session_checkpoint(s, i);
    *time_ms = ct_session_cost(s, i, failure); /* the time, or the objective */
    return st;
}

/* With an objective other than time the search sees costs: the caller sees times and the
 * objective's values. */
typedef struct objective_report {
    const cutune_session *s;
    cutune_evaluation_fn fn;
    void *user;
} objective_report;

static int report_objective(const cutune_evaluation *e, void *user)
{
    const objective_report *w = user;
    const cutune_session *s = w->s;
    cutune_evaluation x = *e;
    int best = e->best_entry != CT_NONE;
    x.time_ms = e->failure ? NAN : s->rec[e->entry].time_ms;
    x.objective = e->failure ? NAN : cutune_session_objective(s, e->entry);
    x.best_ms = best ? s->rec[e->best_entry].time_ms : NAN;
    x.best_objective = best ? cutune_session_objective(s, e->best_entry) : NAN;
    return w->fn ? w->fn(&x, w->user) : CUTUNE_OK;
}

/* How far the time of i could be off (ct_search.spread): the width of its median's interval
 * (0 where the search sees an objective other than time). */
static double spread_of(void *self, size_t i)
{
    const cutune_session *s = self;
    const record *r = &s->rec[i];
    double half = (r->hi_ms - r->lo_ms) / 2 / r->median_ms;
    return s->objective_metric || !(half > 0) ? 0 : half;
}

static double cost_unmeasured(void *self, size_t i)
{
    cutune_session *s = self;
    return s->ops->cost_s(s, s->ctx, i);
}

/* The default configuration, measured first: a kernel's outputs there are the reference
 * every other configuration is held to, so a kernel's session needs one that works. */
int ct_session_measure_default(cutune_session *s)
{
    uint32_t dflt[CUTUNE_MAX_PARAMS];
    int st = ct_session_verify_prepare(s), must = ct_session_default_must_work(s);
    if (st || s->dom.np > CUTUNE_MAX_PARAMS || cutune_space_get_default(s->space, dflt) != 1)
        return st; /* no default: nothing to take a reference from, and no speedup */
    s->default_index = ct_domain_find(&s->dom, dflt);
    if (s->default_index == CT_NONE)
        return must ? ct_fail(CUTUNE_EINVAL, "the default configuration violates the "
                              "constraints") : CUTUNE_OK;
    /* its outputs are the reference, or it is checked like any other */
    if (!s->rec[s->default_index].done)
        st = ct_session_evaluate(s, s->default_index,
                                 s->kernel && s->verify_mode == CUTUNE_VERIFY_DEFAULT);
    if (!st && s->rec[s->default_index].done)
        st = ct_session_checkpoint(s, s->default_index);
    const record *d = &s->rec[s->default_index];
    if (!st && isnan(d->time_ms) && must)
        st = s->verify_mode == CUTUNE_VERIFY_ANSWERS
                 ? ct_fail(CUTUNE_ECUDA, "the default configuration failed (%s: %s) against "
                           "the answers given: check them and their tolerance, or verify "
                           "nothing", d->failure, d->message)
                 : ct_fail(CUTUNE_ECUDA, "the default configuration failed (%s: %s): nothing "
                           "to check the others against", d->failure, d->message);
    return st;
}

int cutune_session_run(cutune_session *s, const cutune_search_options *search,
                       cutune_evaluation_fn on_evaluation, void *user,
                       cutune_session_result *result)
{
    if (!s || !search || !result)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_run: NULL argument");
    memset(result, 0, sizeof *result);
    result->default_ms = NAN;
    result->default_entry = CT_NONE;
    double t0 = ct_now();
    /* the default's index first: resuming leaves it to run again (a recorded space has
     * none) */
    uint32_t dflt[CUTUNE_MAX_PARAMS];
    if (s->dom.np <= CUTUNE_MAX_PARAMS && cutune_space_get_default(s->space, dflt) == 1)
        s->default_index = ct_domain_find(&s->dom, dflt);
    int st = s->store ? ct_session_store_begin(s, search) : CUTUNE_OK;
    if (!st)
        st = ct_session_measure_default(s);
    if (st) {
        ct_session_store_release(s);
        return st;
    }
    if (s->default_index != CT_NONE) {
        result->default_ms = s->rec[s->default_index].time_ms;
        result->default_entry = s->default_index;
    }
    cutune_search_options o = *search;
    /* what earlier sessions measured comes first (it counts against the budget, and costs
     * nothing), then the warm start */
    const size_t *first = s->warm;
    size_t nfirst = s->nwarm;
    if (s->restored) {
        memcpy(s->restored + s->nrestored, s->warm, s->nwarm * sizeof *s->warm);
        first = s->restored;
        nfirst = s->nrestored + s->nwarm;
    }
    ct_backend b = {.measure = measure_one, .self = s, .first = first, .nfirst = nfirst,
                    .spread = spread_of};
    if (s->ops->cost_s)
        b.cost_s = cost_unmeasured;
    if (s->has_arch)
        o.arch = &s->arch; /* prune before compiling what cannot launch there */
    if (s->ops->run_begin)
        s->ops->run_begin(s, s->ctx, &b, &o);
    objective_report w = {s, on_evaluation, user};
    int costs = s->objective_metric || s->higher_is_better;
    st = ct_search_run(&s->dom, &o, &b, costs ? report_objective : on_evaluation,
                       costs ? (void *)&w : user, &result->search);
    if (s->ops->run_end)
        s->ops->run_end(s, s->ctx);
    size_t confirmed = CT_NONE;
    if (!st)
        st = ct_session_confirm(s, &confirmed);
    st = ct_session_store_end(s, st);
    result->stats = s->stats;
    result->seconds = ct_now() - t0;
    /* the default stays the best if nothing beat it (by the objective); best_ms is the
     * best's time */
    const char *why;
    size_t b_at = result->search.best_entry;
    double cost = b_at != CT_NONE ? ct_session_cost(s, b_at, &why) : NAN,
           cost_default = s->default_index != CT_NONE ? ct_session_cost(s, s->default_index,
                                                                         &why)
                                                      : NAN;
    if (!isnan(cost_default) && !(cost <= cost_default))
        result->search.best_entry = b_at = s->default_index;
    result->search_best_entry = b_at;
    result->confirmed_ms = result->confirmed_lo_ms = result->confirmed_hi_ms = NAN;
    if (confirmed != CT_NONE) { /* the winner on the confirmation's times */
        const record *won = &s->rec[confirmed];
        result->search.best_entry = b_at = confirmed;
        result->confirmed_ms = won->confirmed_ms;
        result->confirmed_lo_ms = won->confirmed_lo_ms;
        result->confirmed_hi_ms = won->confirmed_hi_ms;
        for (size_t i = 0; i < s->dom.n; i++)
            result->confirmed += s->rec[i].confirmed_n != 0;
    }
    result->search.best_ms = b_at != CT_NONE ? s->rec[b_at].time_ms : NAN;
    result->speedup = result->default_ms / result->search.best_ms;
    result->best_median_ms = result->best_std_ms = result->best_lo_ms = result->best_hi_ms = NAN;
    if (result->search.best_entry != CT_NONE) {
        const record *best = &s->rec[result->search.best_entry];
        result->best_regs = best->regs;
        result->best_median_ms = best->median_ms;
        result->best_std_ms = best->std_ms;
        result->best_lo_ms = best->lo_ms;
        result->best_hi_ms = best->hi_ms;
    }
    return st;
}

/* ------------------------------------------------------------- the measuring side ---- */

static void copy_text(char *to, size_t size, const char *from)
{
    snprintf(to, size, "%s", from ? from : "");
}

int cutune_session_measure(cutune_session *s, size_t entry, double best_ms,
                           cutune_measurement *out)
{
    if (!s || !out || entry >= s->dom.n)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_measure: bad argument");
    if (s->measured_elsewhere)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_measure: this session has an executor");
    memset(out, 0, sizeof *out);
    /* the default first, once: a kernel's outputs there are what the others must match */
    if (s->default_index == CT_NONE && s->kernel) {
        int st = ct_session_measure_default(s);
        if (st)
            return st;
    }
    cutune_session_stats before = s->stats;
    if (!(best_ms >= s->best_ms))
        s->best_ms = best_ms; /* the timeout follows the whole search's best */
    if (!s->rec[entry].done) {
        int st = ct_session_evaluate(s, entry, 0);
        if (st)
            return st;
    }
    const record *r = &s->rec[entry];
    out->entry = entry;
    out->time_ms = r->time_ms;
    out->median_ms = r->median_ms;
    out->std_ms = r->std_ms;
    out->n = r->n;
    out->regs = r->regs;
    if (r->n > 0)
        memcpy(out->times_ms, r->times_ms, (size_t)r->n * sizeof *r->times_ms);
    out->compile_ms = r->compile_ms;
    out->run_ms = r->run_ms;
    if (isnan(r->time_ms)) {
        copy_text(out->failure, sizeof out->failure, r->failure ? r->failure
                                                                : "RuntimeFailedConfig");
        copy_text(out->message, sizeof out->message, r->message);
    }
    out->stats = s->stats;
    ct_session_add_stats(&out->stats, &before, -1);
    out->stats.restored = out->stats.warm_start = 0;
    memset(out->stats.warm_start_problem, 0, sizeof out->stats.warm_start_problem);
    return CUTUNE_OK;
}

int cutune_session_prepare(cutune_session *s, const size_t *entries, size_t n)
{
    if (!s || (n && !entries))
        return ct_fail(CUTUNE_EINVAL, "cutune_session_prepare: bad argument");
    return s->ops->prepare ? s->ops->prepare(s, s->ctx, entries, n) : CUTUNE_OK;
}

int cutune_session_precompile(cutune_session *s, int threads, uint64_t *compiled,
                              uint64_t *failed)
{
    if (!s)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_precompile: NULL session");
    if (!s->ops->precompile)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective compiles nothing");
    return s->ops->precompile(s, s->ctx, threads, compiled, failed);
}

int cutune_session_set_argument(cutune_session *s, const char *argument, const void *data,
                                size_t bytes)
{
    if (!s || !argument || !data)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_set_argument: NULL argument");
    if (!s->kernel || !s->ops->set_argument || !s->has_device || s->measured_elsewhere)
        return ct_fail(CUTUNE_ENOTSUP, "cutune_session_set_argument: this session runs no "
                       "kernel of its own to give '%s' to", argument);
    int st = ct_session_not_started(s, "cutune_session_set_argument", "arguments are given");
    if (st)
        return st;
    size_t n = cutune_kernel_num_args(s->kernel);
    for (size_t i = 0; i < n; i++) {
        const cutune_kernel_arg *a = cutune_kernel_arg_at(s->kernel, i);
        if (strcmp(a->name, argument) != 0)
            continue;
        size_t want = (size_t)a->count * cutune_elem_size(a->type);
        if (bytes != want)
            return ct_fail(CUTUNE_EINVAL, "argument '%s' has %zu bytes here; it needs %zu "
                           "(%llu elements of %zu bytes)", argument, bytes, want,
                           (unsigned long long)a->count, cutune_elem_size(a->type));
        return s->ops->set_argument(s, s->ctx, i, data, bytes);
    }
    return ct_fail(CUTUNE_ENOTFOUND, "the kernel has no argument '%s'", argument);
}

/* -------------------------------------------------------------- what is read back ---- */

int cutune_session_explain(cutune_session *s, size_t entry, cutune_occupancy *occ,
                           cutune_occupancy_advice *advice)
{
    if (!s || entry >= s->dom.n || !occ)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_explain: bad argument");
    if (!s->ops->explain)
        return ct_fail(CUTUNE_ENOTSUP, "a session over a custom objective has no kernel to "
                       "explain");
    return s->ops->explain(s, s->ctx, entry, occ, advice);
}

const char *cutune_session_key(const cutune_session *s, size_t entry, char *buf, size_t size)
{
    if (!s || entry >= s->dom.n)
        return NULL;
    cutune_space_config_key(s->space, ct_domain_config(&s->dom, entry), buf, size);
    return buf;
}

int cutune_session_get_notes(const cutune_session *s, cutune_session_notes *out)
{
    if (!s || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_session_get_notes: NULL argument");
    memset(out, 0, sizeof *out);
    out->warnings = s->warnings;
    out->configs_warned = s->warned;
    if (s->warnings)
        cutune_session_key(s, s->warnings_entry, out->warnings_config,
                           sizeof out->warnings_config);
    if (s->compile_error_seen) {
        out->compile_error = s->rec[s->compile_error_entry].message;
        cutune_session_key(s, s->compile_error_entry, out->compile_error_config,
                           sizeof out->compile_error_config);
    }
    return CUTUNE_OK;
}

const char *cutune_session_failure(const cutune_session *s, size_t entry)
{
    if (!s || entry >= s->dom.n || !s->rec[entry].done || !s->rec[entry].failure)
        return NULL;
    return s->rec[entry].message ? s->rec[entry].message : "";
}
